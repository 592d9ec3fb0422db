"""A new web worker warms its caches before taking requests (engine/app/warm.py), and gunicorn runs one
request per worker unless threads are asked for (engine/app/serve.py)."""
from __future__ import annotations

import gc

from sqlalchemy import select, update

from engine.app.bootstrap import open_context
from engine.app.serve import Layout, layout_from_env, web_command
from engine.app.warm import warm
from engine.core.config import Config
from engine.process.tables import DefinitionVersion, InstanceStatus, ProcessInstance
from tests.helpers import register_tasks


def _fresh(ctx):
    """Another process's context on the same database: nothing cached yet."""
    return open_context(Config(database_url=ctx.config.database_url, deploy_on_start=False), ctx.clock)


def test_warming_loads_the_newest_version_of_each_process_and_every_version_still_running(shipped):
    instance_id = register_tasks(shipped, 1)[0]
    with shipped.unit_of_work() as session:
        versions = {process: i for process, _, i in sorted(session.execute(select(
            DefinitionVersion.process_id, DefinitionVersion.version, DefinitionVersion.id)))}
        # An old version with an instance still running on it, and one nothing runs on any more.
        old_running = DefinitionVersion(**_copy_of(session, versions["task_followup"]), version=0)
        old_idle = DefinitionVersion(**_copy_of(session, versions["task_followup"]), version=-1)
        session.add_all([old_running, old_idle])
        session.flush()
        session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id)
                        .values(definition_id=old_running.id))
        old_running_id, old_idle_id = old_running.id, old_idle.id
    newest = {process: definition_id for process, _, definition_id in sorted(_ids(shipped))}  # highest version
    fresh = _fresh(shipped)
    try:
        assert all(fresh.codec.cached(i) is None for i in newest.values())
        warmed = warm(fresh)
        assert warmed["definitions"] == len(newest) + 1
        assert all(fresh.codec.cached(i) is not None for i in [*newest.values(), old_running_id])
        assert fresh.codec.cached(old_idle_id) is None
    finally:
        fresh.db.dispose()


def test_a_suspended_instance_s_version_is_warmed_a_finished_one_s_is_not(shipped):
    first, second = register_tasks(shipped, 2)
    with shipped.unit_of_work() as session:
        followup = session.scalar(select(DefinitionVersion.id).where(DefinitionVersion.process_id == "task_followup"))
        copies = [DefinitionVersion(**_copy_of(session, followup), version=-n) for n in (1, 2)]
        session.add_all(copies)
        session.flush()
        for instance_id, copy, status in ((first, copies[0], InstanceStatus.SUSPENDED),
                                          (second, copies[1], InstanceStatus.COMPLETED)):
            session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id)
                            .values(definition_id=copy.id, status=status))
        suspended, finished = copies[0].id, copies[1].id
    fresh = _fresh(shipped)
    try:
        warm(fresh)
        assert fresh.codec.cached(suspended) is not None
        assert fresh.codec.cached(finished) is None
    finally:
        fresh.db.dispose()


def test_a_worker_starting_while_the_database_is_away_still_starts(caplog):
    # Nothing listens on port 1: the connection is refused at once.
    away = open_context(Config(database_url="postgresql+psycopg://postgres@127.0.0.1:1/away", deploy_on_start=False))
    try:
        warmed = warm(away)
    finally:
        away.db.dispose()
    assert warmed["definitions"] == 0
    assert any(r.getMessage().startswith("warm-up skipped") for r in caplog.records)


def test_web_workers_run_one_request_at_a_time_unless_threads_are_asked_for():
    command = web_command(Layout(web_workers=3))
    assert command[command.index("--worker-class") + 1] == "sync" and "--keep-alive" not in command
    assert command[command.index("--workers") + 1] == "3"
    threaded = web_command(layout_from_env({"WEB_THREADS": "4"}))
    assert threaded[threaded.index("--worker-class") + 1] == "gthread"
    assert threaded[threaded.index("--threads") + 1] == "4" and "--keep-alive" in threaded


def _ids(ctx) -> list[tuple[str, int, int]]:
    with ctx.unit_of_work(readonly=True) as session:
        return list(session.execute(select(DefinitionVersion.process_id, DefinitionVersion.version,
                                           DefinitionVersion.id)))


def _copy_of(session, definition_id: int) -> dict:
    row = session.get(DefinitionVersion, definition_id)
    return {column: getattr(row, column) for column in ("process_id", "name", "content_hash", "source_file",
                                                        "bpmn_xml", "spec_json", "deployed_at", "deployed_by")}


def test_a_warmed_web_worker_is_frozen_out_of_the_collectors_full_walks(shipped, monkeypatch):
    from web import wsgi

    monkeypatch.setenv("DATABASE_URL", shipped.config.database_url)
    monkeypatch.setenv("DEPLOY_ON_START", "0")
    monkeypatch.setattr(wsgi.logs, "configure", lambda *_: None)  # keep this test process's logging as it is
    gc.unfreeze()
    try:
        flask_app = wsgi.app()
        assert gc.get_freeze_count() > 10_000  # modules, diagrams, calendar, templates: none walked again
    finally:
        gc.unfreeze()  # this test process's objects go back to the collector
        flask_app.extensions["engine"].db.dispose()
