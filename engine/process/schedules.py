"""Recurring schedules: one short instance per calendar period, started by the worker.

Periodic updates of a task without a deadline (Art. 8.1.b) and periodic reports (Art. 17.1) recur
for years. Drawn as a loop inside one workflow they would deepen its task tree and grow its state
with every cycle (docs/spiffworkflow.md, trap 7); here the schedule row remembers only the next period, each period gets
its own small instance linked to the parent, and past periods are those instances' rows. Period
boundaries come from engine/worktime/periods.py, never from ISO `R/P1M` (docs/spiffworkflow.md, trap 8).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select

from engine.core import audit
from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.process.context import EngineContext
from engine.process.instances import InstanceView, checked_data, start_in
from engine.process.tables import Schedule
from engine.worktime import periods, timer_settings
from engine.worktime.calendar import TZ


@dataclass(frozen=True)
class ScheduleView:
    """What callers see of a schedule."""

    id: int
    process_id: str
    cadence: periods.Cadence
    parent_id: int | None
    next_period: periods.Period
    next_run_at: datetime
    active: bool
    cycles_started: int


def create_schedule(ctx: EngineContext, process_id: str, cadence: str, first_day: date,
                    data: dict[str, Any] | None = None, parent_id: int | None = None,
                    grace_setting: str | None = None, actor: str = "system") -> ScheduleView:
    """Start `process_id` once per period of `cadence`, from the period containing `first_day`."""
    data = checked_data(data)
    try:
        cadence = periods.Cadence(cadence)
    except ValueError:
        raise InvalidInput("cadence_unknown", value=cadence,
                           allowed=", ".join(c.value for c in periods.Cadence)) from None
    period = periods.period_containing(cadence, first_day)
    with ctx.unit_of_work() as session:
        if grace_setting is not None:
            timer_settings.get(session, grace_setting)  # refuse an unknown setting now, not in a year
        row = Schedule(process_id=process_id, cadence=cadence.value, data=data, parent_id=parent_id,
                       next_period=period.start.isoformat(), next_run_at=run_at(period),
                       grace_setting=grace_setting, active=True, cycles_started=0, created_by=actor,
                       created_at=ctx.now())
        session.add(row)
        session.flush()
        audit.record(session, at=ctx.now(), actor=actor, action="schedule_created", instance_id=parent_id,
                     summary={"schedule_id": row.id, "process_id": process_id, "cadence": cadence.value,
                              "first_period": period.key})
        return _view(row)


def cancel_schedule(ctx: EngineContext, schedule_id: int, actor: str = "system") -> ScheduleView:
    """Stop a schedule: no further periods are started (running cycles go on)."""
    with ctx.unit_of_work() as session:
        row = session.get(Schedule, schedule_id)
        if row is None:
            raise NotFound("schedule_not_found", schedule=schedule_id)
        if not row.active:
            raise Conflict("schedule_stopped", schedule=schedule_id)
        row.active = False
        audit.record(session, at=ctx.now(), actor=actor, action="schedule_cancelled",
                     instance_id=row.parent_id, summary={"schedule_id": row.id})
        return _view(row)


def fire_due_schedules(ctx: EngineContext, limit: int = 200,
                       actor: str = "scheduler") -> list[tuple[int, InstanceView]]:
    """Start every period that has begun by now; after downtime, each missed period once."""
    started = []
    with ctx.unit_of_work(readonly=True) as session:
        due = list(session.scalars(select(Schedule.id).where(Schedule.active, Schedule.next_run_at <= ctx.now())
                                   .order_by(Schedule.next_run_at).limit(limit)))
    for schedule_id in due:
        while (view := start_next_period(ctx, schedule_id, actor)) is not None:
            started.append((schedule_id, view))
    return started


def start_next_period(ctx: EngineContext, schedule_id: int, actor: str = "scheduler") -> InstanceView | None:
    """Start the schedule's next period if it has begun; None if not due or held by another worker."""
    with ctx.unit_of_work() as session:
        stmt = select(Schedule).where(Schedule.id == schedule_id)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        row = session.scalars(stmt).first()
        if row is None or not row.active or row.next_run_at > ctx.now():
            return None
        period = periods.period_containing(row.cadence, date.fromisoformat(row.next_period))
        view = start_in(ctx, session, row.process_id, dict(row.data, **_period_data(ctx, session, row, period)),
                        actor, parent_id=row.parent_id, schedule_id=row.id, business_key=period.key)
        following = periods.next_period(period)
        row.next_period, row.next_run_at = following.start.isoformat(), run_at(following)
        row.cycles_started += 1
        return view


def _period_data(ctx: EngineContext, session, row: Schedule, period: periods.Period) -> dict[str, Any]:
    grace = timer_settings.get(session, row.grace_setting).value if row.grace_setting else 0
    due = periods.update_due(period, ctx.calendars.get(session), grace)
    return {"schedule_id": row.id, "parent_instance_id": row.parent_id, "period_key": period.key,
            "period_label": period.label, "period_start": period.start.isoformat(),
            "period_end": period.end.isoformat(), "data_from": period.data_from.isoformat(),
            "data_to": period.data_to.isoformat(), "update_due": due.isoformat()}


def run_at(period: periods.Period) -> datetime:
    """When a period's cycle starts: 00:00 Vietnam time on its first day."""
    return datetime.combine(period.start, time.min, TZ)


def _view(row: Schedule) -> ScheduleView:
    cadence = periods.Cadence(row.cadence)
    return ScheduleView(row.id, row.process_id, cadence, row.parent_id,
                        periods.period_containing(cadence, date.fromisoformat(row.next_period)),
                        row.next_run_at, row.active, row.cycles_started)
