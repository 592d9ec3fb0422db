"""Infrastructure failures never mark an instance: a lost connection, a deadlock or a locked database
rolls the use case back (retried once or twice from scratch), the API answers 503 with Retry-After,
a page says to try again, the timer worker backs off; only a diagram's own fault marks an instance."""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import create_engine, exc, select, text
from sqlalchemy.engine import make_url

from engine.app.bootstrap import default_bpmn_files, open_context
from engine.core import audit, transient
from engine.core.audit import AuditEntry
from engine.core.clock import FixedClock
from engine.core.config import Config
from engine.core.errors import DiagramError, Unavailable
from engine.process import instances
from engine.process.context import current_session
from engine.process.definitions import deploy_files
from engine.process.tables import InstanceStatus
from engine.regulation import api_tokens
from tests.helpers import TZ, failing_after_date, register_tasks
from web import create_app


def _lost_connection() -> Exception:
    return exc.OperationalError("SELECT value FROM timer_settings", {},
                                Exception("server closed the connection unexpectedly"), connection_invalidated=True)


def _database_locked() -> Exception:
    return exc.OperationalError("UPDATE process_instances", {}, sqlite3.OperationalError("database is locked"))


def _actions(ctx, instance_id: int) -> list[str]:
    with ctx.unit_of_work(readonly=True) as session:
        return [e.action for e in audit.entries_for(session, instance_id)]


def _ready(ctx, instance_id: int) -> list[str]:
    return [t.bpmn_id for t in instances.list_ready_tasks(ctx, instance_id=instance_id)]


# -- classification -------------------------------------------------------------------------------

def test_transient_failures_are_recognised_through_wrappers():
    import psycopg.errors

    class SpiffLike(Exception):
        def __init__(self, message, exception):
            super().__init__(message)
            self.exception = exception

    for failure in (_lost_connection(), _database_locked(), sqlite3.OperationalError("database is locked"),
                    psycopg.errors.SerializationFailure("could not serialize"), psycopg.errors.DeadlockDetected("x"),
                    psycopg.errors.LockNotAvailable("x"), psycopg.errors.AdminShutdown("terminating connection"),
                    exc.DisconnectionError("gone")):
        assert transient.is_transient(failure), failure
        assert transient.is_transient(SpiffLike("Error evaluating expression", failure)), failure
        try:
            try:
                raise failure
            except Exception as inner:
                raise ValueError("wrapped") from inner
        except ValueError as outer:
            assert transient.is_transient(outer) and transient.database_failure(outer) is not None
    for other in (ZeroDivisionError("x"), sqlite3.OperationalError("no such table: x"),
                  exc.IntegrityError("INSERT", {}, Exception("duplicate key")), KeyError("x")):
        assert not transient.is_transient(other), other
        assert not transient.is_transient(SpiffLike("Error evaluating expression", other)), other


# -- a failure inside a diagram expression ----------------------------------------------------------

@pytest.mark.parametrize("make_error", [_lost_connection, _database_locked], ids=["connection_lost", "locked"])
def test_a_database_failure_inside_an_expression_never_marks_the_instance(ctx, make_error):
    deploy_files(ctx, default_bpmn_files(ctx.config))
    switch = failing_after_date(ctx, make_error)
    instance_id = register_tasks(ctx)[0]
    switch["on"] = True
    task = instances.list_ready_tasks(ctx, instance_id=instance_id)[0]
    with pytest.raises(Unavailable) as raised:
        instances.complete_task(ctx, instance_id, task.task_id, {"decision": "accept"}, actor="dm.sotuphap")
    assert raised.value.retry_after >= 1 and raised.value.safe_to_retry
    assert switch["calls"] == 3  # the use case ran three times from scratch before giving up
    assert instances.get_instance(ctx, instance_id).status is InstanceStatus.RUNNING
    assert _ready(ctx, instance_id) == ["review_receipt"]  # nothing deleted, nothing moved
    assert "error" not in _actions(ctx, instance_id)
    switch["on"] = False  # the database is back: the same completion goes through
    instances.complete_task(ctx, instance_id, task.task_id, {"decision": "accept"}, actor="dm.sotuphap")
    assert _ready(ctx, instance_id) == ["report_completion"]


def test_a_blip_is_retried_transparently(ctx):
    deploy_files(ctx, default_bpmn_files(ctx.config))
    switch = failing_after_date(ctx, _lost_connection, times=1)
    instance_id = register_tasks(ctx)[0]
    switch["on"] = True
    task = instances.list_ready_tasks(ctx, instance_id=instance_id)[0]
    view = instances.complete_task(ctx, instance_id, task.task_id, {"decision": "accept"}, actor="dm.sotuphap")
    assert switch["calls"] >= 2 and [t.bpmn_id for t in view.next_tasks] == ["report_completion"]
    assert _actions(ctx, instance_id).count("complete_task") == 1 and "error" not in _actions(ctx, instance_id)


def test_a_diagram_fault_still_marks_the_instance(ctx):
    deploy_files(ctx, default_bpmn_files(ctx.config))
    switch = failing_after_date(ctx, lambda: ZeroDivisionError("division by zero"))
    instance_id = register_tasks(ctx)[0]
    switch["on"] = True
    task = instances.list_ready_tasks(ctx, instance_id=instance_id)[0]
    with pytest.raises(DiagramError, match="ZeroDivisionError"):
        instances.complete_task(ctx, instance_id, task.task_id, {"decision": "accept"}, actor="dm.sotuphap")
    assert instances.get_instance(ctx, instance_id).status is InstanceStatus.ERROR


# -- what clients see -------------------------------------------------------------------------------

@pytest.fixture
def failing_app(ctx):
    deploy_files(ctx, default_bpmn_files(ctx.config))
    switch = failing_after_date(ctx, _lost_connection)
    instance_id = register_tasks(ctx)[0]
    switch["on"] = True
    task = instances.list_ready_tasks(ctx, instance_id=instance_id)[0]
    app = create_app(ctx, {"TESTING": True, "SECRET_KEY": "test"})
    return app, instance_id, task, switch


def test_the_api_answers_503_with_retry_after(ctx, failing_app, caplog):
    app, instance_id, task, switch = failing_app
    token = api_tokens.issue(ctx, "dm.sotuphap", "test", "admin").token
    url = f"/api/tasks/{instance_id}/{task.task_id}/complete"
    headers = {"Authorization": f"Bearer {token}"}
    caplog.set_level(logging.INFO)
    response = app.test_client().post(url, json={"data": {"decision": "accept"}}, headers=headers)
    assert response.status_code == 503 and int(response.headers["Retry-After"]) >= 1
    assert response.get_json()["error"]["code"] == "unavailable"
    [logged] = [r for r in caplog.records if getattr(r, "event", None) == "engine_error"]  # operations see it too
    assert logged.code == "unavailable" and logged.request_id == response.headers["X-Request-Id"]
    assert instances.get_instance(ctx, instance_id).status is InstanceStatus.RUNNING
    switch["on"] = False
    assert app.test_client().post(url, json={"data": {"decision": "accept"}}, headers=headers).status_code == 200


def test_the_task_page_says_try_again(ctx, failing_app):
    from tests.helpers import csrf_token as _csrf
    from tests.helpers import sign_in

    app, instance_id, task, _ = failing_app
    for lang, words in (("vi", "thử lại"), ("en", "try again")):
        client = app.test_client()
        sign_in(client, "dm.sotuphap")
        path = f"/tasks/{instance_id}/{task.task_id}"
        response = client.post(f"{path}?lang={lang}", data={"decision": "accept", "csrf_token": _csrf(client, path)})
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert words in response.get_data(as_text=True)
    assert instances.get_instance(ctx, instance_id).status is InstanceStatus.RUNNING


# -- the worker -------------------------------------------------------------------------------------

def test_the_worker_backs_off_while_the_database_is_unavailable(ctx, monkeypatch):
    from engine.app import worker
    from engine.process.timers import FireReport

    outcomes = iter([Unavailable(), Unavailable(), Unavailable(), None])

    def fire_due_timers(_ctx):
        outcome = next(outcomes)
        if outcome is not None:
            raise outcome
        return FireReport()

    class Stop:
        waits: list[float] = []

        def is_set(self):
            return len(self.waits) >= 4

        def wait(self, seconds):
            self.waits.append(seconds)

    monkeypatch.setattr(worker, "fire_due_timers", fire_due_timers)
    monkeypatch.setattr(worker, "fire_due_schedules", lambda _ctx: [])
    monkeypatch.setattr(worker, "open_due_rounds", lambda _ctx: [])
    monkeypatch.setattr(worker, "deliver_pending", lambda _ctx: None)
    stop = Stop()
    worker.run_worker(ctx, stop, poll_seconds=1.0)
    first, second, third, after = stop.waits
    assert 1.0 < first < second < third <= worker.MAX_BACKOFF_SECONDS  # longer after each failed pass
    assert after == 1.0  # back to the poll interval once a pass succeeds


# -- PostgreSQL: backends really terminated -----------------------------------------------------------

def _terminate(url: str, where: str) -> int:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            return len(conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = current_database() AND pid <> pg_backend_pid() AND {where}")).all())
    finally:
        engine.dispose()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_backend_terminated_while_an_expression_reads_a_setting(ctx, database_url):
    deploy_files(ctx, default_bpmn_files(ctx.config))
    real = ctx.functions["after_date"]
    killed, accepting = [], []

    def after_date(*args):
        # The first time while accepting (registering arms the review's timers with it too): the
        # connection dies under the expression, as in production.
        if accepting and not killed:
            pid = current_session().execute(text("SELECT pg_backend_pid()")).scalar_one()
            killed.append(_terminate(database_url, f"pid = {pid}"))
        return real(*args)

    ctx.functions = {**ctx.functions, "after_date": after_date}
    instance_id = register_tasks(ctx)[0]
    accepting.append(True)
    task = instances.list_ready_tasks(ctx, instance_id=instance_id)[0]
    view = instances.complete_task(ctx, instance_id, task.task_id, {"decision": "accept"}, actor="dm.sotuphap")
    assert killed == [1]
    assert view.status is InstanceStatus.RUNNING and [t.bpmn_id for t in view.next_tasks] == ["report_completion"]
    assert _actions(ctx, instance_id).count("complete_task") == 1 and "error" not in _actions(ctx, instance_id)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_completions_and_timers_while_the_apps_backends_are_terminated(ctx, database_url, monkeypatch):
    """The reproduction: tasks accepted through the API and timers fired by the worker while every
    backend of the app is terminated every 0.25 s. No 500, no instance in error, nothing lost."""
    from engine.app import worker

    deploy_files(ctx, default_bpmn_files(ctx.config))
    # Registered on Fri 9 May: their review is due by the end of Tue 13 May, so on 12 May only the
    # feedback timers are due and the clients' acceptances do not race the worker on the same instances.
    ctx.clock.set(datetime(2025, 5, 9, 9, 0, tzinfo=TZ))
    task_instances = register_tasks(ctx, 60)
    ctx.clock.set(datetime(2025, 4, 25, 16, 0, tzinfo=TZ))
    feedback = [instances.start_instance(ctx, "feedback_followup", {"received_at": ctx.clock.now().isoformat()}).id
                for _ in range(20)]
    token = api_tokens.issue(ctx, "dm.sotuphap", "stress", "admin").token
    todo = [(i, instances.list_ready_tasks(ctx, instance_id=i)[0].task_id) for i in task_instances]

    app_url = make_url(database_url).update_query_dict({"application_name": "h6_victim"})
    app_ctx = open_context(Config(database_url=app_url.render_as_string(hide_password=False), deploy_on_start=False),
                           FixedClock(datetime(2025, 5, 12, 8, 0, tzinfo=TZ)))  # both feedback timers due
    app = create_app(app_ctx, {"TESTING": True, "SECRET_KEY": "test"})
    monkeypatch.setattr(worker, "MAX_BACKOFF_SECONDS", 0.5, raising=False)

    stop_killing, stop_worker = threading.Event(), threading.Event()
    kills: list[int] = []

    def killer():
        while not stop_killing.wait(0.25):
            kills.append(_terminate(database_url, "application_name = 'h6_victim'"))

    statuses: list[int] = []
    lock = threading.Lock()

    def client():
        http = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        while True:
            with lock:
                if not todo:
                    return
                instance_id, task_id = todo.pop()
            for _ in range(200):
                response = http.post(f"/api/tasks/{instance_id}/{task_id}/complete",
                                     json={"data": {"decision": "accept"}}, headers=headers)
                with lock:
                    statuses.append(response.status_code)
                if response.status_code != 503:
                    break
                time.sleep(0.02)  # a client honouring Retry-After would wait longer

    threads = [threading.Thread(target=killer), threading.Thread(target=worker.run_worker,
                                                                 args=(app_ctx, stop_worker, 0.05))]
    threads += [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads[2:]:
        thread.join(120)
    time.sleep(0.5)  # a few more worker passes under fire
    stop_killing.set()
    threads[0].join(10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and _due_count(ctx):
        time.sleep(0.1)
    stop_worker.set()
    threads[1].join(10)
    app_ctx.db.dispose()

    assert sum(kills) >= 4, kills  # the storm did hit the app
    assert 500 not in statuses and set(statuses) <= {200, 409, 503}, sorted(set(statuses))
    with ctx.unit_of_work(readonly=True) as session:
        errors = session.scalars(select(AuditEntry).where(AuditEntry.action == "error")).all()
        fired = session.scalars(select(AuditEntry).where(AuditEntry.action == "timer_fired")).all()
    assert errors == []
    for instance_id in task_instances:  # each accepted exactly once (a 409 only after a commit whose answer was lost)
        assert instances.get_instance(ctx, instance_id).status is InstanceStatus.RUNNING
        assert _actions(ctx, instance_id).count("complete_task") == 1
        assert _ready(ctx, instance_id) == ["report_completion"]
    assert statuses.count(409) <= statuses.count(503)
    for instance_id in feedback:  # both timers fired, once each; no empty firing
        assert instances.get_instance(ctx, instance_id).status is InstanceStatus.RUNNING
        assert sorted(b for e in fired if e.instance_id == instance_id for b in e.summary["timers"]) == [
            "limit_exceeded", "remind_office"]
    assert all(e.summary["timers"] for e in fired)
    armed = [t for e in fired for t in e.summary["timer_tasks"]]  # each armed timer fired by one pass only
    assert len(armed) == len(set(armed)) == sum(len(e.summary["timers"]) for e in fired)


def _due_count(ctx) -> int:
    from engine.process.timers import due_instances

    return len(due_instances(ctx, datetime(2025, 5, 12, 8, 0, tzinfo=TZ)))
