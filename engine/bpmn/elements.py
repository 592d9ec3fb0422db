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


def timer_expression(task_spec) -> str | None:
    """The text of the element's timer (a Python expression, docs/spiffworkflow.md trap 1), or None if it has none."""
    event = getattr(task_spec, "event_definition", None)
    return event.expression if isinstance(event, TimerEventDefinition) else None
