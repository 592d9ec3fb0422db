"""The actions that keep a task's deadline (Art. 8.1.a) and its receipt review (Art. 8.2.a) in view.

The deadline runs from the assigning document, so `task_followup` hangs the reminder and the overdue
timers on every step the unit holds: the review (review_receipt) and the work (report_completion, again
after a send-back). A step entered after an instant has passed fires its timer at once; the tracked
task's row notes which deadline the unit was reminded of and flagged overdue for, so each notice goes
out once per deadline however many steps carry the timer (a changed deadline is reminded again).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from engine.process.actions import ActionContext, reads
from engine.regulation import access, notifications
from engine.regulation.notifications import NotificationKind as Kind
from engine.regulation.organisation import Role, unit_by_code
from engine.regulation.tracking import get_task
from engine.worktime.calendar import TZ


@reads(tracked_task_id="integer", lead_unit="unit", content="string", due_date="date")
def deadline_reminder(a: ActionContext) -> None:
    """Remind the lead unit that the deadline is near, once per deadline."""
    task, due = get_task(a.session, int(a.data["tracked_task_id"])), _due(a)
    # A step entered after the deadline (a report sent back, a review never opened) fires a reminder
    # that never went out: "deadline near" would then arrive after it, next to the overdue notice.
    if due is None or task.deadline_reminded_for == due or a.now >= _deadline_end(a, due):
        return
    task.deadline_reminded_for = due
    _tell(a, a.data["lead_unit"], Role.UNIT_FOCAL_POINT, Kind.DEADLINE_REMINDER,
          {"content": a.data.get("content", ""), "due_date": f"{due:%d/%m/%Y}"})


@reads(tracked_task_id="integer", lead_unit="unit", content="string", due_date="date")
def task_overdue(a: ActionContext) -> None:
    """No report by the deadline plus the grace (Art. 8.1.a): tell the unit and its follower, once per deadline."""
    task, due = get_task(a.session, int(a.data["tracked_task_id"])), _due(a)
    if due is None or task.overdue_flagged_for == due:
        return
    task.overdue_flagged_for = due
    params = {"content": a.data.get("content", "")}
    _tell(a, a.data["lead_unit"], Role.UNIT_FOCAL_POINT, Kind.OVERDUE, params)
    _tell(a, _follower(a), Role.TRACKING_SPECIALIST, Kind.OVERDUE, params)


@reads(tracked_task_id="integer", lead_unit="unit", content="string", assigned_at="datetime")
def receipt_review_late(a: ActionContext) -> None:
    """The unit has not reviewed the task by the review limit (task_review): tell its follower. Once per
    review: the timer hangs on the review step, whose limit counts from `assigned_at`, which the diagram
    moves when the Office gives a returned task back (corrected, or to another unit)."""
    limit = datetime.fromisoformat(a.ctx.functions["deadline"]("task_review", str(a.data["assigned_at"])))
    last_day = (limit.astimezone(TZ) - timedelta(microseconds=1)).date()  # a limit ends at 24:00 of its day
    _tell(a, _follower(a), Role.TRACKING_SPECIALIST, Kind.RECEIPT_LATE, {
        "content": a.data.get("content", ""), "unit": unit_by_code(a.session, str(a.data["lead_unit"])).name,
        "due": f"{last_day:%d/%m/%Y}"})


def _tell(a: ActionContext, unit_code: str, role: Role, kind: Kind, params: dict) -> None:
    notifications.notify(a.session, kind=kind, params=params, now=a.now, unit_code=unit_code, role=role.value,
                         instance_id=a.instance_id, task_id=a.data.get("tracked_task_id"))


def _follower(a: ActionContext) -> str:
    # The Office for a top-level task, the delegating unit for a delegated part.
    return a.data.get("follower_unit") or access.office_unit(a.session)


def _due(a: ActionContext) -> date | None:
    value = a.data.get("due_date")
    return date.fromisoformat(str(value)[:10]) if value else None


def _deadline_end(a: ActionContext, due: date) -> datetime:
    return a.ctx.calendars.get(a.session).deadline_end(due)


ACTIONS = {f.__name__: f for f in (deadline_reminder, task_overdue, receipt_review_late)}
