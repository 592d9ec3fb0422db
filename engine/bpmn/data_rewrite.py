"""Replace values in a workflow's data: what an organisation change does to the units a running
instance routes by (docs/regulation.md, "Organisation changes").

Every task's data is rewritten, finished ones included: a task inherits its parent's data when it
becomes ready and a join merges the data of the branches it waits for, so an old copy left on a
finished task could bring the old value back. What people submitted stays in the audit log.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow


@dataclass(frozen=True)
class DataChange:
    """One field whose value was replaced (in one task or more)."""

    field: str
    old: Any
    new: Any


def replace_values(workflow: BpmnWorkflow, fields: Iterable[str], mapping: Mapping[str, str]) -> list[DataChange]:
    """In every task's data (and the workflow's), replace a top-level field's value found in `mapping`
    (a string, or strings in a list) by its mapped value; the distinct changes made, by field."""
    fields = frozenset(fields)
    changes: dict[tuple[str, str], DataChange] = {}
    for owner in _all_workflows(workflow):
        _replace(owner.data, fields, mapping, changes)
        for task in owner.tasks.values():
            _replace(task.data, fields, mapping, changes)
    return sorted(changes.values(), key=lambda c: (c.field, repr(c.old)))


def _replace(data: dict, fields: frozenset[str], mapping: Mapping[str, str], changes: dict) -> None:
    for name in fields & data.keys():
        value = data[name]
        if isinstance(value, str) and value in mapping:
            data[name] = mapping[value]
        elif isinstance(value, list) and any(isinstance(v, str) and v in mapping for v in value):
            replaced: list = []
            for item in value:  # a unit listed twice after the change (both merged into one) is listed once
                new = mapping.get(item, item) if isinstance(item, str) else item
                if new not in replaced:
                    replaced.append(new)
            data[name] = replaced
        else:
            continue
        changes.setdefault((name, repr(value)), DataChange(name, value, data[name]))


def _all_workflows(workflow: BpmnWorkflow):
    yield workflow
    yield from workflow.subprocesses.values()
