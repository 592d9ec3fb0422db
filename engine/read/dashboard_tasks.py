"""The tasks behind a dashboard figure: the rows `statistics.categorised` labels, filtered by what was counted.

A figure's drill-down is the same select as its count, so its length is the figure: a category (or
`total`: every category but cancelled, or `urged`: the total's tasks urged at least once) of the units of a
scope for a period's window.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.regulation import statistics
from engine.regulation.organisation import Unit
from engine.regulation.records import Document, TrackedTask
from engine.worktime.calendar import WorkingCalendar

# What a drill-down may ask for besides a category.
SETS = ("total", "urged")
PER_PAGE = 50


@dataclass(frozen=True)
class Window:
    """What `statistics.categorised` needs: the units, the data window, now and the deadline settings."""

    unit_ids: list[int]
    data_from: date
    data_to: date
    now: datetime
    calendar: WorkingCalendar
    nearly_due_days: int


@dataclass(frozen=True)
class DrillRow:
    """One task behind a figure."""

    id: int
    content: str
    document: str
    unit_code: str
    unit_name: str
    deadline: date | None
    category: str
    urge_count: int
    assigned_at: datetime
    completed_at: datetime | None


def _selected(window: Window, wanted: str):
    rows = statistics.categorised(window.unit_ids, window.data_from, window.data_to, window.now,
                                  window.calendar, window.nearly_due_days).subquery()
    if wanted == "total":
        condition = rows.c.category != "cancelled"
    elif wanted == "urged":
        condition = (rows.c.category != "cancelled") & (rows.c.urge_count > 0)
    elif wanted in statistics.CATEGORIES:
        condition = rows.c.category == wanted
    else:
        raise ValueError(f"not a figure: {wanted}")
    return rows, condition


def count(session: Session, window: Window, wanted: str) -> int:
    """How many tasks a drill-down lists (its figure)."""
    rows, condition = _selected(window, wanted)
    return session.scalar(select(func.count()).select_from(rows).where(condition))


def rows(session: Session, window: Window, wanted: str, *, limit: int = PER_PAGE, offset: int = 0,
         by_deadline: bool = False) -> list[DrillRow]:
    """The tasks behind a figure, newest first (or soonest deadline first), a page at a time."""
    counted, condition = _selected(window, wanted)
    # The page's ids first, from the index alone; then only their rows are read.
    if by_deadline:  # sorted here: asked to, SQLite would read the whole table in deadline order instead
        ranked = session.execute(select(counted.c.id, counted.c.category, counted.c.deadline).where(condition)).all()
        ranked.sort(key=lambda row: (row.deadline is None, row.deadline or date.min, row.id))
        page = {row.id: row.category for row in ranked[offset:offset + limit]}
    else:
        page = dict(session.execute(select(counted.c.id, counted.c.category).where(condition)
                                    .order_by(counted.c.id.desc()).limit(limit).offset(offset)).all())
    if not page:
        return []
    t = TrackedTask
    found = {row.id: row for row in session.execute(
        select(t.id, t.content, Document.number_symbol, Unit.code, Unit.name, t.deadline, t.urge_count,
               t.assigned_at, t.completed_at)
        .join(Unit, Unit.id == t.lead_unit_id).join(Document, Document.id == t.document_id).where(t.id.in_(page)))}
    return [DrillRow(i, found[i].content, found[i].number_symbol, found[i].code, found[i].name, found[i].deadline,
                     category, found[i].urge_count, found[i].assigned_at, found[i].completed_at)
            for i, category in page.items()]


def urging(session: Session, window: Window) -> dict:
    """`urged_tasks` (tasks of the total urged at least once) and `urges` (how many times in all)."""
    rows, condition = _selected(window, "urged")
    urged, urges = session.execute(select(func.count(), func.coalesce(func.sum(rows.c.urge_count), 0))
                                   .select_from(rows).where(condition)).one()
    return {"urged_tasks": urged, "urges": int(urges)}
