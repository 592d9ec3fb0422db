"""Cancelling an instance from the admin console, and what that does to the tracked task it drives.

`task_followup` keeps a tracked task's status in step with its workflow. An instance cancelled by an
admin can no longer move that task, so leaving the task "in progress" would keep it open (and soon
overdue) in every report for ever. A console cancel therefore does what the Office's own cancel path
does (engine/regulation/task_actions.py, `task_cancelled`): the open tracked task becomes cancelled at
that instant and its periodic-update schedules stop, in the same transaction as the cancel, which is
audited with the admin's reason and the task it closed. A tracked task already closed is left as it is.
Instances the task started (coordinators' input, periodic update cycles) are not cancelled with it, as
the Office's cancel path leaves them too; an admin cancels them one by one if needed.
"""
from __future__ import annotations

from sqlalchemy import select, update

from engine.core.db import retried
from engine.process.instances import cancel_in
from engine.process.steps import InstanceView
from engine.process.suspension import checked_reason
from engine.process.tables import Schedule
from engine.regulation.records import TaskStatus, TrackedTask


@retried
def cancel_from_console(ctx, instance_id: int, actor: str, reason: str) -> InstanceView:
    """Cancel a running, suspended or failed instance with a reason (422 without one, 409 when it has
    ended); the open tracked task it drives is cancelled with it."""
    reason = checked_reason(reason)
    with ctx.unit_of_work() as session:
        task = session.scalar(select(TrackedTask).where(TrackedTask.instance_id == instance_id).limit(1))
        closes = task is not None and task.status.is_open
        view = cancel_in(ctx, session, instance_id, actor, reason,
                         **({"tracked_task_id": task.id} if closes else {}))
        if closes:
            task.status, task.completed_at = TaskStatus.CANCELLED, view.updated_at
            session.execute(update(Schedule).where(Schedule.parent_id == instance_id, Schedule.active)
                            .values(active=False))
        return view
