"""Named durations that diagrams' timers read (value + unit): how they count, their seed and history."""
from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core import audit
from engine.core.errors import InvalidInput, NotFound
from engine.worktime import what_if
from engine.worktime.calendar import TZ, WorkingCalendar
from engine.worktime.tables import TimerSettingChange, TimerSettingRow

MAX_VALUE = 10_000  # the largest value a setting takes, whatever its unit


class DurationUnit(str, enum.Enum):
    """How a timer setting's value is counted."""

    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    HOURS = "hours"
    MINUTES = "minutes"


@dataclass(frozen=True)
class TimerSetting:
    """One named duration, with its legal basis."""

    name: str
    value: int
    unit: DurationUnit
    description: str
    legal_basis: str

    def end_after(self, since: datetime, calendar: WorkingCalendar) -> datetime:
        """The instant this duration ends when counted from `since` (Civil Code rules for days)."""
        if since.tzinfo is None:
            since = since.replace(tzinfo=TZ)
        if self.unit is DurationUnit.WORKING_DAYS:
            return calendar.add_working_days(since, self.value)
        if self.unit is DurationUnit.CALENDAR_DAYS:
            # Art. 147-148: the event day is not counted; a last day that is a day off moves on.
            return calendar.deadline_end((since.astimezone(TZ) + timedelta(days=self.value)).date())
        unit = "hours" if self.unit is DurationUnit.HOURS else "minutes"
        return since + timedelta(**{unit: self.value})


def load_seed(path: str | Path) -> list[TimerSetting]:
    """Read the default timer settings shipped in processes/settings/timers.json."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return [TimerSetting(name=item["name"], value=int(item["value"]), unit=DurationUnit(item["unit"]),
                         description=item["description"], legal_basis=item["legal_basis"])
            for item in raw["settings"]]


@dataclass(frozen=True)
class SettingChange:
    """One entry of a setting's history."""

    name: str
    old_value: int
    old_unit: DurationUnit
    new_value: int
    new_unit: DurationUnit
    reason: str
    changed_by: str
    changed_at: datetime


def seed(session: Session, seeds: list[TimerSetting], actor: str, now: datetime) -> int:
    """Insert the shipped defaults of settings not in the table yet (admin changes are kept)."""
    known = set(session.scalars(select(TimerSettingRow.name)))
    new = [s for s in seeds if s.name not in known]
    session.add_all(TimerSettingRow(name=s.name, value=s.value, unit=s.unit.value, description=s.description,
                                    legal_basis=s.legal_basis, updated_by=actor, updated_at=now) for s in new)
    return len(new)


def get(session: Session, name: str) -> TimerSetting:
    """The current value of a named setting (or one assumed for a preview: engine/worktime/what_if.py), or
    InvalidInput naming it."""
    assumed = what_if.setting(name)
    if assumed is not None:
        return assumed
    row = session.get(TimerSettingRow, name)
    if row is None:
        raise InvalidInput("timer_setting_unknown", name=name)
    return _setting(row)


def known_names(session: Session) -> set[str]:
    """Names of every timer setting."""
    return set(session.scalars(select(TimerSettingRow.name)))


def list_settings(ctx) -> list[tuple[TimerSetting, str, datetime]]:
    """Every setting with who changed it last and when."""
    with ctx.unit_of_work(readonly=True) as session:
        rows = session.scalars(select(TimerSettingRow).order_by(TimerSettingRow.name))
        return [(_setting(row), row.updated_by, row.updated_at) for row in rows]


def change_setting(ctx, name: str, value: int, unit: str | None, actor: str, reason: str) -> TimerSetting:
    """Change a setting; timers armed from now on use it (waiting ones: see engine/process/rearm.py)."""
    check_change(value, reason)
    with ctx.unit_of_work() as session:
        return change_in(session, name, value, unit, actor, reason, ctx.now())


def check_change(value, reason: str) -> None:
    """Refuse a value that is not a whole number in range, or a change without a reason."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > MAX_VALUE:
        raise InvalidInput("timer_value_invalid")
    if not str(reason or "").strip():
        raise InvalidInput("timer_reason_missing")


def proposed(session: Session, name: str, value: int, unit: str | None = None) -> TimerSetting:
    """The setting as it would be with this value (and unit), nothing changed; NotFound if unknown."""
    row = session.get(TimerSettingRow, name)
    if row is None:
        raise NotFound("timer_setting_unknown", name=name)
    return TimerSetting(name=row.name, value=value, unit=_unit(unit, row.unit), description=row.description,
                        legal_basis=row.legal_basis)


def change_in(session: Session, name: str, value: int, unit: str | None, actor: str, reason: str,
              now: datetime) -> TimerSetting:
    """Change a setting in the caller's transaction (checked by `check_change` first): history and audit."""
    check_change(value, reason)
    row = session.get(TimerSettingRow, name, with_for_update=True)
    if row is None:
        raise NotFound("timer_setting_unknown", name=name)
    new_unit = _unit(unit, row.unit)
    session.add(TimerSettingChange(name=name, old_value=row.value, old_unit=row.unit, new_value=value,
                                   new_unit=new_unit.value, reason=reason.strip(), changed_by=actor,
                                   changed_at=now))
    summary = {"name": name, "old": f"{row.value} {row.unit}", "new": f"{value} {new_unit.value}",
               "reason": reason.strip()}
    row.value, row.unit, row.updated_by, row.updated_at = value, new_unit.value, actor, now
    session.flush()
    audit.record(session, at=now, actor=actor, action="timer_setting_changed", summary=summary)
    return _setting(row)


def _unit(unit: str | None, current: str) -> DurationUnit:
    try:
        return DurationUnit(unit) if unit else DurationUnit(current)
    except ValueError:
        raise InvalidInput("duration_unit_unknown", allowed=", ".join(u.value for u in DurationUnit)) from None


def history(ctx, name: str) -> list[SettingChange]:
    """The changes of one setting, oldest first."""
    with ctx.unit_of_work(readonly=True) as session:
        rows = session.scalars(select(TimerSettingChange).where(TimerSettingChange.name == name)
                               .order_by(TimerSettingChange.id))
        return [SettingChange(r.name, r.old_value, DurationUnit(r.old_unit), r.new_value,
                              DurationUnit(r.new_unit), r.reason, r.changed_by, r.changed_at) for r in rows]


def _setting(row: TimerSettingRow) -> TimerSetting:
    return TimerSetting(name=row.name, value=row.value, unit=DurationUnit(row.unit),
                        description=row.description, legal_basis=row.legal_basis)
