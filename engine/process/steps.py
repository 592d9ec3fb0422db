"""One step of an instance, as every use case that moves one takes it: load, advance, save.

Loading takes the workflow from the in-memory cache when the database still holds the version it
was saved at, and restores it otherwise. Saving writes the state (version-checked), brings the
query tables from what they held to what the workflow now has open, and keeps the workflow for
the next step once the transaction commits. What a step returns is an InstanceView whose
`next_tasks` are the tasks it made ready.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from engine.bpmn import runtime
from engine.core.db import after_commit
from engine.process import actions
from engine.process import instance_store as store
from engine.process.context import EngineContext
from engine.process.tables import InstanceStatus
from engine.process.workflow_cache import CachedWorkflow


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


@dataclass(frozen=True)
class InstanceView:
    """What callers see of an instance; after a step, `next_tasks` are the tasks it made ready."""

    id: int
    process_id: str
    definition_version: int
    status: InstanceStatus
    row_version: int
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    next_tasks: tuple[TaskView, ...] = ()


def specs_of(ctx: EngineContext, session: Session, definition_id: int):
    """(specs, version number) of a deployed version: restored once per process, then cached."""
    cached = ctx.codec.cached(definition_id)
    if cached is not None:
        return cached
    version, spec_json = store.definition(session, definition_id)
    return ctx.codec.load_specs(definition_id, spec_json, version), version


def load_workflow(ctx: EngineContext, session: Session, row: store.InstanceRow):
    """(definition version number, workflow) of an instance row, restored from its saved state."""
    specs, version = specs_of(ctx, session, row.definition_id)
    if row.state_json is None:
        row.state_json = store.state_json(session, row.id)
    workflow = ctx.codec.load_state(row.state_json, specs)
    # A restored workflow comes back with the default engine (docs/spiffworkflow.md, trap 2).
    workflow.script_engine = ctx.script_engine
    return version, workflow


def row_for_step(ctx: EngineContext, session: Session,
                 instance_id: int) -> tuple[store.InstanceRow, CachedWorkflow | None]:
    """An instance row about to be stepped, and the cache's entry for it (taken out, maybe stale).

    With an entry in hand the state JSON is not read: the row_version says whether it is needed.
    """
    cached = ctx.workflows.take(instance_id)
    return store.load(session, instance_id, with_state=cached is None), cached


def give_back(ctx: EngineContext, row: store.InstanceRow, cached: CachedWorkflow | None) -> None:
    """Return a taken entry, still current and untouched, to the cache (the step was refused)."""
    if cached is not None and cached.row_version == row.row_version:
        ctx.workflows.put(row.id, cached)


def workflow_for_step(ctx: EngineContext, session: Session, row: store.InstanceRow,
                      cached: CachedWorkflow | None):
    """(definition version number, workflow, query-table snapshot) to step an instance from."""
    if cached is not None and cached.row_version == row.row_version:
        return specs_of(ctx, session, row.definition_id)[1], cached.workflow, cached.snapshot
    version, workflow = load_workflow(ctx, session, row)
    return version, workflow, store.current_snapshot(session, row.id)


def save_new(ctx: EngineContext, session: Session, definition_id: int, process_id: str, version: int,
             workflow, actor: str, now: datetime, links: dict) -> InstanceView:
    """Write a just-started workflow as a new instance (row_version 1) with its query-table rows."""
    status = InstanceStatus.COMPLETED if workflow.is_completed() else InstanceStatus.RUNNING
    instance_id = store.insert_instance(
        session, definition_id=definition_id, process_id=process_id, status=status,
        state_json=ctx.codec.dump_state(workflow), actor=actor, now=now, **links)
    after = snapshot(workflow) if status is InstanceStatus.RUNNING else store.EMPTY
    store.apply_snapshot(session, instance_id, store.EMPTY, after, now, process_id)
    if status is InstanceStatus.RUNNING:
        _keep_after_commit(ctx, session, instance_id, 1, workflow, after)
    return InstanceView(instance_id, process_id, version, status, 1, None, now, now,
                        _new_tasks(instance_id, store.EMPTY, after, now))


def save_step(ctx: EngineContext, session: Session, row: store.InstanceRow, version: int, workflow,
              before: store.Snapshot, now: datetime, **columns) -> InstanceView:
    """Write an advanced workflow (version-checked, with any other `columns`) and bring its query
    tables from `before`."""
    status = InstanceStatus.COMPLETED if workflow.is_completed() else InstanceStatus.RUNNING
    # The version check comes first: a loser of a race writes nothing else.
    new_version = store.update_instance(session, row, now=now, status=status,
                                        state_json=ctx.codec.dump_state(workflow), **columns)
    after = snapshot(workflow) if status is InstanceStatus.RUNNING else store.EMPTY
    store.apply_snapshot(session, row.id, before, after, now, row.process_id)
    if status is InstanceStatus.RUNNING:
        _keep_after_commit(ctx, session, row.id, new_version, workflow, after)
    return InstanceView(row.id, row.process_id, version, status, new_version, None, row.created_at, now,
                        _new_tasks(row.id, before, after, now))


def after_step(ctx: EngineContext, session: Session, view: InstanceView, reached, actor: str) -> None:
    """What follows every step in its transaction: the registered hooks, then the reached actions."""
    for hook in ctx.step_hooks:
        hook(session, view)
    actions.run(ctx, session, view.id, view.process_id, reached, actor, view.updated_at)


def snapshot(workflow) -> store.Snapshot:
    """What the query tables should hold for this workflow."""
    ready, timers = runtime.open_work(workflow)
    return store.Snapshot(tuple(ready), tuple(timers))


def _keep_after_commit(ctx: EngineContext, session: Session, instance_id: int, row_version: int,
                       workflow, after: store.Snapshot) -> None:
    entry = CachedWorkflow(row_version, workflow, after)
    after_commit(session, lambda: ctx.workflows.put(instance_id, entry))


def _new_tasks(instance_id: int, before: store.Snapshot, after: store.Snapshot,
               now: datetime) -> tuple[TaskView, ...]:
    known = {task.task_id for task in before.ready}
    return tuple(TaskView(instance_id, t.task_id, t.bpmn_id, t.name, t.lane, t.assignee, t.due_at, now)
                 for t in after.ready if t.task_id not in known)
