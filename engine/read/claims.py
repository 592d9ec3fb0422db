"""Who holds a waiting task: the person who claimed it, by name (engine/read/inbox.py claims and releases)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from engine.process.tables import ReadyTask
from engine.read.inbox import visible
from engine.regulation.access import Actor
from engine.regulation.organisation import User


@dataclass(frozen=True)
class Claim:
    """A waiting task's claim: `username` None when nobody holds it; `mine` when the reader does."""

    username: str | None
    full_name: str | None
    since: datetime | None
    mine: bool


def claim_on(ctx, actor: Actor, instance_id: int, task_id: str) -> Claim | None:
    """The claim on a task that waits for this actor; None when the task is not waiting (finished, or
    not theirs), so there is nothing to claim or give back."""
    with ctx.unit_of_work(readonly=True) as session:
        row = session.execute(select(ReadyTask.claimed_by, ReadyTask.claimed_at, User.full_name)
                              .outerjoin(User, User.username == ReadyTask.claimed_by)
                              .where(ReadyTask.instance_id == instance_id, ReadyTask.task_id == task_id,
                                     visible(actor))).first()
    if row is None:
        return None
    # A claimer whose account is gone since is still named, by username.
    name = (row.full_name or row.claimed_by) if row.claimed_by else None
    return Claim(row.claimed_by, name, row.claimed_at, row.claimed_by == actor.username)
