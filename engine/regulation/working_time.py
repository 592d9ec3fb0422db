"""Timer settings as admins change them from the console: list, history, preview and change.

A change is previewed first: the running timers and ready tasks' due dates it would move, with the
unit that holds each task by name (engine/process/retime.py evaluates them under the new value). It is
then saved with a reason, and applied to running instances too or only to work that starts afterwards;
the change and the moves are one transaction, both audited. The calendar's side is in `calendar_admin`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core.errors import NotFound
from engine.process import retime
from engine.regulation.organisation import Role, Unit, UnitKind, User
from engine.worktime import timer_settings, what_if
from engine.worktime.diagram_functions import settings_referenced
from engine.worktime.tables import TimerSettingChange, TimerSettingRow
from engine.worktime.timer_settings import DurationUnit

# The unit whose people act in a lane whose tasks name no unit (the Office's own tasks).
_LANE_UNITS = {Role.TRACKING_SPECIALIST.value: UnitKind.PROVINCIAL_OFFICE,
               Role.OFFICE_LEADER.value: UnitKind.PROVINCIAL_OFFICE,
               Role.PPC_LEADER.value: UnitKind.PROVINCIAL_PEOPLES_COMMITTEE}


@dataclass(frozen=True)
class MoveView:
    """A due time a change moves, as the preview lists it: instance, element, unit by name, old and new due."""

    instance_id: int
    process_id: str
    kind: str                 # "timer" or "task"
    bpmn_id: str
    name: str | None
    unit: str | None          # the unit's name
    old_due: datetime | None
    new_due: datetime | None
    fires_at_once: bool


@dataclass(frozen=True)
class SettingView:
    """A named duration with its legal basis and its last change."""

    name: str
    value: int
    unit: DurationUnit
    description: str
    legal_basis: str
    updated_by: str
    updated_by_name: str
    updated_at: datetime


@dataclass(frozen=True)
class ChangeView:
    """One change in a setting's history."""

    old_value: int
    old_unit: DurationUnit
    new_value: int
    new_unit: DurationUnit
    reason: str
    changed_by: str
    changed_by_name: str
    changed_at: datetime


@dataclass(frozen=True)
class SettingChanged:
    """A saved change and what it moved (nothing when only new work follows it)."""

    setting: SettingView
    applied_to_running: bool
    moved: tuple[MoveView, ...]


def list_settings(ctx) -> list[SettingView]:
    """Every timer setting with who changed it last (by name) and when."""
    with ctx.unit_of_work(readonly=True) as session:
        rows = session.scalars(select(TimerSettingRow).order_by(TimerSettingRow.name)).all()
        names = people(session, {row.updated_by for row in rows})
        return [_setting_view(row, names) for row in rows]


def get_setting(ctx, name: str) -> SettingView:
    """One setting, or NotFound."""
    with ctx.unit_of_work(readonly=True) as session:
        row = _row(session, name)
        return _setting_view(row, people(session, {row.updated_by}))


def history(ctx, name: str) -> list[ChangeView]:
    """The changes of one setting, newest first; NotFound for an unknown setting."""
    with ctx.unit_of_work(readonly=True) as session:
        _row(session, name)
        rows = session.scalars(select(TimerSettingChange).where(TimerSettingChange.name == name)
                               .order_by(TimerSettingChange.id.desc())).all()
        names = people(session, {row.changed_by for row in rows})
        return [ChangeView(r.old_value, DurationUnit(r.old_unit), r.new_value, DurationUnit(r.new_unit), r.reason,
                           r.changed_by, names.get(r.changed_by, r.changed_by), r.changed_at) for r in rows]


def preview_change(ctx, name: str, value: int, unit: str | None = None) -> list[MoveView]:
    """The running timers and ready tasks' due dates that `value` would move; nothing is changed."""
    timer_settings.check_change(value, "-")
    with ctx.unit_of_work(readonly=True) as session:
        proposed = timer_settings.proposed(session, name, value, unit)
        moves = retime.preview(ctx, session, what_if.Assumption(settings={name: proposed}), _reads(name))
        return move_views(session, moves)


def change(ctx, name: str, value: int, unit: str | None, reason: str, apply_to_running: bool,
           actor: str) -> SettingChanged:
    """Save a new value with its reason (history and audit); with `apply_to_running`, move what the preview
    listed in the same transaction, else running work keeps its due times."""
    timer_settings.check_change(value, reason)
    with ctx.unit_of_work() as session:
        _row(session, name)
        setting = timer_settings.change_in(session, name, value, unit, actor, reason, ctx.now())
        moves = []
        if apply_to_running:
            summary = {"setting": name, "value": value, "unit": setting.unit.value, "reason": reason.strip()}
            moves = retime.apply(ctx, session, what_if.Assumption(settings={name: setting}), _reads(name), actor,
                                 summary)
        row = _row(session, name)
        return SettingChanged(_setting_view(row, people(session, {actor})), apply_to_running,
                              tuple(move_views(session, moves)))


def move_views(session: Session, moves: list[retime.Move]) -> list[MoveView]:
    """The moves with each task's unit by name, soonest old due first."""
    names = dict(session.execute(select(Unit.code, Unit.name)).all())
    by_kind = {kind: name for name, kind in session.execute(select(Unit.name, Unit.kind)).all()}
    views = []
    for m in moves:
        unit = names.get(m.assignee, m.assignee) if m.assignee else by_kind.get(_LANE_UNITS.get(m.lane or ""))
        views.append(MoveView(m.instance_id, m.process_id, m.kind, m.bpmn_id, m.name, unit, m.old_due, m.new_due,
                              m.fires_at_once))
    return sorted(views, key=lambda v: (v.old_due is None, v.old_due or datetime.min, v.instance_id, v.kind))


def people(session: Session, usernames: set[str]) -> dict[str, str]:
    """Full names of these users (a name that is no user, such as "seed", stays as it is)."""
    if not usernames:
        return {}
    return dict(session.execute(select(User.username, User.full_name).where(User.username.in_(usernames))).all())


def full_names(ctx, usernames: set[str]) -> dict[str, str]:
    """`people` in a transaction of its own, for a page that names a few actors."""
    with ctx.unit_of_work(readonly=True) as session:
        return people(session, usernames)


def _reads(name: str):
    return lambda text: name in settings_referenced(text)


def _row(session: Session, name: str) -> TimerSettingRow:
    row = session.get(TimerSettingRow, name)
    if row is None:
        raise NotFound("timer_setting_unknown", name=name)
    return row


def _setting_view(row: TimerSettingRow, names: dict[str, str]) -> SettingView:
    return SettingView(row.name, row.value, DurationUnit(row.unit), row.description, row.legal_basis, row.updated_by,
                       names.get(row.updated_by, row.updated_by), row.updated_at)
