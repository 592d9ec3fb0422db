"""API: my ready tasks (the inbox), one task with its form, completing, claiming."""
from __future__ import annotations

from functools import partial

from flask import g, jsonify, request

from engine.process import instances
from engine.read import due_reasons
from engine.read import inbox as inbox_queries
from engine.regulation import access

from ..inputs import int_arg
from . import body_matching, bp, ctx, language, openapi


@bp.get("/tasks")
def list_tasks():
    """My ready tasks, soonest due first."""
    args = request.args
    page = inbox_queries.inbox(ctx(), g.actor, process_id=args.get("process"), unit=args.get("unit"),
                               text=args.get("q"), category=args.get("category"), mine=args.get("mine") == "1",
                               period=args.get("period"), page=int_arg("page", 1),
                               per_page=int_arg("per_page", 50, high=200))
    why = _due_reasons({(i.instance_id, i.bpmn_id) for i in page.items})
    return jsonify(total=page.total, counts={c.value: n for c, n in page.counts.items()}, page=page.page,
                   per_page=page.per_page, items=[_item(i, why) for i in page.items])


@bp.get("/tasks/<id:instance_id>/<task_id>")
def get_task(instance_id: int, task_id: str):
    """One task with its form schema and current data; a finished step answers too, `state` "completed" with
    what it was completed with, by whom and when; `earlier_steps` are the steps finished before it."""
    details = inbox_queries.task_for(ctx(), g.actor, instance_id, task_id)
    done = details.completed
    return jsonify(task=_task(details.task), process_id=details.process_id, row_version=details.row_version,
                   form=details.form.schema if details.form else None, data=_json_safe(details.data),
                   state="completed" if done else "ready",
                   completed=_step(done, details.people) if done else None,
                   earlier_steps=[_step(s, details.people) for s in details.earlier],
                   subject=_subject(details.subject) if details.subject else None,
                   direction=_direction(details.direction, details.people) if details.direction else None,
                   due_reason=None if done else _due_reasons({(instance_id, details.task.bpmn_id)}).get(
                       (instance_id, details.task.bpmn_id)))


@bp.get("/tasks/<id:instance_id>/<task_id>/history")
def task_history(instance_id: int, task_id: str):
    """Who did what to the task's instance, oldest first (the task page's history)."""
    inbox_queries.task_for(ctx(), g.actor, instance_id, task_id)
    return jsonify(items=[{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "bpmn_id": e.bpmn_id}
                          for e in instances.history(ctx(), instance_id)])


@bp.post("/tasks/<id:instance_id>/<task_id>/complete")
def complete(instance_id: int, task_id: str):
    """Complete a task with {"data": {...}, "row_version": n}; the form validates on the server."""
    body = body_matching(openapi.COMPLETE)
    inbox_queries.task_to_complete(ctx(), g.actor, instance_id, task_id)
    view = instances.complete_task(ctx(), instance_id, task_id, body.get("data", {}),
                                   actor=g.actor.username, expected_version=body.get("row_version"),
                                   may_complete=partial(access.may_complete, g.actor))
    return jsonify(instance_id=view.id, status=view.status.value, row_version=view.row_version,
                   next_tasks=[_task(t) for t in view.next_tasks])


@bp.post("/tasks/<id:instance_id>/<task_id>/claim")
def claim(instance_id: int, task_id: str):
    """Take a task on; {"release": true} gives it back; {"take_over": true} takes it from a colleague (audited)."""
    body = body_matching(openapi.CLAIM, optional=True)
    if body.get("release"):
        inbox_queries.release(ctx(), g.actor, instance_id, task_id)
    elif body.get("take_over"):
        inbox_queries.take_over(ctx(), g.actor, instance_id, task_id)
    else:
        inbox_queries.claim(ctx(), g.actor, instance_id, task_id)
    return jsonify(ok=True)


def _item(i, why: dict) -> dict:
    return {"instance_id": i.instance_id, "task_id": i.task_id, "bpmn_id": i.bpmn_id, "name": i.name,
            "process_id": i.process_id, "lane": i.lane, "assignee": i.assignee, "category": i.category.value,
            "due_at": i.due_at.isoformat() if i.due_at else None, "created_at": i.created_at.isoformat(),
            "claimed_by": i.claimed_by, "assignee_name": i.assignee_name, "subject": _subject(i.subject),
            "due_reason": why.get((i.instance_id, i.bpmn_id))}


def _due_reasons(steps: set[tuple[int, str]]) -> dict[tuple[int, str], str]:
    # Why each step is due when it is, in the asked language, as the inbox and the task page say it.
    return {step: reason.text(language()) for step, reason in due_reasons.for_steps(ctx(), steps).items()}


def _subject(s) -> dict:
    return {"tracked_task_id": s.tracked_task_id, "content": s.content, "document": s.document,
            "lead_unit_name": s.lead_unit_name, "reporter": s.reporter, "period": s.period}


def _direction(d, people: dict) -> dict:
    # Given in the system (the PPC leader answered) or outside it (the Office recorded it): `outside_system`.
    return {"content": d.content, "given_by": d.given_by, "given_on": d.given_on.isoformat() if d.given_on else None,
            "given_at": d.given_at.isoformat(), "outside_system": d.outside_system, "recorded_by": d.recorded_by,
            "recorded_by_name": people.get(d.recorded_by, d.recorded_by), "notice_number": d.notice_number}


def _task(t) -> dict:
    return {"instance_id": t.instance_id, "task_id": t.task_id, "bpmn_id": t.bpmn_id, "name": t.name,
            "lane": t.lane, "assignee": t.assignee, "due_at": t.due_at.isoformat() if t.due_at else None}


def _step(record, people: dict) -> dict:
    return {"task_id": record.task_id, "bpmn_id": record.bpmn_id, "name": record.name, "by": record.by,
            "by_name": people.get(record.by, record.by), "at": record.at.isoformat(), "data": _json_safe(record.data)}


def _json_safe(data: dict) -> dict:
    return {k: v if isinstance(v, (str, int, float, bool, list, dict, type(None))) else str(v) for k, v in data.items()}
