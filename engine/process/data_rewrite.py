"""Rewrite data fields of running instances and save them like a step: the engine's half of an
organisation change (engine/regulation/reorganisation.py decides which values and fields).

Only instances still running (or in error, to be retried) are touched: their saved state names the
unit their next tasks go to. Each is restored, its data rewritten (engine/bpmn/data_rewrite.py),
saved version-checked like a step, its query tables brought up to date (a ready task's assignee is an
expression over the data, evaluated again), and audited. Finished instances are history: untouched.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.bpmn import data_rewrite
from engine.bpmn.data_rewrite import DataChange
from engine.core import audit
from engine.process import instance_store as store
from engine.process.context import EngineContext
from engine.process.steps import load_workflow, save_step
from engine.process.tables import InstanceStatus, ProcessInstance, ReadyTask


@dataclass(frozen=True)
class TaskMove:
    """A ready user task whose assignee changed with the data."""

    instance_id: int
    task_id: str
    bpmn_id: str
    name: str | None
    lane: str | None
    old_assignee: str | None
    new_assignee: str | None
    due_at: datetime | None
    claimed_by: str | None


@dataclass(frozen=True)
class TimerMove:
    """A timer waiting in a rewritten instance: what it sets off now goes by the new data."""

    instance_id: int
    bpmn_id: str
    due_at: datetime


@dataclass(frozen=True)
class InstanceRewrite:
    """What rewriting one instance's data changed."""

    instance_id: int
    process_id: str
    status: InstanceStatus
    changes: tuple[DataChange, ...]
    tasks: tuple[TaskMove, ...]
    timers: tuple[TimerMove, ...]


def rewrite_in(ctx: EngineContext, session: Session, mapping: Mapping[str, str], fields: Iterable[str],
               actor: str, reason: str = "", exclude: Iterable[int] = ()) -> list[InstanceRewrite]:
    """In the caller's unit of work: replace `mapping`'s keys by its values in `fields` of every running
    (or failed) instance's data but those of `exclude`, save each like a step, and say what moved."""
    fields, exclude = tuple(sorted(set(fields))), set(exclude)
    done = []
    for instance_id in _candidates(session, mapping):
        if instance_id in exclude:
            continue
        rewritten = _rewrite(ctx, session, instance_id, mapping, fields, actor, reason)
        if rewritten is not None:
            done.append(rewritten)
    return done


def _candidates(session: Session, mapping: Mapping[str, str]) -> list[int]:
    # Only instances whose saved state mentions a value as a JSON string are restored at all.
    if not mapping:
        return []
    mentions = or_(*(ProcessInstance.state_json.contains(f'"{value}"', autoescape=True) for value in mapping))
    return list(session.scalars(select(ProcessInstance.id).where(
        ProcessInstance.status.in_((InstanceStatus.RUNNING, InstanceStatus.ERROR)), mentions)
        .order_by(ProcessInstance.id)))


def _rewrite(ctx: EngineContext, session: Session, instance_id: int, mapping: Mapping[str, str],
             fields: tuple[str, ...], actor: str, reason: str) -> InstanceRewrite | None:
    row = store.load(session, instance_id)
    version, workflow = load_workflow(ctx, session, row)
    changes = data_rewrite.replace_values(workflow, fields, mapping)
    if not changes:
        return None
    before, now = store.current_snapshot(session, row.id), ctx.now()
    claims = dict(session.execute(select(ReadyTask.task_id, ReadyTask.claimed_by)
                                  .where(ReadyTask.instance_id == row.id)).all())
    if row.status is InstanceStatus.RUNNING:
        save_step(ctx, session, row, version, workflow, before, now)
    else:  # in error: its query tables are empty until it is retried; keep it in error
        store.update_instance(session, row, now=now, state_json=ctx.codec.dump_state(workflow))
    after = {task.task_id: task for task in store.current_snapshot(session, row.id).ready}
    tasks = tuple(TaskMove(row.id, t.task_id, t.bpmn_id, t.name, t.lane, t.assignee, after[t.task_id].assignee,
                           t.due_at, claims.get(t.task_id))
                  for t in before.ready if t.task_id in after and after[t.task_id].assignee != t.assignee)
    timers = tuple(TimerMove(row.id, t.bpmn_id, t.due_at) for t in before.timers)
    audit.record(session, at=now, actor=actor, action="instance_data_rewritten", instance_id=row.id,
                 summary={"changes": [{"field": c.field, "old": audit.summarize({"v": c.old})["v"],
                                       "new": audit.summarize({"v": c.new})["v"]} for c in changes],
                          "tasks": [t.task_id for t in tasks], **({"reason": reason} if reason else {})})
    return InstanceRewrite(row.id, row.process_id, row.status, tuple(changes), tasks, timers)
