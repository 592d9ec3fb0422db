"""Apply a changed timer setting to timers already waiting in running instances.

An armed timer caches its due time in `internal_data['event_value']` (docs/spiffworkflow.md, trap 4), so a changed
setting moves only timers armed afterwards. On request, an admin previews which waiting timers
read the setting, with old and new due times, and then re-arms them all in one transaction.
Timers count from the event time kept in task data, so a re-armed timer ends where it would
have ended had the new value applied from the start; a new due time already past fires at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from engine.bpmn import elements, runtime
from engine.core import audit
from engine.process import instance_store as store
from engine.process.context import EngineContext
from engine.process.steps import after_step, load_workflow, row_for_step, save_step, workflow_for_step
from engine.process.tables import DefinitionVersion, InstanceStatus, ProcessInstance, WaitingTimer
from engine.worktime.diagram_functions import settings_referenced


@dataclass(frozen=True)
class RearmItem:
    """One waiting timer that reads the setting: its due time now and after re-arming."""

    instance_id: int
    process_id: str
    bpmn_id: str
    task_id: str
    old_due: datetime
    new_due: datetime


def preview(ctx: EngineContext, setting: str) -> list[RearmItem]:
    """The waiting timers that read `setting`, with their current and recomputed due times."""
    with ctx.unit_of_work(readonly=True) as session:
        items = []
        for instance_id in _candidates(ctx, session, setting):
            row = store.load(session, instance_id)
            _, workflow = load_workflow(ctx, session, row)
            items.extend(_items(workflow, row.id, row.process_id, setting))
        return items


def apply(ctx: EngineContext, setting: str, actor: str) -> list[RearmItem]:
    """Re-arm every waiting timer that reads `setting`, in one transaction; return what moved."""
    moved: list[RearmItem] = []
    with ctx.unit_of_work() as session:
        for instance_id in _candidates(ctx, session, setting):
            row, cached = row_for_step(ctx, session, instance_id)
            version, workflow, before = workflow_for_step(ctx, session, row, cached)
            items = list(_items(workflow, row.id, row.process_id, setting))
            runtime.rearm_timers(workflow, [item.task_id for item in items])
            reached = runtime.advance(workflow)  # re-evaluates the timers; fires any now past due
            view = save_step(ctx, session, row, version, workflow, before, ctx.now())
            after_step(ctx, session, view, reached, actor)
            audit.record(session, at=ctx.now(), actor=actor, action="timer_rearmed", instance_id=row.id,
                         summary={"setting": setting, "timers": [
                             {"bpmn_id": i.bpmn_id, "old": i.old_due.isoformat(), "new": i.new_due.isoformat()}
                             for i in items]})
            moved.extend(items)
    return moved


def _candidates(ctx: EngineContext, session, setting: str) -> list[int]:
    # Which (definition version, timer element) pairs read the setting: from the stored specs,
    # so only instances with such a timer waiting are loaded.
    pairs = set()
    for definition_id, version, spec_json in session.execute(
            select(DefinitionVersion.id, DefinitionVersion.version, DefinitionVersion.spec_json)):
        specs = ctx.codec.load_specs(definition_id, spec_json, version)
        for task_spec in elements.task_specs(specs):
            expression = elements.timer_expression(task_spec)
            if expression is not None and setting in settings_referenced(expression):
                pairs.add((definition_id, task_spec.bpmn_id))
    if not pairs:
        return []
    rows = session.execute(
        select(ProcessInstance.id, ProcessInstance.definition_id, WaitingTimer.bpmn_id)
        .join(WaitingTimer, WaitingTimer.instance_id == ProcessInstance.id)
        .where(ProcessInstance.status == InstanceStatus.RUNNING).order_by(ProcessInstance.id))
    return sorted({instance_id for instance_id, definition_id, bpmn_id in rows if (definition_id, bpmn_id) in pairs})


def _items(workflow, instance_id: int, process_id: str, setting: str):
    _, timers = runtime.open_work(workflow)
    for timer in timers:
        task = runtime.find_task(workflow, timer.task_id)
        if setting in settings_referenced(elements.timer_expression(task.task_spec) or ""):
            yield RearmItem(instance_id, process_id, timer.bpmn_id, timer.task_id, timer.due_at,
                            runtime.evaluate_due(workflow, task))
