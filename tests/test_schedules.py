"""Recurring periods: one short instance per month for years, flat in cost and size (docs/spiffworkflow.md, trap 7)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.core.errors import Conflict, InvalidInput
from engine.process import instances, schedules
from engine.process.tables import InstanceStatus, ProcessInstance
from engine.regulation import tracking
from engine.regulation.records import ProgressUpdate
from engine.regulation.tracking import DocumentInput, TaskInput
from tests.helpers import TZ


@pytest.fixture
def deployed(ctx, shipped, deploy):
    deploy("three_step.bpmn")
    ctx.clock.set(datetime(2024, 12, 20, 9, 0, tzinfo=TZ))
    parent = instances.start_instance(ctx, "three_step", {"unit": "so-xay-dung"})  # the task being followed
    return parent


def _state_size(ctx, instance_id):
    with ctx.unit_of_work(readonly=True) as session:
        return len(session.get(ProcessInstance, instance_id).state_json)


def test_120_monthly_updates_of_a_task_without_deadline_stay_small(ctx, deployed):
    """Art. 8.1.b end to end for ten years: one short instance per month, none growing."""
    ctx.clock.set(datetime(2024, 12, 20, 9, 0, tzinfo=TZ))
    registered = tracking.register_document(ctx, DocumentInput(
        number_symbol="12/CT-UBND", issued_on=date(2024, 12, 18), doc_type="chi_thi", issuer="UBND tỉnh Bến Tre",
        signer="Chủ tịch UBND tỉnh", summary="Theo dõi thường xuyên"), [TaskInput(
            content="Theo dõi tình hình sạt lở bờ sông", lead_unit="so-nong-nghiep-ptnt",
            expected_output="Báo cáo tháng", update_cadence="monthly")], actor="cv.hoa")
    parent = registered.instance_ids[0]
    review = instances.list_ready_tasks(ctx, instance_id=parent)[0]
    instances.complete_task(ctx, parent, review.task_id, {"decision": "accept"})
    parent_size = _state_size(ctx, parent)
    sizes, dues = [], {}
    for month in range(121):  # December 2024, then 120 months from January 2025
        year, index = (2024, 12) if month == 0 else (2025 + (month - 1) // 12, (month - 1) % 12 + 1)
        ctx.clock.set(max(ctx.clock.now(), datetime(year, index, 1, 8, 0, tzinfo=TZ)))
        started = schedules.fire_due_schedules(ctx)
        assert len(started) == 1, (year, index, started)
        view = started[0][1]
        task = view.next_tasks[0]
        assert (task.bpmn_id, task.assignee) == ("update_progress", "so-nong-nghiep-ptnt")
        dues[(year, index)] = task.due_at
        instances.complete_task(ctx, view.id, task.task_id,
                                {"state": "in_progress", "work_done": f"{year}-{index:02d}"})
        sizes.append(_state_size(ctx, view.id))
    # Aug 2025 ends on a Sunday, 1-2 Sep are National Day: end of Wed 3 Sep, + 1 working day.
    assert dues[(2025, 8)] == datetime(2025, 9, 5, tzinfo=TZ)
    # Jan 2026 ends on a Saturday: Mon 2 Feb, + 1 working day -> end of Tue 3 Feb.
    assert dues[(2026, 1)] == datetime(2026, 2, 4, tzinfo=TZ)
    assert max(sizes) - min(sizes) < 200  # the last cycle is as small as the first
    with ctx.unit_of_work(readonly=True) as session:
        keys = list(session.scalars(select(ProgressUpdate.period_key).order_by(ProgressUpdate.id)))
        statuses = set(session.scalars(select(ProcessInstance.status).where(ProcessInstance.parent_id == parent)))
    assert len(keys) == 121 and keys[0] == "2024-M12" and keys[-1] == "2034-M12"
    assert statuses == {InstanceStatus.COMPLETED}
    assert _state_size(ctx, parent) == parent_size  # the followed task's own workflow never grew


def test_after_downtime_each_missed_period_starts_once(ctx, deployed):
    schedules.create_schedule(ctx, "periodic_update", "quarterly", date(2025, 1, 1), {"lead_unit": "u"})
    ctx.clock.set(datetime(2025, 7, 2, 8, 0, tzinfo=TZ))  # Q1, Q2 and Q3 have begun
    started = schedules.fire_due_schedules(ctx)
    assert [v.id for _, v in started] and len(started) == 3
    assert schedules.fire_due_schedules(ctx) == []
    ctx.clock.advance(timedelta(days=95))
    assert len(schedules.fire_due_schedules(ctx)) == 1  # Q4


def test_a_cancelled_schedule_starts_nothing_more(ctx, deployed):
    created = schedules.create_schedule(ctx, "periodic_update", "monthly", date(2025, 1, 1), {"lead_unit": "u"})
    schedules.cancel_schedule(ctx, created.id, "office")
    ctx.clock.set(datetime(2025, 3, 1, tzinfo=TZ))
    assert schedules.fire_due_schedules(ctx) == []
    with pytest.raises(Conflict):
        schedules.cancel_schedule(ctx, created.id, "office")


@pytest.mark.parametrize("kwargs", [
    {"cadence": "fortnightly"},
    {"grace_setting": "no_such_setting"},
    {"data": {"_private": 1}},
])
def test_bad_schedules_are_refused(ctx, deployed, kwargs):
    args = dict(process_id="periodic_update", cadence="monthly", first_day=date(2025, 1, 1), data={})
    args.update(kwargs)
    with pytest.raises(InvalidInput):
        schedules.create_schedule(ctx, **args)
    with ctx.unit_of_work(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 1
