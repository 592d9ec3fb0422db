"""Moving running work when the calendar or a timer setting changes: preview, then apply.

Two things in a running instance hold a due time computed from the settings and the calendar: a
waiting timer caches the due time it computed when armed (docs/spiffworkflow.md, trap 4), and a ready
user task's due date (its `dueDate` property) is written to `ready_tasks.due_at` when its instance
steps. A change therefore moves nothing running by itself. Here an admin sees, before saving, which of
them the change would move (instance, element, unit, old due, new due), and on request they move: the
timers are re-armed and the instance is advanced and saved through the engine like any step, which
writes the ready tasks' due dates again - all in the transaction of the change itself.

The change is given as a `what_if.Assumption` (the settings or calendar as they would be) and a test
`touches(expression)` picking the timers and due dates that read what changes; the preview evaluates
under the assumption and writes nothing, and apply runs the same evaluation before it moves anything.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import elements, runtime
from engine.core import audit
from engine.process import instance_store as store
from engine.process.context import EngineContext
from engine.process.steps import after_step, give_back, row_for_step, save_step, workflow_for_step
from engine.process.tables import DefinitionVersion, InstanceStatus, ProcessInstance, ReadyTask, WaitingTimer
from engine.worktime import what_if

Touches = Callable[[str], bool]


@dataclass(frozen=True)
class Move:
    """A due time the change moves: a waiting timer's, or a ready user task's due date."""

    instance_id: int
    process_id: str
    kind: str                 # "timer" or "task"
    task_id: str
    bpmn_id: str
    name: str | None          # the element's name in the diagram
    lane: str | None          # the role of the lane of the task (for a timer: of the task it waits on)
    assignee: str | None      # the unit code of the task (for a timer: of the task it waits on)
    old_due: datetime | None
    new_due: datetime | None
    fires_at_once: bool       # a timer whose new due time has passed fires when the change is applied


def preview(ctx: EngineContext, session: Session, assumption: what_if.Assumption, touches: Touches) -> list[Move]:
    """What the change would move, evaluated under `assumption` in the caller's unit of work; nothing written."""
    moves: list[Move] = []
    with what_if.assuming(assumption):
        for instance_id in _candidates(ctx, session, touches):
            row, cached = row_for_step(ctx, session, instance_id)
            _, workflow, before = workflow_for_step(ctx, session, row, cached)
            moves.extend(_moves(workflow, row, before, touches, ctx.now()))
            give_back(ctx, row, cached)  # evaluating changed nothing in it
    return moves


def apply(ctx: EngineContext, session: Session, assumption: what_if.Assumption, touches: Touches, actor: str,
          change: dict) -> list[Move]:
    """Move what the change moves, in the caller's transaction: re-arm the timers, advance and save each
    instance (its ready tasks' due dates written again), one audit entry per instance naming `change`."""
    moved: list[Move] = []
    with what_if.assuming(assumption):
        for instance_id in _candidates(ctx, session, touches):
            row, cached = row_for_step(ctx, session, instance_id)
            version, workflow, before = workflow_for_step(ctx, session, row, cached)
            moves = _moves(workflow, row, before, touches, ctx.now())
            if not moves:
                give_back(ctx, row, cached)
                continue
            runtime.rearm_timers(workflow, [m.task_id for m in moves if m.kind == "timer"])
            reached = runtime.advance(workflow)  # arms the timers again; fires any now past due
            view = save_step(ctx, session, row, version, workflow, before, ctx.now())
            after_step(ctx, session, view, reached, actor)
            audit.record(session, at=ctx.now(), actor=actor, action="due_dates_moved", instance_id=row.id,
                         summary={**change, "moves": [_summary(m) for m in moves]})
            moved.extend(moves)
    return moved


def _moves(workflow, row: store.InstanceRow, before: store.Snapshot, touches: Touches, now: datetime) -> list[Move]:
    ready, timers = runtime.open_work(workflow)  # a ready task's due date is evaluated again here
    stored = {task.task_id: task for task in before.ready}
    by_id = {task.task_id: task for task in ready}
    moves = []
    for task in ready:
        old = stored.get(task.task_id)
        if old is not None and old.due_at != task.due_at:
            moves.append(Move(row.id, row.process_id, "task", task.task_id, task.bpmn_id, task.name, task.lane,
                              task.assignee, old.due_at, task.due_at, False))
    for timer in timers:
        text = runtime.timer_text(workflow, timer.task_id)
        if not text or not touches(text):
            continue
        new_due = runtime.evaluate_due(workflow, runtime.find_task(workflow, timer.task_id))
        if new_due != timer.due_at:
            holder = by_id.get(runtime.timer_holder(workflow, timer.task_id) or "")
            moves.append(Move(row.id, row.process_id, "timer", timer.task_id, timer.bpmn_id,
                              runtime.element_name(workflow, timer.task_id), holder.lane if holder else None,
                              holder.assignee if holder else None, timer.due_at, new_due, new_due <= now))
    return moves


def _candidates(ctx: EngineContext, session: Session, touches: Touches) -> list[int]:
    # Which (definition version, element) pairs read what changes, from the stored specs: only running
    # instances with such a timer waiting or such a task ready are loaded.
    pairs = set()
    for definition_id, version, spec_json in session.execute(
            select(DefinitionVersion.id, DefinitionVersion.version, DefinitionVersion.spec_json)):
        specs = ctx.codec.load_specs(definition_id, spec_json, version)
        for task_spec in elements.task_specs(specs):
            texts = (elements.timer_expression(task_spec), elements.properties(task_spec).get("dueDate"))
            if any(text and touches(text) for text in texts):
                pairs.add((definition_id, task_spec.bpmn_id))
    if not pairs:
        return []
    found = set()
    for table in (WaitingTimer, ReadyTask):
        rows = session.execute(
            select(ProcessInstance.id, ProcessInstance.definition_id, table.bpmn_id)
            .join(table, table.instance_id == ProcessInstance.id)
            .where(ProcessInstance.status == InstanceStatus.RUNNING))
        found |= {instance_id for instance_id, definition_id, bpmn_id in rows if (definition_id, bpmn_id) in pairs}
    return sorted(found)


def _summary(move: Move) -> dict:
    return {"kind": move.kind, "bpmn_id": move.bpmn_id, "old": move.old_due.isoformat() if move.old_due else None,
            "new": move.new_due.isoformat() if move.new_due else None}
