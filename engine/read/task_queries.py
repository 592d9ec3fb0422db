"""Read models of tracked tasks for lists and pages (SQL only, no workflow loaded)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import and_, false, func, or_, select

from engine.core.errors import NotFound
from engine.core.search_text import like_pattern
from engine.regulation import access, attachments, statistics, working_time
from engine.regulation.access import Actor, TrackedTaskAbilities
from engine.regulation.attachments import AttachmentView
from engine.regulation.organisation import Unit
from engine.regulation.records import (
    Document,
    Feedback,
    FeedbackOutcome,
    ProgressState,
    ProgressUpdate,
    TaskStatus,
    TrackedTask,
)
from engine.worktime import timer_settings

# What the list's status filter offers: every category a row is shown under (a status of its own, or
# for an open task the deadline's: within, nearly due, overdue, none).
CATEGORIES = statistics.CATEGORIES


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
               status: str | None = None, ids: list[int] | None = None, page: int = 1, per_page: int = 50) -> TaskList:
    """Tracked tasks the viewer may see (unit_codes None: the Office, all), newest first.

    `text` is found in the content, the document's number or summary, accents and case ignored;
    `status` is a status or a category the list shows (overdue, nearly due...: statistics.CATEGORIES).
    """
    page, per_page = max(1, page), min(max(1, per_page), 200)
    with ctx.unit_of_work(readonly=True) as session:
        nearly = timer_settings.get(session, "deadline_reminder").value
        limits = statistics.thresholds(ctx.calendars.get(session), ctx.now(), nearly)
        stmt = (select(TrackedTask, Unit.code, Unit.name, Document.number_symbol)
                .join(Unit, Unit.id == TrackedTask.lead_unit_id).join(Document, Document.id == TrackedTask.document_id))
        if unit_codes is not None:
            stmt = stmt.where(Unit.code.in_(unit_codes))
        if lead_unit:
            stmt = stmt.where(Unit.code == lead_unit)
        if (pattern := like_pattern(text)) is not None:
            # The documents matching first (few rows), so each task is tested on its own column only.
            documents = list(session.scalars(select(Document.id).where(
                Document.search_text.like(pattern, escape="\\"))))
            matches = TrackedTask.search_text.like(pattern, escape="\\")
            # Only then: an OR makes SQLite's scan twice as slow.
            stmt = stmt.where(or_(matches, TrackedTask.document_id.in_(documents)) if documents else matches)
        if status:
            stmt = stmt.where(_status_condition(status, limits))
        if ids is not None:
            stmt = stmt.where(TrackedTask.id.in_(ids))
        total = session.scalar(select(func.count()).select_from(stmt.subquery()))
        rows = session.execute(stmt.order_by(TrackedTask.id.desc()).limit(per_page).offset((page - 1) * per_page)).all()
        return TaskList([TaskRow(t.id, t.content, number, code, name, t.deadline, t.status.value,
                                 statistics.deadline_category(t.deadline, limits) if t.status.is_open and
                                 t.status.value in ("in_progress", "no_deadline") else t.status.value,
                                 t.urge_count, t.instance_id, t.assigned_at)
                         for t, code, name, number in rows], total, page, per_page)


def _status_condition(status: str, limits: statistics.Thresholds):
    # The categories an open task is shown under come from its deadline (statistics.deadline_category,
    # as the rows below); any other value is a status of its own.
    judged = TrackedTask.status.in_((TaskStatus.IN_PROGRESS, TaskStatus.NO_DEADLINE))
    expired, nearly = TrackedTask.deadline <= limits.overdue_through, limits.nearly_due_through
    by_deadline = {
        "no_deadline": TrackedTask.deadline.is_(None),
        "overdue": expired,
        "nearly_due": and_(~expired, TrackedTask.deadline <= nearly) if nearly else false(),
        "within_deadline": TrackedTask.deadline > (nearly or limits.overdue_through),
    }
    if status in by_deadline:
        return and_(judged, by_deadline[status])
    return TrackedTask.status == status


@dataclass(frozen=True)
class UpdateRow:
    """A progress update as the task page lists it."""

    id: int
    unit: str
    state: ProgressState | str     # a value stored before states were checked stays as it is
    work_done: str
    difficulties: str
    proposals: str
    report_document: str
    period_key: str | None         # None: an update outside the periods (whenever there is a result)
    submitted_by: str
    submitted_at: datetime
    unit_name: str = ""
    submitted_by_name: str = ""    # the user's full name; "" for an actor that is no user ("demo")
    attachments: list[AttachmentView] = field(default_factory=list)


@dataclass(frozen=True)
class TaskPage:
    """Everything the page of one tracked task shows."""

    task: TaskRow
    updates: list[UpdateRow]
    parts: list[TaskRow]           # delegated to units below the lead unit
    feedback_count: int
    abilities: TrackedTaskAbilities | None = None  # what the asking actor may do (task_page_for)


def task_page_for(ctx, actor: Actor, task_id: int) -> TaskPage:
    """A tracked task as this actor sees it, with what they may do there; NotFound when it is
    another unit's (not even its existence is shown)."""
    page = task_page(ctx, task_id)
    if not access.may_see_unit(actor, page.task.lead_unit):
        raise NotFound("tracked_task_not_found", task=task_id)
    return replace(page, abilities=access.abilities(actor, page.task.lead_unit, TaskStatus(page.task.status).is_open))


def task_page(ctx, task_id: int) -> TaskPage:
    """One tracked task with its updates, delegated parts and feedback count."""
    with ctx.unit_of_work(readonly=True) as session:
        task = session.get(TrackedTask, task_id)
        if task is None:
            raise NotFound("tracked_task_not_found", task=task_id)
        updates = session.execute(select(ProgressUpdate, Unit.code, Unit.name)
                                  .join(Unit, Unit.id == ProgressUpdate.unit_id)
                                  .where(ProgressUpdate.task_id == task_id).order_by(ProgressUpdate.id.desc())).all()
        files = attachments.of_owners(session, attachments.OwnerKind.PROGRESS_UPDATE, [u.id for u, *_ in updates])
        names = working_time.people(session, {u.submitted_by for u, *_ in updates})
        feedback = session.scalar(select(func.count()).select_from(Feedback).where(Feedback.task_id == task_id))
        part_ids = list(session.scalars(select(TrackedTask.id).where(TrackedTask.parent_task_id == task_id)))
    rows = {row.id: row for row in list_tasks(ctx, None, ids=[task_id, *part_ids], per_page=200).rows}
    return TaskPage(rows[task_id], [UpdateRow(u.id, code, _state(u.state), u.work_done, u.difficulties, u.proposals,
                                              u.report_document, u.period_key, u.submitted_by, u.submitted_at,
                                              unit_name, names.get(u.submitted_by, ""),
                                              files.get(u.id, []))
                                    for u, code, unit_name in updates],
                    [rows[i] for i in part_ids if i in rows], feedback)


@dataclass(frozen=True)
class FeedbackRow:
    """One line of the Office's feedback register."""

    id: int
    task_id: int
    task_content: str
    lead_unit: str
    provider: str
    content: str
    received_at: datetime
    outcome: FeedbackOutcome | None
    closed_at: datetime | None
    urgings: list[str]


def feedback_register(ctx, open_only: bool = False, limit: int = 200) -> list[FeedbackRow]:
    """Feedback received, newest first, with the urging documents issued on each."""
    from sqlalchemy.orm import aliased

    from engine.regulation.records import Feedback, UrgingDocument

    lead, provider = aliased(Unit), aliased(Unit)
    with ctx.unit_of_work(readonly=True) as session:
        stmt = (select(Feedback, TrackedTask.content, lead.name, provider.name)
                .join(TrackedTask, TrackedTask.id == Feedback.task_id).join(lead, lead.id == TrackedTask.lead_unit_id)
                .join(provider, provider.id == Feedback.provider_unit_id).order_by(Feedback.id.desc()).limit(limit))
        if open_only:
            stmt = stmt.where(Feedback.closed_at.is_(None))
        rows = session.execute(stmt).all()
        urgings: dict[int, list[str]] = {}
        for feedback_id, number in session.execute(select(UrgingDocument.feedback_id, UrgingDocument.number_symbol)
                                                   .where(UrgingDocument.feedback_id.in_([f.id for f, *_ in rows]))):
            urgings.setdefault(feedback_id, []).append(number)
        return [FeedbackRow(f.id, f.task_id, content, lead_name, provider_name, f.content, f.received_at,
                            FeedbackOutcome(f.outcome) if f.outcome else None,
                            f.closed_at, urgings.get(f.id, [])) for f, content, lead_name, provider_name in rows]


def _state(value: str) -> ProgressState | str:
    return next((state for state in ProgressState if state.value == value), value)
