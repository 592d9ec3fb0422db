"""Use cases on process instances: start, list ready tasks, complete a task, cancel.

Each use case is one transaction: it commits when the workflow advanced cleanly and rolls back
on any exception, so no half-advanced workflow is ever saved. When a diagram's own expression,
script or timer fails, the instance is then marked in error in a second, separate transaction
that keeps its last good state.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from . import audit, query_tables, runtime
from .context import EngineContext
from .definitions import latest_version
from .errors import (ConcurrentUpdate, DiagramError, InstanceNotActive, InstanceNotFound,
                     InvalidInput)
from .models import DefinitionVersion, InstanceStatus, ProcessInstance, ReadyTask


@dataclass(frozen=True)
class InstanceView:
    """What callers see of an instance."""

    id: int
    process_id: str
    definition_version: int
    status: InstanceStatus
    row_version: int
    error_message: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class TaskView:
    """A ready user task, read from the query table."""

    instance_id: int
    task_id: str
    bpmn_id: str
    name: str | None
    lane: str | None
    assignee: str | None
    due_at: datetime | None
    created_at: datetime


def start_instance(ctx: EngineContext, process_id: str, data: dict[str, Any] | None = None,
                   actor: str = "system") -> InstanceView:
    """Start the latest deployed version of a process and run it to its first wait."""
    data = _checked_data(data)
    try:
        with ctx.unit_of_work() as session:
            definition = latest_version(session, process_id)
            specs = ctx.codec.load_specs(definition.id, definition.spec_json)
            workflow = runtime.new_workflow(specs, ctx.script_engine, data)
            now = ctx.now()
            row = ProcessInstance(definition_id=definition.id, process_id=process_id,
                                  status=InstanceStatus.RUNNING, state_json="", started_by=actor,
                                  created_at=now, updated_at=now)
            session.add(row)
            _save(ctx, session, row, workflow)
            audit.record(session, at=now, actor=actor, action="start", instance_id=row.id,
                         summary=audit.summarize(data))
            return _view(row, definition.version)
    except DiagramError as error:
        _record_failed_start(ctx, process_id, data, actor, error)
        raise


def complete_task(ctx: EngineContext, instance_id: int, task_id: str, data: dict[str, Any] | None = None,
                  actor: str = "system", expected_version: int | None = None) -> InstanceView:
    """Complete a ready user task with form data and advance the instance.

    `expected_version` is the instance's row_version the user's form was built from: a stale
    form is refused instead of silently applied to a changed instance.
    """
    data = _checked_data(data)
    try:
        with ctx.unit_of_work() as session:
            row = _active_instance(session, instance_id, expected_version)
            workflow = _load(ctx, session, row)
            bpmn_id = runtime.complete_user_task(workflow, task_id, data)
            _save(ctx, session, row, workflow)
            audit.record(session, at=ctx.now(), actor=actor, action="complete_task",
                         instance_id=row.id, task_id=task_id, bpmn_id=bpmn_id,
                         summary=audit.summarize(data))
            return _view_with_version(session, row)
    except DiagramError as error:
        mark_in_error(ctx, instance_id, error, actor, task_id=task_id, data=data)
        raise


def cancel_instance(ctx: EngineContext, instance_id: int, actor: str = "system",
                    reason: str = "") -> InstanceView:
    """Cancel a running (or failed) instance: its open tasks and timers disappear."""
    with ctx.unit_of_work() as session:
        row = _get(session, instance_id)
        if row.status not in (InstanceStatus.RUNNING, InstanceStatus.ERROR):
            raise InstanceNotActive(instance_id, row.status.value)
        workflow = _load(ctx, session, row)
        runtime.cancel(workflow)
        row.state_json = ctx.codec.dump_state(workflow)
        _finish(session, row, InstanceStatus.CANCELLED, ctx.now())
        audit.record(session, at=ctx.now(), actor=actor, action="cancel", instance_id=row.id,
                     summary={"reason": reason} if reason else {})
        return _view_with_version(session, row)


def get_instance(ctx: EngineContext, instance_id: int) -> InstanceView:
    """One instance by id."""
    with ctx.unit_of_work(readonly=True) as session:
        return _view_with_version(session, _get(session, instance_id))


def list_instances(ctx: EngineContext, limit: int = 100) -> list[InstanceView]:
    """The most recent instances, newest first."""
    with ctx.unit_of_work(readonly=True) as session:
        stmt = (select(ProcessInstance, DefinitionVersion.version)
                .join(DefinitionVersion, DefinitionVersion.id == ProcessInstance.definition_id)
                .order_by(ProcessInstance.id.desc()).limit(limit))
        return [_view(row, version) for row, version in session.execute(stmt)]


def list_ready_tasks(ctx: EngineContext, instance_id: int | None = None, lane: str | None = None,
                     assignee: str | None = None, limit: int = 500) -> list[TaskView]:
    """Ready user tasks from the query table, soonest due first (no workflow is loaded)."""
    with ctx.unit_of_work(readonly=True) as session:
        stmt = select(ReadyTask)
        if instance_id is not None:
            stmt = stmt.where(ReadyTask.instance_id == instance_id)
        if lane is not None:
            stmt = stmt.where(ReadyTask.lane == lane)
        if assignee is not None:
            stmt = stmt.where(ReadyTask.assignee == assignee)
        stmt = stmt.order_by(ReadyTask.due_at.is_(None), ReadyTask.due_at, ReadyTask.id).limit(limit)
        return [TaskView(r.instance_id, r.task_id, r.bpmn_id, r.name, r.lane, r.assignee, r.due_at,
                         r.created_at) for r in session.scalars(stmt)]


def mark_in_error(ctx: EngineContext, instance_id: int, error: Exception, actor: str,
                  task_id: str | None = None, data: dict[str, Any] | None = None) -> None:
    """Record, in its own transaction, that a diagram failed in this instance.

    The instance keeps its last good state; the data the user submitted is kept in the audit
    entry so that nothing typed is lost.
    """
    with ctx.unit_of_work() as session:
        row = session.get(ProcessInstance, instance_id)
        if row is None or row.status is not InstanceStatus.RUNNING:
            return
        row.status, row.error_message, row.updated_at = InstanceStatus.ERROR, str(error), ctx.now()
        query_tables.clear(session, row.id)
        audit.record(session, at=ctx.now(), actor=actor, action="error", instance_id=row.id,
                     task_id=task_id, bpmn_id=getattr(error, "bpmn_id", None),
                     summary={"error": str(error), "data": audit.summarize(data or {})})


def _record_failed_start(ctx: EngineContext, process_id: str, data: dict[str, Any], actor: str,
                         error: DiagramError) -> None:
    # Keep a trace of the attempt, and the data the user gave, without any workflow state.
    with ctx.unit_of_work() as session:
        audit.record(session, at=ctx.now(), actor=actor, action="start_failed",
                     bpmn_id=error.bpmn_id,
                     summary={"process_id": process_id, "error": str(error), "data": audit.summarize(data)})


def _checked_data(data: dict[str, Any] | None) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput("task data must be an object of named fields")
    bad = [key for key in data if not isinstance(key, str) or not key.isidentifier() or key.startswith("_")]
    if bad:
        raise InvalidInput(f"invalid field names: {', '.join(map(str, bad))}")
    return data


def _get(session: Session, instance_id: int) -> ProcessInstance:
    row = session.get(ProcessInstance, instance_id)
    if row is None:
        raise InstanceNotFound(instance_id)
    return row


def _active_instance(session: Session, instance_id: int, expected_version: int | None) -> ProcessInstance:
    row = _get(session, instance_id)
    if expected_version is not None and row.row_version != expected_version:
        raise ConcurrentUpdate(instance_id)
    if not row.status.is_active:
        raise InstanceNotActive(instance_id, row.status.value)
    return row


def _load(ctx: EngineContext, session: Session, row: ProcessInstance):
    definition = session.get(DefinitionVersion, row.definition_id)
    specs = ctx.codec.load_specs(definition.id, definition.spec_json)
    workflow = ctx.codec.load_state(row.state_json, specs)
    workflow.script_engine = ctx.script_engine  # a restored workflow has the default engine (trap 2)
    return workflow


def _save(ctx: EngineContext, session: Session, row: ProcessInstance, workflow) -> None:
    now = ctx.now()
    row.state_json = ctx.codec.dump_state(workflow)
    row.updated_at = now
    if workflow.is_completed():
        _finish(session, row, InstanceStatus.COMPLETED, now)
        return
    ready, timers = runtime.ready_user_tasks(workflow), runtime.armed_timers(workflow)
    _flush(session, row)  # the version check comes first: a loser writes nothing else
    query_tables.sync(session, row.id, ready, timers, now)


def _finish(session: Session, row: ProcessInstance, status: InstanceStatus, now: datetime) -> None:
    row.status, row.ended_at, row.updated_at = status, now, now
    _flush(session, row)
    query_tables.clear(session, row.id)


def _flush(session: Session, row: ProcessInstance) -> None:
    instance_id = row.id  # read before the flush: a failed flush expires the row
    try:
        session.flush()
    except StaleDataError as error:
        raise ConcurrentUpdate(instance_id) from error


def _view_with_version(session: Session, row: ProcessInstance) -> InstanceView:
    session.flush()
    version = session.get(DefinitionVersion, row.definition_id).version
    return _view(row, version)


def _view(row: ProcessInstance, definition_version: int) -> InstanceView:
    return InstanceView(id=row.id, process_id=row.process_id, definition_version=definition_version,
                        status=row.status, row_version=row.row_version, error_message=row.error_message,
                        created_at=row.created_at, updated_at=row.updated_at)
