"""Running instances per version, and moving them to another version of their process.

Whether an instance can move is decided by `engine.bpmn.migration` (every element it is at exists in
the target version with the same kind; its history names no removed element). The preview restores
each instance and tries the move on that copy, saving nothing; applying moves those that can, all in
one transaction: each is restored, pointed at the target's specs, advanced (its waiting timers armed
again, docs/spiffworkflow.md trap 4), saved with the target's definition id, its query tables brought
up to date, and audited. Task ids survive a move, so claims and inbox rows stay; an instance that
cannot move is left untouched and said why.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import migration, runtime
from engine.bpmn.migration import ActiveElement, Obstacle
from engine.core import audit, i18n
from engine.core.db import retried
from engine.core.errors import Conflict, DiagramError, InvalidInput
from engine.process import instance_store as store
from engine.process.context import EngineContext
from engine.process.steps import (
    after_step,
    give_back,
    load_workflow,
    row_for_step,
    save_step,
    specs_of,
    workflow_for_step,
)
from engine.process.tables import InstanceStatus, ProcessInstance, ReadyTask, WaitingTimer
from engine.process.versions import version_row


@dataclass(frozen=True)
class RunningInstance:
    """An instance running on a version, and where it stands (from the query tables)."""

    id: int
    started_by: str
    business_key: str | None
    created_at: datetime
    updated_at: datetime
    ready: tuple[str, ...]    # the names (or ids) of its ready user tasks
    timers: tuple[str, ...]   # the BPMN ids of its waiting timers


@dataclass(frozen=True)
class MigrationCandidate:
    """One running instance of the source version: where it is, and whether it can move (else why)."""

    instance_id: int
    at: tuple[ActiveElement, ...]
    can_move: bool
    obstacles: tuple[Obstacle, ...]


@dataclass(frozen=True)
class MigrationResult:
    """What a migration did: the instances moved and those left where they were, with why."""

    process_id: str
    from_version: int
    to_version: int
    moved: tuple[int, ...]
    left: tuple[MigrationCandidate, ...]


@retried
def running_instances(ctx: EngineContext, process_id: str, version: int) -> list[RunningInstance]:
    """The instances running on one version of a process, oldest first (no workflow restored)."""
    with ctx.unit_of_work(readonly=True) as session:
        definition_id = version_row(session, process_id, version).id
        rows = session.execute(select(ProcessInstance.id, ProcessInstance.started_by, ProcessInstance.business_key,
                                      ProcessInstance.created_at, ProcessInstance.updated_at)
                               .where(ProcessInstance.definition_id == definition_id,
                                      ProcessInstance.status == InstanceStatus.RUNNING)
                               .order_by(ProcessInstance.id)).all()
        ids = [r.id for r in rows]
        ready, timers = _open_work(session, ids)
        return [RunningInstance(r.id, r.started_by, r.business_key, r.created_at, r.updated_at,
                                tuple(ready.get(r.id, ())), tuple(timers.get(r.id, ()))) for r in rows]


@retried
def migration_preview(ctx: EngineContext, process_id: str, from_version: int,
                      to_version: int) -> list[MigrationCandidate]:
    """For each instance running on `from_version`: can it move to `to_version`, and if not why (nothing saved)."""
    _different(from_version, to_version)
    with ctx.unit_of_work(readonly=True) as session:
        source = version_row(session, process_id, from_version)
        target = version_row(session, process_id, to_version)
        specs = specs_of(ctx, session, target.id)[0]
        return [_tried(ctx, session, instance_id, specs) for instance_id in _running_ids(session, source.id)]


@retried
def migrate(ctx: EngineContext, process_id: str, from_version: int, to_version: int,
            instance_ids: list[int] | None, actor: str) -> MigrationResult:
    """Move the instances of `from_version` that can move (all, or those of `instance_ids`) to
    `to_version`, in one transaction, audited per instance; the others stay and are said why."""
    _different(from_version, to_version)
    with ctx.unit_of_work() as session:
        source = version_row(session, process_id, from_version)
        target = version_row(session, process_id, to_version)
        specs = specs_of(ctx, session, target.id)[0]
        running = _running_ids(session, source.id)
        chosen = running if instance_ids is None else list(dict.fromkeys(instance_ids))
        moved, left = [], []
        for instance_id in chosen:
            if instance_id not in running:
                left.append(MigrationCandidate(instance_id, (), False, (Obstacle("", None, "not_on_version"),)))
                continue
            outcome = _move(ctx, session, instance_id, specs, target.id, to_version, actor,
                            {"process_id": process_id, "from_version": from_version, "to_version": to_version})
            (moved if outcome.can_move else left).append(instance_id if outcome.can_move else outcome)
        return MigrationResult(process_id, from_version, to_version, tuple(moved), tuple(left))


def _move(ctx: EngineContext, session: Session, instance_id: int, specs, definition_id: int, version: int,
          actor: str, summary: dict) -> MigrationCandidate:
    row, cached = row_for_step(ctx, session, instance_id)
    _, workflow, before = workflow_for_step(ctx, session, row, cached)
    found = migration.obstacles(workflow, specs)
    if found:
        give_back(ctx, row, cached)  # untouched
        return MigrationCandidate(instance_id, tuple(migration.active_elements(workflow)), False, tuple(found))
    at = migration.migrate(workflow, specs)
    missing = ctx.codec.missing_elements(ctx.codec.dump_state(workflow), specs)
    if missing:  # moved in memory only: dropped, the next step restores the saved state
        return MigrationCandidate(instance_id, tuple(at), False,
                                  tuple(Obstacle(element_id, None, "history_removed") for element_id in missing))
    try:
        reached = runtime.advance(workflow)  # arms the timers again; runs what the new version makes runnable
    except DiagramError as error:
        # The target version fails on this instance: nothing of the migration is kept, and it says which.
        raise Conflict("migration_diagram_failed", instance=instance_id, reason=str(error)) from error
    now = ctx.now()
    view = save_step(ctx, session, row, version, workflow, before, now, definition_id=definition_id)
    audit.record(session, at=now, actor=actor, action="instance_migrated", instance_id=instance_id,
                 summary={**summary, "at": [a.element_id for a in at]})
    after_step(ctx, session, view, reached, actor)
    return MigrationCandidate(instance_id, tuple(at), True, ())


def _tried(ctx: EngineContext, session: Session, instance_id: int, specs) -> MigrationCandidate:
    row = store.load(session, instance_id)
    _, workflow = load_workflow(ctx, session, row)  # a copy of its own: the cache is not touched
    at = tuple(migration.active_elements(workflow))
    found = migration.obstacles(workflow, specs)
    if not found:
        migration.migrate(workflow, specs)
        missing = ctx.codec.missing_elements(ctx.codec.dump_state(workflow), specs)
        found = [Obstacle(element_id, None, "history_removed") for element_id in missing]
    return MigrationCandidate(instance_id, at, not found, tuple(found))


def _running_ids(session: Session, definition_id: int) -> list[int]:
    return list(session.scalars(select(ProcessInstance.id).where(
        ProcessInstance.definition_id == definition_id, ProcessInstance.status == InstanceStatus.RUNNING)
        .order_by(ProcessInstance.id)))


def _open_work(session: Session, ids: list[int]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    ready: dict[int, list[str]] = {}
    timers: dict[int, list[str]] = {}
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        for instance_id, name, bpmn_id in session.execute(
                select(ReadyTask.instance_id, ReadyTask.name, ReadyTask.bpmn_id)
                .where(ReadyTask.instance_id.in_(chunk)).order_by(ReadyTask.id)):
            ready.setdefault(instance_id, []).append(name or bpmn_id)
        for instance_id, bpmn_id in session.execute(
                select(WaitingTimer.instance_id, WaitingTimer.bpmn_id)
                .where(WaitingTimer.instance_id.in_(chunk)).order_by(WaitingTimer.due_at)):
            timers.setdefault(instance_id, []).append(bpmn_id)
    return ready, timers


def _different(from_version: int, to_version: int) -> None:
    if from_version == to_version:
        raise InvalidInput("migration_same_version", version=from_version)


def reason_text(obstacle: Obstacle, lang: str) -> str:
    """Why an instance cannot move, in the reader's language, naming the element."""
    return i18n.text(f"migration_reason.{obstacle.reason}", lang, element=obstacle.name or obstacle.element_id,
                     detail=obstacle.detail)
