"""The announced calendar overrides in the database: seed, list, add, remove; and the live calendar.

The statutory holidays come from the `holidays` package; the swaps and extra days off that the
Government announces each year are data that an admin keeps here (see engine/worktime/calendar.py).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.bpmn import budget
from engine.core import audit
from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.worktime import what_if
from engine.worktime.calendar import Override, OverrideKind, WorkingCalendar
from engine.worktime.tables import CalendarOverrideRow


@dataclass(frozen=True)
class OverrideView:
    """An override as admins see it."""

    day: date
    kind: OverrideKind
    reason: str
    source: str
    created_by: str
    created_at: datetime


class CalendarCache:
    """One WorkingCalendar per revision of the overrides table, shared by the use cases.

    The web app and the timer worker may run in separate processes, so the cache asks the
    database for the table's revision (row count and highest id) before each use: cheap, and a
    change made anywhere is seen at once.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._revision: tuple | None = None
        self._calendar: WorkingCalendar | None = None

    def get(self, session: Session) -> WorkingCalendar:
        """The calendar with the overrides as they stand in `session`'s database (or one assumed for a
        preview: engine/worktime/what_if.py)."""
        assumed = what_if.calendar()
        if assumed is not None:
            return assumed
        revision = tuple(session.execute(
            select(func.count(CalendarOverrideRow.id), func.max(CalendarOverrideRow.id))).one())
        with self._lock:
            if revision != self._revision or self._calendar is None:
                with budget.uncharged():  # a cache filled for every step after (engine/bpmn/budget)
                    rows = session.scalars(select(CalendarOverrideRow)).all()
                    self._calendar = WorkingCalendar(_override(row) for row in rows)
                self._revision = revision
            return self._calendar


def seed(session: Session, overrides: list[Override], actor: str, now: datetime) -> int:
    """Insert the shipped overrides whose day is not in the table yet; return how many."""
    known = set(session.scalars(select(CalendarOverrideRow.day)))
    new = [o for o in overrides if o.day not in known]
    session.add_all(CalendarOverrideRow(day=o.day, kind=o.kind.value, reason=o.reason, source=o.source,
                                        created_by=actor, created_at=now) for o in new)
    return len(new)


def list_overrides(ctx, year: int | None = None) -> list[OverrideView]:
    """Overrides by date, optionally one year's."""
    with ctx.unit_of_work(readonly=True) as session:
        stmt = select(CalendarOverrideRow).order_by(CalendarOverrideRow.day)
        if year is not None:
            stmt = stmt.where(CalendarOverrideRow.day.between(date(year, 1, 1), date(year, 12, 31)))
        return [_view(row) for row in session.scalars(stmt)]


def add_override(ctx, day: date, kind: str, reason: str, source: str, actor: str) -> OverrideView:
    """Record an announced extra day off or make-up working day."""
    checked = check_override(day, kind, reason, source)
    with ctx.unit_of_work() as session:
        return add_in(session, checked, actor, ctx.now())


def check_override(day: date, kind: str, reason: str, source: str) -> Override:
    """The override these fields describe, or InvalidInput saying what is wrong with them."""
    try:
        kind = OverrideKind(kind)
    except ValueError:
        raise InvalidInput("override_kind_unknown", allowed=", ".join(k.value for k in OverrideKind)) from None
    if not str(reason or "").strip() or not str(source or "").strip():
        raise InvalidInput("override_reason_missing")
    if kind is OverrideKind.WORKING_DAY and day.weekday() < 5:
        raise InvalidInput("makeup_day_weekday", day=day.isoformat())
    return Override(day, kind, reason.strip(), source.strip())


def add_in(session: Session, override: Override, actor: str, now: datetime) -> OverrideView:
    """Add a checked override in the caller's transaction (audited); Conflict if the day has one."""
    day = override.day
    if session.scalar(select(CalendarOverrideRow.id).where(CalendarOverrideRow.day == day)):
        raise Conflict("override_exists", day=day.isoformat())
    row = CalendarOverrideRow(day=day, kind=override.kind.value, reason=override.reason, source=override.source,
                              created_by=actor, created_at=now)
    session.add(row)
    session.flush()
    audit.record(session, at=now, actor=actor, action="calendar_override_added",
                 summary={"day": day.isoformat(), "kind": row.kind, "reason": row.reason, "source": row.source})
    return _view(row)


def remove_override(ctx, day: date, actor: str) -> None:
    """Remove the override of a day (the statutory rule applies again)."""
    with ctx.unit_of_work() as session:
        remove_in(session, day, actor, ctx.now())


def remove_in(session: Session, day: date, actor: str, now: datetime) -> OverrideView:
    """Remove the override of a day in the caller's transaction (audited); NotFound if it has none."""
    row = session.scalar(select(CalendarOverrideRow).where(CalendarOverrideRow.day == day))
    if row is None:
        raise NotFound("override_not_found", day=day.isoformat())
    removed = _view(row)
    session.execute(delete(CalendarOverrideRow).where(CalendarOverrideRow.id == row.id))
    audit.record(session, at=now, actor=actor, action="calendar_override_removed",
                 summary={"day": day.isoformat(), "kind": row.kind, "reason": row.reason, "source": row.source})
    return removed


def stored(session: Session) -> list[Override]:
    """Every override as it stands in `session`'s database (to build a calendar assumed for a preview)."""
    return [_override(row) for row in session.scalars(select(CalendarOverrideRow))]


def _override(row: CalendarOverrideRow) -> Override:
    return Override(day=row.day, kind=OverrideKind(row.kind), reason=row.reason, source=row.source)


def _view(row: CalendarOverrideRow) -> OverrideView:
    return OverrideView(row.day, OverrideKind(row.kind), row.reason, row.source, row.created_by,
                        row.created_at)
