"""Instances in error: what an operator sees of one, and running it again.

An instance is marked in error only when its diagram failed (never for a database failure, see
engine/core/transient.py), and it keeps the state it was saved in before the failing step. Once the
cause is fixed (the code, a setting, the calendar) or a corrected version is deployed, `retry_instance`
runs it again from that state: the tasks and timers it was waiting on come back, and what can run
runs. If it fails again it stays in error with the new reason. Every retry is audited.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.bpmn import runtime
from engine.core import audit, transient
from engine.core.db import retried
from engine.core.errors import Conflict, DiagramError
from engine.process import instance_store as store
from engine.process.context import EngineContext
from engine.process.instances import HistoryEntry
from engine.process.steps import InstanceView, TaskView, after_step, load_workflow, save_step, specs_of
from engine.process.tables import InstanceStatus, ProcessInstance, ReadyTask, WaitingTimer


@dataclass(frozen=True)
class InstanceDetails:
    """One instance as an operator inspects it: its row, open work, last failure and history."""

    instance: InstanceView
    started_by: str
    ready: tuple[TaskView, ...]
    timers: tuple[tuple[str, datetime], ...]   # (BPMN id, due at)
    failure: dict[str, Any] | None             # while in error: the reason, and the data a user had submitted
    history: tuple[HistoryEntry, ...]


@retried
def instance_details(ctx: EngineContext, instance_id: int) -> InstanceDetails:
    """An instance with its ready tasks, waiting timers, last failure and history (no workflow restored)."""
    with ctx.unit_of_work(readonly=True) as session:
        row = store.load(session, instance_id, with_state=False)
        version, _ = store.definition(session, row.definition_id)
        started_by = session.execute(select(ProcessInstance.started_by)
                                     .where(ProcessInstance.id == instance_id)).scalar_one()
        ready = session.scalars(select(ReadyTask).where(ReadyTask.instance_id == instance_id)
                                .order_by(ReadyTask.id)).all()
        timers = session.scalars(select(WaitingTimer).where(WaitingTimer.instance_id == instance_id)
                                 .order_by(WaitingTimer.due_at)).all()
        entries = audit.entries_for(session, instance_id)
        marked = [e.summary for e in entries if e.action == "error"]
        failure = ({"error": row.error_message, "data": marked[-1].get("data", {}) if marked else {}}
                   if row.status is InstanceStatus.ERROR else None)
        return InstanceDetails(
            InstanceView(row.id, row.process_id, version, row.status, row.row_version, row.error_message,
                         row.created_at, row.updated_at),
            started_by,
            tuple(TaskView(t.instance_id, t.task_id, t.bpmn_id, t.name, t.lane, t.assignee, t.due_at, t.created_at)
                  for t in ready),
            tuple((t.bpmn_id, t.due_at) for t in timers),
            failure,
            tuple(HistoryEntry(e.at, e.actor, e.action, e.bpmn_id) for e in entries))


@retried
def retry_instance(ctx: EngineContext, instance_id: int, actor: str, to_latest: bool = False,
                   reason: str = "") -> InstanceView:
    """Run an instance in error again from the state it was saved in; with `to_latest`, on the newest
    deployed version of its process; `reason` (the admin's, when given) goes into the audit entry.
    A new failure leaves it in error (audited) and is raised."""
    try:
        with ctx.unit_of_work() as session:
            row = store.load(session, instance_id)
            if row.status is not InstanceStatus.ERROR:
                raise Conflict("instance_not_in_error", instance=instance_id, status=row.status.value)
            previous = row.error_message
            old_version, _ = store.definition(session, row.definition_id)
            moved = {}
            if to_latest:
                latest = store.latest_definition_id(session, row.process_id)
                if latest != row.definition_id:
                    row.definition_id = moved["definition_id"] = latest
            version, workflow = _restored(ctx, session, row, old_version, bool(moved))
            store.clear_snapshot(session, row.id, ctx.now())  # what it was waiting on comes back from the state
            reached = runtime.advance(workflow)
            now = ctx.now()
            view = save_step(ctx, session, row, version, workflow, store.EMPTY, now, error_message=None, **moved)
            summary: dict[str, Any] = {"error": previous, "version": version}
            if moved:
                summary["from_version"] = old_version
            if reason:
                summary["reason"] = reason
            audit.record(session, at=now, actor=actor, action="retry", instance_id=row.id, summary=summary)
            after_step(ctx, session, view, reached, actor)
            return view
    except DiagramError as error:
        _record_failed_retry(ctx, instance_id, error, actor)
        raise


def _restored(ctx: EngineContext, session, row: store.InstanceRow, old_version: int, moved: bool):
    if not moved:
        return load_workflow(ctx, session, row)
    # A state saved under one version may not fit another whose elements were renamed or removed.
    specs, version = specs_of(ctx, session, row.definition_id)
    missing = ctx.codec.missing_elements(row.state_json, specs)
    if missing:
        raise Conflict("state_does_not_fit_version", instance=row.id, version=version, old_version=old_version,
                       reason=", ".join(missing))
    try:
        return load_workflow(ctx, session, row)
    except Exception as error:
        if transient.database_failure(error) is not None:
            raise
        raise Conflict("state_does_not_fit_version", instance=row.id, version=version,
                       old_version=old_version, reason=f"{type(error).__name__}: {error}") from error


@retried
def _record_failed_retry(ctx: EngineContext, instance_id: int, error: DiagramError, actor: str) -> None:
    # The retry rolled back whole; say why it failed this time, on the instance and in the audit log.
    with ctx.unit_of_work() as session:
        row = store.load(session, instance_id, with_state=False)
        if row.status is not InstanceStatus.ERROR:
            return
        now = ctx.now()
        store.update_instance(session, row, now=now, error_message=str(error))
        audit.record(session, at=now, actor=actor, action="retry_failed", instance_id=row.id,
                     bpmn_id=error.bpmn_id, summary={"error": str(error)})
