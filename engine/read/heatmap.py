"""The process heatmap: for each step of a procedure, how long tasks wait there and how many went overdue there,
for a period (the Decree 09/2019 data window, as the reports) and a unit (docs/reports.md).

Read from `step_waits` (engine/process/step_waits.py), one row per user task's wait. For a step:

- finished: waits that ended as done within the window; their median and 90th percentile, in working days
  (working days after the day it became ready, up to the day it was done, that day included: ready Monday
  and done Tuesday is 1) and in hours (elapsed);
- late: finished waits that ended after the task's due time;
- waiting: tasks waiting there at `as_of` (the end of the window, or now while it is open), and how many
  of them were past due then;
- overdue = late + waiting past due.

Cancelled instances' waits and waits interrupted by a failure are not counted. The unit is the step's
assignee: a unit's heatmap counts the steps assigned to it and the units below it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, or_, select

from engine.bpmn import xmlsafe
from engine.core.errors import NotFound
from engine.process.step_waits import DONE, StepWait, epoch
from engine.process.tables import DefinitionVersion
from engine.regulation import organisation, statistics
from engine.regulation.organisation import Unit
from engine.regulation.records import TrackedTask
from engine.worktime.calendar import TZ
from engine.worktime.periods import Period

TASK_LIMIT = 200  # tasks listed for one step; the figures count them all
_BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_STEP_NAMES: dict[int, dict[str, str]] = {}


@dataclass(frozen=True)
class StepFigures:
    """One step's figures (waits in working days and hours; None when nothing finished there)."""

    bpmn_id: str
    name: str
    finished: int
    median_days: float | None
    p90_days: float | None
    median_hours: float | None
    p90_hours: float | None
    late: int
    waiting: int
    waiting_overdue: int
    overdue: int


@dataclass(frozen=True)
class Heatmap:
    """A procedure's heatmap for a period and a unit (None: the province)."""

    process_id: str
    process_name: str
    period_key: str
    data_from: date
    data_to: date
    as_of: datetime
    unit_code: str | None
    unit_name: str
    steps: list[StepFigures]


@dataclass(frozen=True)
class StepTask:
    """A task behind a step's figures, with what it is about."""

    instance_id: int
    task_id: str
    assignee: str | None
    assignee_name: str | None
    ready_at: datetime
    due_at: datetime | None
    done_at: datetime | None
    waiting: bool
    overdue: bool
    working_days: int
    subject: str | None            # the tracked task's content, when the instance follows one
    tracked_task_id: int | None


def heatmap(ctx, process_id: str, period: Period, unit_code: str | None) -> Heatmap:
    """The figures of every step of a procedure that had tasks in the period (steps by name)."""
    now = ctx.now()
    window_start, window_end = statistics.window_instants(period.data_from, period.data_to)
    as_of = min(now, window_end)
    with ctx.unit_of_work(readonly=True) as session:
        name, steps = _process(session, process_id)
        units = _units(session, unit_code)
        calendar = ctx.calendars.get(session)
        w = StepWait
        # Per finished wait, only numbers: the local days it began and ended and its length in seconds,
        # computed by the database (no datetime made per row: 75,000 rows a quarter at 200,000 tasks).
        late_flag = case((and_(w.due_at.is_not(None), w.done_at > w.due_at), 1), else_=0)
        ended = (select(w.bpmn_id, ((w.ready_epoch + _TZ_SECONDS) // _DAY).label("began"),
                        ((w.done_epoch + _TZ_SECONDS) // _DAY).label("ended"),
                        ((w.done_epoch - w.ready_epoch + _HOUR // 2) // _HOUR).label("hours"),
                        late_flag.label("late"))
                 .where(w.process_id == process_id, w.done_at >= window_start, w.done_at < window_end,
                        w.ended == DONE))
        ended = _scoped(ended, units).subquery()
        # Counted by (step, first day, last day) and by (step, hours to the nearest), in the database: the rows that
        # come back are a few thousand whatever the number of tasks, not one per wait.
        by_days = session.execute(select(ended.c.bpmn_id, ended.c.began, ended.c.ended, func.count(),
                                         func.sum(ended.c.late))
                                  .group_by(ended.c.bpmn_id, ended.c.began, ended.c.ended)).all()
        by_hours = session.execute(select(ended.c.bpmn_id, ended.c.hours, func.count())
                                   .group_by(ended.c.bpmn_id, ended.c.hours)).all()
        # Waiting at as_of: still open, or ended after it. Two ranges of the covering index; one condition
        # with OR would read every wait of the process.
        past_due = func.coalesce(func.sum(case((w.due_at <= as_of, 1), else_=0)), 0)
        waiting = [row for still in (w.done_at.is_(None), and_(w.done_at >= as_of, w.ended == DONE))
                   for row in session.execute(_scoped(
                       select(w.bpmn_id, func.count(), past_due).where(w.process_id == process_id, still,
                                                                       w.ready_epoch < epoch(as_of)), units)
                       .group_by(w.bpmn_id)).all()]
        unit_name = organisation.unit_by_code(session, unit_code).name if unit_code else ""
        days = _working_day_index(calendar, by_days)
    waits: dict[str, dict[int, int]] = {}   # step -> working days -> how many waits
    late: dict[str, int] = {}
    for bpmn_id, began, last, count, was_late in by_days:
        spread = waits.setdefault(bpmn_id, {})
        length = days[last] - days[began]
        spread[length] = spread.get(length, 0) + count
        late[bpmn_id] = late.get(bpmn_id, 0) + int(was_late or 0)
    hours: dict[str, dict[int, int]] = {}
    for bpmn_id, whole, count in by_hours:
        hours.setdefault(bpmn_id, {})[int(whole)] = count
    open_counts: dict[str, tuple[int, int]] = {}
    for bpmn_id, count, overdue in waiting:
        before = open_counts.get(bpmn_id, (0, 0))
        open_counts[bpmn_id] = (before[0] + count, before[1] + int(overdue))
    figures = [_step(bpmn_id, steps.get(bpmn_id, bpmn_id), waits.get(bpmn_id, {}), hours.get(bpmn_id, {}),
                     late.get(bpmn_id, 0), *open_counts.get(bpmn_id, (0, 0)))
               for bpmn_id in sorted(set(waits) | set(open_counts) | set(steps), key=lambda b: steps.get(b, b))]
    return Heatmap(process_id, name, period.key, period.data_from, period.data_to, as_of, unit_code, unit_name,
                   figures)


def step_tasks(ctx, process_id: str, bpmn_id: str, period: Period, unit_code: str | None) -> list[StepTask]:
    """The tasks behind one step's figures (finished in the window or waiting at its end), longest wait first."""
    now = ctx.now()
    window_start, window_end = statistics.window_instants(period.data_from, period.data_to)
    as_of = min(now, window_end)
    with ctx.unit_of_work(readonly=True) as session:
        _process(session, process_id)
        units = _units(session, unit_code)
        calendar = ctx.calendars.get(session)
        w = StepWait
        finished_in_window = and_(w.ended == DONE, w.done_at >= window_start, w.done_at < window_end)
        still_then = or_(w.done_at.is_(None), w.done_at >= as_of)
        waiting_then = and_(w.ready_at < as_of, or_(w.done_at.is_(None), and_(w.done_at >= as_of, w.ended == DONE)))
        # The longest waits first, in seconds (to as_of for those still waiting then), so the limit keeps them.
        waited = case((still_then, epoch(as_of)), else_=w.done_epoch) - w.ready_epoch
        rows = session.execute(_scoped(
            select(w.instance_id, w.task_id, w.assignee, Unit.name, w.ready_at, w.due_at, w.done_at,
                   TrackedTask.content, TrackedTask.id)
            .outerjoin(Unit, Unit.code == w.assignee).outerjoin(TrackedTask, TrackedTask.instance_id == w.instance_id)
            .where(w.process_id == process_id, w.bpmn_id == bpmn_id, or_(finished_in_window, waiting_then))
            .order_by(waited.desc(), w.id).limit(TASK_LIMIT), units)).all()
    tasks = []
    for instance_id, task_id, assignee, unit_name, ready_at, due_at, done_at, content, tracked_id in rows:
        still = done_at is None or done_at >= as_of
        end = as_of if still else done_at
        tasks.append(StepTask(instance_id, task_id, assignee, unit_name, ready_at, due_at, None if still else done_at,
                              still, due_at is not None and end > due_at if not still else due_at is not None
                              and due_at <= as_of, _working_days(calendar, ready_at, end), content, tracked_id))
    tasks.sort(key=lambda t: (-t.working_days, t.ready_at))
    return tasks[:TASK_LIMIT]


def _process(session, process_id: str) -> tuple[str, dict[str, str]]:
    """The latest version's name and its user tasks' names by BPMN id; NotFound for a process never deployed."""
    row = session.execute(select(DefinitionVersion.id, DefinitionVersion.name)
                          .where(DefinitionVersion.process_id == process_id)
                          .order_by(DefinitionVersion.version.desc()).limit(1)).first()
    if row is None:
        raise NotFound("definition_not_found", process=process_id[:200])
    if row.id not in _STEP_NAMES:  # a deployed version never changes: its names are read once
        xml = session.scalar(select(DefinitionVersion.bpmn_xml).where(DefinitionVersion.id == row.id))
        tree = xmlsafe.parse_xml(bytes(xml))
        _STEP_NAMES[row.id] = {element.get("id"): element.get("name") or element.get("id")
                               for element in tree.iter(f"{{{_BPMN}}}userTask")}
    return row.name or process_id, _STEP_NAMES[row.id]


def diagram_xml(ctx, process_id: str) -> bytes:
    """The latest deployed version's diagram, on which the heatmap is drawn."""
    with ctx.unit_of_work(readonly=True) as session:
        xml = session.scalar(select(DefinitionVersion.bpmn_xml).where(DefinitionVersion.process_id == process_id)
                             .order_by(DefinitionVersion.version.desc()).limit(1))
    if xml is None:
        raise NotFound("definition_not_found", process=process_id[:200])
    return bytes(xml)


def processes(ctx) -> list[tuple[str, str]]:
    """The deployed procedures that have user tasks, (process id, name) by name, for the picker."""
    with ctx.unit_of_work(readonly=True) as session:
        rows = session.execute(select(DefinitionVersion.process_id, DefinitionVersion.name, DefinitionVersion.version)
                               .order_by(DefinitionVersion.process_id, DefinitionVersion.version)).all()
    latest = {process_id: name or process_id for process_id, name, _ in rows}
    return sorted(latest.items(), key=lambda item: item[1])


def _units(session, unit_code: str | None) -> list[str] | None:
    return None if unit_code is None else organisation.subtree_codes(session, unit_code)


def _scoped(stmt, units: list[str] | None):
    return stmt if units is None else stmt.where(StepWait.assignee.in_(units))


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Local days and hours from the epoch columns with integer arithmetic (integer division on both databases;
# Vietnam is UTC+7 all year, no summer time).
_TZ_SECONDS, _DAY, _HOUR = 7 * 3600, 86400, 3600


def _working_day_index(calendar, rows) -> dict[int, int]:
    """For every local day number the rows span: how many working days there are up to it (a running count),
    so the working days after one day up to another are a subtraction."""
    numbers = [n for row in rows for n in (row[1], row[2])]
    if not numbers:
        return {}
    index, running = {}, 0
    for number in range(min(numbers), max(numbers) + 1):
        running += calendar.is_working_day(date.fromordinal(_EPOCH_ORDINAL + number))
        index[number] = running
    return index


def _working_days(calendar, start: datetime, end: datetime) -> int:
    return calendar.working_days_between(start.astimezone(TZ).date(), end.astimezone(TZ).date())


def _percentile(counts: dict[int, int], share: float) -> float:
    """The percentile of values given as value -> how many: linear between the two values around the rank
    (as PERCENTILE_CONT)."""
    total = sum(counts.values())
    rank = share * (total - 1)
    low, high, seen = None, None, 0
    for value in sorted(counts):
        seen += counts[value]
        if low is None and seen > int(rank):
            low = value
        if seen > min(int(rank) + 1, total - 1):
            high = value
            break
    return low + (high - low) * (rank - int(rank))


def _step(bpmn_id: str, name: str, days: dict[int, int], hours: dict[int, int], late: int, waiting: int,
          waiting_overdue: int) -> StepFigures:
    def stat(values, share):  # noqa: E306
        return round(_percentile(values, share), 1) if values else None
    return StepFigures(bpmn_id, name, sum(days.values()), stat(days, .5), stat(days, .9), stat(hours, .5),
                       stat(hours, .9), late, waiting, waiting_overdue, late + waiting_overdue)
