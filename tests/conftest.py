"""Shared fixtures: a fresh database per test on SQLite and, when configured, PostgreSQL.

`TEST_DATABASE_URL` names a PostgreSQL database the tests may wipe. With `REQUIRE_POSTGRES=1`
(set by .ci/run) the run fails if any PostgreSQL test was skipped or none ran, so a CI run can
never pass while quietly testing SQLite only.
"""
from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, text

from engine.app.bootstrap import open_context, seed_reference_data
from engine.app.migrations import upgrade
from engine.app.schema import metadata
from engine.core import clock as clocks
from engine.core.config import Config

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
TESTS = Path(__file__).resolve().parent
BPMN = TESTS / "bpmn"
PG_URL = os.environ.get("TEST_DATABASE_URL")
_pg_outcomes = {"passed": 0, "skipped": 0}


def _backends():
    return [pytest.param("sqlite", id="sqlite"),
            pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_schema_url():
    """The PostgreSQL URL with a schema rebuilt from the migrations once per run."""
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(PG_URL)
    return PG_URL


@pytest.fixture(params=_backends())
def database_url(request, tmp_path):
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        upgrade(url)
        return url
    url = request.getfixturevalue("pg_schema_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        # The audit log is append-only by trigger; TRUNCATE is the one way to reset it.
        tables = ", ".join(table.name for table in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def clock():
    """A fixed clock on a real working day, 09:00 in Vietnam."""
    return clocks.FixedClock(datetime(2025, 4, 25, 9, 0, tzinfo=TZ))


@pytest.fixture
def ctx(database_url, clock):
    """An engine context on a fresh database, with the fixed clock."""
    context = open_context(Config(database_url=database_url, deploy_on_start=False), clock)
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
def app(ctx):
    """The web app on the test database, with the shipped diagrams deployed."""
    from engine.app.bootstrap import default_bpmn_files
    from engine.process.definitions import deploy_files
    from web import create_app

    deploy_files(ctx, default_bpmn_files(ctx.config))
    return create_app(ctx, {"TESTING": True, "SECRET_KEY": "test"})


@pytest.fixture
def client(app):
    """A test client of the web app, signed in as nobody."""
    return app.test_client()
