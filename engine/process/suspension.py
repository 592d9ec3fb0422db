"""Suspend and resume an instance: an admin holds it while a problem outside the workflow is sorted out.

A suspended instance keeps its saved state and its rows in the query tables: its ready tasks stay
listed (marked as held) and its waiting timers keep their due times. What stops is movement: the
timer worker's due list takes running instances only (engine/process/timers.py) and `fire_timers`
checks the status again under the row lock; completing a task is refused with a Conflict
("instance_suspended", 409). Resuming makes it running again and nothing more: a timer that fell due
meanwhile fires on the worker's next pass, once, as a late timer does. Both are audited with the reason.

Settings re-armed and versions migrated while an instance is suspended leave it alone (they take
running instances only); its timers keep the due times they had.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from engine.core import audit
from engine.core.db import retried
from engine.core.errors import Conflict, InvalidInput
from engine.process import instance_store as store
from engine.process.context import EngineContext
from engine.process.steps import InstanceView
from engine.process.tables import InstanceStatus

MAX_REASON = 1000  # characters of a reason kept in the audit log


def checked_reason(reason: object, required: bool = True) -> str:
    """A reason as given by an admin, trimmed; InvalidInput (422) when it is required and empty, or too long."""
    text = reason.strip() if isinstance(reason, str) else ""
    if reason is not None and not isinstance(reason, str):
        raise InvalidInput("instance_reason_not_text")
    if required and not text:
        raise InvalidInput("instance_reason_required")
    if len(text) > MAX_REASON:
        raise InvalidInput("instance_reason_too_long", limit=MAX_REASON)
    return text


@retried
def suspend_instance(ctx: EngineContext, instance_id: int, actor: str, reason: str) -> InstanceView:
    """Hold a running instance: its timers stop firing and its tasks cannot be completed; audited with the reason."""
    reason = checked_reason(reason)
    with ctx.unit_of_work() as session:
        return _change(ctx, session, instance_id, actor, InstanceStatus.RUNNING, InstanceStatus.SUSPENDED,
                       "suspend", reason)


@retried
def resume_instance(ctx: EngineContext, instance_id: int, actor: str, reason: str = "") -> InstanceView:
    """Let a suspended instance run again; a timer that fell due meanwhile fires on the worker's next pass."""
    reason = checked_reason(reason, required=False)
    with ctx.unit_of_work() as session:
        return _change(ctx, session, instance_id, actor, InstanceStatus.SUSPENDED, InstanceStatus.RUNNING,
                       "resume", reason)


def _change(ctx: EngineContext, session: Session, instance_id: int, actor: str, expected: InstanceStatus,
            status: InstanceStatus, action: str, reason: str) -> InstanceView:
    row = store.load(session, instance_id, with_state=False)
    if row.status is not expected:
        key = "instance_cannot_suspend" if action == "suspend" else "instance_cannot_resume"
        raise Conflict(key, instance=instance_id, status=row.status.value)
    version, _ = store.definition(session, row.definition_id)
    now = ctx.now()
    # Version-checked like every instance write: a step that raced this one makes it ConcurrentUpdate.
    # The cached workflow (if any) keeps the old row_version, so the next step restores from the state.
    new_version = store.update_instance(session, row, now=now, status=status)
    audit.record(session, at=now, actor=actor, action=action, instance_id=row.id,
                 summary={"reason": reason} if reason else {})
    return InstanceView(row.id, row.process_id, version, status, new_version, row.error_message,
                        row.created_at, now)
