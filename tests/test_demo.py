"""The demo province is made through the real use cases and leaves tasks in mixed states."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from engine.app import demo
from engine.core.audit import AuditEntry
from engine.process.tables import ProcessInstance, ReadyTask
from engine.regulation.records import PeriodicReport, TrackedTask


def test_demo_plays_months_of_work_through_the_use_cases(ctx, shipped):
    assert not demo.has_records(ctx)
    clock = ctx.clock
    made = demo.build_demo(ctx, date(2025, 6, 30), tasks=40, days=60)
    assert made["tasks"] == 40 and demo.has_records(ctx)
    assert made["reporting_rounds"] >= 2     # 1 May - 30 Jun: at least May and June
    with ctx.unit_of_work(readonly=True) as session:
        statuses = {s.value for s in session.scalars(select(TrackedTask.status).distinct())}
        every_task_followed = session.scalar(select(func.count()).select_from(TrackedTask)
                                             .where(TrackedTask.instance_id.is_(None))) == 0
        steps = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "complete_task"))
        instances = session.scalar(select(func.count()).select_from(ProcessInstance))
    assert {"in_progress", "completed_on_time"} <= statuses and len(statuses) >= 4
    assert every_task_followed and steps > 40 and instances >= 40
    assert ctx.clock is clock  # the demo's own clock was handed back
    with ctx.unit_of_work(readonly=True) as session:
        reports = session.execute(select(func.count(), func.count(PeriodicReport.submitted_at))).one()
    assert reports[0] >= 2 * 28 and reports[1] > 0      # two rounds of 28 units; reports were sent
    with ctx.unit_of_work(readonly=True) as session:  # the PPC leader has a request for direction waiting
        waiting = list(session.scalars(select(ReadyTask.bpmn_id).where(ReadyTask.lane == "ppc_leader")))
    assert waiting and set(waiting) == {"give_direction"}
