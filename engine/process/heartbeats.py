"""Timer workers say they are alive: one row per worker process, rewritten after every pass.

`/ready` reads the freshest row: with no worker beating, timers are not fired and nobody is reminded,
so a load balancer or a monitor must know (docs/operations.md, "Readiness").
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select

from engine.process.context import EngineContext
from engine.process.tables import WorkerHeartbeat


def worker_id() -> str:
    """This process, as a worker: host and pid (a restarted worker is a new row)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(ctx: EngineContext, worker: str, started_at: datetime, passes: int, failures: int) -> None:
    """Record a pass of `worker` (an upsert of its row)."""
    with ctx.unit_of_work() as session:
        row = session.get(WorkerHeartbeat, worker)
        if row is None:
            row = WorkerHeartbeat(worker_id=worker, started_at=started_at)
            session.add(row)
        row.beat_at, row.passes, row.failures = ctx.now(), passes, failures


def forget(ctx: EngineContext, worker: str) -> None:
    """A worker stopping on purpose removes its row, so that it is not mistaken for a hung one."""
    with ctx.unit_of_work() as session:
        session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker_id == worker))


@dataclass(frozen=True)
class Beats:
    """What the heartbeats say at one instant."""

    latest: datetime | None   # the freshest beat of any worker
    fresh_workers: int        # workers that beat within the limit


def read(ctx: EngineContext, since: datetime) -> Beats:
    """The freshest beat, and how many workers beat at or after `since`."""
    with ctx.unit_of_work(readonly=True) as session:
        latest = session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
        fresh = session.scalar(select(func.count()).select_from(WorkerHeartbeat)
                               .where(WorkerHeartbeat.beat_at >= since))
    return Beats(latest=latest, fresh_workers=fresh or 0)
