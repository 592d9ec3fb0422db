"""Status categories of tracked tasks (docs/regulation.md, "Status categories"), counted in SQL.

Not completed: within deadline (trong hạn), nearly due (sắp đến hạn), overdue (quá hạn), no deadline
(không thời hạn); completed: on time, late, no deadline; also returned to the Office, cancelled and
awaiting the Office's confirmation. Reports (Art. 17.1) count them per unit and period with the on-time
rate. Nothing here loads a workflow: the `tracked_tasks` rows carry status, deadline and the instants.

Time follows the Civil Code: a deadline fixed as a date ends at 24:00 of it, or of the next working day
when it is a day off (Art. 148.5, `WorkingCalendar.deadline_end`). "Nearly due" starts when the
`deadline_reminder` timer of task_followup fires (`before_date`): at 00:00 of the working day from which
N working days remain, that day and the deadline's last day included.

Both tests are monotonic in the deadline date, so for one instant they reduce to two threshold dates,
computed once in Python (`thresholds`); the database then compares each row's deadline with them in a
`CASE`. `category` (one task) and `count_by_unit` (many) share that code, so they cannot disagree.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, String, and_, func, literal, or_, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql import case

from engine.regulation.records import TaskStatus, TrackedTask
from engine.worktime.calendar import TZ, WorkingCalendar

OPEN_CATEGORIES = ("within_deadline", "nearly_due", "overdue", "no_deadline")
CATEGORIES = OPEN_CATEGORIES + ("awaiting_confirmation", "returned", "completed_on_time", "completed_late",
                                "completed_no_deadline", "cancelled")
# Closed statuses: they end the task at `completed_at` (the Office's confirmation or cancellation).
CLOSED = (TaskStatus.COMPLETED_ON_TIME, TaskStatus.COMPLETED_LATE, TaskStatus.COMPLETED_NO_DEADLINE,
          TaskStatus.CANCELLED)
# Open statuses that are a category of their own, whatever the deadline.
AS_SUCH = (TaskStatus.AWAITING_CONFIRMATION, TaskStatus.RETURNED)
_ONE_MICROSECOND = timedelta(microseconds=1)
_MAX_STEPS = 1000  # a guard: the longest run of days off (Tết) is about ten days


@dataclass(frozen=True)
class Thresholds:
    """For one instant: deadlines on or before `overdue_through` have expired; those after it and on or
    before `nearly_due_through` are nearly due (None: no task is nearly due, the setting is 0)."""

    at: datetime
    overdue_through: date
    nearly_due_through: date | None


def thresholds(calendar: WorkingCalendar, at: datetime, nearly_due_days: int) -> Thresholds:
    """The threshold dates of the deadline categories at instant `at` (aware)."""
    if at.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    day = at.astimezone(TZ).date()
    # The end of a deadline on `day` is 00:00 of the next day at the earliest, so after `at`: walk back
    # to the last deadline date that has ended (a run of days off before `day` moves to `day` or later).
    overdue = day
    for _ in range(_MAX_STEPS):
        if calendar.deadline_end(overdue) <= at:
            break
        overdue -= timedelta(days=1)
    else:  # pragma: no cover - a calendar without working days
        raise ValueError("no working day found before the instant")
    if nearly_due_days <= 0:
        return Thresholds(at, overdue, None)
    nearly = overdue  # an expired deadline has certainly reached its reminder; walk forward from it
    for _ in range(_MAX_STEPS):
        if _reminder_start(calendar, nearly + timedelta(days=1), nearly_due_days) > at:
            break
        nearly += timedelta(days=1)
    return Thresholds(at, overdue, nearly)


def _reminder_start(calendar: WorkingCalendar, deadline: date, days: int) -> datetime:
    # As diagram_functions.before_date: 00:00 of the working day from which `days` working days remain.
    last_day = (calendar.deadline_end(deadline).astimezone(TZ) - _ONE_MICROSECOND).date()
    return datetime.combine(calendar.subtract_working_days(last_day, days - 1), time.min, TZ)


def deadline_category(deadline: date | None, limits: Thresholds) -> str:
    """within_deadline / nearly_due / overdue / no_deadline for a task still open at `limits.at`."""
    if deadline is None:
        return "no_deadline"
    if deadline <= limits.overdue_through:
        return "overdue"
    if limits.nearly_due_through is not None and deadline <= limits.nearly_due_through:
        return "nearly_due"
    return "within_deadline"


def category(status: TaskStatus | str, deadline: date | None, completed_at: datetime | None, now: datetime,
             calendar: WorkingCalendar, nearly_due_days: int) -> str:
    """The category of one task as it stood at `now` (one of CATEGORIES).

    A closed task (completed or cancelled) counts as closed only if it closed before `now`: asked about
    an earlier instant, a task completed since is judged as open, by its deadline. Returned and
    awaiting-confirmation tasks are their own categories; other open tasks are judged by their deadline.
    """
    status = TaskStatus(status)
    if status in CLOSED and (completed_at is None or completed_at < now):
        return status.value
    if status in AS_SUCH:
        return status.value
    return deadline_category(deadline, thresholds(calendar, now, nearly_due_days))


def window_instants(window_from: date, window_to: date) -> tuple[datetime, datetime]:
    """00:00 of the first day and 24:00 of the last day of a data window, Vietnam time."""
    return (datetime.combine(window_from, time.min, TZ),
            datetime.combine(window_to + timedelta(days=1), time.min, TZ))


def count_by_unit(session: Session, unit_ids: Iterable[int], window_from: date, window_to: date,
                  now: datetime, calendar: WorkingCalendar, nearly_due_days: int) -> dict[int, dict]:
    """Per lead unit: how many tasks fall in each category for the data window [window_from, window_to].

    The figures are as of `as_of`, the earlier of `now` and the end (24:00) of `window_to`: a report
    opened after its cut-off day (chốt số liệu, Decree 09/2019 Art. 12) shows the tasks as they stood at
    the cut-off, a dashboard mid-window shows them as they stand now. A task counts for its lead unit
    (`lead_unit_id`; no roll-up of sub-units) when

    - it was assigned before `as_of`, and
    - it was still open at `as_of`, or closed (completed or cancelled) within the window, i.e. at or
      after 00:00 of `window_from`; tasks closed before the window belong to earlier reports.

    A task closed within the window counts under its closing status (completed_on_time, completed_late,
    completed_no_deadline, cancelled). A task open at `as_of`, including one closed since, counts as
    returned or awaiting_confirmation when that is its current status (no status history is kept, so
    these two are read as they are now), otherwise by its deadline against `as_of`: overdue once the
    deadline's end has passed (Art. 148.5), nearly_due from `nearly_due_days` working days before it
    (the `deadline_reminder` setting), else within_deadline; no_deadline when it has none.

    Each unit's dict has every category (0 when none), `total` (every counted task except cancelled
    ones: a cancelled task is no longer the unit's to answer for) and `on_time_rate` (completed on time
    / completed with a deadline, rounded to 4 places; None when no task with a deadline was completed).
    One grouped query; the deadline tests are two dates computed once (no Python loop over the rows).
    """
    ids = sorted(set(unit_ids))
    result = {unit_id: _empty() for unit_id in ids}
    if not ids:
        return result
    # Grouped in an outer query: PostgreSQL cannot match a CASE with bound parameters in SELECT and
    # GROUP BY as the same expression.
    rows = categorised(ids, window_from, window_to, now, calendar, nearly_due_days).subquery()
    stmt = select(rows.c.unit_id, rows.c.category, func.count()).group_by(rows.c.unit_id, rows.c.category)
    for unit_id, name, count in session.execute(stmt):
        result[unit_id][name] = count
    for figures in result.values():
        _totals(figures)
    return result


def categorised(unit_ids: Iterable[int], window_from: date, window_to: date, now: datetime,
                calendar: WorkingCalendar, nearly_due_days: int) -> Select:
    """The rows `count_by_unit` counts, one per task: (id, unit_id, category, deadline, urge_count), by its rules.

    A drill-down lists exactly the tasks behind a figure by filtering this on `category` (and the units); the
    deadline and urge count come along from the same index (no second read of the table to order or sum them).
    """
    bounds = _bounds(window_from, window_to, now, calendar, nearly_due_days)
    counted, label = _window_rule(_TaskColumns(), bounds)
    t = TrackedTask
    unit = _unit().label("unit_id")
    return (select(t.id.label("id"), unit, label.label("category"), t.deadline.label("deadline"),
                   t.urge_count.label("urge_count"))
            .where(unit.in_(sorted(set(unit_ids))), counted))


def count_by_window(session: Session, unit_ids: Iterable[int], windows: Sequence[tuple[date, date]], now: datetime,
                    calendar: WorkingCalendar, nearly_due_days: int, names: Sequence[str] = CATEGORIES) -> list[dict]:
    """For each data window, the units' tasks in each category of `names`, summed over the units: what
    `count_by_unit` gives for that window, added up (the same rule builds both), for many windows (a trend)
    in one read of the tasks any of them counts instead of one read per window.

    The rule compares a task's instants only with the windows' starts and cut-offs and its deadline only
    with their threshold dates, so the read first reduces each task to its status and the position of its
    assigned_at, completed_at and deadline among those few values (the same comparisons, exact), groups
    the tasks on them (about a thousand groups for a year of a province), and the rule then labels the groups
    instead of every task."""
    ids = sorted(set(unit_ids))
    if not ids or not windows:
        return [dict.fromkeys(names, 0) for _ in windows]
    all_bounds = [_bounds(window_from, window_to, now, calendar, nearly_due_days) for window_from, window_to in windows]
    t = TrackedTask
    instants = sorted({b.start for b in all_bounds} | {b.as_of for b in all_bounds})
    days = sorted({day for b in all_bounds for day in (b.limits.overdue_through, b.limits.nearly_due_through)
                   if day is not None})
    # Every task some window counts (assigned before the last cut-off, open or closed after the first start).
    rows = (select(t.status.label("status"), _position(t.assigned_at, instants, strict=True).label("assigned"),
                   _position(t.completed_at, instants, strict=True).label("completed"),
                   _position(t.deadline, days, strict=False).label("deadline"))
            .where(_unit().in_(ids), t.assigned_at < instants[-1],
                   or_(t.completed_at.is_(None), t.completed_at >= instants[0]))
            .subquery())
    groups = (select(rows.c.status, rows.c.assigned, rows.c.completed, rows.c.deadline, func.count().label("n"))
              .group_by(rows.c.status, rows.c.assigned, rows.c.completed, rows.c.deadline).subquery())
    columns = _GroupColumns(groups, instants, days)
    labels = []
    for i, bounds in enumerate(all_bounds):
        counted, label = _window_rule(columns, bounds)
        labels.append(case((counted, label), else_=None).label(f"w{i}"))
    result = [dict.fromkeys(names, 0) for _ in windows]
    for *row_labels, count in session.execute(select(*labels, groups.c.n)):
        for figures, label in zip(result, row_labels, strict=True):
            if label in figures:
                figures[label] += count
    return result


@dataclass(frozen=True)
class _Bounds:
    """What the rule compares a task with for one window: the window's start, its cut-off and thresholds."""

    start: datetime
    as_of: datetime
    limits: Thresholds


def _bounds(window_from: date, window_to: date, now: datetime, calendar: WorkingCalendar,
            nearly_due_days: int) -> _Bounds:
    window_start, window_end = window_instants(window_from, window_to)
    as_of = min(now, window_end)
    return _Bounds(window_start, as_of, thresholds(calendar, as_of, nearly_due_days))


class _TaskColumns:
    """The comparisons the rule makes, on the columns of tracked_tasks."""

    def __init__(self):
        self.status = TrackedTask.status
        self.no_deadline = TrackedTask.deadline.is_(None)
        self.still_open = TrackedTask.completed_at.is_(None)

    def assigned_before(self, instant: datetime):
        return TrackedTask.assigned_at < instant

    def completed_before(self, instant: datetime):
        return TrackedTask.completed_at < instant

    def completed_since(self, instant: datetime):
        return TrackedTask.completed_at >= instant

    def deadline_through(self, day: date):
        return TrackedTask.deadline <= day


class _GroupColumns:
    """The same comparisons on `count_by_window`'s groups, which hold positions among `instants` and `days`
    (see `_position`): x < instants[j] is position <= j, x >= instants[j] is position > j, and
    deadline <= days[j] is position <= j. NULL stays NULL, so the rule's NULL tests read the same."""

    def __init__(self, groups, instants: list[datetime], days: list[date]):
        self._c, self._instants, self._days = groups.c, instants, days
        self.status = groups.c.status
        self.no_deadline = groups.c.deadline.is_(None)
        self.still_open = groups.c.completed.is_(None)

    def assigned_before(self, instant: datetime):
        return self._c.assigned <= self._instants.index(instant)

    def completed_before(self, instant: datetime):
        return self._c.completed <= self._instants.index(instant)

    def completed_since(self, instant: datetime):
        return self._c.completed > self._instants.index(instant)

    def deadline_through(self, day: date):
        return self._c.deadline <= self._days.index(day)


def _position(column, values: list, strict: bool):
    # How many of the sorted `values` are below the column's value (strict: x < values[j] holds exactly when the
    # position is <= j; else x <= values[j] does), NULL for NULL: a binary search in nested CASEs, a handful of
    # comparisons a row however many windows there are.
    def search(lo: int, hi: int):
        if lo == hi:
            return literal(lo)
        mid = (lo + hi) // 2
        below = column < values[mid] if strict else column <= values[mid]
        return case((below, search(lo, mid)), else_=search(mid + 1, hi))
    return case((column.is_(None), None), else_=search(0, len(values)))


def _window_rule(columns, bounds: _Bounds):
    # The one place the rule of `count_by_unit` is written: whether a task counts for the window (as a condition)
    # and its category then (a CASE), both in SQL, on the task's columns or on count_by_window's groups.
    limits = bounds.limits
    closed_by_then = and_(columns.status.in_(CLOSED), or_(columns.still_open, columns.completed_before(bounds.as_of)))
    by_deadline = [(columns.no_deadline, literal("no_deadline", String)),
                   (columns.deadline_through(limits.overdue_through), literal("overdue", String))]
    if limits.nearly_due_through is not None:
        by_deadline.append((columns.deadline_through(limits.nearly_due_through), literal("nearly_due", String)))
    status_text = type_coerce(columns.status, String)  # the stored value, not converted back to the enum
    label = case((closed_by_then, status_text), (columns.status.in_(AS_SUCH), status_text), *by_deadline,
                 else_=literal("within_deadline", String))
    counted = and_(columns.assigned_before(bounds.as_of),
                   or_(columns.still_open, columns.completed_since(bounds.start)))
    return counted, label


def _unit():
    # The unit as `lead_unit_id + 0`: an expression no index serves, so that SQLite (never ANALYZEd) reads a
    # window's two ranges of ix_tracked_tasks_window (open tasks, tasks closed since the window's start)
    # instead of every task of the units, unit by unit.
    return TrackedTask.lead_unit_id + 0


def add_up(figures: Iterable[dict]) -> dict:
    """Several units' figures as one (a subtree, the province): the categories summed, then `total` and
    `on_time_rate` computed as `count_by_unit` computes them for one unit."""
    summed = _empty()
    for one in figures:
        for name in CATEGORIES:
            summed[name] += one[name]
    _totals(summed)
    return summed


def _empty() -> dict:
    return dict.fromkeys(CATEGORIES, 0)


def _totals(figures: dict) -> None:
    figures["total"] = sum(figures[name] for name in CATEGORIES if name != "cancelled")
    with_deadline = figures["completed_on_time"] + figures["completed_late"]
    figures["on_time_rate"] = round(figures["completed_on_time"] / with_deadline, 4) if with_deadline else None
