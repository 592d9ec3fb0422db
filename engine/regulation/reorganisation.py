"""Organisation changes that move work: merge a unit into another, retire one (its work to another),
rename; each previewed first, then applied in one transaction, audited (docs/regulation.md,
"Organisation changes").

What routes by unit moves to the receiving unit: open tracked tasks (lead unit, coordinators), pending
periodic reports, the running instances' data (their ready tasks' assignees follow, their timers' actions
too: engine/process/data_rewrite.py), schedules' data, and the unit's people (moved, or deactivated with
their claims released). What records what happened does not move: the merged unit's row stays, inactive,
with `merged_into_id`, so progress updates, closed tasks, feedback and notifications keep its name.

A preview runs the very same change and rolls it back, so it lists exactly what applying would do.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core import audit
from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.process import data_rewrite
from engine.process.context import EngineContext
from engine.process.data_rewrite import TaskMove, TimerMove
from engine.process.tables import ReadyTask, Schedule
from engine.regulation.organisation import Unit, User, _lock_units, _valid_name, unit_by_code
from engine.regulation.process_inputs import START_DATA
from engine.regulation.records import PeriodicReport, TaskCoordinator, TaskStatus, TrackedTask

# The data fields that hold a unit's code (declared "unit" in START_DATA), and the list of coordinators.
UNIT_FIELDS = frozenset({name for spec in START_DATA.values() for name, kind in spec.items() if kind == "unit"}
                        | {"coordinators"})
USER_MODES = ("move", "deactivate")
OPEN_STATUSES = tuple(status for status in TaskStatus if status.is_open)


@dataclass(frozen=True)
class UnitChange:
    """A unit created, renamed, moved, merged or retired."""

    action: str                 # created, renamed, moved, merged, retired
    code: str
    name: str
    old_name: str | None = None
    parent: str | None = None   # the new parent (created, moved)
    old_parent: str | None = None
    into: str | None = None     # where the work went (merged, retired)


@dataclass(frozen=True)
class TrackedTaskMove:
    """An open tracked task whose lead unit (or a coordinating unit) changes."""

    task_id: int
    content: str
    role: str                   # lead, coordinator
    old_unit: str
    new_unit: str


@dataclass(frozen=True)
class ReportMove:
    """A pending periodic report that the receiving unit now sends."""

    period_key: str
    instance_id: int | None
    old_unit: str
    new_unit: str


@dataclass(frozen=True)
class ScheduleMove:
    """A recurring schedule whose data named the unit."""

    schedule_id: int
    process_id: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class UserMove:
    """A person of a merged or retired unit: moved to the receiving unit, or deactivated (new_unit None)."""

    username: str
    full_name: str
    old_unit: str
    new_unit: str | None
    released_claims: int = 0


@dataclass(frozen=True)
class InstanceChange:
    """A running instance whose data was rewritten."""

    instance_id: int
    process_id: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Blocked:
    """Something that stays with the old unit, and why (`reason` is a catalog key, `params` its values)."""

    what: str                   # ready_task, report
    ref: str
    unit: str
    reason: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class ChangeReport:
    """What an organisation change does (preview) or did (applied)."""

    applied: bool = False
    units: list[UnitChange] = field(default_factory=list)
    tracked_tasks: list[TrackedTaskMove] = field(default_factory=list)
    steps: list[TaskMove] = field(default_factory=list)
    timers: list[TimerMove] = field(default_factory=list)
    instances: list[InstanceChange] = field(default_factory=list)
    schedules: list[ScheduleMove] = field(default_factory=list)
    reports: list[ReportMove] = field(default_factory=list)
    users: list[UserMove] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)   # code -> name of every unit named above


class _Preview(Exception):
    """Raised at the end of a preview so that its unit of work rolls back."""

    def __init__(self, report: ChangeReport):
        super().__init__("preview")
        self.report = report


def run_change(ctx: EngineContext, apply: bool, change: Callable[[Session, ChangeReport], None]) -> ChangeReport:
    """Run `change` in one unit of work; commit it when `apply`, else roll it back (a preview)."""
    report = ChangeReport(applied=apply)
    try:
        with ctx.unit_of_work() as session:
            _lock_units(session)
            change(session, report)
            report.names = dict(session.execute(select(Unit.code, Unit.name)).all())
            if not apply:
                raise _Preview(report)
    except _Preview as preview:
        return preview.report
    return report


def merge_unit(ctx: EngineContext, code: str, into: str, actor: str, reason: str = "", *, apply: bool = True,
               users: str = "move", with_sub_units: bool = False) -> ChangeReport:
    """Merge unit `code` into `into`: its work and (by default) its people go there; preview unless `apply`."""
    return run_change(ctx, apply, lambda session, report: hand_over(
        ctx, session, report, code, into, "merged", actor, reason, users, with_sub_units))


def retire_unit(ctx: EngineContext, code: str, work_to: str, actor: str, reason: str = "", *, apply: bool = True,
                users: str = "deactivate") -> ChangeReport:
    """Retire unit `code`, its work going to `work_to`; its people deactivated unless `users` is "move"."""
    return run_change(ctx, apply, lambda session, report: hand_over(
        ctx, session, report, code, work_to, "retired", actor, reason, users, False))


def rename_unit(ctx: EngineContext, code: str, name: str, actor: str, reason: str = "") -> ChangeReport:
    """Correct a unit's name (the same body: every record shows the new name; a new body is a merge)."""
    return run_change(ctx, True, lambda session, report: rename_in(ctx, session, report, code, name, actor, reason))


def rename_in(ctx: EngineContext, session: Session, report: ChangeReport, code: str, name: str, actor: str,
              reason: str) -> None:
    """Rename a unit inside the caller's unit of work."""
    unit, name = unit_by_code(session, code), _valid_name(name)
    if not unit.active:
        raise Conflict("unit_inactive_no_rename", unit=code)
    if unit.name != name:
        report.units.append(UnitChange("renamed", code, name, old_name=unit.name))
        audit.record(session, at=ctx.now(), actor=actor, action="unit_renamed",
                     summary={"unit": code, "from": unit.name, "to": name, **_why(reason)})
        unit.name = name


def hand_over(ctx: EngineContext, session: Session, report: ChangeReport, code: str, into: str, action: str,
              actor: str, reason: str, users: str, with_sub_units: bool) -> None:
    """Give a unit's work (and people) to another inside the caller's unit of work, and close the unit."""
    if users not in USER_MODES:
        raise InvalidInput("unit_users_mode_unknown", value=str(users), allowed=", ".join(USER_MODES))
    old, new = unit_by_code(session, code), _receiving(session, code, into)
    _check(session, old, new, with_sub_units)
    now = ctx.now()
    for child in session.scalars(select(Unit).where(Unit.parent_id == old.id, Unit.active.is_(True))
                                 .order_by(Unit.code)):
        child.parent_id = new.id
        report.units.append(UnitChange("moved", child.code, child.name, parent=new.code, old_parent=old.code))
    _move_tracked_tasks(session, report, old, new)
    skip = _move_reports(session, report, old, new)
    mapping = {old.code: new.code}
    for done in data_rewrite.rewrite_in(ctx, session, mapping, UNIT_FIELDS, actor, reason, exclude=skip):
        report.instances.append(InstanceChange(done.instance_id, done.process_id,
                                               tuple(sorted({c.field for c in done.changes}))))
        report.steps.extend(done.tasks)
        report.timers.extend(done.timers)
    _move_schedules(session, report, mapping)
    for task in session.scalars(select(ReadyTask).where(ReadyTask.assignee == old.code).order_by(ReadyTask.id)):
        reason_key = "org.blocked_report_taken" if task.instance_id in skip else "org.blocked_assignee_not_unit_field"
        report.blocked.append(Blocked("ready_task", f"{task.instance_id}/{task.task_id}", old.code, reason_key,
                                      {"task": task.name or task.bpmn_id, "instance": str(task.instance_id)}))
    _hand_over_people(session, report, old, new, users)
    old.active, old.merged_into_id, old.retired_at = False, new.id, now
    report.units.append(UnitChange(action, old.code, old.name, into=new.code))
    audit.record(session, at=now, actor=actor, action=f"unit_{action}", summary={
        "unit": old.code, "name": old.name, "into": new.code, "users": users, **_why(reason),
        "tracked_tasks": len([t for t in report.tracked_tasks if t.old_unit == old.code]),
        "instances": len(report.instances), "blocked": len(report.blocked)})


def _receiving(session: Session, code: str, into: Any) -> Unit:
    if not isinstance(into, str) or not into:
        raise InvalidInput("unit_receiving_missing")
    if into == code:
        raise InvalidInput("unit_merge_into_itself", unit=code)
    try:
        return unit_by_code(session, into)
    except NotFound:
        raise InvalidInput("unit_receiving_unknown", unit=into) from None


def _check(session: Session, old: Unit, new: Unit, with_sub_units: bool) -> None:
    if not old.active:
        raise Conflict("unit_already_inactive", unit=old.code)
    if not new.active:
        raise Conflict("unit_receiving_inactive", unit=new.code)
    node = new
    while node is not None:  # the receiving unit must not be below the one that goes (a loop)
        if node.id == old.id:
            raise Conflict("unit_receiving_below", unit=old.code, into=new.code)
        node = session.get(Unit, node.parent_id) if node.parent_id else None
    below = sorted(session.scalars(select(Unit.code).where(Unit.parent_id == old.id, Unit.active.is_(True))))
    if below and not with_sub_units:
        raise Conflict("unit_has_active_units", unit=old.code, below=", ".join(below))


def _move_tracked_tasks(session: Session, report: ChangeReport, old: Unit, new: Unit) -> None:
    for task in session.scalars(select(TrackedTask).where(TrackedTask.lead_unit_id == old.id,
                                                          TrackedTask.status.in_(OPEN_STATUSES))
                                .order_by(TrackedTask.id)):
        task.lead_unit_id = new.id
        report.tracked_tasks.append(TrackedTaskMove(task.id, task.content, "lead", old.code, new.code))
    rows = session.execute(select(TaskCoordinator, TrackedTask)
                           .join(TrackedTask, TrackedTask.id == TaskCoordinator.task_id)
                           .where(TaskCoordinator.unit_id == old.id, TrackedTask.status.in_(OPEN_STATUSES))
                           .order_by(TaskCoordinator.id)).all()
    for coordinator, task in rows:
        taken = session.scalar(select(TaskCoordinator.id).where(TaskCoordinator.task_id == task.id,
                                                                TaskCoordinator.unit_id == new.id))
        if taken is None:  # already coordinating: the old unit's row stays as the record it is
            coordinator.unit_id = new.id
            report.tracked_tasks.append(TrackedTaskMove(task.id, task.content, "coordinator", old.code, new.code))
    session.flush()


def _move_reports(session: Session, report: ChangeReport, old: Unit, new: Unit) -> set[int]:
    """Pending reports go to the receiving unit, unless it has its own for the period: then the old one's
    instance stays as it is (listed as blocked); returns those instances."""
    skip: set[int] = set()
    for row in session.scalars(select(PeriodicReport).where(PeriodicReport.unit_id == old.id,
                                                            PeriodicReport.submitted_at.is_(None))
                               .order_by(PeriodicReport.period_key)):
        own = session.scalar(select(PeriodicReport.id).where(PeriodicReport.unit_id == new.id,
                                                             PeriodicReport.period_key == row.period_key))
        if own is not None:
            if row.instance_id is not None:
                skip.add(row.instance_id)
            report.blocked.append(Blocked("report", row.period_key, old.code, "org.blocked_report_taken",
                                          {"period": row.period_key, "unit": new.code}))
            continue
        row.unit_id = new.id
        report.reports.append(ReportMove(row.period_key, row.instance_id, old.code, new.code))
    session.flush()
    return skip


def _move_schedules(session: Session, report: ChangeReport, mapping: dict[str, str]) -> None:
    for row in session.scalars(select(Schedule).where(Schedule.active.is_(True)).order_by(Schedule.id)):
        data, changed = dict(row.data or {}), []
        for name in sorted(UNIT_FIELDS & data.keys()):
            value = data[name]
            if isinstance(value, str) and value in mapping:
                data[name] = mapping[value]
                changed.append(name)
            elif isinstance(value, list) and any(v in mapping for v in value if isinstance(v, str)):
                data[name] = list(dict.fromkeys(mapping.get(v, v) if isinstance(v, str) else v for v in value))
                changed.append(name)
        if changed:
            row.data = data  # a new dict: the JSON column sees the change
            report.schedules.append(ScheduleMove(row.id, row.process_id, tuple(changed)))


def _hand_over_people(session: Session, report: ChangeReport, old: Unit, new: Unit, users: str) -> None:
    for user in session.scalars(select(User).where(User.unit_id == old.id, User.active.is_(True))
                                .order_by(User.username)):
        if users == "move":
            user.unit_id = new.id
            report.users.append(UserMove(user.username, user.full_name, old.code, new.code))
            continue
        user.active = False
        claims = list(session.scalars(select(ReadyTask).where(ReadyTask.claimed_by == user.username)))
        for claim in claims:  # nobody may complete a task held by someone who can no longer sign in
            claim.claimed_by, claim.claimed_at = None, None
        report.users.append(UserMove(user.username, user.full_name, old.code, None, len(claims)))


def _why(reason: str) -> dict[str, str]:
    return {"reason": reason.strip()} if isinstance(reason, str) and reason.strip() else {}
