"""The worker loop: everything that happens because time passed, one pass every few seconds.

Each pass fires due timers, starts due schedule periods, opens due reporting rounds and sends
pending e-mail; each of those is its own use case with its own transactions, so the loop is the
only place that knows them all.
"""
from __future__ import annotations

import logging
import threading

from engine.process.context import EngineContext
from engine.process.schedules import fire_due_schedules
from engine.process.timers import fire_due_timers
from engine.regulation.mailer import deliver_pending
from engine.regulation.reporting_plan import open_due_rounds

log = logging.getLogger(__name__)


def run_worker(ctx: EngineContext, stop: threading.Event, poll_seconds: float = 2.0) -> None:
    """Fire due timers, start due schedule periods and open due reporting rounds every `poll_seconds`
    until `stop` is set."""
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
