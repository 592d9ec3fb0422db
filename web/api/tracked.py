"""API: tracked tasks (list, one task, progress, ad hoc update request, delegation), registering
documents and filing feedback. Each action asks `engine.regulation.access` as its page does."""
from __future__ import annotations

from datetime import date

from flask import g, jsonify, request

from engine.bpmn import forms
from engine.core import i18n
from engine.core.errors import InvalidInput
from engine.read import feedback_choices, task_queries
from engine.regulation import access, tracking

from ..inputs import int_arg, parse_id
from . import body_matching, bp, ctx, forbid_unless, language, openapi, to_json

PROGRESS_FIELDS = ("state", "work_done", "difficulties", "proposals", "report_document")


@bp.get("/tracked-tasks")
def tracked_tasks():
    """Tracked tasks this user may see (the Office: all), newest first."""
    args = request.args
    page = task_queries.list_tasks(ctx(), g.actor.unit_codes, lead_unit=args.get("unit"),
                                   text=args.get("q"), status=args.get("status"), page=int_arg("page", 1),
                                   per_page=int_arg("per_page", 50, high=200))
    return jsonify(total=page.total, page=page.page, items=[{
        "id": t.id, "content": t.content, "document": t.document, "lead_unit": t.lead_unit,
        "deadline": t.deadline.isoformat() if t.deadline else None, "status": t.status, "category": t.category,
        "urge_count": t.urge_count} for t in page.rows])


@bp.get("/tracked-tasks/<id:task_id>")
def tracked_task(task_id: int):
    """One tracked task: its updates, delegated parts, feedback count and what I may do on it."""
    return jsonify(to_json(task_queries.task_page_for(ctx(), g.actor, task_id)))


@bp.post("/tracked-tasks/<id:task_id>/progress")
def record_progress(task_id: int):
    """The lead unit records a progress update (Art. 8.1.b: whenever there is a result): a JSON body, or
    multipart/form-data with the same fields and its attachments as `files`; one refused file stores nothing."""
    page = task_queries.task_page_for(ctx(), g.actor, task_id)
    forbid_unless(page.abilities.update, "lead_focal_updates")
    if request.mimetype == "multipart/form-data":
        body = {k: request.form[k] for k in PROGRESS_FIELDS if k in request.form}
        forms.check_json(openapi.PROGRESS, body, language())
        files = [(f.filename, f.stream) for f in request.files.getlist("files") if f and f.filename]
    else:
        body, files = body_matching(openapi.PROGRESS), []
    update_id = tracking.record_progress(ctx(), task_id, g.actor.unit_code,
                                         {k: body.get(k) for k in PROGRESS_FIELDS}, g.actor.username, files)
    return jsonify(progress_update_id=update_id), 201


@bp.post("/tracked-tasks/<id:task_id>/request-update")
def request_update(task_id: int):
    """The Office asks the lead unit for an update now (Art. 8.1.b): {"note": "..."}."""
    page = task_queries.task_page_for(ctx(), g.actor, task_id)
    forbid_unless(page.abilities.request_update, "office_requests_update")
    body = body_matching(openapi.REQUEST_UPDATE)
    instance_id = tracking.request_update(ctx(), task_id, body["note"], g.actor.username)
    return jsonify(instance_id=instance_id), 201


@bp.post("/tracked-tasks/<id:task_id>/delegate")
def delegate(task_id: int):
    """The lead unit passes parts to units below it: {"parts": [{"unit", "content", "deadline"?}]}."""
    page = task_queries.task_page_for(ctx(), g.actor, task_id)
    forbid_unless(page.abilities.delegate, "lead_focal_delegates")
    body = body_matching(openapi.DELEGATE)
    try:
        parts = [tracking.DelegatedPart(str(p.get("unit", "")).strip(), str(p.get("content", "")),
                                        date.fromisoformat(p["deadline"]) if p.get("deadline") else None)
                 for p in body.get("parts") or [] if isinstance(p, dict)]
    except (TypeError, ValueError) as failure:
        raise InvalidInput("part_invalid", detail=str(failure)) from None
    task_ids = tracking.delegate(ctx(), task_id, g.actor.unit_code, parts, g.actor.username)
    return jsonify(task_ids=task_ids), 201


@bp.post("/documents")
def register_document():
    """Register an assigning document with its tasks (the Office); a classified one is refused."""
    forbid_unless(access.may_register_documents(g.actor), "office_registers")
    body = body_matching(openapi.DOCUMENT)
    try:
        document = tracking.DocumentInput(
            number_symbol=str(body.get("number_symbol", "")), issued_on=date.fromisoformat(str(body.get("issued_on"))),
            doc_type=str(body.get("doc_type", "")), issuer=str(body.get("issuer", "")),
            signer=str(body.get("signer", "")),
            summary=str(body.get("summary", "")), classification=str(body.get("classification") or ""))
        tasks = [tracking.TaskInput(
            content=str(t.get("content", "")), lead_unit=str(t.get("lead_unit", "")),
            expected_output=str(t.get("expected_output") or i18n.text("default_expected_output")),
            deadline=date.fromisoformat(t["deadline"]) if t.get("deadline") else None,
            update_cadence=t.get("update_cadence"), coordinators=tuple(t.get("coordinators") or ()))
            for t in body.get("tasks") or [] if isinstance(t, dict)]
    except (ValueError, TypeError) as failure:
        raise InvalidInput("document_invalid", detail=str(failure)) from None
    registered = tracking.register_document(ctx(), document, tasks, g.actor.username)
    return jsonify(document_id=registered.document_id, task_ids=registered.task_ids), 201


@bp.post("/feedback")
def file_feedback():
    """A district or agency reports that a task's lead unit is late (Art. 16.4)."""
    forbid_unless(access.may_file_feedback(g.actor), "feedback_filers_only")
    body = body_matching(openapi.FEEDBACK)
    task = feedback_choices.reportable_task(ctx(), g.actor, parse_id(body.get("task_id"), "task_id"))
    feedback_id = tracking.file_feedback(ctx(), task.id, g.actor.unit_code, body.get("content", ""),
                                         g.actor.username)
    return jsonify(feedback_id=feedback_id), 201
