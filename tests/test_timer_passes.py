"""A pass of the timer worker: it fires everything due however many instances that is, and a worker
that comes second to an instance another one just fired writes nothing."""
from __future__ import annotations

import threading
from datetime import datetime

import pytest
from sqlalchemy import select

from engine.app.bootstrap import default_bpmn_files
from engine.core.audit import AuditEntry
from engine.process import instances
from engine.process.definitions import deploy_files
from engine.process.timers import due_instances, fire_due_timers
from tests.conftest import TZ

RECEIVED = datetime(2025, 4, 25, 16, 0, tzinfo=TZ)
REMINDER_DUE = datetime(2025, 5, 7, 8, 0, tzinfo=TZ)  # the reminder is due, the instance keeps running


def _feedback(ctx, n: int) -> list[int]:
    deploy_files(ctx, default_bpmn_files(ctx.config))
    ctx.clock.set(RECEIVED)
    return [instances.start_instance(ctx, "feedback_followup", {"received_at": RECEIVED.isoformat()}).id
            for _ in range(n)]


def _fired_entries(ctx) -> list[AuditEntry]:
    with ctx.unit_of_work(readonly=True) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == "timer_fired")))


@pytest.mark.parametrize("cached", [True, False], ids=["cached", "restored"])
def test_a_worker_late_to_an_instance_another_just_fired_writes_nothing(ctx, cached):
    instance_id = _feedback(ctx, 1)[0]
    ctx.clock.set(REMINDER_DUE)
    stale = due_instances(ctx, ctx.now())  # the second worker read the due list ...
    assert fire_due_timers(ctx).fired == [(instance_id, "remind_office")]  # ... then the first fired it
    version = instances.get_instance(ctx, instance_id).row_version
    if not cached:
        ctx.workflows.take(instance_id)
    assert stale == [instance_id]
    assert instances.fire_timers(ctx, instance_id) == []  # the second worker comes to it: nothing due
    assert instances.get_instance(ctx, instance_id).row_version == version  # an open form stays valid
    assert [e.summary["timers"] for e in _fired_entries(ctx)] == [["remind_office"]]


def test_a_pass_fires_every_due_instance_not_only_the_first_batch(ctx):
    ids = _feedback(ctx, 12)
    ctx.clock.set(REMINDER_DUE)
    report = fire_due_timers(ctx, limit=5)  # the CLI and the worker read 200 at a time
    assert sorted(i for i, _ in report.fired) == ids
    assert due_instances(ctx, ctx.now()) == []


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_three_workers_fire_each_timer_once_and_write_no_empty_entries(ctx):
    ids = _feedback(ctx, 60)
    ctx.clock.set(REMINDER_DUE)
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(fire_due_timers(ctx, limit=20))) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(i for report in reports for i, _ in report.fired) == ids
    entries = _fired_entries(ctx)
    assert sorted(e.instance_id for e in entries) == ids and all(e.summary["timers"] for e in entries)
    assert {instances.get_instance(ctx, i).row_version for i in ids} == {2}  # started, then fired once


def test_a_timer_is_due_only_once_its_instant_has_passed_and_then_fires_once(ctx):
    from datetime import timedelta

    from engine.process.tables import WaitingTimer

    instance_id = _feedback(ctx, 1)[0]
    with ctx.unit_of_work(readonly=True) as session:
        due = min(session.scalars(select(WaitingTimer.due_at).where(WaitingTimer.instance_id == instance_id)))
    ctx.clock.set(due)  # SpiffWorkflow fires only after the instant: nothing is due yet, nothing reported
    assert due_instances(ctx, ctx.now()) == [] and fire_due_timers(ctx).fired == []
    ctx.clock.set(due + timedelta(microseconds=1))
    assert fire_due_timers(ctx).fired == [(instance_id, "remind_office")]
    assert [e.summary["timers"] for e in _fired_entries(ctx)] == [["remind_office"]]
