"""The overdue tasks of a unit (its subtree) or of the province, for the urging documents (Art. 15).

Overdue is the status category of `statistics` as of now: an open task, not returned nor awaiting the
Office's confirmation, whose deadline has ended (Art. 148.5; `statistics.thresholds`), so this list and the
report's "overdue" figure of the current period are the same tasks. Days overdue are working days after
the deadline's last day up to today, today included (the deadline of Fri 13/06 is 2 working days overdue
on Tue 17/06).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from engine.regulation import organisation, reporting, statistics
from engine.regulation.organisation import Unit
from engine.regulation.records import Document, TaskStatus, TrackedTask
from engine.worktime import timer_settings
from engine.worktime.calendar import TZ

_OPEN_BY_DEADLINE = (TaskStatus.IN_PROGRESS, TaskStatus.NO_DEADLINE)
_LIMIT = 5000  # a list longer than this is not an urging list any more; the XLSX says it was cut


@dataclass(frozen=True)
class OverdueTask:
    """One overdue task as an urging document cites it."""

    task_id: int
    content: str
    document_number: str
    document_issued_on: date
    deadline: date
    days_overdue: int
    lead_unit_code: str
    lead_unit_name: str
    urge_count: int


@dataclass(frozen=True)
class OverdueList:
    """The overdue tasks of a unit's subtree (or the province: unit_code None) as of `today`."""

    unit_code: str | None
    unit_name: str
    today: date
    items: list[OverdueTask]
    cut: bool                 # more than the limit matched; the first ones (longest overdue) are kept


def overdue_tasks(ctx, unit_code: str | None) -> OverdueList:
    """The overdue tasks of a unit and the units below it, or of the province; by unit, longest overdue first."""
    now = ctx.now()
    with ctx.unit_of_work(readonly=True) as session:
        calendar = ctx.calendars.get(session)
        limits = statistics.thresholds(calendar, now, timer_settings.get(session, reporting.NEARLY_DUE_SETTING).value)
        t = TrackedTask
        stmt = (select(t.id, t.content, Document.number_symbol, Document.issued_on, t.deadline, Unit.code, Unit.name,
                       t.urge_count)
                .join(Document, Document.id == t.document_id).join(Unit, Unit.id == t.lead_unit_id)
                .where(t.status.in_(_OPEN_BY_DEADLINE), t.deadline.is_not(None),
                       t.deadline <= limits.overdue_through, t.assigned_at < now)
                .order_by(Unit.name, t.deadline, t.id).limit(_LIMIT + 1))
        name = ""
        if unit_code is not None:
            stmt = stmt.where(Unit.code.in_(organisation.subtree_codes(session, unit_code)))
            name = organisation.unit_by_code(session, unit_code).name
        rows = session.execute(stmt).all()
        today = now.astimezone(TZ).date()
        items = [OverdueTask(task_id, content, number, issued, deadline,
                             calendar.working_days_between(_last_day(calendar, deadline), today), code, unit_name,
                             urges)
                 for task_id, content, number, issued, deadline, code, unit_name, urges in rows[:_LIMIT]]
    return OverdueList(unit_code, name, today, items, len(rows) > _LIMIT)


def _last_day(calendar, deadline: date) -> date:
    # A deadline on a day off runs to the end of the next working day (Art. 148.5): count from that day.
    return (calendar.deadline_end(deadline).astimezone(TZ) - timedelta(microseconds=1)).date()
