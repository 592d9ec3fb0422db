"""Processes killed in the middle of their work (issue 15): real workers and real gunicorn, kill -9.

- A timer worker killed during a burst of due timers: after another worker takes over, every armed timer
  fired exactly once and the query tables agree with the workflows (`engine check`).
- A web worker killed in the middle of completions: the clients send each completion with an
  Idempotency-Key, and again with the same key when the connection drops; in the end every client has an
  answer, every completion is saved exactly once, and no instance is half saved.

The tests' own clock is the fixed one of 2025; the workers run on the real clock, so every timer armed
in 2025 is long due for them.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from sqlalchemy import select

from engine.app.consistency import check_database
from engine.core.audit import AuditEntry
from engine.core.config import ROOT
from engine.process.tables import WaitingTimer
from engine.regulation import api_tokens
from tests.helpers import complete_step, ready_tasks, register_tasks
from tests.processes import free_port, timer_workers, wait_ready


def _env(database_url: str, tmp_path) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "ATTACHMENTS_DIR": str(tmp_path / "files"),
            "LOG_FORMAT": "json", "LOG_LEVEL": "WARNING", "DEMO_DATA": "0"}


def _fired(ctx) -> list[dict]:
    with ctx.unit_of_work(readonly=True) as session:
        return list(session.scalars(select(AuditEntry.summary).where(AuditEntry.action == "timer_fired")))


def _due_timers(ctx) -> int:
    with ctx.unit_of_work(readonly=True) as session:
        return len(session.scalars(select(WaitingTimer.id)).all())


def test_a_timer_worker_killed_during_a_burst_leaves_every_timer_fired_exactly_once(shipped, database_url, tmp_path):
    ctx = shipped
    for instance_id in register_tasks(ctx, 40):  # accepted: each arms its reminder and its overdue timer
        complete_step(ctx, instance_id, "review_receipt", {"decision": "accept"})
    armed = _due_timers(ctx)
    assert armed >= 80
    command = [sys.executable, "-m", "engine", "worker", "--poll", "0.1"]
    first = subprocess.Popen(command, cwd=ROOT, env=_env(database_url, tmp_path),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(_fired(ctx)) < 3:  # killed once it has fired some, not all
            assert time.monotonic() < deadline and first.poll() is None, "the first worker fired nothing"
            time.sleep(0.02)
    finally:
        first.kill()
        first.wait()
    assert _due_timers(ctx) > 0, "the burst was over before the kill: nothing left to prove"
    second = subprocess.Popen(command, cwd=ROOT, env=_env(database_url, tmp_path),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while _due_timers(ctx):
            assert time.monotonic() < deadline, "the second worker did not fire what was left"
            time.sleep(0.2)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(60)
    timers = [t for summary in _fired(ctx) for t in summary["timer_tasks"]]
    assert len(timers) == len(set(timers)) >= armed  # each once; those the firings armed were fired too
    report = check_database(ctx)
    assert report.disagreements == [] and report.instances >= 40


def _post(port: int, path: str, token: str, body: dict, key: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
               **({"Idempotency-Key": key} if key else {})}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:  # the worker died with the request: nobody told the client what happened
        return 0


def _steps(ctx, instance_id: int) -> list[str]:
    with ctx.unit_of_work(readonly=True) as session:
        return list(session.scalars(select(AuditEntry.bpmn_id).where(
            AuditEntry.instance_id == instance_id, AuditEntry.action == "complete_task")))


def test_a_web_worker_killed_in_the_middle_of_completions_leaves_no_half_saved_instance(shipped, database_url,
                                                                                        tmp_path):
    ctx = shipped
    instance_ids = register_tasks(ctx, 60)
    ready = {i: ready_tasks(ctx, i)["review_receipt"].task_id for i in instance_ids}
    token = api_tokens.issue(ctx, "dm.sotuphap", "faults", actor="tester").token
    port = free_port()
    serve = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--web", "2", "--timers", "1",
                              "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=_env(database_url, tmp_path),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    answers: dict[int, int] = {}
    try:
        wait_ready(f"http://127.0.0.1:{port}/ready", 150, serve)
        queue = list(instance_ids)
        lock = threading.Lock()

        def client():
            while True:
                with lock:
                    if not queue:
                        return
                    instance_id = queue.pop()
                path = f"/api/tasks/{instance_id}/{ready[instance_id]}/complete"
                # Sent with a key, so a completion whose answer died with the worker is sent again safely.
                for _ in range(5):
                    answers[instance_id] = _post(port, path, token, {"data": {"decision": "accept"}},
                                                 key=f"c-{instance_id}")
                    if answers[instance_id] not in (0, 503):
                        break
                    time.sleep(0.2)

        clients = [threading.Thread(target=client) for _ in range(6)]
        for thread in clients:
            thread.start()
        while len(answers) < 10:
            time.sleep(0.01)
        gunicorn = int(subprocess.run(["pgrep", "-P", str(serve.pid), "-f", "gunicorn"], capture_output=True,
                                      text=True).stdout.split()[0])
        web_workers = subprocess.run(["pgrep", "-P", str(gunicorn)], capture_output=True, text=True).stdout.split()
        os.kill(int(web_workers[0]), signal.SIGKILL)
        for thread in clients:
            thread.join(120)
        assert timer_workers(serve.pid)  # the supervisor kept its timer worker; gunicorn replaced its web worker
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(60)
    # Every client got an answer in the end: 200 (first or replayed), or 409 when the completion was saved but
    # its answer died with the worker; and every completion is saved exactly once, never half, never twice.
    assert len(answers) == 60 and set(answers.values()) <= {200, 409}, answers
    for instance_id in answers:
        assert _steps(ctx, instance_id) == ["review_receipt"], instance_id
    report = check_database(ctx)
    assert report.disagreements == [], report.disagreements
