"""Shared fixtures: a fresh database per test on SQLite and, when configured, PostgreSQL.

Each test's database is a copy of a template built once per run (tests/databases.py): migrated, seeded
at the fixed clock, or with the shipped diagrams deployed too, as its fixtures ask.

`TEST_DATABASE_URL` names a PostgreSQL database the tests may create databases next to (templates and
one per test, named after it and this process, dropped at the end). With `REQUIRE_POSTGRES=1`
(set by .ci/run) the run fails if any PostgreSQL test was skipped or none ran, so a CI run can
never pass while quietly testing SQLite only.
"""
from __future__ import annotations

import functools
import os

import pytest

from engine.app.bootstrap import open_context, seed_reference_data
from engine.core import clock as clocks
from engine.core.config import Config
from tests.databases import PG_URL, SEEDED_AT, PostgresTemplates, SqliteTemplates, backends, level_for
from tests.helpers import BPMN, TZ, register_task  # noqa: F401 - TZ stays importable from here

_pg_outcomes = {"passed": 0, "skipped": 0}
_levels: dict[str, str] = {}  # a test's database URL -> the template level it was copied from


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory):
    """Template SQLite files, built on first use."""
    return SqliteTemplates(tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="session")
def pg_templates(request):
    """Template PostgreSQL databases, and a database per test made ahead in the order the tests run."""
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    plan = [(item.nodeid, level_for(item.fixturenames)) for item in request.session.items
            if getattr(item, "callspec", None) and item.callspec.params.get("database_url") == "postgres"]
    templates = PostgresTemplates(PG_URL, SEEDED_AT, plan)
    yield templates
    templates.close()


@pytest.fixture(params=backends())
def database_url(request, tmp_path):
    """A migrated database of its own on each backend: empty for a test that asks only for this, or
    already seeded (`ctx`) or seeded and deployed (`app`) when the test's fixtures would do that next."""
    level = level_for(request.fixturenames)
    if level != "migrated" and request.getfixturevalue("clock").now() != SEEDED_AT:
        level = "migrated"  # a clock of its own: ctx seeds (and app deploys) at its instant, as they would
    if request.param == "sqlite":
        url = request.getfixturevalue("sqlite_templates").copy(level, SEEDED_AT, tmp_path / "test.db")
    else:
        templates = request.getfixturevalue("pg_templates")
        url = templates.take(request.node.nodeid, level)
        request.addfinalizer(lambda: templates.release(url))
    _levels[url] = level
    request.addfinalizer(lambda: _levels.pop(url, None))
    return url


@pytest.fixture
def clock():
    """A fixed clock on a real working day, 09:00 in Vietnam."""
    return clocks.FixedClock(SEEDED_AT)


@pytest.fixture
def ctx(database_url, clock):
    """An engine context on a fresh database with the reference data seeded, with the fixed clock."""
    context = open_context(Config(database_url=database_url, deploy_on_start=False, demo_data=True), clock)
    if _levels.get(database_url, "migrated") == "migrated":
        seed_reference_data(context)
    yield context
    context.db.dispose()


@pytest.fixture
def deploy(ctx):
    """Deploy a test diagram from tests/bpmn by file name; returns the Deployed results."""
    from engine.process.definitions import deploy_bytes

    def _deploy(name: str, actor: str = "tester"):
        path = BPMN / name
        return deploy_bytes(ctx, path.read_bytes(), path.name, actor)

    return _deploy


def pytest_runtest_logreport(report):
    if "[postgres" in report.nodeid and report.when in ("setup", "call"):
        if report.skipped:
            _pg_outcomes["skipped"] += 1
        elif report.when == "call" and report.passed:
            _pg_outcomes["passed"] += 1


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("REQUIRE_POSTGRES") != "1":
        return
    if _pg_outcomes["skipped"] or not _pg_outcomes["passed"]:
        print(f"\nREQUIRE_POSTGRES=1 but PostgreSQL tests passed={_pg_outcomes['passed']} "
              f"skipped={_pg_outcomes['skipped']}")
        session.exitstatus = 1


@pytest.fixture
def shipped(ctx):
    """The context with the shipped diagrams (processes/*.bpmn) deployed, as by `deploy_files` right after
    seeding: the database is a copy of the deployed template unless the clock was not the fixed one."""
    if _levels.get(ctx.config.database_url) != "deployed":
        from engine.app.bootstrap import default_bpmn_files
        from engine.process.definitions import deploy_files

        deploy_files(ctx, default_bpmn_files(ctx.config))
    return ctx


@pytest.fixture
def app(shipped):
    """The web app on the test database, with the shipped diagrams deployed."""
    from web import create_app

    return create_app(shipped, {"TESTING": True, "SECRET_KEY": "test"})


@pytest.fixture
def client(app):
    """A test client of the web app, signed in as nobody."""
    return app.test_client()


@pytest.fixture
def registered_task(shipped):
    """Register an assigning document with one task (tests/helpers.py `register_task`, keyword arguments
    change the document or the task); returns its RegisteredTask ids and first step."""
    return functools.partial(register_task, shipped)
