"""The timer worker on real dates through the fixed clock: on time, catch-up, errors, no double fire."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine.app.bootstrap import default_bpmn_files
from engine.core import audit
from engine.core.audit import AuditEntry
from engine.process import instances
from engine.process.definitions import deploy_files
from engine.process.tables import InstanceStatus
from engine.process.timers import fire_due_timers
from tests.conftest import TZ


def _ready(ctx, instance_id):
    return sorted(t.bpmn_id for t in instances.list_ready_tasks(ctx, instance_id=instance_id))


@pytest.fixture
def feedback(ctx):
    deploy_files(ctx, default_bpmn_files(ctx.config))
    ctx.clock.set(datetime(2025, 4, 25, 16, 0, tzinfo=TZ))
    return instances.start_instance(ctx, "feedback_followup", {"received_at": ctx.clock.now().isoformat()})


def test_nothing_fires_before_its_time(ctx, feedback):
    ctx.clock.set(datetime(2025, 5, 6, 23, 59, tzinfo=TZ))
    assert fire_due_timers(ctx).fired == []
    assert _ready(ctx, feedback.id) == ["check_feedback"]


def test_reminder_then_escalation_to_the_office_leader_after_seven_working_days(ctx, feedback):
    ctx.clock.set(datetime(2025, 5, 7, 8, 0, tzinfo=TZ))
    assert fire_due_timers(ctx).fired == [(feedback.id, "remind_office")]
    assert _ready(ctx, feedback.id) == ["check_feedback"]
    ctx.clock.set(datetime(2025, 5, 8, 23, 0, tzinfo=TZ))  # still within the 7th working day
    assert fire_due_timers(ctx).fired == []
    ctx.clock.set(datetime(2025, 5, 9, 8, 0, tzinfo=TZ))
    assert fire_due_timers(ctx).fired == [(feedback.id, "limit_exceeded")]
    assert _ready(ctx, feedback.id) == ["check_feedback", "handle_overdue"]
    leader = [t for t in instances.list_ready_tasks(ctx, instance_id=feedback.id) if t.bpmn_id == "handle_overdue"]
    assert leader[0].lane == "Lãnh đạo Văn phòng"
    with ctx.unit_of_work(readonly=True) as session:
        fired = [e.summary["timers"] for e in audit.entries_for(session, feedback.id) if e.action == "timer_fired"]
    assert fired == [["remind_office"], ["limit_exceeded"]]


def test_after_downtime_overdue_timers_fire_once(ctx, feedback):
    ctx.clock.set(datetime(2025, 5, 12, 8, 0, tzinfo=TZ))
    report = fire_due_timers(ctx)
    assert sorted(bpmn for _, bpmn in report.fired) == ["limit_exceeded", "remind_office"]
    assert fire_due_timers(ctx).fired == []
    assert _ready(ctx, feedback.id) == ["check_feedback", "handle_overdue"]


def test_interrupting_timer_takes_the_task_away(ctx, deploy):
    deploy("three_step.bpmn")
    started = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    instances.complete_task(ctx, started.id, instances.list_ready_tasks(ctx, instance_id=started.id)[0].task_id, {})
    ctx.clock.advance(timedelta(hours=2, seconds=1))
    assert fire_due_timers(ctx).fired == [(started.id, "late")]
    assert instances.get_instance(ctx, started.id).status is InstanceStatus.COMPLETED


def test_a_failing_step_after_a_timer_marks_only_its_instance_in_error(ctx, deploy):
    deploy("timer_then_script.bpmn")
    bad = instances.start_instance(ctx, "timer_then_script", {"divisor": 0})
    good = instances.start_instance(ctx, "timer_then_script", {"divisor": 5})
    ctx.clock.advance(timedelta(hours=1, minutes=1))
    report = fire_due_timers(ctx)
    assert report.fired == [(good.id, "expire")]
    assert [i for i, _ in report.failed] == [bad.id] and "ZeroDivisionError" in report.failed[0][1]
    assert instances.get_instance(ctx, bad.id).status is InstanceStatus.ERROR
    assert _ready(ctx, good.id) == ["after"]
    assert _ready(ctx, bad.id) == []
    assert fire_due_timers(ctx).fired == []  # the failed one is not retried in a loop


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_workers_never_fire_one_timer_twice(ctx, deploy):
    deploy("three_step.bpmn")
    ids = []
    for _ in range(30):
        started = instances.start_instance(ctx, "three_step", {"unit": "u1"})
        instances.complete_task(ctx, started.id, started.next_tasks[0].task_id, {})
        ids.append(started.id)
    ctx.clock.advance(timedelta(hours=3))
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(fire_due_timers(ctx))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    fired = [pair for report in reports for pair in report.fired]
    assert sorted(i for i, _ in fired) == ids  # each instance's timer fired exactly once
    with ctx.unit_of_work(readonly=True) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "timer_fired")).all()
    assert sorted(e.instance_id for e in entries) == ids
    assert all(instances.get_instance(ctx, i).status is InstanceStatus.COMPLETED for i in ids)


def test_over_the_2024_reunification_day_swap_the_limit_counts_the_make_up_saturday(ctx):
    deploy_files(ctx, default_bpmn_files(ctx.config))
    # Received Thu 25 Apr 2024: Fri 26 (1); 27 Apr - 1 May off (29 Apr swapped); Thu 2 (2), Fri 3 (3),
    # Sat 4 May is a make-up working day (4), Mon 6 (5), Tue 7 (6), Wed 8 (7).
    ctx.clock.set(datetime(2024, 4, 25, 10, 0, tzinfo=TZ))
    started = instances.start_instance(ctx, "feedback_followup", {"received_at": ctx.clock.now().isoformat()})
    assert instances.list_ready_tasks(ctx, instance_id=started.id)[0].due_at == datetime(2024, 5, 9, tzinfo=TZ)
    ctx.clock.set(datetime(2024, 5, 8, 23, 59, tzinfo=TZ))
    assert [b for _, b in fire_due_timers(ctx).fired] == ["remind_office"]
    ctx.clock.set(datetime(2024, 5, 9, 0, 1, tzinfo=TZ))
    assert [b for _, b in fire_due_timers(ctx).fired] == ["limit_exceeded"]


def test_the_running_worker_fires_a_timer_within_its_poll_interval(database_url):
    """Real time, real thread: the worker as `make run` embeds it, with a 0.5 s poll."""
    import time as wallclock

    from engine.app.bootstrap import open_context, seed_reference_data
    from engine.app.worker import run_worker
    from engine.core.config import Config
    from engine.process.definitions import deploy_bytes
    from tests.conftest import BPMN

    ctx = open_context(Config(database_url=database_url, deploy_on_start=False))  # the system clock
    seed_reference_data(ctx)
    xml = (BPMN / "timer_then_script.bpmn").read_bytes().replace(b'"PT1H"', b'"PT1S"')
    deploy_bytes(ctx, xml, "timer_then_script.bpmn")
    started = instances.start_instance(ctx, "timer_then_script", {"divisor": 2})
    due = instances.list_ready_tasks(ctx, instance_id=started.id)[0].due_at
    stop = threading.Event()
    worker = threading.Thread(target=run_worker, args=(ctx, stop, 0.5))
    worker.start()
    try:
        deadline = wallclock.monotonic() + 10
        while _ready(ctx, started.id) != ["after"] and wallclock.monotonic() < deadline:
            wallclock.sleep(0.05)
    finally:
        stop.set()
        worker.join(10)
        ctx.db.dispose()
    assert _ready(ctx, started.id) == ["after"]
    with ctx.unit_of_work(readonly=True) as session:
        fired = session.scalars(select(AuditEntry).where(AuditEntry.action == "timer_fired")).one()
    lag = (fired.at - due).total_seconds()  # `due` is the interrupting timer's due time
    assert 0 <= lag <= 0.5 + 1.0, lag  # within the poll interval, plus slack for a loaded machine
