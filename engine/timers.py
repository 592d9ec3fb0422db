"""The timer worker: find due timers in the query table and advance each instance on its own.

SpiffWorkflow has no scheduler (trap 5): something must notice that a timer's time has come and
call `refresh_timers()` on that workflow. Each instance advances in its own transaction, so one
failing timer expression marks only its own instance in error. On PostgreSQL the instance row is
locked with SKIP LOCKED, so several workers share the work and never fire one timer twice; the
optimistic row_version check backs that up on every database.
"""
from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from .context import EngineContext
from .errors import ConcurrentUpdate, DiagramError, InstanceNotFound
from .instances import fire_timers, mark_in_error
from .models import WaitingTimer

log = logging.getLogger(__name__)


@dataclass
class FireReport:
    """What one pass of the worker did."""

    fired: list[tuple[int, str]] = field(default_factory=list)   # (instance id, timer BPMN id)
    failed: list[tuple[int, str]] = field(default_factory=list)  # (instance id, error message)
    skipped: int = 0                                             # held by another worker


def due_instances(ctx: EngineContext, at: datetime, limit: int = 200) -> list[int]:
    """Instances with at least one timer due at `at`, the most overdue first."""
    with ctx.unit_of_work(readonly=True) as session:
        stmt = (select(WaitingTimer.instance_id).where(WaitingTimer.due_at <= at)
                .group_by(WaitingTimer.instance_id).order_by(func.min(WaitingTimer.due_at)).limit(limit))
        return list(session.scalars(stmt))


def fire_due_timers(ctx: EngineContext, limit: int = 200, actor: str = "timer") -> FireReport:
    """Fire every timer due by the context clock's "now" (catch-up included), instance by instance."""
    report = FireReport()
    due = due_instances(ctx, ctx.now(), limit)
    # Every worker reads the same batch; walking it in its own order keeps workers from queueing
    # on the same rows (they would skip each other one by one). All of it is due anyway.
    random.shuffle(due)
    for instance_id in due:
        try:
            fired = fire_timers(ctx, instance_id, actor)
        except DiagramError as error:
            mark_in_error(ctx, instance_id, error, actor)
            report.failed.append((instance_id, str(error)))
            continue
        except (ConcurrentUpdate, InstanceNotFound):
            report.skipped += 1
            continue
        if fired is None:
            report.skipped += 1
        else:
            report.fired.extend((instance_id, bpmn_id) for bpmn_id in fired)
    return report


def run_worker(ctx: EngineContext, stop: threading.Event, poll_seconds: float = 2.0) -> None:
    """Fire due timers, start due schedule periods and open due reporting rounds every `poll_seconds`
    until `stop` is set."""
    from .mailer import deliver_pending
    from .reporting_plan import open_due_rounds
    from .schedules import fire_due_schedules

    while not stop.is_set():
        try:
            report = fire_due_timers(ctx)
            started = fire_due_schedules(ctx)
            rounds = open_due_rounds(ctx)
            deliver_pending(ctx)  # off unless SMTP_HOST is set
            if report.fired or report.failed or started or rounds:
                log.info("timers fired=%d failed=%d; periods started=%d; reporting rounds opened=%s",
                         len(report.fired), len(report.failed), len(started), [r.period_key for r in rounds])
        except Exception:  # noqa: BLE001 - a worker must survive a bad pass (e.g. database restart)
            log.exception("timer pass failed")
        stop.wait(poll_seconds)
