"""Use cases on process instances: start, list ready tasks, complete a task, cancel.

Each use case is one transaction: it commits when the workflow advanced cleanly and rolls back
on any exception, so no half-advanced workflow is ever saved. When a diagram's own expression,
script or timer fails, the instance is then marked in error in a second, separate transaction
that keeps its last good state.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import forms, runtime
from engine.core import audit
from engine.core.db import retried
from engine.core.errors import (
    ConcurrentUpdate,
    Conflict,
    DiagramError,
    EngineError,
    InstanceNotActive,
    InvalidInput,
)
from engine.process import instance_store as store
from engine.process import step_records, step_waits
from engine.process.context import EngineContext
from engine.process.step_records import StepRecord
from engine.process.steps import (
    InstanceView,
    TaskView,
    after_step,
    give_back,
    load_workflow,
    row_for_step,
    save_new,
    save_step,
    specs_of,
    workflow_for_step,
)
from engine.process.tables import DefinitionVersion, InstanceStatus, ProcessInstance, ReadyTask
from engine.worktime.calendar import TZ


@retried
def start_instance(ctx: EngineContext, process_id: str, data: dict[str, Any] | None = None,
                   actor: str = "system") -> InstanceView:
    """Start the latest deployed version of a process and run it to its first wait."""
    data = checked_data(data)
    try:
        with ctx.unit_of_work() as session:
            return start_in(ctx, session, process_id, data, actor)
    except DiagramError as error:
        _record_failed_start(ctx, process_id, data, actor, error)
        raise


def start_in(ctx: EngineContext, session: Session, process_id: str, data: dict[str, Any], actor: str,
             **links: Any) -> InstanceView:
    """Start an instance inside the caller's unit of work (`links`: parent_id, schedule_id, business_key)."""
    _refuse_reserved(ctx, data)
    definition_id = store.latest_definition_id(session, process_id)
    specs, version = specs_of(ctx, session, definition_id)
    workflow, reached = runtime.new_workflow(specs, ctx.script_engine, data)
    now = ctx.now()
    view = save_new(ctx, session, definition_id, process_id, version, workflow, actor, now, links)
    audit.record(session, at=now, actor=actor, action="start", instance_id=view.id,
                 summary=audit.summarize(data))
    after_step(ctx, session, view, reached, actor)
    return view


@retried
def complete_task(ctx: EngineContext, instance_id: int, task_id: str, data: dict[str, Any] | None = None,
                  actor: str = "system", expected_version: int | None = None,
                  may_complete: Callable[[str | None], bool] | None = None) -> InstanceView:
    """Complete a ready user task with form data and advance the instance.

    `expected_version` is the instance's row_version the user's form was built from: a stale
    form is refused instead of silently applied to a changed instance. `may_complete`, when given
    (pages and the API pass engine.regulation.access's rule), is asked who has claimed the task, under
    the lock of its ready_tasks row in this transaction: a claim made or taken over concurrently is seen.
    """
    data = checked_data(data)
    if expected_version is not None and (isinstance(expected_version, bool) or not isinstance(expected_version, int)):
        raise InvalidInput("row_version_not_integer")  # not a stale form: retrying would never help
    try:
        with ctx.unit_of_work() as session:
            row, cached = row_for_step(ctx, session, instance_id)
            try:
                if may_complete is not None:
                    _check_claim(session, instance_id, task_id, may_complete)
                _check_active(row, expected_version)
                version, workflow, before = workflow_for_step(ctx, session, row, cached)
                data = _validated(ctx, session, row, workflow, task_id, data)
                _refuse_reserved(ctx, data)
            except EngineError:
                give_back(ctx, row, cached)  # refused before the workflow moved (a form error, a stale form)
                raise
            bpmn_id, reached = runtime.complete_user_task(workflow, task_id, data)
            now = ctx.now()
            view = save_step(ctx, session, row, version, workflow, before, now)
            audit.record(session, at=now, actor=actor, action="complete_task", instance_id=row.id,
                         task_id=task_id, bpmn_id=bpmn_id, summary=audit.summarize(data))
            after_step(ctx, session, view, reached, actor)
            return view
    except DiagramError as error:
        mark_in_error(ctx, instance_id, error, actor, task_id=task_id, data=data)
        raise


@retried
def cancel_instance(ctx: EngineContext, instance_id: int, actor: str = "system",
                    reason: str = "") -> InstanceView:
    """Cancel a running (or failed, or suspended) instance: its open tasks and timers disappear."""
    with ctx.unit_of_work() as session:
        return cancel_in(ctx, session, instance_id, actor, reason)


def cancel_in(ctx: EngineContext, session: Session, instance_id: int, actor: str, reason: str = "",
              **audited: Any) -> InstanceView:
    """Cancel an instance inside the caller's unit of work (`audited`: more to say in the audit entry)."""
    row = store.load(session, instance_id)
    if row.status not in (InstanceStatus.RUNNING, InstanceStatus.ERROR, InstanceStatus.SUSPENDED):
        raise InstanceNotActive(instance_id, row.status.value)
    version, workflow = load_workflow(ctx, session, row)
    runtime.cancel(workflow)
    now = ctx.now()
    new_version = store.update_instance(session, row, now=now, status=InstanceStatus.CANCELLED,
                                        state_json=ctx.codec.dump_state(workflow))
    store.clear_snapshot(session, row.id, now, step_waits.CANCELLED)
    audit.record(session, at=now, actor=actor, action="cancel", instance_id=row.id,
                 summary={**({"reason": reason} if reason else {}), **audited})
    return InstanceView(row.id, row.process_id, version, InstanceStatus.CANCELLED, new_version,
                        row.error_message, row.created_at, now)


@retried
def fire_timers(ctx: EngineContext, instance_id: int, actor: str = "timer") -> list[str] | None:
    """Advance one instance past its timers due by now; return their BPMN ids.

    Returns None when another worker holds the instance (PostgreSQL row lock, SKIP LOCKED), and
    [] without writing anything when, under the lock, nothing is due any more (another worker fired it).
    """
    with ctx.unit_of_work() as session:
        if not store.claim(session, instance_id):
            return None
        row, cached = row_for_step(ctx, session, instance_id)
        now = ctx.now()
        if row.status is not InstanceStatus.RUNNING or not _timer_due(ctx, session, row, cached, now):
            give_back(ctx, row, cached)
            return []
        version, workflow, before = workflow_for_step(ctx, session, row, cached)
        reached = runtime.advance(workflow)
        view = save_step(ctx, session, row, version, workflow, before, now)
        due = [timer for timer in before.timers if timer.due_at < now]
        fired = [timer.bpmn_id for timer in due]
        # The armed timers' own ids too: bench/load.py and `engine check` prove none fired twice.
        audit.record(session, at=now, actor=actor, action="timer_fired", instance_id=row.id,
                     summary={"timers": fired, "timer_tasks": [timer.task_id for timer in due]})
        after_step(ctx, session, view, reached, actor)
        return fired


@dataclass(frozen=True)
class TaskDetails:
    """What a task page shows: the ready task, its form, the data it starts from, the version."""

    task: TaskView
    process_id: str
    form: Any            # engine.forms.Form or None
    data: dict[str, Any]
    row_version: int
    completed: StepRecord | None = None        # set when the task is a finished step, shown read-only
    earlier: tuple[StepRecord, ...] = ()       # the steps finished before it, oldest first
    people: dict[str, str] = field(default_factory=dict)  # full names of those steps' people (engine.read)
    process_name: str | None = None            # the deployed version's name, shown instead of process_id
    step_names: dict[str, str] = field(default_factory=dict)  # the diagram's names by BPMN id (for the history)
    unit_name: str | None = None               # the assignee unit's name (engine.read)
    subject: Any = None                        # what it is about (engine.read.inbox_subjects.Subject)
    direction: Any = None                      # a feedback's direction (engine.read.feedback_directions)


@retried
def task_details(ctx: EngineContext, instance_id: int, task_id: str) -> TaskDetails:
    """A ready user task with its form and current data (loads the one workflow it belongs to)."""
    with ctx.unit_of_work(readonly=True) as session:
        return task_details_in(ctx, session, instance_id, task_id)


def task_details_in(ctx: EngineContext, session: Session, instance_id: int, task_id: str) -> TaskDetails:
    """A ready user task, or a finished one (`completed` set: what it was completed with, by whom, when), with
    its form and the steps finished before it; Conflict for any other task, inside the caller's unit of work."""
    row = store.load(session, instance_id)
    ready = session.scalars(select(ReadyTask).where(ReadyTask.instance_id == instance_id,
                                                    ReadyTask.task_id == task_id)).first()
    specs, _ = specs_of(ctx, session, row.definition_id)
    _, workflow = load_workflow(ctx, session, row)
    task = runtime.find_task(workflow, task_id)  # TaskNotFound if unknown
    filename = runtime.form_of(task)
    form = specs.forms.get(filename) if filename else None
    done = step_records.completed_steps(session, workflow, specs.forms, instance_id)
    if ready is None:
        finished = runtime.finished_user_task(workflow, task_id)
        record = next((r for r in done if r.task_id == task_id), None)
        if finished is None or record is None:
            raise Conflict("task_no_longer_waiting")  # cancelled, or never reached: nothing done to show
        view = TaskView(instance_id, task_id, finished.bpmn_id, finished.name, finished.lane, finished.assignee,
                        None, record.at)
        return TaskDetails(view, row.process_id, form, dict(task.data), row.row_version, completed=record,
                           earlier=tuple(done[:done.index(record)]), **_names(session, row, workflow))
    view = TaskView(ready.instance_id, ready.task_id, ready.bpmn_id, ready.name, ready.lane, ready.assignee,
                    ready.due_at, ready.created_at)
    return TaskDetails(view, row.process_id, form, dict(task.data), row.row_version, earlier=tuple(done),
                       **_names(session, row, workflow))


def _names(session: Session, row: ProcessInstance, workflow) -> dict[str, Any]:
    # What a person reads instead of codes: the process's name and the diagram's step names.
    return {"process_name": session.scalar(select(DefinitionVersion.name)
                                           .where(DefinitionVersion.id == row.definition_id)),
            "step_names": runtime.element_names(workflow)}


@dataclass(frozen=True)
class HistoryEntry:
    """One line of an instance's history, from the audit log."""

    at: datetime
    actor: str
    action: str
    bpmn_id: str | None


def history(ctx: EngineContext, instance_id: int) -> list[HistoryEntry]:
    """Who did what to an instance, oldest first."""
    with ctx.unit_of_work(readonly=True) as session:
        return [HistoryEntry(e.at, e.actor, e.action, e.bpmn_id) for e in audit.entries_for(session, instance_id)]


@retried
def get_instance(ctx: EngineContext, instance_id: int) -> InstanceView:
    """One instance by id."""
    with ctx.unit_of_work(readonly=True) as session:
        row = store.load(session, instance_id)
        version, _ = store.definition(session, row.definition_id)
        return InstanceView(row.id, row.process_id, version, row.status, row.row_version,
                            row.error_message, row.created_at, row.updated_at)


def list_instances(ctx: EngineContext, limit: int = 100, status: InstanceStatus | None = None) -> list[InstanceView]:
    """The most recent instances (only those in `status` when given), newest first."""
    with ctx.unit_of_work(readonly=True) as session:
        stmt = (select(ProcessInstance, DefinitionVersion.version)
                .join(DefinitionVersion, DefinitionVersion.id == ProcessInstance.definition_id)
                .order_by(ProcessInstance.id.desc()).limit(limit))
        if status is not None:
            stmt = stmt.where(ProcessInstance.status == status)
        return [InstanceView(r.id, r.process_id, version, r.status, r.row_version, r.error_message,
                             r.created_at, r.updated_at) for r, version in session.execute(stmt)]


def list_ready_tasks(ctx: EngineContext, instance_id: int | None = None, lane: str | None = None,
                     assignee: str | None = None, limit: int = 500) -> list[TaskView]:
    """Ready user tasks from the query table, soonest due first (no workflow is loaded)."""
    table = ReadyTask.__table__
    stmt = select(table.c.instance_id, table.c.task_id, table.c.bpmn_id, table.c.name, table.c.lane,
                  table.c.assignee, table.c.due_at, table.c.created_at)
    for column, value in ((table.c.instance_id, instance_id), (table.c.lane, lane),
                          (table.c.assignee, assignee)):
        if value is not None:
            stmt = stmt.where(column == value)
    stmt = stmt.order_by(table.c.due_at.is_(None), table.c.due_at, table.c.id).limit(limit)
    with ctx.unit_of_work(readonly=True) as session:
        return [TaskView(*row) for row in session.connection().execute(stmt)]


@retried
def mark_in_error(ctx: EngineContext, instance_id: int, error: Exception, actor: str,
                  task_id: str | None = None, data: dict[str, Any] | None = None) -> None:
    """Record, in its own transaction, that a diagram failed in this instance.

    The instance keeps its last good state; the data the user submitted is kept in the audit
    entry so that nothing typed is lost.
    """
    with ctx.unit_of_work() as session:
        row = store.load(session, instance_id)
        if row.status is not InstanceStatus.RUNNING:
            return
        now = ctx.now()
        store.update_instance(session, row, now=now, status=InstanceStatus.ERROR, error_message=str(error))
        store.clear_snapshot(session, row.id, now)
        audit.record(session, at=now, actor=actor, action="error", instance_id=row.id, task_id=task_id,
                     bpmn_id=getattr(error, "bpmn_id", None),
                     summary={"error": str(error), "data": audit.summarize(data or {})})


def _record_failed_start(ctx: EngineContext, process_id: str, data: dict[str, Any], actor: str,
                         error: DiagramError) -> None:
    # Keep a trace of the attempt, and the data the user gave, without any workflow state.
    with ctx.unit_of_work() as session:
        audit.record(session, at=ctx.now(), actor=actor, action="start_failed", bpmn_id=error.bpmn_id,
                     summary={"process_id": process_id, "error": str(error), "data": audit.summarize(data)})


def checked_data(data: dict[str, Any] | None) -> dict[str, Any]:
    """Task data as given by a user, refused unless it is named fields (no `_` names)."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput("task_data_not_object")
    bad = [key for key in data if not isinstance(key, str) or not key.isidentifier() or key.startswith("_")]
    if bad:
        raise InvalidInput("field_names_invalid", names=", ".join(map(str, bad)))
    return data


def _timer_due(ctx: EngineContext, session: Session, row: store.InstanceRow, cached, now: datetime) -> bool:
    # Under the row lock: a worker that read the due list before another fired these timers finds
    # nothing due, and must not write (an empty audit entry, a row_version bump staling open forms).
    if cached is not None and cached.row_version == row.row_version:
        return any(timer.due_at < now for timer in cached.snapshot.timers)
    return store.has_timer_due(session, row.id, now)


def _check_claim(session: Session, instance_id: int, task_id: str, may_complete: Callable[[str | None], bool]) -> None:
    # FOR UPDATE: a claim (engine/read/inbox.py locks the same row) waits for this step, then finds the task gone.
    holder = session.scalar(select(ReadyTask.claimed_by).where(ReadyTask.instance_id == instance_id,
                                                               ReadyTask.task_id == task_id).with_for_update())
    if not may_complete(holder):
        raise Conflict("task_claimed_by", user=holder)


def _check_active(row: store.InstanceRow, expected_version: int | None) -> None:
    if expected_version is not None and row.row_version != expected_version:
        raise ConcurrentUpdate(row.id)
    if row.status is InstanceStatus.SUSPENDED:  # held by an admin: say so, not just "not active"
        raise Conflict("instance_suspended", instance=row.id)
    if not row.status.is_active:
        raise InstanceNotActive(row.id, row.status.value)


def _refuse_reserved(ctx: EngineContext, data: dict[str, Any]) -> None:
    # A data field named like a diagram function would hide the function from every later
    # expression of the instance (docs/spiffworkflow.md, trap 11): refuse it at the door, naming it.
    clash = sorted(set(data) & set(ctx.functions))
    if clash:
        raise InvalidInput("field_names_reserved", names=", ".join(clash))


def _validated(ctx: EngineContext, session: Session, row: store.InstanceRow, workflow, task_id: str,
               data: dict[str, Any]) -> dict[str, Any]:
    # The task's own form decides what a user may put into task data; a task without a form
    # takes the data as given (test diagrams, API clients of form-less tasks).
    filename = runtime.form_of(runtime.ready_user_task(workflow, task_id))
    if not filename:
        return data
    specs, _ = specs_of(ctx, session, row.definition_id)
    form = specs.forms.get(filename)
    if form is None:
        raise DiagramError(f"form '{filename}' was not deployed with this version")
    # FormInvalid carries per-field messages in vi and en; "today" is the province's, by the engine clock.
    return forms.validate(form, data, today=ctx.now().astimezone(TZ).date())


