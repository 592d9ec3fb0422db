"""Domain actions that diagram elements name in an `action` property.

A diagram cannot reach the database (its scripts run in the sandbox), yet completing "review
receipt" must write the task's status and a notification. So an element names an action from
this allow-list, deploy refuses unknown names, and the action runs in the step's transaction
with a copy of the element's data. The registry itself is assembled in engine/app/bootstrap.py.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.core.errors import DiagramError


@dataclass(frozen=True)
class ActionContext:
    """What an action is handed: the transaction, the instance, the element and its data."""

    ctx: Any
    session: Session
    instance_id: int
    process_id: str
    bpmn_id: str
    data: dict[str, Any]
    actor: str
    now: datetime


Action = Callable[[ActionContext], None]


def reads(**fields: str) -> Callable[[Action], Action]:
    """Declare the data an action reads, field -> type (engine/bpmn/contract.py TYPES): deploy refuses a
    diagram that does not provide them before the element naming the action (docs/workbench.md)."""

    def declare(action: Action) -> Action:
        action.reads = dict(fields)  # type: ignore[attr-defined]
        return action

    return declare


def declared_reads(actions: dict[str, Action]) -> dict[str, dict[str, str]]:
    """Action name -> the fields it reads, as declared with @reads (none declared: reads nothing)."""
    return {name: dict(getattr(action, "reads", {})) for name, action in actions.items()}


def run(ctx, session: Session, instance_id: int, process_id: str, reached, actor: str, now: datetime) -> None:
    """Run the actions of the elements a step reached, in order, in the caller's transaction."""
    for item in reached:
        action = ctx.actions.get(item.action)
        if action is None:  # deploy refuses these; a version deployed before an action was removed
            raise DiagramError(f"element '{item.bpmn_id}': unknown action '{item.action}'", item.bpmn_id)
        action(ActionContext(ctx, session, instance_id, process_id, item.bpmn_id, item.data, actor, now))
