"""What the engine does to one SpiffWorkflow workflow, hidden behind plain functions.

Nothing here touches the database: the use cases in `instances.py` load a workflow, call these,
and save the result in one transaction.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import budget
from engine.bpmn.budget import BudgetExceeded
from engine.bpmn.sandbox import UnsafeScript
from engine.bpmn.serialization import ProcessSpecs
from engine.core import clock, transient
from engine.core.errors import DiagramError, TaskNotFound, TaskNotReady


@dataclass(frozen=True)
class ReadyUserTask:
    """A user task that can be completed now."""

    task_id: str
    bpmn_id: str
    name: str | None
    lane: str | None
    assignee: str | None
    due_at: datetime | None


@dataclass(frozen=True)
class ArmedTimer:
    """A timer event waiting for its due time."""

    task_id: str
    bpmn_id: str
    due_at: datetime


@dataclass(frozen=True)
class Reached:
    """A diagram element carrying an `action` property that completed during a step."""

    bpmn_id: str
    action: str
    data: dict[str, Any]


def new_workflow(specs: ProcessSpecs, script_engine, data: dict[str, Any]) -> tuple[BpmnWorkflow, list[Reached]]:
    """Create a workflow, put `data` on its start, and run it to its first wait."""
    workflow = BpmnWorkflow(specs.spec, specs.subprocess_specs, script_engine=script_engine)
    workflow.get_next_task(spec_name="Start").data.update(data)
    return workflow, advance(workflow)


def advance(workflow: BpmnWorkflow) -> list[Reached]:
    """Run engine steps and fire due timers until only people or future timers can move it."""
    reached: list[Reached] = []

    def note(task) -> None:
        _note_action(task, reached)

    with _budget(workflow):
        _guard(workflow.do_engine_steps, None, note)
        _guard(workflow.refresh_timers)
        _guard(workflow.do_engine_steps, None, note)
    return reached


def ready_user_task(workflow: BpmnWorkflow, task_id: str):
    """The user task with this id if someone can complete it now; else TaskNotFound/TaskNotReady."""
    task = find_task(workflow, task_id)
    if task.state != TaskState.READY or not task.task_spec.manual:
        raise TaskNotReady(task_id, TaskState.get_name(task.state))
    return task


def complete_user_task(workflow: BpmnWorkflow, task_id: str, data: dict[str, Any]) -> tuple[str, list[Reached]]:
    """Complete a ready user task with `data` and advance; (its BPMN id, the actions reached)."""
    task = ready_user_task(workflow, task_id)
    task.set_data(**data)
    with _budget(workflow):  # the task's post-script and everything it sets off share one budget
        _guard(task.run)
        reached: list[Reached] = []
        _note_action(task, reached)
        return task.task_spec.bpmn_id, reached + advance(workflow)


def form_of(task) -> str | None:
    """The JSON Schema file name of a user task's form, if it has one."""
    return task.task_spec.extensions.get("properties", {}).get("formJsonSchemaFilename")


def _note_action(task, reached: list[Reached]) -> None:
    # Elements name an allow-listed domain action (engine/process/actions.py) in a property; it runs in
    # the same transaction as the step, with a copy of the element's data.
    properties = (getattr(task.task_spec, "extensions", None) or {}).get("properties", {})
    action = properties.get("action")
    if action:
        reached.append(Reached(task.task_spec.bpmn_id, action, dict(task.data)))


def find_task(workflow: BpmnWorkflow, task_id: str):
    """The task with this id, or TaskNotFound."""
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except (ValueError, TypeError, SpiffWorkflowException, KeyError):
        task = None
    if task is None:
        raise TaskNotFound(task_id)
    return task


def finished_user_task(workflow: BpmnWorkflow, task_id: str) -> ReadyUserTask | None:
    """A completed user task as it was when ready (its lane, and its assignee from the data it was
    completed with; no due date), or None if the task is not a completed user task (TaskNotFound if unknown)."""
    task = find_task(workflow, task_id)
    if task.state != TaskState.COMPLETED or not task.task_spec.manual:
        return None
    spec = task.task_spec
    return ReadyUserTask(str(task.id), spec.bpmn_id, spec.bpmn_name, spec.lane,
                         _property(workflow, task, "assignee"), None)


def step_of(workflow: BpmnWorkflow, task_id: str) -> tuple[str | None, str | None, dict[str, Any]] | None:
    """(name, form file, data) of a task still in the workflow, or None: what a record of a finished
    step shows beside what the audit log kept."""
    try:
        task = find_task(workflow, task_id)
    except TaskNotFound:
        return None
    return task.task_spec.bpmn_name, form_of(task), task.data


def rearm_timers(workflow: BpmnWorkflow, task_ids: list[str]) -> None:
    """Forget the due time these waiting timers cached when armed (docs/spiffworkflow.md, trap 4); the next `advance`
    evaluates their text again, with today's settings and calendar."""
    for task_id in task_ids:
        task = find_task(workflow, task_id)
        task.internal_data.pop("event_value", None)
        task.internal_data.pop("event_fired", None)


def cancel(workflow: BpmnWorkflow) -> None:
    """Cancel every open task of the workflow."""
    workflow.cancel()


def open_work(workflow: BpmnWorkflow) -> tuple[list[ReadyUserTask], list[ArmedTimer]]:
    """The user tasks someone can complete now and the timers waiting, in one pass over the tasks."""
    ready, timers = [], []
    with _budget(workflow):
        _scan(workflow, ready, timers)
    return ready, timers


def _scan(workflow: BpmnWorkflow, ready: list, timers: list) -> None:
    # A flat scan of the task dictionaries: get_tasks() walks the tree, several times slower.
    for task in _all_tasks(workflow):
        if task.state == TaskState.READY and task.task_spec.manual:
            spec = task.task_spec
            ready.append(ReadyUserTask(
                task_id=str(task.id), bpmn_id=spec.bpmn_id, name=spec.bpmn_name, lane=spec.lane,
                assignee=_property(workflow, task, "assignee"), due_at=_due_date(workflow, task)))
        elif task.state == TaskState.WAITING:
            due = _timer_due(task)
            if due is not None:
                timers.append(ArmedTimer(str(task.id), task.task_spec.bpmn_id, due))


def current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The data the instance holds now, as an admin reads it: the most recently changed open task's
    (ready or waiting), else the last completed task's, on top of the workflow's own data."""
    open_tasks = [t for t in _all_tasks(workflow) if t.state in (TaskState.READY, TaskState.WAITING)]
    done = [t for t in _all_tasks(workflow) if t.state == TaskState.COMPLETED]
    newest = max(open_tasks or done, key=lambda task: (task.last_state_change, task.depth), default=None)
    return {**workflow.data, **(newest.data if newest is not None else {})}


def evaluate_due(workflow: BpmnWorkflow, task) -> datetime:
    """The due time a waiting timer would get if it were armed again now (nothing is changed)."""
    definition = task.task_spec.event_definition
    with _budget(workflow):
        value = _guard(workflow.script_engine.evaluate, task, definition.expression)
    if isinstance(definition, (TimeDateEventDefinition,)):
        return TimerEventDefinition.get_datetime(value)
    if isinstance(definition, CycleTimerEventDefinition):
        return TimerEventDefinition.parse_iso_recurring_interval(value)[1]
    # A duration counts from the moment it is armed, so from now when re-armed.
    parsed = TimerEventDefinition.parse_iso_duration(value)
    start = clock.now()
    return start + TimerEventDefinition.get_timedelta_from_start(parsed, start)


def timer_text(workflow: BpmnWorkflow, task_id: str) -> str | None:
    """The text of a waiting timer (the expression it was armed from), or None if the task is no timer."""
    definition = getattr(find_task(workflow, task_id).task_spec, "event_definition", None)
    return definition.expression if isinstance(definition, TimerEventDefinition) else None


def timer_holder(workflow: BpmnWorkflow, task_id: str) -> str | None:
    """The id of the user task a boundary timer is attached to (its sibling under the activity), if any."""
    task = find_task(workflow, task_id)
    if not isinstance(task.task_spec, BoundaryEvent) or task.parent is None:
        return None
    return next((str(sibling.id) for sibling in task.parent.children if sibling.task_spec.manual), None)


def element_name(workflow: BpmnWorkflow, task_id: str) -> str | None:
    """The name the diagram gives the element of a task."""
    return find_task(workflow, task_id).task_spec.bpmn_name


def element_names(workflow: BpmnWorkflow) -> dict[str, str]:
    """The names the diagram gives its elements, by BPMN id (those it names), subprocesses included:
    what a history shows instead of ids."""
    specs = [workflow.spec, *workflow.subprocess_specs.values()]
    return {t.bpmn_id: t.bpmn_name for spec in specs for t in spec.task_specs.values()
            if getattr(t, "bpmn_id", None) and getattr(t, "bpmn_name", None)}


def _all_tasks(workflow: BpmnWorkflow):
    yield from workflow.tasks.values()
    for subprocess in workflow.subprocesses.values():
        yield from subprocess.tasks.values()


def _timer_due(task) -> datetime | None:
    definition = getattr(task.task_spec, "event_definition", None)
    if not isinstance(definition, TimerEventDefinition):
        return None
    value = task.internal_data.get("event_value")
    if value is None:
        return None
    if isinstance(definition, CycleTimerEventDefinition):
        return TimerEventDefinition.get_datetime(value["next"])
    return TimerEventDefinition.get_datetime(value)


def _due_date(workflow: BpmnWorkflow, task) -> datetime | None:
    # An explicit `dueDate` property (an expression giving an ISO date-time) wins; otherwise the
    # earliest interrupting boundary timer, the moment the task is taken away from its holder.
    # Non-interrupting timers are reminders or escalations, not the task's own deadline.
    explicit = _property(workflow, task, "dueDate")
    if explicit is not None:
        return _parse_due(explicit, task)
    parent = task.parent
    dues = [
        _timer_due(sibling) for sibling in (parent.children if parent else [])
        if isinstance(sibling.task_spec, BoundaryEvent) and sibling.task_spec.cancel_activity
        and sibling.state == TaskState.WAITING
    ]
    dues = [d for d in dues if d is not None]
    return min(dues) if dues else None


def _property(workflow: BpmnWorkflow, task, name: str) -> str | None:
    # User-task properties such as `assignee` (e.g. `lead_unit`) and `dueDate` are expressions
    # over task data, evaluated in the sandbox like any other diagram expression.
    expression = task.task_spec.extensions.get("properties", {}).get(name)
    if not expression:
        return None
    value = _guard(workflow.script_engine.evaluate, task, expression)
    return None if value is None else str(value)


def _parse_due(value: str, task) -> datetime:
    try:
        return TimerEventDefinition.get_datetime(value)
    except (ValueError, TypeError) as error:
        raise DiagramError(f"element '{task.task_spec.bpmn_id}': dueDate is not an ISO date-time: "
                           f"{value!r}", task.task_spec.bpmn_id) from error


def _budget(workflow: BpmnWorkflow):
    # All the diagram code of one call here (one instance advanced, or its open tasks listed) shares
    # one time budget (engine/bpmn/budget/), so a chain of scripts each just under it is stopped too.
    limits = getattr(getattr(workflow.script_engine, "environment", None), "limits", None)
    return budget.scope(limits.seconds) if limits is not None else contextlib.nullcontext()


def _guard(call, *args):
    try:
        return call(*args)
    except SpiffWorkflowException as error:
        failure = transient.database_failure(error)
        if failure is not None:
            # The database failed under an expression (a diagram function reads a setting): not the
            # diagram's fault, so never a DiagramError that would mark the instance.
            raise failure from error
        over = _over_budget(error)
        if over is not None:  # "element 'x': diagram code ran over its time budget (1 s, ...)"
            bpmn_id = getattr(getattr(getattr(error, "task", None), "task_spec", None), "bpmn_id", None)
            raise DiagramError(f"element '{bpmn_id}': {over}" if bpmn_id else str(over), bpmn_id) from error
        raise DiagramError.from_spiff(error) from error
    except (BudgetExceeded, UnsafeScript) as error:
        # Raised outside SpiffWorkflow's wrapper (an ad hoc subprocess's completion condition, a
        # message correlation): no element to name, but still the diagram's fault.
        raise DiagramError(str(error)) from error


def _over_budget(error: BaseException) -> BudgetExceeded | None:
    for _ in range(8):  # SpiffWorkflow keeps the original in `exception`; Python in __cause__/__context__
        if error is None or isinstance(error, BudgetExceeded):
            return error
        error = getattr(error, "exception", None) or error.__cause__ or error.__context__
    return None
