"""The timer worker: find due timers in the query table and advance each instance on its own.

SpiffWorkflow has no scheduler (docs/spiffworkflow.md, trap 5): something must notice that a timer's time has come and
call `refresh_timers()` on that workflow. Each instance advances in its own transaction, so one
failing timer expression marks only its own instance in error. On PostgreSQL the instance row is
locked with SKIP LOCKED, so several workers share the work and never fire one timer twice; the
optimistic row_version check backs that up on every database. A database failure (`Unavailable`)
marks nothing: it ends the pass, and the worker tries again later.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from engine.core.errors import ConcurrentUpdate, DiagramError, InstanceNotFound
from engine.process.context import EngineContext
from engine.process.instances import fire_timers, mark_in_error
from engine.process.tables import InstanceStatus, ProcessInstance, WaitingTimer


@dataclass
class FireReport:
    """What one pass of the worker did."""

    fired: list[tuple[int, str]] = field(default_factory=list)   # (instance id, timer BPMN id)
    failed: list[tuple[int, str]] = field(default_factory=list)  # (instance id, error message)
    skipped: int = 0                                             # held by another worker


def due_instances(ctx: EngineContext, at: datetime, limit: int = 200) -> list[int]:
    """Instances with at least one timer due at `at`, the most overdue first. Due means strictly before
    `at`: SpiffWorkflow fires a timer only once "now" is past its time, and a timer reported due that
    cannot fire yet would be taken again and again in one pass. A suspended instance keeps its timers
    listed but is not due (engine/process/suspension.py): they fire on the first pass after it resumes."""
    with ctx.unit_of_work(readonly=True) as session:
        stmt = (select(WaitingTimer.instance_id)
                .join(ProcessInstance, ProcessInstance.id == WaitingTimer.instance_id)
                .where(WaitingTimer.due_at < at, ProcessInstance.status == InstanceStatus.RUNNING)
                .group_by(WaitingTimer.instance_id).order_by(func.min(WaitingTimer.due_at)).limit(limit))
        return list(session.scalars(stmt))


# An instance whose firing readies another timer already due (a catch-up chain) is taken again in the
# next batch, at most this many times in one pass.
MAX_ROUNDS = 10


def fire_due_timers(ctx: EngineContext, limit: int = 200, actor: str = "timer") -> FireReport:
    """Fire every timer due by the context clock's "now" (catch-up included), instance by instance,
    `limit` instances per read of the due list, until none is left that this pass can move."""
    report = FireReport()
    now = ctx.now()
    rounds: Counter[int] = Counter()
    passed: set[int] = set()  # held by another worker, failed, or taken MAX_ROUNDS times: not taken again
    while True:
        due = [i for i in due_instances(ctx, now, limit + len(passed)) if i not in passed][:limit]
        if not due:
            return report
        # Every worker reads the same batch; walking it in its own order keeps workers from queueing
        # on the same rows (they would skip each other one by one). All of it is due anyway.
        random.shuffle(due)
        for instance_id in due:
            rounds[instance_id] += 1
            if not _fire_one(ctx, instance_id, actor, report) or rounds[instance_id] >= MAX_ROUNDS:
                passed.add(instance_id)


def _fire_one(ctx: EngineContext, instance_id: int, actor: str, report: FireReport) -> bool:
    # True when timers fired (the instance may have another one due now); Unavailable ends the pass.
    try:
        fired = fire_timers(ctx, instance_id, actor)
    except DiagramError as error:
        mark_in_error(ctx, instance_id, error, actor)
        report.failed.append((instance_id, str(error)))
        return False
    except (ConcurrentUpdate, InstanceNotFound):
        report.skipped += 1
        return False
    if fired is None:
        report.skipped += 1
        return False
    report.fired.extend((instance_id, bpmn_id) for bpmn_id in fired)
    return bool(fired)
