"""Running in production (issue 15): JSON logs, request ids, readiness, worker heartbeats, `engine serve`."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

from sqlalchemy import text

from engine.app import readiness
from engine.app.bootstrap import open_context
from engine.app.migrations import head_revision
from engine.app.worker import run_worker
from engine.core import logs
from engine.core.config import ROOT, Config
from engine.process import heartbeats
from tests.processes import free_port, get_json, timer_workers, wait_ready


def test_a_json_log_line_carries_the_extra_fields_and_the_exception():
    record = logging.LogRecord("engine.x", logging.ERROR, __file__, 1, "pass %s failed", ("one",), None)
    record.event, record.fired = "timer_pass", 3
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = json.loads(logs.JsonFormatter().format(record))
    assert line["message"] == "pass one failed" and line["level"] == "error" and line["logger"] == "engine.x"
    assert line["event"] == "timer_pass" and line["fired"] == 3
    assert "ValueError: boom" in line["exception"] and line["time"].endswith("+00:00")


def test_the_text_format_keeps_the_extra_fields_readable():
    record = logging.LogRecord("web.request", logging.INFO, __file__, 1, "GET /inbox 200", (), None)
    record.status = 200
    assert logs.TextFormatter().format(record).endswith("GET /inbox 200 status=200")


def test_each_request_gets_one_line_and_an_id_sent_back(client, caplog):
    caplog.set_level(logging.INFO, logger="web.request")
    response = client.get("/login")
    lines = [r for r in caplog.records if getattr(r, "event", None) == "request"]
    assert len(lines) == 1
    line = lines[0]
    assert (line.method, line.route, line.path, line.status, line.user) == ("GET", "/login", "/login", 200, None)
    assert line.request_id == response.headers["X-Request-Id"] and len(line.request_id) == 32
    assert line.duration_ms >= 0


def test_a_proxy_request_id_is_kept_and_a_bad_one_replaced(client, caplog):
    caplog.set_level(logging.INFO, logger="web.request")
    assert client.get("/login", headers={"X-Request-Id": "edge-4f2a9c01"}).headers["X-Request-Id"] == "edge-4f2a9c01"
    replaced = client.get("/login", headers={"X-Request-Id": "<script>alert(1)</script>"}).headers["X-Request-Id"]
    assert "<" not in replaced and len(replaced) == 32


def test_a_signed_in_users_request_line_names_them_and_the_route_pattern(client, caplog, registered_task):
    from tests.helpers import sign_in

    task = registered_task()
    sign_in(client, "dm.sotuphap")
    caplog.set_level(logging.INFO, logger="web.request")
    client.get(f"/tasks/{task.instance_id}/{task.step}")
    line = [r for r in caplog.records if getattr(r, "event", None) == "request"][-1]
    assert line.user == "dm.sotuphap" and line.route == "/tasks/<id:instance_id>/<task_id>"


def test_not_ready_without_a_timer_worker_then_ready_once_one_beats(client, app):
    ctx = app.extensions["engine"]
    body = client.get("/ready")
    assert body.status_code == 503
    assert body.get_json()["timer_workers"] == 0
    assert body.get_json()["database"] is True and body.get_json()["migrations_current"] is True
    heartbeats.beat(ctx, "host-a:1", ctx.now(), passes=1, failures=0)
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.get_json()["ready"] is True
    assert ready.get_json()["timer_workers"] == 1


def test_a_stale_heartbeat_is_not_a_worker(shipped):
    ctx = shipped
    heartbeats.beat(ctx, "host-a:1", ctx.now(), passes=5, failures=0)
    ctx.clock.advance(timedelta(seconds=ctx.config.worker_stale_seconds + 1))
    state = readiness.check(ctx)
    assert state.database and state.workers == 0 and not state.ready and state.last_beat is not None


def test_not_ready_when_the_schema_is_behind_the_code(client, app):
    ctx = app.extensions["engine"]
    heartbeats.beat(ctx, "host-a:1", ctx.now(), passes=1, failures=0)
    with ctx.db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0019'"))
    body = client.get("/ready").get_json()
    assert client.get("/ready").status_code == 503
    assert body["migrations_current"] is False and body["schema_revision"] == "0019"
    assert body["code_revision"] == head_revision()


def test_not_ready_when_the_database_does_not_answer():
    ctx = open_context(Config(database_url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere"))
    try:
        state = readiness.check(ctx)
    finally:
        ctx.db.dispose()
    assert state.as_dict()["database"] is False and state.ready is False


def test_a_worker_beats_after_each_pass_and_forgets_itself_when_stopped(shipped):
    ctx, stop = shipped, threading.Event()
    worker = threading.Thread(target=run_worker, args=(ctx, stop, 0.05))
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while heartbeats.read(ctx, ctx.now() - timedelta(seconds=1)).fresh_workers == 0:
            assert time.monotonic() < deadline, "no heartbeat"
            time.sleep(0.05)
    finally:
        stop.set()
        worker.join(20)
    assert heartbeats.read(ctx, ctx.now() - timedelta(days=1)).latest is None


def test_serve_runs_gunicorn_and_timer_workers_and_restarts_a_killed_timer_worker(database_url, tmp_path):
    """The real supervisor: gunicorn with two web workers and one timer worker on this test's database."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "ATTACHMENTS_DIR": str(tmp_path / "files"),
           "TIMER_POLL_SECONDS": "0.5", "LOG_FORMAT": "json"}
    serve = subprocess.Popen([sys.executable, "-m", "engine", "serve", "--web", "2", "--timers", "1",
                              "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        body = wait_ready(f"http://127.0.0.1:{port}/ready", 150, serve)
        assert body["timer_workers"] == 1 and body["migrations_current"]
        [first] = timer_workers(serve.pid)
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while not (workers := timer_workers(serve.pid)) or workers == [first]:
            assert time.monotonic() < deadline, "the killed timer worker was not replaced"
            time.sleep(0.3)
        assert get_json(f"http://127.0.0.1:{port}/health")[0] == 200
    finally:
        serve.send_signal(signal.SIGTERM)
        _, errors = serve.communicate(timeout=60)
        print(errors[-3000:])  # shown when the test fails
    assert serve.returncode == 0
    events = [json.loads(line) for line in errors.splitlines() if line.startswith("{")]
    assert any(e.get("event") == "request" and e.get("route") == "/ready" for e in events)
    assert any(e.get("event") == "serve" and "starting another" in e["message"] for e in events)
