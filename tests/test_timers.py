"""The timer worker on real dates through the fixed clock: on time, catch-up, errors, no double fire."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine.core import audit
from engine.core.audit import AuditEntry
from engine.process import instances
from engine.process.tables import InstanceStatus
from engine.process.timers import fire_due_timers
from tests.helpers import TZ


def _ready(ctx, instance_id):
    return sorted(t.bpmn_id for t in instances.list_ready_tasks(ctx, instance_id=instance_id))


@pytest.fixture
def feedback(ctx, shipped):
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
    assert leader[0].lane == "office_leader"
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


def test_over_the_2024_reunification_day_swap_the_limit_counts_the_make_up_saturday(ctx, shipped):
    # Received Thu 25 Apr 2024: Fri 26 (1); 27 Apr - 1 May off (29 Apr swapped); Thu 2 (2), Fri 3 (3),
    # Sat 4 May is a make-up working day (4), Mon 6 (5), Tue 7 (6), Wed 8 (7).
    ctx.clock.set(datetime(2024, 4, 25, 10, 0, tzinfo=TZ))
    started = instances.start_instance(ctx, "feedback_followup", {"received_at": ctx.clock.now().isoformat()})
    assert instances.list_ready_tasks(ctx, instance_id=started.id)[0].due_at == datetime(2024, 5, 9, tzinfo=TZ)
    ctx.clock.set(datetime(2024, 5, 8, 23, 59, tzinfo=TZ))
    assert [b for _, b in fire_due_timers(ctx).fired] == ["remind_office"]
    ctx.clock.set(datetime(2024, 5, 9, 0, 1, tzinfo=TZ))
    assert [b for _, b in fire_due_timers(ctx).fired] == ["limit_exceeded"]


class _PollsOnTheClock(threading.Event):
    """The worker's stop event, with the fixed clock for time: waiting out the poll interval moves the
    clock on by it at once, so each pass of the loop falls at a known instant. Notes (instant, ready
    tasks) at the end of each pass and stops the worker once `done()` or after `most` passes."""

    def __init__(self, ctx, done, most: int = 10):
        super().__init__()
        self.ctx, self.done, self.most = ctx, done, most
        self.passes: list[tuple[datetime, object]] = []
        self.waits: list[float] = []

    def wait(self, timeout=None):
        self.passes.append((self.ctx.clock.now(), self.done()))
        self.waits.append(timeout)
        if self.passes[-1][1] or len(self.passes) >= self.most:
            self.set()
        self.ctx.clock.advance(timedelta(seconds=timeout))
        return self.is_set()


def test_the_running_worker_fires_a_timer_within_its_poll_interval(ctx, deploy):
    """The worker loop as `make run` embeds it (a thread, a 0.5 s poll), on the fixed clock: a timer due
    between two passes fires at the next one, within one poll interval of its due time."""
    from engine.app.worker import run_worker

    deploy("timer_then_script.bpmn")
    started = instances.start_instance(ctx, "timer_then_script", {"divisor": 2})
    due = instances.list_ready_tasks(ctx, instance_id=started.id)[0].due_at  # the interrupting timer's
    ctx.clock.set(due - timedelta(seconds=1.2))  # passes at due - 1.2 s, - 0.7 s, - 0.2 s, + 0.3 s
    stop = _PollsOnTheClock(ctx, lambda: _ready(ctx, started.id) == ["after"])
    worker = threading.Thread(target=run_worker, args=(ctx, stop, 0.5))
    worker.start()
    worker.join(60)
    assert not worker.is_alive()
    assert stop.waits == [0.5] * 4  # no pass failed (a failed pass waits longer)
    assert [(at - due, fired) for at, fired in stop.passes] == [
        (timedelta(seconds=-1.2), False), (timedelta(seconds=-0.7), False), (timedelta(seconds=-0.2), False),
        (timedelta(seconds=0.3), True)]  # not before it is due, then at the first pass after
    with ctx.unit_of_work(readonly=True) as session:
        fired = session.scalars(select(AuditEntry).where(AuditEntry.action == "timer_fired")).one()
    lag = (fired.at - due).total_seconds()
    assert 0 <= lag <= 0.5, lag  # within the poll interval
