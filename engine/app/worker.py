"""The worker loop: everything that happens because time passed, one pass every few seconds.

Each pass fires due timers, starts due schedule periods, opens due reporting rounds, sends pending
e-mail and forgets expired idempotency keys; each of those is its own use case with its own
transactions, so the loop is the only place that knows them all.
"""
from __future__ import annotations

import contextlib
import logging
import random
import threading
import time

from engine.core import idempotency
from engine.core.errors import Unavailable
from engine.process import heartbeats
from engine.process.context import EngineContext
from engine.process.schedules import fire_due_schedules
from engine.process.timers import fire_due_timers
from engine.regulation.mailer import deliver_pending
from engine.regulation.reporting_plan import open_due_rounds

log = logging.getLogger(__name__)

# After failed passes in a row the wait doubles, up to this.
MAX_BACKOFF_SECONDS = 60.0


def run_worker(ctx: EngineContext, stop: threading.Event, poll_seconds: float = 2.0) -> None:
    """Fire due timers, start due schedule periods and open due reporting rounds every `poll_seconds`
    until `stop` is set; after a failed pass, wait longer (backoff) before the next. Each pass ends
    with a heartbeat (engine/process/heartbeats.py) that `/ready` reads."""
    me, started, passes, failures = heartbeats.worker_id(), ctx.now(), 0, 0
    while not stop.is_set():
        try:
            _one_pass(ctx)
            passes, failures = passes + 1, 0
        except Unavailable as error:  # nothing was marked; what was not done is still due
            failures += 1
            log.warning("timer pass stopped, database unavailable (%d in a row): %s", failures, error.__cause__,
                        extra={"event": "timer_pass", "failures": failures})
        except Exception:  # noqa: BLE001 - a worker must survive a bad pass (e.g. database restart)
            failures += 1
            log.exception("timer pass failed", extra={"event": "timer_pass", "failures": failures})
        _beat(ctx, me, started, passes, failures)
        stop.wait(pause_after(failures, poll_seconds))
    with contextlib.suppress(Exception):  # a stopping worker whose database is gone just stops
        heartbeats.forget(ctx, me)


def _one_pass(ctx: EngineContext) -> None:
    began = time.perf_counter()
    report = fire_due_timers(ctx)
    started = fire_due_schedules(ctx)
    rounds = open_due_rounds(ctx)
    deliver_pending(ctx)  # off unless SMTP_HOST is set
    idempotency.forget_old(ctx)
    if report.fired or report.failed or started or rounds:
        log.info("timers fired=%d failed=%d; periods started=%d; reporting rounds opened=%s",
                 len(report.fired), len(report.failed), len(started), [r.period_key for r in rounds],
                 extra={"event": "timer_pass", "fired": len(report.fired), "failed": len(report.failed),
                        "periods_started": len(started), "rounds_opened": len(rounds),
                        "duration_ms": round((time.perf_counter() - began) * 1000, 1)})


def _beat(ctx: EngineContext, me: str, started, passes: int, failures: int) -> None:
    try:
        heartbeats.beat(ctx, me, started, passes, failures)
    except Exception as error:  # noqa: BLE001 - the next pass says what is wrong; /ready shows a stale beat
        log.warning("heartbeat not written: %s", error, extra={"event": "heartbeat"})


def pause_after(failures: int, poll_seconds: float) -> float:
    """Seconds until the next pass: the poll interval, doubled for each failed pass in a row (with
    jitter, so that workers do not come back in step), at most MAX_BACKOFF_SECONDS."""
    if failures == 0:
        return poll_seconds
    return min(MAX_BACKOFF_SECONDS, poll_seconds * 2 ** min(failures, 16) * random.uniform(0.75, 1.25))
