"""Connections: a pooled PostgreSQL connection that died while idle is replaced, not reported."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.core import db as dbmod
from engine.core.errors import Unavailable
from engine.process import instances


def _backend_pid(ctx) -> int:
    with ctx.unit_of_work(readonly=True) as session:
        return session.execute(text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(ctx, pid: int) -> None:
    other = dbmod.Database(ctx.config.database_url)
    try:
        with other.transaction() as session:
            assert session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    finally:
        other.dispose()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_connection_killed_while_idle_is_replaced_at_checkout(ctx, deploy, monkeypatch):
    deploy("three_step.bpmn")
    ctx.db.engine.pool.dispose()   # one pooled connection from here on, the one that will die
    dead = _backend_pid(ctx)
    _terminate(ctx, dead)
    monkeypatch.setattr(dbmod, "IDLE_PING_SECONDS", 0.0)   # as if it sat idle past the limit
    started = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    assert started.status.value == "running"
    assert _backend_pid(ctx) != dead


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_connection_used_a_moment_ago_is_trusted_and_one_failure_renews_the_pool(ctx, deploy, monkeypatch):
    # The other side of the trade: no round trip before each transaction, so a connection that
    # died within the idle limit fails one attempt (rolled back, nothing saved, `Unavailable`), then
    # the pool is renewed. A use case marked @retried runs again from scratch on a new connection.
    deploy("three_step.bpmn")
    ctx.db.engine.pool.dispose()
    _terminate(ctx, _backend_pid(ctx))
    monkeypatch.setattr(dbmod, "IDLE_PING_SECONDS", 3600.0)
    with pytest.raises(Unavailable):
        instances.list_instances(ctx)  # a read that is not retried
    assert instances.list_instances(ctx) == []
    _terminate(ctx, _backend_pid(ctx))
    started = instances.start_instance(ctx, "three_step", {"unit": "u1"})  # retried
    assert [view.id for view in instances.list_instances(ctx)] == [started.id]
