"""Read models of tracked tasks for lists and pages (SQL only, no workflow loaded)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from . import statistics, timer_settings
from .organisation import Unit
from .records import Document, TrackedTask


@dataclass(frozen=True)
class TaskRow:
    """One tracked task in a list."""

    id: int
    content: str
    document: str
    lead_unit: str
    lead_unit_name: str
    deadline: date | None
    status: str
    category: str
    urge_count: int
    instance_id: int | None
    assigned_at: datetime


@dataclass(frozen=True)
class TaskList:
    """A page of tracked tasks."""

    rows: list[TaskRow]
    total: int
    page: int
    per_page: int


def list_tasks(ctx, unit_codes: frozenset[str] | None = None, *, lead_unit: str | None = None, text: str | None = None,
               status: str | None = None, page: int = 1, per_page: int = 50) -> TaskList:
    """Tracked tasks the viewer may see (unit_codes None: the Office, all), newest first."""
    page, per_page = max(1, page), min(max(1, per_page), 200)
    with ctx.unit_of_work(readonly=True) as session:
        stmt = (select(TrackedTask, Unit.code, Unit.name, Document.number_symbol)
                .join(Unit, Unit.id == TrackedTask.lead_unit_id).join(Document, Document.id == TrackedTask.document_id))
        if unit_codes is not None:
            stmt = stmt.where(Unit.code.in_(unit_codes))
        if lead_unit:
            stmt = stmt.where(Unit.code == lead_unit)
        if text:
            stmt = stmt.where(func.lower(TrackedTask.content).contains(text.lower()))
        if status:
            stmt = stmt.where(TrackedTask.status == status)
        total = session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = session.execute(stmt.order_by(TrackedTask.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
        nearly = timer_settings.get(session, "deadline_reminder").value
        limits = statistics.thresholds(ctx.calendars.get(session), ctx.now(), nearly)
        return TaskList([TaskRow(t.id, t.content, number, code, name, t.deadline, t.status.value,
                                 statistics.deadline_category(t.deadline, limits) if t.status.is_open and
                                 t.status.value in ("in_progress", "no_deadline") else t.status.value,
                                 t.urge_count, t.instance_id, t.assigned_at)
                         for t, code, name, number in rows], total, page, per_page)
