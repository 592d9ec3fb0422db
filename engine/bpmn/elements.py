"""What the engine reads from a parsed or restored spec: its elements, their properties, timer texts."""
from __future__ import annotations

from collections.abc import Iterator

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition


def task_specs(process_specs) -> Iterator:
    """Every element of a process and of its called subprocesses (anything with `spec` and
    `subprocess_specs`: a parsed definition or restored ProcessSpecs)."""
    for spec in [process_specs.spec, *process_specs.subprocess_specs.values()]:
        yield from spec.task_specs.values()


def properties(task_spec) -> dict:
    """The element's `spiffworkflow:property` values (form, action, due date...)."""
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {})


def engine_expressions(task_spec) -> list[tuple[str, str]]:
    """(what, text) of each text the engine evaluates itself for this element: its timer, and its
    `assignee` and `dueDate` properties (engine/bpmn/runtime.py)."""
    texts = [("timer", timer_expression(task_spec))]
    texts += [(f"{name} property", properties(task_spec).get(name)) for name in ("assignee", "dueDate")]
    return [(what, text) for what, text in texts if text]


def timer_expression(task_spec) -> str | None:
    """The text of the element's timer (a Python expression, docs/spiffworkflow.md trap 1), or None if it has none."""
    event = getattr(task_spec, "event_definition", None)
    return event.expression if isinstance(event, TimerEventDefinition) else None
