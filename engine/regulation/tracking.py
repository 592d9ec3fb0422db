"""Use cases of the regulation's records: register assigning documents and their tasks, file
feedback, record progress, request updates.

A tracked task lives in two places on purpose: its row (what reports count, by unit, period and
status category) and the `task_followup` instance that drives it (who must act, by when). The
actions in engine/regulation/task_actions.py keep the row in step with the workflow, in the same transaction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.core import audit
from engine.core.errors import Conflict, FieldErrors, InvalidInput, NotFound
from engine.core.i18n import Message, text
from engine.process.context import EngineContext
from engine.process.instances import start_in
from engine.regulation import access, attachments
from engine.regulation.organisation import Unit, subtree_codes, unit_by_code
from engine.regulation.records import (
    Document,
    DocumentType,
    Feedback,
    ProgressState,
    ProgressUpdate,
    TaskCoordinator,
    TaskStatus,
    TrackedTask,
)
from engine.worktime import periods

_NUMBER_SYMBOL = re.compile(r"^\d+/[0-9A-ZĐ-]+$")
_REPORT_DOCUMENT_CHARS = 200  # ProgressUpdate.report_document's column


class ClassifiedDocumentRefused(InvalidInput):
    """Classified documents (văn bản có độ mật) are out of the system's scope and never stored."""

    code = "classified_refused"

    def __init__(self):
        super().__init__("classified_refused")


@dataclass(frozen=True)
class DocumentInput:
    """An assigning document as the Office registers it."""

    number_symbol: str
    issued_on: date
    doc_type: str
    issuer: str
    signer: str
    summary: str
    classification: str = ""        # độ mật: any value refuses the document


@dataclass(frozen=True)
class TaskInput:
    """One task the document assigns."""

    content: str
    lead_unit: str                          # unit code
    expected_output: str
    deadline: date | None = None
    update_cadence: str | None = None       # periods.Cadence, for a task without a deadline
    coordinators: tuple[str, ...] = ()
    tracking_specialist: str | None = None  # username


@dataclass(frozen=True)
class Registered:
    """What registering a document created."""

    document_id: int
    task_ids: list[int] = field(default_factory=list)
    instance_ids: list[int] = field(default_factory=list)


def register_document(ctx: EngineContext, document: DocumentInput, tasks: list[TaskInput],
                      actor: str) -> Registered:
    """Register an assigning document and start following each of its tasks (Art. 7, 8)."""
    if document.classification.strip():
        raise ClassifiedDocumentRefused()  # before any check that might echo its content
    _check_document(document, tasks)
    with ctx.unit_of_work() as session:
        now = ctx.now()
        if _registered_already(session, document):
            raise _registered_twice(document)
        row = Document(number_symbol=document.number_symbol.strip(), issued_on=document.issued_on,
                       doc_type=DocumentType(document.doc_type), issuer=document.issuer.strip(),
                       signer=document.signer.strip(), summary=document.summary.strip(),
                       registered_by=actor, registered_at=now)
        try:
            with session.begin_nested():  # a colleague registering the same number at the same moment
                session.add(row)
                session.flush()
        except IntegrityError:
            raise _registered_twice(document) from None
        result = Registered(row.id)
        for task in tasks:
            task_id, instance_id = _assign(ctx, session, row, task, actor, now)
            result.task_ids.append(task_id)
            result.instance_ids.append(instance_id)
        audit.record(session, at=now, actor=actor, action="document_registered",
                     summary={"document_id": row.id, "number_symbol": row.number_symbol, "tasks": len(tasks)})
        return result


def _registered_already(session: Session, document: DocumentInput) -> bool:
    return session.scalar(select(Document.id).where(Document.number_symbol == document.number_symbol.strip(),
                                                    Document.issued_on == document.issued_on)) is not None


def _registered_twice(document: DocumentInput) -> Conflict:
    return Conflict("document_registered_twice", number=document.number_symbol.strip(),
                    issued_on=document.issued_on.strftime("%d/%m/%Y"))


def _check_document(document: DocumentInput, tasks: list[TaskInput]) -> None:
    # Every field is checked for its type too, so that a page and the API (and any other caller) get
    # the same answer to the same mistake, and nothing that does not fit reaches the database.
    errors: dict[str, Message] = {}
    if not _text(document.number_symbol) or not _NUMBER_SYMBOL.match(document.number_symbol.strip()):
        errors["number_symbol"] = Message("error.number_symbol_format")
    if not isinstance(document.issued_on, date):
        errors["issued_on"] = Message("error.date_invalid", {"field": "issued_on"})
    if not _text(document.doc_type) or document.doc_type not in {t.value for t in DocumentType}:
        errors["doc_type"] = Message("error.doc_type_invalid")
    for name in ("issuer", "signer", "summary"):
        if not _text(getattr(document, name)) or not getattr(document, name).strip():
            errors[name] = Message("error.required")
    if not tasks:
        errors["tasks"] = Message("error.tasks_missing")
    cadences = {c.value for c in periods.Cadence}
    for i, task in enumerate(tasks):
        if not all(_text(v) for v in (task.content, task.lead_unit, task.expected_output)) or not all(
                _text(c) for c in task.coordinators):
            errors[f"tasks[{i}]"] = Message("error.task_fields_invalid")
        elif not task.content.strip() or not task.expected_output.strip():
            errors[f"tasks[{i}]"] = Message("error.task_content_missing")
        elif task.deadline is not None and not isinstance(task.deadline, date):
            errors[f"tasks[{i}].deadline"] = Message("error.date_invalid", {"field": f"tasks[{i}].deadline"})
        elif (task.update_cadence is not None or task.deadline is None) and not (
                _text(task.update_cadence) and task.update_cadence in cadences):  # given, or needed: one of them
            errors[f"tasks[{i}].update_cadence"] = Message("error.cadence_missing")
        elif isinstance(document.issued_on, date) and task.deadline is not None and task.deadline < document.issued_on:
            errors[f"tasks[{i}].deadline"] = Message("error.deadline_before_issue")
    if errors:
        raise FieldErrors(errors)


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _assign(ctx: EngineContext, session: Session, document: Document, task: TaskInput, actor: str,
            now: datetime) -> tuple[int, int]:
    lead = active_unit(session, task.lead_unit)
    coordinators = [active_unit(session, code) for code in task.coordinators]
    row = TrackedTask(document_id=document.id, content=task.content.strip(), lead_unit_id=lead.id,
                      deadline=task.deadline, update_cadence=None if task.deadline else task.update_cadence,
                      expected_output=task.expected_output.strip(),
                      status=TaskStatus.IN_PROGRESS if task.deadline else TaskStatus.NO_DEADLINE,
                      urge_count=0, assigned_at=now)
    session.add(row)
    session.flush()
    session.add_all(TaskCoordinator(task_id=row.id, unit_id=unit.id) for unit in coordinators)
    row.instance_id = _follow(ctx, session, row, document.number_symbol, lead, coordinators,
                           access.office_unit(session), actor, now)
    return row.id, row.instance_id


def _follow(ctx: EngineContext, session: Session, row: TrackedTask, document: str, lead: Unit,
            coordinators: list[Unit], follower: str, actor: str, now: datetime,
            parent_instance: int | None = None) -> int:
    # The same task_followup process follows a top-level task (follower: the Office) and a part
    # delegated down the tree (follower: the delegating unit).
    view = start_in(ctx, session, "task_followup", {
        "tracked_task_id": row.id, "document": document, "content": row.content, "lead_unit": lead.code,
        "follower_unit": follower, "has_deadline": row.deadline is not None,
        "due_date": row.deadline.isoformat() if row.deadline else None, "update_cadence": row.update_cadence,
        "coordinators": [u.code for u in coordinators], "assigned_at": now.isoformat()}, actor,
        parent_id=parent_instance)
    return view.id


@dataclass(frozen=True)
class DelegatedPart:
    """A part of a task passed down to a sub-unit or commune (Art. 3.3, 8.1.a)."""

    unit: str
    content: str
    deadline: date | None = None


def delegate(ctx: EngineContext, task_id: int, by_unit: str, parts: list[DelegatedPart], actor: str) -> list[int]:
    """The lead unit passes parts of its task to units below it; each part is a child task followed by it."""
    if not parts:
        raise InvalidInput("parts_missing")
    with ctx.unit_of_work() as session:
        parent = get_task(session, task_id)
        lead = session.get(Unit, parent.lead_unit_id)
        if by_unit != lead.code:
            raise InvalidInput("only_lead_delegates")
        if not parent.status.is_open:
            raise InvalidInput("task_closed")
        below = set(subtree_codes(session, lead.code)) - {lead.code}
        document = session.get(Document, parent.document_id)
        now, children = ctx.now(), []
        for part in parts:
            if part.unit not in below:
                raise InvalidInput("unit_not_below", unit=part.unit, lead=lead.code)
            if parent.deadline and (part.deadline is None or part.deadline > parent.deadline):
                raise InvalidInput("part_deadline_outside", unit=part.unit, deadline=parent.deadline.isoformat())
            unit = active_unit(session, part.unit)
            child = TrackedTask(document_id=parent.document_id, parent_task_id=parent.id, content=part.content.strip(),
                                lead_unit_id=unit.id, deadline=part.deadline or parent.deadline,
                                update_cadence=None if (part.deadline or parent.deadline) else parent.update_cadence,
                                expected_output=parent.expected_output,
                                status=TaskStatus.IN_PROGRESS if (part.deadline or parent.deadline)
                                else TaskStatus.NO_DEADLINE,
                                urge_count=0, assigned_at=now)
            session.add(child)
            session.flush()
            child.instance_id = _follow(ctx, session, child, document.number_symbol, unit, [], lead.code, actor, now,
                                        parent_instance=parent.instance_id)
            children.append(child.id)
        audit.record(session, at=now, actor=actor, action="task_delegated", instance_id=parent.instance_id,
                     summary={"task_id": parent.id, "parts": [p.unit for p in parts]})
        return children


def rollup(ctx: EngineContext, task_id: int) -> dict[str, int]:
    """How the delegated parts of a task stand, by status (the parent's view of its children)."""
    with ctx.unit_of_work(readonly=True) as session:
        statuses = session.scalars(select(TrackedTask.status).where(TrackedTask.parent_task_id == task_id))
        counts: dict[str, int] = {}
        for status in statuses:
            counts[status.value] = counts.get(status.value, 0) + 1
        return counts


def active_unit(session: Session, code: str) -> Unit:
    """A unit by code that still operates, or InvalidInput."""
    unit = unit_by_code(session, code)
    if not unit.active:
        raise InvalidInput("unit_inactive", unit=code)
    return unit


def file_feedback(ctx: EngineContext, task_id: int, provider_unit: str, content: str, actor: str) -> int:
    """A district, agency or organisation reports that a task's lead unit is late (Art. 16.4)."""
    if not content.strip():
        raise InvalidInput("feedback_content_missing")
    with ctx.unit_of_work() as session:
        task = get_task(session, task_id)
        provider = active_unit(session, provider_unit)
        now = ctx.now()
        row = Feedback(task_id=task.id, provider_unit_id=provider.id, content=content.strip(), received_at=now)
        session.add(row)
        session.flush()
        lead = session.get(Unit, task.lead_unit_id)
        view = start_in(ctx, session, "feedback_followup", {
            "feedback_id": row.id, "tracked_task_id": task.id, "provider_unit": provider.code,
            "department": lead.code, "content": row.content, "received_at": now.isoformat()}, actor)
        row.instance_id = view.id
        return row.id


def record_progress(ctx: EngineContext, task_id: int, unit_code: str, fields: dict[str, Any], actor: str,
                    files: list[tuple[str, BinaryIO]] = ()) -> int:
    """Record a progress update outside any scheduled period (whenever there is a result, Art. 8.1.b),
    with its attachments. Every field and every file is checked before anything is written, and the
    update and its files are one transaction: a refused file (the second of two too) stores nothing."""
    _progress_state(fields.get("state"), ProgressState.reported())
    check_progress(fields)
    checked = attachments.check_all(ctx, list(files))
    attachments.keep(ctx, checked)  # bytes on disk before the rows that name them (attachments.store)
    with ctx.unit_of_work() as session:
        task = get_task(session, task_id)
        unit = unit_by_code(session, unit_code)
        if unit.id != task.lead_unit_id:
            raise InvalidInput("only_lead_updates")
        if not task.status.is_open:
            raise InvalidInput("task_closed")
        now = ctx.now()
        update_id = add_progress(session, task.id, unit.id, fields, None, actor, now)
        for file in checked:
            attachments.record(session, attachments.OwnerKind.PROGRESS_UPDATE, update_id, file, actor, now)
        return update_id


def request_update(ctx: EngineContext, task_id: int, note: str, actor: str) -> int:
    """The Office asks ad hoc for an update (Art. 8.1.b): a one-off update period for the lead unit. The
    note says what is wanted and why: the unit has nothing else to go on, so a blank one is refused."""
    if not (note or "").strip():
        raise InvalidInput("update_request_note_required")
    with ctx.unit_of_work() as session:
        task = get_task(session, task_id)
        if not task.status.is_open:
            raise InvalidInput("task_closed")
        lead = session.get(Unit, task.lead_unit_id)
        functions = ctx.functions
        due = functions["deadline"]("adhoc_update", ctx.now().isoformat())
        view = start_in(ctx, session, "periodic_update", {
            "tracked_task_id": task.id, "lead_unit": lead.code, "task_title": task.content,
            "period_key": None, "period_label": text("period.adhoc"), "request_note": note,
            "update_due": due}, actor, parent_id=task.instance_id, business_key="adhoc")
        return view.id


def get_task(session: Session, task_id: int) -> TrackedTask:
    """A tracked task by id, or NotFound."""
    task = session.get(TrackedTask, task_id)
    if task is None:
        raise NotFound("tracked_task_not_found", task=task_id)
    return task


def add_progress(session: Session, task_id: int, unit_id: int, fields: dict[str, Any], period_key: str | None,
                 actor: str, now: datetime) -> int:
    """Write a progress update row (Art. 6.8 content); the state must be a ProgressState (default in progress)."""
    state = _progress_state(fields.get("state"), tuple(ProgressState))
    check_progress(fields)
    row = ProgressUpdate(task_id=task_id, unit_id=unit_id, state=state.value,
                         work_done=str(fields["work_done"]), difficulties=str(fields.get("difficulties") or ""),
                         proposals=str(fields.get("proposals") or ""),
                         report_document=str(fields.get("report_document") or ""), period_key=period_key,
                         submitted_by=actor, submitted_at=now)
    session.add(row)
    session.flush()
    return row.id


def check_progress(fields: dict[str, Any]) -> None:
    """The text of an update: the work done is required and the report document fits its column."""
    errors: dict[str, Message] = {}
    if not str(fields.get("work_done") or "").strip():
        errors["work_done"] = Message("error.required")
    if len(str(fields.get("report_document") or "")) > _REPORT_DOCUMENT_CHARS:
        errors["report_document"] = Message("error.text_too_long", {"max": _REPORT_DOCUMENT_CHARS})
    if errors:
        raise FieldErrors(errors)


def _progress_state(value: Any, allowed: tuple[ProgressState, ...]) -> ProgressState:
    # Blank means "in progress", as before states were checked; anything else must be one of `allowed`.
    if value is None or value == "":
        return ProgressState.IN_PROGRESS
    state = next((s for s in allowed if s.value == value), None)
    if state is None:
        raise InvalidInput("progress_state_invalid", field="state", value=str(value)[:40],
                           allowed=", ".join(s.value for s in allowed))
    return state
