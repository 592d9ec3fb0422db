"""Reporting rounds that open by themselves: the Office picks the cadences, the worker opens them.

Units report monthly, quarterly, 6-monthly, 9-monthly and yearly (Art. 17.1). For each cadence the
Office turned on, the timer worker opens the round of the latest period whose data cut-off day is
over, once, for the default kinds of unit; it does so on its first pass after the cut-off, well
within the units' deadline. A period the worker could not open in time (the deadline passed while
it was down) is left to the Office: the worker only reads, and does not try again.
"""
from __future__ import annotations

import logging

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from engine.core import audit
from engine.core.errors import Conflict, InvalidInput
from engine.process.context import EngineContext
from engine.regulation.records import ReportingPlan, ReportingRound
from engine.regulation.reporting import DEFAULT_KINDS, RoundOpened, open_round_in, reports_due_at
from engine.worktime import periods
from engine.worktime.calendar import TZ

log = logging.getLogger(__name__)


def automatic_cadences(ctx: EngineContext) -> set[periods.Cadence]:
    """The cadences whose rounds open by themselves."""
    with ctx.unit_of_work(readonly=True) as session:
        return _cadences(session)


def set_automatic_cadences(ctx: EngineContext, cadences, actor: str) -> set[periods.Cadence]:
    """Choose the cadences whose rounds open by themselves (audited); InvalidInput for an unknown one."""
    chosen: set[periods.Cadence] = set()
    for cadence in cadences:
        try:
            chosen.add(periods.Cadence(cadence))
        except ValueError:
            raise InvalidInput("cadence_unknown", value=cadence,
                               allowed=", ".join(c.value for c in periods.Cadence)) from None
    with ctx.unit_of_work() as session:
        before = _cadences(session)
        if chosen == before:
            return chosen
        session.execute(delete(ReportingPlan))
        now = ctx.now()
        session.add_all(ReportingPlan(cadence=c.value, changed_by=actor, changed_at=now) for c in sorted(chosen))
        audit.record(session, at=now, actor=actor, action="reporting_plan_changed",
                     summary={"before": sorted(c.value for c in before), "after": sorted(c.value for c in chosen)})
    return chosen


def open_due_rounds(ctx: EngineContext, actor: str = "scheduler") -> list[RoundOpened]:
    """Open, each in its own transaction, the due round of every automatic cadence not opened yet."""
    opened = []
    for period in _due_periods(ctx):
        try:
            with ctx.unit_of_work() as session:
                opened.append(open_round_in(ctx, session, period, list(DEFAULT_KINDS), actor))
        except (InvalidInput, Conflict, IntegrityError) as error:
            # No active unit of the default kinds, or opened meanwhile by the Office or another worker.
            log.info("reporting round %s not opened: %s", period.key, error)
    return opened


def _due_periods(ctx: EngineContext) -> list[periods.Period]:
    # One read-only transaction per pass: on most passes every round is open already, or too late
    # to open (a 6-month period chosen in February), and a write transaction would block SQLite's
    # writers every couple of seconds.
    with ctx.unit_of_work(readonly=True) as session:
        now = ctx.now()
        latest = [periods.last_cut_off(cadence, now.astimezone(TZ).date()) for cadence in sorted(_cadences(session))]
        return [period for period in latest
                if session.get(ReportingRound, period.key) is None and now < reports_due_at(ctx, period)]


def _cadences(session) -> set[periods.Cadence]:
    return {periods.Cadence(c) for c in session.scalars(select(ReportingPlan.cadence))}
