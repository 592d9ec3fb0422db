"""`python -m engine serve`: the production set-up on one machine: gunicorn's web workers and timer workers.

The supervisor prepares the database once (migrate, seed the reference data, deploy the shipped diagrams
when DEPLOY_ON_START, the demo when DEMO_DATA), then starts gunicorn with N web workers on `web.wsgi`
and M timer workers (`python -m engine worker`), and keeps them running: a timer worker that dies is
started again (timers it was firing are still due: firing is idempotent per timer row, see
engine/process/timers.py); if gunicorn itself stops, everything stops with its exit code. SIGTERM or
Ctrl-C stops the children and waits for them. docs/operations.md says how this grows to more machines.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass

log = logging.getLogger(__name__)

# A timer worker that dies sooner than this after its start is restarted after a pause, not at once.
RESTART_PAUSE_SECONDS = 2.0


@dataclass(frozen=True)
class Layout:
    """How many of each process, and where the web workers listen."""

    web_workers: int = 4
    web_threads: int = 1
    timer_workers: int = 2
    bind: str = "127.0.0.1:8000"
    poll_seconds: float = 2.0


def web_command(layout: Layout) -> list[str]:
    """gunicorn with the app factory; its own access log is off, web/request_log.py writes one line per request.

    One thread per worker (gunicorn's sync workers) unless WEB_THREADS says more. A request here is CPU
    work in Python more than waiting on the database, so threads of one worker mostly wait for each other's
    interpreter lock; and a threaded worker keeps each client's connection alive, so the first worker to
    accept took most of the clients and one core's worth of work while the others idled (bench/load.py:
    54 s of CPU against 9, 9 and 4). A sync worker accepts only when free: the kernel's queue hands each
    request to an idle worker. It closes the connection after each answer; the HTTPS proxy in front keeps
    the browsers' connections and buffers slow clients (docs/operations.md, "Web workers").
    """
    threads = (["--worker-class", "gthread", "--threads", str(layout.web_threads),
                # Idle keep-alive connections kept 30 s (gunicorn's default is 2 s): a person reading a page
                # for a few seconds would otherwise find the connection closed under their next request.
                "--keep-alive", "30"] if layout.web_threads > 1 else ["--worker-class", "sync"])
    return [sys.executable, "-m", "gunicorn", "--workers", str(layout.web_workers), *threads, "--bind", layout.bind,
            "--graceful-timeout", "20", "--timeout", "60", "--log-level", "warning", "web.wsgi:app()"]


def timer_command(layout: Layout) -> list[str]:
    return [sys.executable, "-m", "engine", "worker", "--poll", str(layout.poll_seconds)]


def serve(layout: Layout, stop: threading.Event) -> int:
    """Prepare the database, then run and watch the processes until `stop` is set or gunicorn ends."""
    from engine.app.bootstrap import prepare

    prepare().db.dispose()  # once, before any worker starts: migrations and deploys must not race
    web = subprocess.Popen(web_command(layout))
    timers = [subprocess.Popen(timer_command(layout)) for _ in range(layout.timer_workers)]
    log.info("serving on %s: %d web workers, %d timer workers", layout.bind, layout.web_workers,
             layout.timer_workers, extra={"event": "serve", "web_pid": web.pid, "timer_pids": [t.pid for t in timers]})
    try:
        while not stop.wait(0.5):
            if web.poll() is not None:
                log.error("gunicorn stopped with %s", web.returncode, extra={"event": "serve"})
                return web.returncode or 1
            for i, timer in enumerate(timers):
                if timer.poll() is not None:
                    log.warning("timer worker %d stopped with %s; starting another", timer.pid, timer.returncode,
                                extra={"event": "serve"})
                    stop.wait(RESTART_PAUSE_SECONDS)
                    timers[i] = subprocess.Popen(timer_command(layout))
        return 0
    finally:
        _stop_all([web, *timers])


def _stop_all(children: list[subprocess.Popen]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()


def layout_from_env(env: dict[str, str] | None = None) -> Layout:
    """The layout from WEB_WORKERS, WEB_THREADS, TIMER_WORKERS, BIND and TIMER_POLL_SECONDS (README)."""
    env = os.environ if env is None else env
    base = Layout()
    return Layout(web_workers=int(env.get("WEB_WORKERS", base.web_workers)),
                  web_threads=int(env.get("WEB_THREADS", base.web_threads)),
                  timer_workers=int(env.get("TIMER_WORKERS", base.timer_workers)),
                  bind=env.get("BIND", base.bind),
                  poll_seconds=float(env.get("TIMER_POLL_SECONDS", base.poll_seconds)))
