"""What a district, agency or commune sees when it files feedback (Art. 16.4; issue 13, item 8): the tasks it
may report on, found by their content or document number as typed (accents and case ignored), and the
feedback its unit has filed with what the Office did about each."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import aliased

from engine.core.errors import InvalidInput
from engine.read.task_queries import FeedbackRow
from engine.read.unit_choices import fold
from engine.regulation import access
from engine.regulation.access import Actor
from engine.regulation.organisation import Unit
from engine.regulation.records import Document, Feedback, FeedbackOutcome, TaskStatus, TrackedTask, UrgingDocument


@dataclass(frozen=True)
class ReportableTask:
    """A task a unit may report on: what it is, under which document, led by whom, due when."""

    id: int
    content: str
    document: str
    lead_unit: str
    lead_unit_name: str
    deadline: date | None


def reportable_tasks(ctx, actor: Actor, query: str = "", limit: int = 30) -> list[ReportableTask]:
    """The open tasks the actor may report on (`access.may_report_on`), newest first, holding every word of
    the query in their content or document number; none for someone who may not file feedback."""
    if not access.may_file_feedback(actor):
        return []
    words = fold(query).split()
    found = []
    for task in _open_tasks(ctx):
        if access.may_report_on(actor, task.lead_unit, True) and all(
                word in fold(f"{task.content} {task.document}") for word in words):
            found.append(task)
            if len(found) == limit:
                break
    return found


def reportable_task(ctx, actor: Actor, task_id: int) -> ReportableTask:
    """The task if the actor may report on it; InvalidInput otherwise (not open, their own unit's, or no
    such task: which, is not said to someone who may not see it)."""
    task = next((task for task in _open_tasks(ctx, task_id) if access.may_report_on(actor, task.lead_unit, True)),
                None)
    if task is None:
        raise InvalidInput("feedback_task_not_reportable", task=task_id)
    return task


def own_feedback(ctx, actor: Actor, limit: int = 200) -> list[FeedbackRow]:
    """The feedback the actor's unit filed, newest first, each with its outcome and urging documents."""
    lead, provider = aliased(Unit), aliased(Unit)
    with ctx.unit_of_work(readonly=True) as session:
        rows = session.execute(
            select(Feedback, TrackedTask.content, lead.name, provider.name)
            .join(TrackedTask, TrackedTask.id == Feedback.task_id).join(lead, lead.id == TrackedTask.lead_unit_id)
            .join(provider, provider.id == Feedback.provider_unit_id).where(provider.code == actor.unit_code)
            .order_by(Feedback.id.desc()).limit(limit)).all()
        urgings: dict[int, list[str]] = {}
        for feedback_id, number in session.execute(select(UrgingDocument.feedback_id, UrgingDocument.number_symbol)
                                                   .where(UrgingDocument.feedback_id.in_([f.id for f, *_ in rows]))):
            urgings.setdefault(feedback_id, []).append(number)
    return [FeedbackRow(f.id, f.task_id, content, lead_name, provider_name, f.content, f.received_at,
                        FeedbackOutcome(f.outcome) if f.outcome else None, f.closed_at, urgings.get(f.id, []))
            for f, content, lead_name, provider_name in rows]


def _open_tasks(ctx, task_id: int | None = None) -> list[ReportableTask]:
    # Every open task, newest first: a province holds a few thousand, and searching them without accents
    # is done here, in Python, the same on SQLite and PostgreSQL.
    open_statuses = [status for status in TaskStatus if status.is_open]
    with ctx.unit_of_work(readonly=True) as session:
        stmt = (select(TrackedTask.id, TrackedTask.content, Document.number_symbol, Unit.code, Unit.name,
                       TrackedTask.deadline)
                .join(Unit, Unit.id == TrackedTask.lead_unit_id).join(Document, Document.id == TrackedTask.document_id)
                .where(TrackedTask.status.in_(open_statuses)).order_by(TrackedTask.id.desc()))
        if task_id is not None:
            stmt = stmt.where(TrackedTask.id == task_id)
        return [ReportableTask(*row) for row in session.execute(stmt).all()]
