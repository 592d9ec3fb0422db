"""The working-day calendar as admins keep it from the console: the year, overrides with a preview of the
due dates they move, the "N working days after" tester, and a year's announcement imported from CSV.

Adding or removing a day off changes every deadline counted across it, so, as for a timer setting
(`working_time`), the change is previewed on the running timers and ready tasks' due dates first
(engine/process/retime.py, under the calendar as it would be), then saved and, on request, applied to
running instances in the same transaction.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.process import retime
from engine.regulation.working_time import MoveView, move_views
from engine.worktime import calendar_overrides, what_if
from engine.worktime.calendar import TZ, Override, OverrideKind, WorkingCalendar, statutory_holidays
from engine.worktime.calendar_overrides import OverrideView
from engine.worktime.diagram_functions import settings_referenced

FIRST_YEAR, LAST_YEAR = 2000, 2100  # years the statutory base is computed for
MAX_TESTER_DAYS = 1000


class DayKind(str, enum.Enum):
    """What a day of the year view is."""

    WORKING = "working"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"              # a Labour Code Art. 112 holiday
    COMPENSATORY = "compensatory"    # a compensatory day off (Art. 111.3)
    DAY_OFF = "day_off"              # an announced extra day off (override)
    MAKEUP = "makeup"                # an announced make-up working day (override)

    @property
    def label_key(self) -> str:
        """Its label's key in the catalog."""
        return f"admin_calendar.kind.{self.value}"


@dataclass(frozen=True)
class DayView:
    """One day of the year view."""

    day: date
    kind: DayKind
    working: bool
    reason: str | None
    source: str | None


@dataclass(frozen=True)
class MonthView:
    """A month as weeks from Monday; days outside the month are None."""

    month: int
    weeks: tuple[tuple[DayView | None, ...], ...]


@dataclass(frozen=True)
class CalendarYear:
    """A year: its months, its working-day count and its overrides with who recorded them."""

    year: int
    working_days: int
    months: tuple[MonthView, ...]
    overrides: tuple[OverrideView, ...]


@dataclass(frozen=True)
class OverrideChanged:
    """An override added or removed, and what it moved (nothing when only new work follows it)."""

    override: OverrideView
    applied_to_running: bool
    moved: tuple[MoveView, ...]


@dataclass(frozen=True)
class TesterResult:
    """N working days after an instant: the last day, when the period ends, and the days off skipped."""

    since: datetime
    n: int
    last_day: date
    ends_at: datetime
    skipped: tuple[DayView, ...]


def year_view(ctx, year: int) -> CalendarYear:
    """Every day of a year with its kind, reason and source; NotFound outside the years computed."""
    _check_year(year)
    with ctx.unit_of_work(readonly=True) as session:
        calendar = ctx.calendars.get(session)
    overrides = calendar_overrides.list_overrides(ctx, year)
    days = _days(calendar, year, {o.day: o for o in overrides})
    months = []
    for month in range(1, 13):
        first = date(year, month, 1)
        cells: list[DayView | None] = [None] * first.weekday()
        cells += [d for d in days if d.day.month == month]
        cells += [None] * (-len(cells) % 7)
        months.append(MonthView(month, tuple(tuple(cells[i:i + 7]) for i in range(0, len(cells), 7))))
    return CalendarYear(year, sum(d.working for d in days), tuple(months), tuple(overrides))


def preview_add(ctx, day: date, kind: str, reason: str, source: str) -> list[MoveView]:
    """The due dates adding this override would move; nothing is changed."""
    override = checked_override(day, kind, reason, source)
    with ctx.unit_of_work(readonly=True) as session:
        _free(session, day)
        return preview_calendar(ctx, session, calendar_with(session, add=(override,)))


def add(ctx, day: date, kind: str, reason: str, source: str, apply_to_running: bool, actor: str) -> OverrideChanged:
    """Record an override (audited); with `apply_to_running`, move running due dates in the same transaction."""
    override = checked_override(day, kind, reason, source)
    with ctx.unit_of_work() as session:
        _free(session, day)
        calendar = calendar_with(session, add=(override,))
        view = calendar_overrides.add_in(session, override, actor, ctx.now())
        return OverrideChanged(view, apply_to_running, apply_calendar(ctx, session, calendar, apply_to_running, actor, {
            "calendar": "override_added", "day": day.isoformat(), "kind": override.kind.value}))


def preview_remove(ctx, day: date) -> list[MoveView]:
    """The due dates removing the override of `day` would move; NotFound if it has none."""
    with ctx.unit_of_work(readonly=True) as session:
        _existing(session, day)
        return preview_calendar(ctx, session, calendar_with(session, remove=day))


def remove(ctx, day: date, apply_to_running: bool, actor: str) -> OverrideChanged:
    """Remove the override of a day (audited); with `apply_to_running`, move running due dates too."""
    with ctx.unit_of_work() as session:
        _existing(session, day)
        calendar = calendar_with(session, remove=day)
        view = calendar_overrides.remove_in(session, day, actor, ctx.now())
        return OverrideChanged(view, apply_to_running, apply_calendar(ctx, session, calendar, apply_to_running, actor, {
            "calendar": "override_removed", "day": day.isoformat(), "kind": view.kind.value}))


def working_days_after(ctx, since: datetime, n: int) -> TesterResult:
    """When "within n working days of `since`" ends (Civil Code Art. 147), and the days off it skips."""
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_TESTER_DAYS:
        raise InvalidInput("tester_days_invalid", max=MAX_TESTER_DAYS)
    since = since if since.tzinfo else since.replace(tzinfo=TZ)
    first = since.astimezone(TZ).date()
    if not FIRST_YEAR <= first.year <= LAST_YEAR - 5:  # n working days stay within the years computed
        raise InvalidInput("tester_since_invalid", first=FIRST_YEAR, last=LAST_YEAR - 5)
    with ctx.unit_of_work(readonly=True) as session:
        calendar = ctx.calendars.get(session)
    last = calendar.working_day_deadline(since, n)
    overrides = {o.day: o for o in calendar_overrides.list_overrides(ctx)}
    skipped = []
    for year in range(first.year, last.year + 1):
        skipped += [d for d in _days(calendar, year, overrides) if first < d.day < last and not d.working
                    and d.kind is not DayKind.WEEKEND]
    return TesterResult(since, n, last, calendar.add_working_days(since, n), tuple(skipped))


def calendar_with(session: Session, add: tuple[Override, ...] = (), remove: date | None = None) -> WorkingCalendar:
    """The calendar as it would be with these overrides added or the override of that day removed."""
    kept = [o for o in calendar_overrides.stored(session) if o.day != remove]
    return WorkingCalendar([*kept, *add])


def preview_calendar(ctx, session: Session, calendar: WorkingCalendar) -> list[MoveView]:
    """The due dates `calendar` would move against the stored one, in the caller's unit of work."""
    return move_views(session, retime.preview(ctx, session, what_if.Assumption(calendar=calendar), _reads_calendar))


def apply_calendar(ctx, session: Session, calendar: WorkingCalendar, apply_to_running: bool, actor: str,
                   change: dict) -> tuple[MoveView, ...]:
    """Move running due dates to `calendar` in the caller's transaction (nothing when only new work follows)."""
    if not apply_to_running:
        return ()
    moves = retime.apply(ctx, session, what_if.Assumption(calendar=calendar), _reads_calendar, actor, change)
    return tuple(move_views(session, moves))


def _reads_calendar(text: str) -> bool:
    # Every diagram function that takes a setting counts on the calendar (deadline, reminder, after_date,
    # before_date); a duration in hours or minutes comes out the same and so moves nothing.
    return bool(settings_referenced(text))


def _free(session: Session, day: date) -> None:
    if any(o.day == day for o in calendar_overrides.stored(session)):
        raise Conflict("override_exists", day=day.isoformat())


def _existing(session: Session, day: date) -> None:
    if not any(o.day == day for o in calendar_overrides.stored(session)):
        raise NotFound("override_not_found", day=day.isoformat())


def checked_override(day: date, kind: str, reason: str, source: str) -> Override:
    """An override of a day within the years computed, or InvalidInput."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise InvalidInput("calendar_day_out_of_range", first=FIRST_YEAR, last=LAST_YEAR)
    return calendar_overrides.check_override(day, kind, reason, source)


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise NotFound("calendar_year_unknown", first=FIRST_YEAR, last=LAST_YEAR)


def _days(calendar: WorkingCalendar, year: int, overrides: dict) -> list[DayView]:
    statutory = statutory_holidays(year)
    days, day = [], date(year, 1, 1)
    while day.year == year:
        working = calendar.is_working_day(day)
        override = overrides.get(day)
        if override is not None:
            kind = DayKind.DAY_OFF if override.kind is OverrideKind.DAY_OFF else DayKind.MAKEUP
            days.append(DayView(day, kind, working, override.reason, override.source))
        elif day in statutory:
            kind = DayKind.COMPENSATORY if "nghỉ bù" in statutory[day] else DayKind.HOLIDAY
            days.append(DayView(day, kind, working, statutory[day], "Bộ luật Lao động 2019, Điều 112"))
        else:
            days.append(DayView(day, DayKind.WORKING if working else DayKind.WEEKEND, working, None, None))
        day += timedelta(days=1)
    return days
