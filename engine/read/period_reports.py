"""The periodic report of a unit or of the province (Art. 17.1), on screen, as XLSX and printed.

A report covers one period of the Decree 09/2019 windows (engine/worktime/periods.py: month, quarter,
6 and 9 months, year) and counts, per unit, the tasks in each status category with the counter the
reporting rounds use (`statistics.count_by_unit`: never a second counter). Figures are as of the data
cut-off, or as of now while the window is still open.

Which units: a unit's report lists the unit and every active unit below it; the province's lists the
active units that report upward (departments, districts, other agencies, communes). Each row counts
the tasks the unit leads itself (no roll-up), so the total is the sum of the rows. A unit's report also
carries its Art. 17.1 self-inspection draft, made from its figures by `reporting.self_inspection_text`, the
same text the reporting round prefills in the unit's report task.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from engine.core.errors import InvalidInput
from engine.regulation import organisation, reporting, statistics
from engine.regulation.organisation import Unit
from engine.worktime import periods, timer_settings
from engine.worktime.periods import Cadence, Period

# The columns of the report, in the Government Office's order: completed, then not completed, then the rest.
COLUMNS = ("total", "completed_on_time", "completed_late", "completed_no_deadline", "within_deadline",
           "nearly_due", "overdue", "no_deadline", "awaiting_confirmation", "returned", "cancelled")


@dataclass(frozen=True)
class UnitRow:
    """One unit's line: its figures (every category, `total`, `on_time_rate`) and its depth below the top."""

    code: str
    name: str
    depth: int
    figures: dict


@dataclass(frozen=True)
class PeriodReport:
    """A report: the period and its window, whose report (None: the province), its rows and their sum."""

    period_key: str
    period_label: str
    data_from: date
    data_to: date
    as_of: datetime
    unit_code: str | None
    unit_name: str
    rows: list[UnitRow]
    totals: dict
    self_inspection: str | None       # the Art. 17.1 draft of a unit's report (None for the province's)


def period_of(key: str | None, today: date) -> Period:
    """The period a key names; without one, the quarter containing today. InvalidInput for a key that names none."""
    if not key:
        return periods.period_containing(Cadence.QUARTERLY, today)
    try:
        return periods.period_from_key(key.strip())
    except ValueError:
        raise InvalidInput("period_key_unknown", value=key[:40]) from None


def period_choices(today: date) -> list[Period]:
    """The periods a report may be asked for, newest first: this year's and last year's of every cadence
    that have started."""
    chosen = []
    for year in (today.year, today.year - 1):
        for cadence in Cadence:
            chosen += [p for p in periods.periods_between(cadence, date(year, 1, 1), date(year, 12, 31))
                       if p.start <= today]
    return sorted(chosen, key=lambda p: (p.start, p.end), reverse=True)


def period_report(ctx, unit_code: str | None, period: Period) -> PeriodReport:
    """The report of a unit (with the units below it) or of the province (None) for a period."""
    now = ctx.now()
    with ctx.unit_of_work(readonly=True) as session:
        units, name = report_units(session, unit_code)
        figures = statistics.count_by_unit(
            session, [u.id for u, _ in units], period.data_from, period.data_to, now, ctx.calendars.get(session),
            timer_settings.get(session, reporting.NEARLY_DUE_SETTING).value)
    rows = [UnitRow(u.code, u.name, depth, figures[u.id]) for u, depth in units]
    totals = sum_figures([row.figures for row in rows])
    _, window_end = statistics.window_instants(period.data_from, period.data_to)
    draft = reporting.self_inspection_text(name, period, totals) if unit_code else None
    return PeriodReport(period.key, period.label, period.data_from, period.data_to, min(now, window_end),
                        unit_code, name, rows, totals, draft)


def report_units(session, unit_code: str | None) -> tuple[list[tuple[Unit, int]], str]:
    """(units with their depth, the report's name): a unit and its active subtree, or the province's units."""
    if unit_code is None:
        units = session.scalars(select(Unit).where(Unit.active.is_(True), Unit.kind.in_(reporting.REPORTING_KINDS))
                                .order_by(Unit.kind, Unit.name))
        return [(unit, 0) for unit in units], ""
    top = organisation.unit_by_code(session, unit_code)
    children = organisation._children(session)
    depth = {top.id: 0}
    result = []
    for unit in organisation._walk(children, [top]):
        depth.setdefault(unit.id, depth.get(unit.parent_id, -1) + 1)
        if unit.active or unit.id == top.id:
            result.append((unit, depth[unit.id]))
    return result, top.name


def sum_figures(rows: list[dict]) -> dict:
    """The figures of several units added up, the on-time rate recomputed from the sums."""
    totals = {name: sum(row[name] for row in rows) for name in (*statistics.CATEGORIES, "total")}
    with_deadline = totals["completed_on_time"] + totals["completed_late"]
    totals["on_time_rate"] = round(totals["completed_on_time"] / with_deadline, 4) if with_deadline else None
    return totals
