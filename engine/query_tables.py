"""Keep the ready-task and waiting-timer tables in step with an instance's workflow.

Lists read these tables and never deserialize a workflow. They are rewritten in the same
transaction as the instance state, so they can never disagree with it.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .models import ReadyTask, WaitingTimer
from .runtime import ArmedTimer, ReadyUserTask


def sync(session: Session, instance_id: int, ready: list[ReadyUserTask], timers: list[ArmedTimer],
         now: datetime) -> None:
    """Make the instance's rows match `ready` and `timers`; unchanged rows stay as they are."""
    _match_rows(session, ReadyTask, instance_id, {t.task_id: asdict(t) for t in ready},
                on_insert={"created_at": now})
    _match_rows(session, WaitingTimer, instance_id, {t.task_id: asdict(t) for t in timers})


def clear(session: Session, instance_id: int) -> None:
    """Remove every ready task and timer of an instance that ended or failed."""
    session.execute(delete(ReadyTask).where(ReadyTask.instance_id == instance_id))
    session.execute(delete(WaitingTimer).where(WaitingTimer.instance_id == instance_id))


def _match_rows(session: Session, model, instance_id: int, wanted: dict[str, dict[str, Any]],
                on_insert: dict[str, Any] | None = None) -> None:
    existing = {row.task_id: row for row in session.scalars(
        select(model).where(model.instance_id == instance_id))}
    for task_id, row in existing.items():
        if task_id not in wanted:
            session.delete(row)
    for task_id, values in wanted.items():
        row = existing.get(task_id)
        if row is None:
            session.add(model(instance_id=instance_id, **values, **(on_insert or {})))
            continue
        # A re-armed timer or re-evaluated assignee updates the row in place, keeping created_at.
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
