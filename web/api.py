"""The JSON API: the same use cases and the same scoping as the pages, with bearer tokens.

Errors always have one shape: {"error": {"code": ..., "message": ..., "fields": {...}?}}.
"""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from werkzeug.exceptions import HTTPException

from datetime import date

from engine import api_tokens, instances, notifications, task_queries, tracking
from engine import inbox as inbox_module
from engine.errors import EngineError, InvalidInput, NotFound
from engine.forms import FormInvalid
from engine.inbox import inbox
from engine.organisation import Role, UnitKind

from .errors import status_of
from .inbox import mine_for
from .security import actor_for

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.before_request
def _authenticate():
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    ctx = current_app.extensions["engine"]
    with ctx.unit_of_work(readonly=True) as db:
        user = api_tokens.user_for(db, token) if token else None
        if user is None:
            return _error(401, "unauthorized", "a valid bearer token is required")
        g.user, g.actor = user, actor_for(db, user)
    return None


@bp.get("/tasks")
def list_tasks():
    """My ready tasks, soonest due first."""
    args = request.args
    page = inbox(current_app.extensions["engine"], g.actor, process_id=args.get("process"), unit=args.get("unit"),
                 text=args.get("q"), category=args.get("category"), mine=args.get("mine") == "1",
                 page=args.get("page", 1, type=int), per_page=args.get("per_page", 50, type=int))
    return jsonify(total=page.total, counts=page.counts, page=page.page, per_page=page.per_page,
                   items=[_item(i) for i in page.items])


@bp.get("/tasks/<int:instance_id>/<task_id>")
def get_task(instance_id: int, task_id: str):
    """One task with its form schema and current data."""
    details = _visible_details(instance_id, task_id)
    return jsonify(task=_task(details.task), process_id=details.process_id, row_version=details.row_version,
                   form=details.form.schema if details.form else None, data=_json_safe(details.data))


@bp.post("/tasks/<int:instance_id>/<task_id>/complete")
def complete(instance_id: int, task_id: str):
    """Complete a task with {"data": {...}, "row_version": n}; the form validates on the server."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("data", {}), dict):
        raise InvalidInput('the body must be a JSON object {"data": {...}, "row_version": n}')
    _visible_details(instance_id, task_id)
    view = instances.complete_task(current_app.extensions["engine"], instance_id, task_id, body.get("data", {}),
                                   actor=g.user.username, expected_version=body.get("row_version"))
    return jsonify(instance_id=view.id, status=view.status.value, row_version=view.row_version,
                   next_tasks=[_task(t) for t in view.next_tasks])


@bp.post("/tasks/<int:instance_id>/<task_id>/claim")
def claim(instance_id: int, task_id: str):
    """Take a task on; {"release": true} gives it back."""
    body = request.get_json(silent=True) or {}
    ctx = current_app.extensions["engine"]
    (inbox_module.release if body.get("release") else inbox_module.claim)(ctx, g.actor, instance_id, task_id)
    return jsonify(ok=True)


@bp.get("/tracked-tasks")
def tracked_tasks():
    """Tracked tasks this user may see (the Office: all), newest first."""
    args = request.args
    page = task_queries.list_tasks(current_app.extensions["engine"], g.actor.unit_codes, lead_unit=args.get("unit"),
                                   text=args.get("q"), status=args.get("status"), page=args.get("page", 1, type=int),
                                   per_page=args.get("per_page", 50, type=int))
    return jsonify(total=page.total, page=page.page, items=[{
        "id": t.id, "content": t.content, "document": t.document, "lead_unit": t.lead_unit,
        "deadline": t.deadline.isoformat() if t.deadline else None, "status": t.status, "category": t.category,
        "urge_count": t.urge_count} for t in page.rows])


@bp.post("/documents")
def register_document():
    """Register an assigning document with its tasks (the Office); a classified one is refused."""
    if not g.user.roles & {Role.TRACKING_SPECIALIST, Role.OFFICE_LEADER}:
        return _error(403, "forbidden", "only the Provincial Office registers documents")
    body = _object()
    try:
        document = tracking.DocumentInput(
            number_symbol=str(body.get("number_symbol", "")), issued_on=date.fromisoformat(str(body.get("issued_on"))),
            doc_type=str(body.get("doc_type", "")), issuer=str(body.get("issuer", "")), signer=str(body.get("signer", "")),
            summary=str(body.get("summary", "")), classification=str(body.get("classification") or ""))
        tasks = [tracking.TaskInput(
            content=str(t.get("content", "")), lead_unit=str(t.get("lead_unit", "")),
            expected_output=str(t.get("expected_output") or "Báo cáo kết quả"),
            deadline=date.fromisoformat(t["deadline"]) if t.get("deadline") else None,
            update_cadence=t.get("update_cadence"), coordinators=tuple(t.get("coordinators") or ()))
            for t in body.get("tasks") or [] if isinstance(t, dict)]
    except (ValueError, TypeError) as error:
        raise InvalidInput(f"invalid document: {error}") from None
    registered = tracking.register_document(current_app.extensions["engine"], document, tasks, g.user.username)
    return jsonify(document_id=registered.document_id, task_ids=registered.task_ids), 201


@bp.post("/feedback")
def file_feedback():
    """A district or agency reports that a task's lead unit is late (Art. 16.4)."""
    if g.user.unit_kind not in (UnitKind.DISTRICT, UnitKind.OTHER_AGENCY, UnitKind.COMMUNE, UnitKind.SUB_UNIT):
        return _error(403, "forbidden", "only district PCs and agencies file feedback")
    body = _object()
    feedback_id = tracking.file_feedback(current_app.extensions["engine"], _int(body.get("task_id")), g.user.unit_code,
                                         str(body.get("content", "")), g.user.username)
    return jsonify(feedback_id=feedback_id), 201


@bp.post("/tracked-tasks/<int:task_id>/progress")
def record_progress(task_id: int):
    """The lead unit records a progress update (Art. 8.1.b: whenever there is a result)."""
    body = _object()
    if Role.UNIT_FOCAL_POINT not in g.user.roles:
        return _error(403, "forbidden", "only the lead unit's focal point updates progress")
    update_id = tracking.record_progress(current_app.extensions["engine"], task_id, g.user.unit_code,
                                         {k: body.get(k) for k in ("state", "work_done", "difficulties", "proposals",
                                                                   "report_document")}, g.user.username)
    return jsonify(progress_update_id=update_id), 201


@bp.get("/notifications")
def list_notifications():
    """My notifications, newest first."""
    units = g.actor.unit_codes if g.actor.unit_codes is not None else {g.user.unit_code}
    items = notifications.for_user(current_app.extensions["engine"], g.user.id, set(units), set(g.actor.roles))
    return jsonify(items=[{"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "read": n.read,
                           "created_at": n.created_at.isoformat()} for n in items])


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    from .openapi import document

    return jsonify(document())


@bp.errorhandler(FormInvalid)
def _form(error: FormInvalid):
    return _error(422, error.code, str(error), fields=error.messages(request.args.get("lang", "vi")))


@bp.errorhandler(EngineError)
def _engine(error: EngineError):
    return _error(status_of(error), error.code, str(error))


def init_app(app) -> None:
    """Every error under /api/ is JSON of one shape, including 404 and 405 from Flask itself."""

    @app.errorhandler(HTTPException)
    def _http(error):
        if request.path.startswith("/api/"):
            return _error(error.code, error.name.lower().replace(" ", "_"), error.description)
        return error


def _visible_details(instance_id: int, task_id: str):
    details = instances.task_details(current_app.extensions["engine"], instance_id, task_id)
    if not mine_for(g.actor, details.task):
        raise NotFound("no such task among yours")
    return details


def _object() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object")
    return body


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput("task_id must be a number") from None


def _error(status: int, code: str, message: str, **extra):
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status


def _item(i) -> dict:
    return {"instance_id": i.instance_id, "task_id": i.task_id, "bpmn_id": i.bpmn_id, "name": i.name,
            "process_id": i.process_id, "lane": i.lane, "assignee": i.assignee, "category": i.category,
            "due_at": i.due_at.isoformat() if i.due_at else None, "created_at": i.created_at.isoformat(),
            "claimed_by": i.claimed_by}


def _task(t) -> dict:
    return {"instance_id": t.instance_id, "task_id": t.task_id, "bpmn_id": t.bpmn_id, "name": t.name,
            "lane": t.lane, "assignee": t.assignee, "due_at": t.due_at.isoformat() if t.due_at else None}


def _json_safe(data: dict) -> dict:
    return {k: v if isinstance(v, (str, int, float, bool, list, dict, type(None))) else str(v) for k, v in data.items()}
