"""Moving a running workflow onto the specs of another version of its process.

SpiffWorkflow 3.2 has the mechanics (`SpiffWorkflow.bpmn.util.diff`): `SpecDiff` aligns the task specs
of two versions (by BPMN id first, then by position in the graph), `diff_workflow` says which tasks of
a workflow fall on removed or changed specs, and `migrate_workflow` points each task at its new spec
and resets the READY and WAITING branches, so what follows them is predicted again from the new graph.
Its alignment by position can pair an element with a renamed one, which an analyst would not guess;
so whether an instance may move is decided here, strictly by element id:

- every active element (a ready user task, a waiting timer or event, a started subprocess) must exist
  in the new version with the same kind of spec (a user task stays a user task) and the same boundary
  events attached (a task that gains or loses them is entered through a split it never reached: completing
  it would fail);
- every element its history went through must still be known to the new version (a state naming a
  removed element cannot be restored later; docs/workbench.md, "Versions and migration").

A migrated waiting timer forgets the due time it cached (docs/spiffworkflow.md, trap 4) and is armed
again by the caller's next `runtime.advance`: a `timeDate` computes the same instant from task data,
a `timeDuration` counts again from the moment of migration.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.serialization import ProcessSpecs

ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
DONE = TaskState.COMPLETED | TaskState.CANCELLED | TaskState.ERROR
_registry = None
_lock = threading.Lock()


@dataclass(frozen=True)
class ActiveElement:
    """An element a workflow is at now: a ready task, a waiting timer or event, a started subprocess."""

    element_id: str
    name: str | None
    kind: str    # the spec's class: UserTask, BoundaryEvent, SubWorkflowTask...
    state: str   # ready, waiting, started


@dataclass(frozen=True)
class Obstacle:
    """Why a workflow cannot move: `reason` is "removed", "kind_changed", "boundary_changed" or "history_removed"."""

    element_id: str
    name: str | None
    reason: str
    detail: str = ""   # for kind_changed: "UserTask -> ScriptTask"; for boundary_changed: the events added or removed


class MigrationRefused(Exception):
    """The workflow cannot move to these specs; `obstacles` name the elements."""

    def __init__(self, obstacles: list[Obstacle]):
        super().__init__("; ".join(f"{o.element_id}: {o.reason}" for o in obstacles))
        self.obstacles = obstacles


def active_elements(workflow) -> list[ActiveElement]:
    """The elements the workflow is at now, subprocesses included, in tree order."""
    found = []
    for task in _tasks(workflow, ACTIVE):
        spec = task.task_spec
        if spec.bpmn_id is not None:  # internal specs (boundary splits, joins) are no place to stand
            found.append(ActiveElement(spec.bpmn_id, spec.bpmn_name, type(spec).__name__,
                                       TaskState.get_name(task.state).lower()))
    return found


def obstacles(workflow, specs: ProcessSpecs) -> list[Obstacle]:
    """Why `workflow` cannot move onto `specs`: nothing when it can."""
    known = _known_specs(specs)
    found: dict[str, Obstacle] = {}
    for task in _tasks(workflow, ACTIVE):
        spec = task.task_spec
        new = known.get(spec.name)
        if new is None:
            found.setdefault(spec.name, Obstacle(_shown_id(spec), spec.bpmn_name, "removed"))
        elif type(new) is not type(spec):
            found.setdefault(spec.name, Obstacle(_shown_id(spec), spec.bpmn_name, "kind_changed",
                                                 f"{type(spec).__name__} -> {type(new).__name__}"))
        elif _attached(new) != _attached(spec):
            found.setdefault(spec.name, Obstacle(_shown_id(spec), spec.bpmn_name, "boundary_changed",
                                                 ", ".join(sorted(_attached(new) ^ _attached(spec)))))
    top, subs = diff_workflow(_serializer_registry(), workflow, specs.spec, specs.subprocess_specs)
    for diff in (top, *subs.values()):
        for task in (diff.removed if diff is not None else ()):
            if task.state & DONE and task.task_spec.name not in known:
                spec = task.task_spec
                found.setdefault(spec.name, Obstacle(_shown_id(spec), spec.bpmn_name, "history_removed"))
    for sub_id, diff in subs.items():
        if diff is None:  # a running subprocess whose spec the new version lacks altogether
            sub = workflow.subprocesses[sub_id]
            found.setdefault(sub.spec.name, Obstacle(sub.spec.name, sub.spec.description, "removed"))
    return list(found.values())


def migrate(workflow, specs: ProcessSpecs) -> list[ActiveElement]:
    """Point `workflow` at `specs` in place (MigrationRefused when `obstacles` finds any); its waiting
    timers forget their due time, to be armed again by the next `runtime.advance`. Returns where it
    stands now."""
    found = obstacles(workflow, specs)
    if found:
        raise MigrationRefused(found)
    top, subs = diff_workflow(_serializer_registry(), workflow, specs.spec, specs.subprocess_specs)
    migrate_workflow(top, workflow, specs.spec)
    for sub_id, diff in subs.items():
        sub = workflow.subprocesses[sub_id]
        migrate_workflow(diff, sub, specs.subprocess_specs[sub.spec.name])
    workflow.subprocess_specs = specs.subprocess_specs  # later call activities start from the new specs
    for task in _tasks(workflow, TaskState.WAITING):
        if isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition):
            task.internal_data.pop("event_value", None)
            task.internal_data.pop("event_fired", None)
    return active_elements(workflow)


def _tasks(workflow, mask: int):
    for task in list(workflow.tasks.values()):
        if task.state & mask:
            yield task
    for sub in list(workflow.subprocesses.values()):
        for task in list(sub.tasks.values()):
            if task.state & mask:
                yield task


def _known_specs(specs: ProcessSpecs) -> dict:
    known = dict(specs.spec.task_specs)
    for sub in specs.subprocess_specs.values():
        known.update(sub.task_specs)
    return known


def _attached(spec) -> frozenset[str]:
    # The boundary events of an activity hang with it on the split SpiffWorkflow puts before it.
    split = next((i for i in spec.inputs if isinstance(i, BoundaryEventSplit)), None)
    return frozenset(o.bpmn_id or o.name for o in split.outputs if o is not spec) if split else frozenset()


def _shown_id(spec) -> str:
    return spec.bpmn_id or spec.name


def _serializer_registry():
    # SpecDiff compares specs through the serializer's registry (its dictionaries of attributes).
    global _registry
    with _lock:
        if _registry is None:
            _registry = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)
        return _registry
