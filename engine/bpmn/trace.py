"""The path a workflow has taken so far: its completed diagram elements, in the order they completed.

A dry run (engine/app/dry_run.py) draws it on the diagram. SpiffWorkflow keeps every task it ran in
the workflow's task tree with the time it last changed state, so the path is read from there; the
tree's own helper tasks (Start, End, the split in front of a task with boundary events) have no
BPMN id and are skipped, their children linked to the nearest element above them instead.
"""
from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.util.task import TaskState


@dataclass(frozen=True)
class Passed:
    """One completed element: its BPMN id and the element the workflow came to it from (None at the start)."""

    bpmn_id: str
    came_from: str | None


def path_taken(workflow) -> list[Passed]:
    """Every completed element of the workflow and its subprocesses, oldest first."""
    done = []
    for task in _all_tasks(workflow):
        if task.state == TaskState.COMPLETED and _bpmn_id(task):
            done.append(task)
    # last_state_change is a float stamp kept across serialization; the tree depth breaks ties.
    done.sort(key=lambda task: (task.last_state_change, task.depth))
    return [Passed(_bpmn_id(task), _came_from(task)) for task in done]


def _bpmn_id(task) -> str | None:
    return getattr(task.task_spec, "bpmn_id", None)


def _came_from(task) -> str | None:
    parent = task.parent
    while parent is not None and not _bpmn_id(parent):
        parent = parent.parent
    return _bpmn_id(parent) if parent is not None else None


def _all_tasks(workflow):
    yield from workflow.tasks.values()
    for subprocess in workflow.subprocesses.values():
        yield from subprocess.tasks.values()
