"""The dashboard: a unit's (or the province's) figures for a reporting period, from `statistics` only.

The status categories, totals and on-time rate are `statistics.count_by_unit` over the units of the scope
(the unit and every unit below it; the province is the root's subtree), summed with `statistics.add_up`;
each child's row is its own subtree summed the same way. Periods are the Decree 09/2019 windows
(engine/worktime/periods.py): figures as of the earlier of now and the window's end, as a report would give.
The monthly trend is the same rule for each of the twelve monthly windows ending with the period's (or
this month's, for a period still running), counted in one read (`statistics.count_by_window`). Urging
counts and the overdue list are read from the same
categorised rows (`statistics.categorised`, dashboard_tasks.py), so every figure has a drill-down listing
exactly its tasks.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from engine.core.errors import InvalidInput, NotFound
from engine.core.i18n import Message
from engine.read import dashboard_tasks
from engine.regulation import statistics
from engine.regulation.organisation import _children, _walk
from engine.worktime import timer_settings
from engine.worktime.calendar import TZ
from engine.worktime.periods import Cadence, Period, next_period, period_containing, period_from_key, previous_period

TREND_MONTHS = 12
OVERDUE_SHOWN = 10
# Shown in the trend: closed on time and late in the month's window, and still open past the deadline at its
# cut-off (the last is the category as it stood then, not as it stands now).
TREND_CATEGORIES = ("completed_on_time", "completed_late", "overdue")


@dataclass(frozen=True)
class UnitFigures:
    """One row of the breakdown: a unit below the scope (with its own subtree), or the scope's own tasks."""

    code: str
    name: str
    own: bool              # True: the scope unit's own tasks only (not its subtree)
    figures: dict


@dataclass(frozen=True)
class TrendMonth:
    """One month of the trend: its period key and label and its figures."""

    period_key: str
    label: Message
    figures: dict


@dataclass(frozen=True)
class Dashboard:
    """What the dashboard page and GET /api/dashboard show."""

    unit_code: str
    unit_name: str
    province: bool          # the scope is the whole province (the root unit)
    period_key: str
    period_label: Message
    data_from: date
    data_to: date
    as_of: datetime
    figures: dict           # every category, total, on_time_rate, urged_tasks, urges
    units: list[UnitFigures]
    overdue: list[dashboard_tasks.DrillRow]
    trend: list[TrendMonth]


@dataclass(frozen=True)
class Scope:
    """The unit a dashboard is about and the ids of its subtree, its children's subtrees."""

    code: str
    name: str
    root: bool
    ids: list[int]
    children: list[tuple[str, str, list[int]]]   # (code, name, ids of its subtree), by code
    own_id: int


def scope(session: Session, unit_code: str) -> Scope:
    """The unit `unit_code` and the units below it (inactive ones included: their tasks still count)."""
    children = _children(session)
    unit = next((u for units in children.values() for u in units if u.code == unit_code), None)
    if unit is None:
        raise NotFound("unit_not_found", unit=unit_code)
    return Scope(unit.code, unit.name, unit.parent_id is None, [u.id for u in _walk(children, [unit])],
                 [(child.code, child.name, [u.id for u in _walk(children, [child])]) for child in children[unit.id]],
                 unit.id)


def root_unit(session: Session) -> str:
    """The code of the province's root unit (the one with no parent, active first)."""
    roots = sorted((u for u in _children(session)[None]), key=lambda u: (not u.active, u.id))
    if not roots:
        raise NotFound("unit_not_found", unit="")
    return roots[0].code


def chosen_period(key: str | None, today: date) -> Period:
    """The period a key names, by default the quarter containing today; one whose window has not
    started yet is refused (its figures would only repeat today's)."""
    if not key:
        return period_containing(Cadence.QUARTERLY, today)
    try:
        period = period_from_key(key)
    except ValueError:
        raise InvalidInput("dashboard_period_unknown", period=key) from None
    if period.data_from > today:
        raise InvalidInput("dashboard_period_future", period=period.caption)
    return period


def period_choices(today: date) -> list[Period]:
    """The periods offered: the month whose data window holds today and the 11 before it, the same for 8
    quarters, and the 6-month, 9-month and annual periods of last year, this year and next (those whose
    window has begun: next year's opens on 15 December)."""
    choices: list[Period] = []
    for cadence, count in ((Cadence.MONTHLY, 12), (Cadence.QUARTERLY, 8)):
        period = running_period(cadence, today)
        for _ in range(count):
            choices.append(period)
            period = previous_period(period)
    for suffix in ("H1", "9M", "Y"):
        for year in (today.year + 1, today.year, today.year - 1):
            period = period_from_key(f"{year}-{suffix}")
            if period.data_from <= today:
                choices.append(period)
    return choices


def running_period(cadence: Cadence, day: date) -> Period:
    """The month or quarter whose data window holds `day`: after the 14th, the data go to the next one's."""
    period = period_containing(cadence, day)
    return next_period(period) if day > period.data_to else period


def dashboard(ctx, unit_code: str, period_key: str | None = None) -> Dashboard:
    """The figures of `unit_code`'s subtree for the period (access is the caller's: access.dashboard_scope)."""
    now = ctx.now()
    period = chosen_period(period_key, now.astimezone(TZ).date())
    with ctx.unit_of_work(readonly=True) as session:
        where = scope(session, unit_code)
        calendar, nearly = ctx.calendars.get(session), timer_settings.get(session, "deadline_reminder").value
        per_unit = statistics.count_by_unit(session, where.ids, period.data_from, period.data_to, now, calendar,
                                            nearly)
        figures = statistics.add_up(per_unit.values())
        window = dashboard_tasks.Window(where.ids, period.data_from, period.data_to, now, calendar, nearly)
        figures.update(dashboard_tasks.urging(session, window))
        overdue = dashboard_tasks.rows(session, window, "overdue", limit=OVERDUE_SHOWN, by_deadline=True)
        months = _trend_months(period, now)
        counted = statistics.count_by_window(session, where.ids, [(m.data_from, m.data_to) for m in months], now,
                                             calendar, nearly, TREND_CATEGORIES)
        trend = [TrendMonth(month.key, month.caption, figures) for month, figures in zip(months, counted, strict=True)]
    units = [UnitFigures(code, name, False, statistics.add_up(per_unit[i] for i in ids))
             for code, name, ids in where.children]
    if any(per_unit[where.own_id][name] for name in statistics.CATEGORIES):
        units.insert(0, UnitFigures(where.code, where.name, True, per_unit[where.own_id]))
    return Dashboard(where.code, where.name, where.root, period.key, period.caption, period.data_from,
                     period.data_to, min(now, statistics.window_instants(period.data_from, period.data_to)[1]),
                     figures, units, overdue, trend)


def _trend_months(period: Period, now: datetime) -> list[Period]:
    # The month whose window holds the period's last data day, or today's for a period still running.
    last = running_period(Cadence.MONTHLY, min(period.data_to, now.astimezone(TZ).date()))
    months = [last]
    while len(months) < TREND_MONTHS:
        months.append(previous_period(months[-1]))
    return months[::-1]


@dataclass(frozen=True)
class DrillDown:
    """The tasks behind one figure of a dashboard, a page at a time; `total` is the figure."""

    unit_code: str
    unit_name: str
    province: bool          # the unit is the province's root
    own: bool
    period_key: str
    period_label: Message
    wanted: str
    total: int
    page: int
    per_page: int
    rows: list[dashboard_tasks.DrillRow]


def drill_down(ctx, unit_code: str, period_key: str | None, wanted: str, *, own: bool = False,
               page: int = 1) -> DrillDown:
    """The tasks behind figure `wanted` (a category, `total` or `urged`) of a unit's subtree (`own`: the unit's
    own tasks only, as the breakdown's first row) for a period."""
    if wanted not in statistics.CATEGORIES + dashboard_tasks.SETS:
        raise InvalidInput("dashboard_figure_unknown", figure=wanted)
    now, page = ctx.now(), max(1, page)
    period = chosen_period(period_key, now.astimezone(TZ).date())
    per_page = dashboard_tasks.PER_PAGE
    with ctx.unit_of_work(readonly=True) as session:
        where = scope(session, unit_code)
        window = dashboard_tasks.Window([where.own_id] if own else where.ids, period.data_from, period.data_to,
                                        now, ctx.calendars.get(session),
                                        timer_settings.get(session, "deadline_reminder").value)
        total = dashboard_tasks.count(session, window, wanted)
        rows = dashboard_tasks.rows(session, window, wanted, limit=per_page, offset=(page - 1) * per_page)
    return DrillDown(where.code, where.name, where.root, own, period.key, period.caption, wanted, total, page,
                     per_page, rows)
