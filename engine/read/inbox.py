"""The inbox: ready tasks a person may act on, from the query table only (no workflow loaded).

Who may act is decided in engine.regulation.access (`may_act_on`); `visible` is the same rule
as SQL: the lane stands for a role the actor acts in, the assignee is a unit they act for.
Due-date categories (overdue, nearly due) are computed against thresholds worked out once per
query on the calendar.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, case, func, or_, select

from engine.core import audit
from engine.core.errors import Conflict, NotFound
from engine.process import instances
from engine.process.tables import ProcessInstance, ReadyTask
from engine.read import feedback_directions
from engine.read.inbox_subjects import Subject, subject_matches, subjects
from engine.regulation import access, working_time
from engine.regulation.access import Actor, lanes_for
from engine.regulation.organisation import Unit
from engine.worktime import periods, timer_settings
from engine.worktime.calendar import TZ


class InboxCategory(str, enum.Enum):
    """How a ready task stands against its due date (the same labels as the tasks' status categories)."""

    OVERDUE = "overdue"
    NEARLY_DUE = "nearly_due"
    WITHIN_DEADLINE = "within_deadline"
    NO_DEADLINE = "no_deadline"

    @property
    def label_key(self) -> str:
        """Its label's key in the catalog."""
        return f"category.{self.value}"


@dataclass(frozen=True)
class InboxItem:
    """One row of the inbox."""

    instance_id: int
    task_id: str
    bpmn_id: str
    name: str | None
    process_id: str
    lane: str | None
    assignee: str | None
    due_at: datetime | None
    created_at: datetime
    category: InboxCategory
    claimed_by: str | None = None
    subject: Subject = Subject()   # what the task is about (engine/read/inbox_subjects.py)
    assignee_name: str | None = None


@dataclass(frozen=True)
class InboxPage:
    """A page of the inbox with the totals per category of the whole filtered list."""

    items: list[InboxItem]
    total: int
    counts: dict[InboxCategory, int]
    page: int
    per_page: int


def visible(actor: Actor):
    """SQL condition: the ready task is this actor's to act on."""
    condition = ReadyTask.lane.in_(lanes_for(actor.roles))
    if actor.unit_codes is not None:
        condition = and_(condition, ReadyTask.assignee.in_(actor.unit_codes))
    return condition


def inbox(ctx, actor: Actor, *, process_id: str | None = None, unit: str | None = None, text: str | None = None,
          category: InboxCategory | str | None = None, mine: bool = False, period: str | None = None,
          due_from: datetime | None = None, due_before: datetime | None = None, page: int = 1,
          per_page: int = 50) -> InboxPage:
    """The actor's ready tasks, soonest due first, filtered, one page of them.

    `period` is a month ("2025-05") or a quarter ("2025-Q2"): tasks due within it, Vietnam time;
    a period that does not parse filters nothing.
    """
    page, per_page = max(1, page), min(max(1, per_page), 200)
    if period:
        due_from, due_before = due_window(period) or (due_from, due_before)
    with ctx.unit_of_work(readonly=True) as session:
        now = ctx.now()
        nearly = _nearly_due_threshold(ctx, session, now)
        category_expr = case((ReadyTask.due_at.is_(None), InboxCategory.NO_DEADLINE.value),
                             (ReadyTask.due_at < now, InboxCategory.OVERDUE.value),
                             (ReadyTask.due_at < nearly, InboxCategory.NEARLY_DUE.value),
                             else_=InboxCategory.WITHIN_DEADLINE.value)
        conditions = [visible(actor)]
        if process_id:
            # ready_tasks has no process id: only this filter needs the instances table.
            conditions.append(ReadyTask.instance_id.in_(
                select(ProcessInstance.id).where(ProcessInstance.process_id == process_id)))
        if unit:
            conditions.append(ReadyTask.assignee == unit)
        if text and (about_text := subject_matches(session, ReadyTask.instance_id, text)) is not None:
            # The step's name as before (case-insensitive), or the task's subject (accents ignored too).
            conditions.append(or_(func.lower(ReadyTask.name).contains(text.strip().lower(), autoescape=True),
                                  about_text))
        if mine:
            conditions.append(ReadyTask.claimed_by == actor.username)
        if due_from is not None:
            conditions.append(ReadyTask.due_at >= due_from)
        if due_before is not None:
            conditions.append(ReadyTask.due_at < due_before)
        counts = {InboxCategory(c): n for c, n in session.execute(
            select(category_expr, func.count()).where(*conditions).group_by(category_expr))}
        if category:
            conditions.append(category_expr == str(getattr(category, "value", category)))
        total = counts.get(category, 0) if category else sum(counts.values())
        rows = session.execute(select(ReadyTask, category_expr).where(*conditions)
                               .order_by(ReadyTask.due_at.is_(None), ReadyTask.due_at, ReadyTask.id)
                               .limit(per_page).offset((page - 1) * per_page)).all()
        # The page's process ids in one small query, not a join over every visible task (whose
        # instance rows carry the whole workflow state).
        processes = dict(session.execute(select(ProcessInstance.id, ProcessInstance.process_id).where(
            ProcessInstance.id.in_({r.instance_id for r, _ in rows}))).all()) if rows else {}
        about = subjects(session, set(processes))
        names = dict(session.execute(select(Unit.code, Unit.name).where(
            Unit.code.in_({r.assignee for r, _ in rows if r.assignee}))).all()) if rows else {}
        items = [InboxItem(r.instance_id, r.task_id, r.bpmn_id, r.name, processes[r.instance_id], r.lane, r.assignee,
                           r.due_at, r.created_at, InboxCategory(cat), r.claimed_by,
                           about.get(r.instance_id, Subject()), names.get(r.assignee)) for r, cat in rows]
        return InboxPage(items, total, counts, page, per_page)


def due_window(text: str) -> tuple[datetime, datetime] | None:
    """[start, end) of a month ("2025-05") or quarter ("2025-Q2") in Vietnam time, or None."""
    try:
        if "-Q" in text.upper():
            year, quarter = text.upper().split("-Q")
            span = periods.period_containing("quarterly", date(int(year), 3 * int(quarter) - 2, 1))
        else:
            year, month = text.split("-")
            span = periods.period_containing("monthly", date(int(year), int(month), 1))
    except (ValueError, OverflowError):  # not a month or quarter, or a year no date holds
        return None
    if not 1900 <= span.start.year <= 9000:  # the window's ends must stay dates once moved to UTC
        return None
    return datetime.combine(span.start, time.min, TZ), datetime.combine(span.end + timedelta(days=1), time.min, TZ)


def task_for(ctx, actor: Actor, instance_id: int, task_id: str) -> instances.TaskDetails:
    """A ready task with its form and data, if it is this actor's to act on; NotFound otherwise
    (whether another unit's task exists is not their business). A finished step is shown to those who
    could have acted on it and to whoever completed it (`completed` set, read-only), with the full names
    of the people who finished its steps or appear in its history, and its unit's name."""
    with ctx.unit_of_work(readonly=True) as session:
        details = instances.task_details_in(ctx, session, instance_id, task_id)
        completer = details.completed.by if details.completed else None
        if not (access.may_act_on(actor, details.task.lane, details.task.assignee) or completer == actor.username):
            raise NotFound("inbox_task_not_found")
        steps = (*details.earlier, *((details.completed,) if details.completed else ()))
        actors = {s.by for s in steps} | {e.actor for e in audit.entries_for(session, instance_id)}
        # A task naming no unit is the province's own: the PPC's for its leaders, else the Office's.
        unit_code = details.task.assignee or access.province_unit(session, details.task.lane or "")
        unit_name = session.scalar(select(Unit.name).where(Unit.code == unit_code))
        # What is decided, by name: the task (and for feedback its reporter), a direction given on it.
        direction = feedback_directions.for_instance(session, instance_id)
        return replace(details, people=working_time.people(session, actors), unit_name=unit_name,
                       subject=subjects(session, {instance_id}).get(instance_id), direction=direction)


def task_to_complete(ctx, actor: Actor, instance_id: int, task_id: str) -> instances.TaskDetails:
    """`task_for` a submission: a finished step is refused (Conflict naming who finished it and when),
    so a stale form sent again (Back, a second tab) changes nothing."""
    details = task_for(ctx, actor, instance_id, task_id)
    done = details.completed
    if done is not None:
        raise Conflict("task_already_done", step=details.task.name or details.task.bpmn_id,
                       by=details.people.get(done.by, done.by), at=done.at.astimezone(TZ).strftime("%d/%m/%Y %H:%M"))
    return details


def _nearly_due_threshold(ctx, session, now: datetime) -> datetime:
    # "Nearly due" is the same setting as the deadline reminder: N working days ahead.
    setting = timer_settings.get(session, "deadline_reminder")
    return setting.end_after(now, ctx.calendars.get(session))


def claim(ctx, actor: Actor, instance_id: int, task_id: str) -> None:
    """Take a task on, so colleagues see it is being handled and only its claimer completes it
    (access.may_complete); Conflict if someone else has it (they may `take_over` it)."""
    with ctx.unit_of_work() as session:
        row = _visible_row(session, actor, instance_id, task_id)
        if row.claimed_by not in (None, actor.username):
            raise Conflict("task_claimed_by", user=row.claimed_by)
        row.claimed_by, row.claimed_at = actor.username, ctx.now()


def release(ctx, actor: Actor, instance_id: int, task_id: str) -> None:
    """Give a claimed task back to the unit."""
    with ctx.unit_of_work() as session:
        row = _visible_row(session, actor, instance_id, task_id)
        if row.claimed_by != actor.username:
            raise Conflict("only_claimer_releases")
        row.claimed_by, row.claimed_at = None, None


def take_over(ctx, actor: Actor, instance_id: int, task_id: str) -> str:
    """Take over a task a colleague has claimed (access.may_take_over), audited with whom it was taken
    from; returns their username. Conflict when nobody else holds it."""
    with ctx.unit_of_work() as session:
        row = _visible_row(session, actor, instance_id, task_id)
        if not access.may_take_over(actor, row.lane, row.assignee, row.claimed_by):
            raise Conflict("nothing_to_take_over")
        previous, now = row.claimed_by, ctx.now()
        row.claimed_by, row.claimed_at = actor.username, now
        audit.record(session, at=now, actor=actor.username, action="claim_taken_over", instance_id=instance_id,
                     task_id=task_id, bpmn_id=row.bpmn_id, summary={"from": previous})
        return previous


def _visible_row(session, actor: Actor, instance_id: int, task_id: str) -> ReadyTask:
    row = session.scalars(select(ReadyTask).where(ReadyTask.instance_id == instance_id, ReadyTask.task_id == task_id,
                                                  visible(actor)).with_for_update()).first()
    if row is None:
        raise NotFound("inbox_task_not_found")
    return row
