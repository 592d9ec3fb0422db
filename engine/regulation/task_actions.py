"""The domain actions that the shipped diagrams name in their `action` properties.

Each runs in the transaction of the workflow step that reached its element, with a copy of that
element's data, and keeps the tracked task's row, records and notifications in step.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select, update

from engine.core.errors import NotFound
from engine.process import schedules
from engine.process.actions import ActionContext, reads
from engine.process.instances import start_in
from engine.process.tables import Schedule
from engine.regulation import access, notifications, organisation
from engine.regulation.notifications import NotificationKind as Kind
from engine.regulation.organisation import Role
from engine.regulation.records import (
    Direction,
    Feedback,
    FeedbackOutcome,
    ProgressState,
    TaskStatus,
    TrackedTask,
    UrgingDocument,
)
from engine.regulation.tracking import active_unit, add_progress, get_task
from engine.worktime import periods


def _set_status(a: ActionContext, status: TaskStatus, **values: Any) -> TrackedTask:
    task = get_task(a.session, int(a.data["tracked_task_id"]))
    task.status = status
    for name, value in values.items():
        setattr(task, name, value)
    return task


def _notify_unit(a: ActionContext, unit_code: str, role: Role, kind: Kind, params: dict, body: str = "") -> None:
    notifications.notify(a.session, kind=kind, params=params, body=body, now=a.now, unit_code=unit_code,
                         role=role.value, instance_id=a.instance_id, task_id=a.data.get("tracked_task_id"))


def _notify_office(a: ActionContext, kind: Kind, params: dict, body: str = "",
                   role: Role = Role.TRACKING_SPECIALIST) -> None:
    # The follower of a task: the Office for a top-level task, the delegating unit for a part.
    # Without one (feedback is the Office's own business) the notice names the Office.
    notifications.notify(a.session, kind=kind, params=params, body=body, now=a.now, role=role.value,
                         unit_code=a.data.get("follower_unit") or access.office_unit(a.session),
                         instance_id=a.instance_id,
                         task_id=a.data.get("tracked_task_id"))


def _content(a: ActionContext) -> dict:
    return {"content": a.data.get("content", "")}


@reads(tracked_task_id="integer", has_deadline="boolean", lead_unit="unit", coordinators="array")
def task_accepted(a: ActionContext) -> None:
    """The lead unit accepted the task; a task without a deadline gets its periodic updates."""
    task = _set_status(a, TaskStatus.IN_PROGRESS if a.data.get("has_deadline") else TaskStatus.NO_DEADLINE)
    if not task.deadline and task.update_cadence:
        a.session.add(_schedule_for(a, task))
    for code in a.data.get("coordinators") or []:
        start_in(a.ctx, a.session, "coordinator_input", {
            "tracked_task_id": task.id, "coordinator": code, "lead_unit": a.data["lead_unit"],
            "content": task.content, "assigned_at": a.now.isoformat()}, a.actor, parent_id=a.instance_id)


def _schedule_for(a: ActionContext, task: TrackedTask) -> Schedule:
    period = periods.period_containing(task.update_cadence, a.now.date())
    return Schedule(process_id="periodic_update", cadence=task.update_cadence,
                    data={"tracked_task_id": task.id, "lead_unit": a.data["lead_unit"], "task_title": task.content},
                    parent_id=a.instance_id, next_period=period.start.isoformat(),
                    next_run_at=schedules.run_at(period), grace_setting="update_grace", active=True,
                    cycles_started=0, created_by=a.actor, created_at=a.now)


@reads(tracked_task_id="integer", content="string", return_reason="string")
def task_returned(a: ActionContext) -> None:
    """The unit returned the task to the Office with a reason (Art. 8.2.a)."""
    _set_status(a, TaskStatus.RETURNED)
    _notify_office(a, Kind.TASK_RETURNED, _content(a), a.data.get("return_reason", ""))


@reads(tracked_task_id="integer", has_deadline="boolean", lead_unit="unit")
def task_rerouted(a: ActionContext) -> None:
    """The Office sent the task to another lead unit."""
    unit = active_unit(a.session, str(a.data.get("lead_unit")))
    _set_status(a, TaskStatus.IN_PROGRESS if a.data.get("has_deadline") else TaskStatus.NO_DEADLINE,
                lead_unit_id=unit.id)


@reads(tracked_task_id="integer", has_deadline="boolean", content="string")
def task_corrected(a: ActionContext) -> None:
    """The Office corrected the task's description and sent it back to the unit."""
    _set_status(a, TaskStatus.IN_PROGRESS if a.data.get("has_deadline") else TaskStatus.NO_DEADLINE,
                content=str(a.data.get("content", "")))


@reads(tracked_task_id="integer")
def task_cancelled(a: ActionContext) -> None:
    """The Office cancelled the task."""
    task = _set_status(a, TaskStatus.CANCELLED, completed_at=a.now)
    _stop_schedules(a, task)


@reads(tracked_task_id="integer", result="string", report_document="string")
def completion_reported(a: ActionContext) -> None:
    """The unit reported completion: the Office must confirm (awaiting confirmation)."""
    task = _set_status(a, TaskStatus.AWAITING_CONFIRMATION)
    add_progress(a.session, task.id, task.lead_unit_id, {"state": ProgressState.DONE, "work_done": a.data.get("result"),
                 "report_document": a.data.get("report_document")}, None, a.actor, a.now)


@reads(tracked_task_id="integer", has_deadline="boolean", lead_unit="unit", content="string", reason="string")
def completion_sent_back(a: ActionContext) -> None:
    """The Office sent the completion report back."""
    _set_status(a, TaskStatus.IN_PROGRESS if a.data.get("has_deadline") else TaskStatus.NO_DEADLINE)
    _notify_unit(a, a.data["lead_unit"], Role.UNIT_FOCAL_POINT, Kind.SENT_BACK, _content(a), a.data.get("reason", ""))


@reads(tracked_task_id="integer", completed_on="date")
def completion_confirmed(a: ActionContext) -> None:
    """The Office confirmed completion: on time, late, or without deadline."""
    task = get_task(a.session, int(a.data["tracked_task_id"]))
    done_on = date.fromisoformat(str(a.data.get("completed_on") or a.now.date().isoformat()))
    if task.deadline is None:
        status = TaskStatus.COMPLETED_NO_DEADLINE
    else:
        status = TaskStatus.COMPLETED_ON_TIME if done_on <= task.deadline else TaskStatus.COMPLETED_LATE
    _set_status(a, status, completed_at=a.now)
    _stop_schedules(a, task)


@reads(tracked_task_id="integer", work_done="string")
def progress_recorded(a: ActionContext) -> None:
    """A periodic or requested update was submitted."""
    task = get_task(a.session, int(a.data["tracked_task_id"]))
    add_progress(a.session, task.id, task.lead_unit_id, a.data, a.data.get("period_key"), a.actor, a.now)


@reads(feedback_id="integer", number_symbol="string", issued_on="date", summary="string", department="unit",
       provider_unit="unit")
def feedback_urged(a: ActionContext) -> None:
    """The Office issued an urging document; the department is urged, the provider copied (Art. 15.5)."""
    feedback = _close_feedback(a, FeedbackOutcome.URGE)
    a.session.add(UrgingDocument(task_id=feedback.task_id, feedback_id=feedback.id,
                                 number_symbol=str(a.data.get("number_symbol", "")),
                                 issued_on=date.fromisoformat(str(a.data.get("issued_on"))),
                                 summary=str(a.data.get("summary", "")), issued_by=a.actor))
    a.session.execute(update(TrackedTask).where(TrackedTask.id == feedback.task_id)
                      .values(urge_count=TrackedTask.urge_count + 1))
    _tell_department_and_provider(a, Kind.URGING, Kind.URGING_COPY, {"number": a.data.get("number_symbol")},
                                  str(a.data.get("summary", "")))


@reads(feedback_id="integer", direction="string")
def direction_given(a: ActionContext) -> None:
    """The PPC leader answered the Office's request for direction in the system (Art. 15.5): recorded with
    their name; the specialist is told by the notice task it makes ready."""
    try:
        given_by = organisation.user_by_username(a.session, a.actor, include_inactive=True).full_name
    except NotFound:  # a system actor (a script, a test): its name is all there is
        given_by = a.actor
    a.session.add(Direction(feedback_id=int(a.data["feedback_id"]), content=str(a.data.get("direction", "")),
                            given_at=a.now, given_by=given_by, outside_system=False, recorded_by=a.actor))


@reads(feedback_id="integer", direction="string", directed_by="string", directed_on="date")
def direction_recorded(a: ActionContext) -> None:
    """The Office leader recorded a direction the PPC leadership gave outside the system: who, which day."""
    a.session.add(Direction(feedback_id=int(a.data["feedback_id"]), content=str(a.data.get("direction", "")),
                            given_at=a.now, given_by=str(a.data.get("directed_by", "")),
                            given_on=date.fromisoformat(str(a.data.get("directed_on"))), outside_system=True,
                            recorded_by=a.actor))


@reads(feedback_id="integer", direction="string", notice_number="string", department="unit", provider_unit="unit")
def direction_notified(a: ActionContext) -> None:
    """The Office notified the PPC's direction to the department, copying the provider (Art. 15.5)."""
    feedback = _close_feedback(a, FeedbackOutcome.ASK_DIRECTION)
    direction = a.session.scalars(select(Direction).where(Direction.feedback_id == feedback.id)
                                  .order_by(Direction.id.desc()).limit(1)).first()
    if direction is None:  # an instance of a version before issue 13: the Office leader typed it in
        direction = Direction(feedback_id=feedback.id, content=str(a.data.get("direction", "")), given_at=a.now,
                              outside_system=True)
        a.session.add(direction)
    direction.notice_number = str(a.data.get("notice_number", ""))
    _tell_department_and_provider(a, Kind.DIRECTION, Kind.DIRECTION_COPY, {"number": a.data.get("notice_number")},
                                  str(a.data.get("direction", "")))


@reads(feedback_id="integer", answer="string", provider_unit="unit")
def feedback_unfounded(a: ActionContext) -> None:
    """The feedback had no basis; the provider is told why."""
    _close_feedback(a, FeedbackOutcome.UNFOUNDED)
    notifications.notify(a.session, kind=Kind.FEEDBACK_ANSWER, params={},
                         body=str(a.data.get("answer", "")), now=a.now, unit_code=a.data.get("provider_unit"),
                         role=Role.UNIT_FOCAL_POINT.value, instance_id=a.instance_id,
                         task_id=a.data.get("tracked_task_id"))


@reads(content="string")
def feedback_reminder(a: ActionContext) -> None:
    """Remind the tracking specialist that the 7-working-day limit is near."""
    _notify_office(a, Kind.FEEDBACK_REMINDER, {}, a.data.get("content", ""))


@reads(content="string")
def feedback_overdue(a: ActionContext) -> None:
    """The Office's limit passed: escalate to the Office leader."""
    _notify_office(a, Kind.FEEDBACK_OVERDUE, {}, a.data.get("content", ""), role=Role.OFFICE_LEADER)


def _close_feedback(a: ActionContext, outcome: FeedbackOutcome) -> Feedback:
    feedback = a.session.get(Feedback, int(a.data["feedback_id"]))
    feedback.outcome, feedback.closed_at = outcome.value, a.now
    return feedback


def _tell_department_and_provider(a: ActionContext, kind: Kind, copy: Kind, params: dict, body: str) -> None:
    _notify_unit(a, a.data["department"], Role.UNIT_FOCAL_POINT, kind, params, body)
    # "gửi đồng thời cho cơ quan, đơn vị phản hồi thông tin để biết"
    _notify_unit(a, a.data["provider_unit"], Role.UNIT_FOCAL_POINT, copy, params, body)


def _stop_schedules(a: ActionContext, task: TrackedTask) -> None:
    a.session.execute(update(Schedule).where(Schedule.parent_id == task.instance_id, Schedule.active)
                      .values(active=False))


@reads(tracked_task_id="integer", coordinator="unit", lead_unit="unit", content="string", report_document="string")
def coordinator_input_given(a: ActionContext) -> None:
    """A coordinating unit supplied its information (Art. 10.2.b); the lead unit is told."""
    task = get_task(a.session, int(a.data["tracked_task_id"]))
    unit = active_unit(a.session, str(a.data["coordinator"]))
    add_progress(a.session, task.id, unit.id, {"state": ProgressState.INPUT, "work_done": a.data.get("content"),
                 "report_document": a.data.get("report_document")}, None, a.actor, a.now)
    _notify_unit(a, a.data["lead_unit"], Role.UNIT_FOCAL_POINT, Kind.COORDINATOR_INPUT, {"content": task.content},
                 str(a.data.get("content", "")))


ACTIONS = {f.__name__: f for f in (
    task_accepted, task_returned, task_rerouted, task_corrected, task_cancelled, completion_reported,
    completion_sent_back, completion_confirmed, progress_recorded,
    feedback_urged, direction_given, direction_recorded, direction_notified, feedback_unfounded, feedback_reminder,
    feedback_overdue,
    coordinator_input_given)}
