"""The page of one tracked task and what people do there: the Office asks for an update, the lead
unit updates progress (with attachments) or delegates parts to the units below it."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for

from engine import attachments, task_queries, tracking
from engine.errors import InvalidInput, NotFound
from engine.organisation import Role

from .i18n import translate as _
from .security import login_required

bp = Blueprint("tracked", __name__)


@bp.get("/office/tasks/<int:task_id>")
@login_required
def show(task_id: int):
    """A task with its updates, attachments, delegated parts, and the actions this user may take."""
    page = _visible(task_id)
    ctx = current_app.extensions["engine"]
    files = {u.id: attachments.list_for(ctx, "progress_update", u.id) for u in page.updates}
    return render_template("tracked.html", page=page, files=files, can=_abilities(page))


@bp.post("/office/tasks/<int:task_id>/request-update")
@login_required
def request_update(task_id: int):
    """The Office asks the lead unit for an update now (Art. 8.1.b)."""
    page = _visible(task_id)
    if not _abilities(page)["request_update"]:
        abort(403)
    tracking.request_update(current_app.extensions["engine"], task_id, request.form.get("note", ""), g.user.username)
    flash(_("update_requested"))
    return redirect(url_for("tracked.show", task_id=task_id), 303)


@bp.post("/office/tasks/<int:task_id>/progress")
@login_required
def progress(task_id: int):
    """The lead unit records progress, with attachments checked for size and type."""
    page = _visible(task_id)
    if not _abilities(page)["update"]:
        abort(403)
    ctx = current_app.extensions["engine"]
    fields = {k: request.form.get(k, "") for k in ("state", "work_done", "difficulties", "proposals", "report_document")}
    try:
        update_id = tracking.record_progress(ctx, task_id, page.task.lead_unit, fields, g.user.username)
    except InvalidInput as error:
        flash(str(error), "error")
        return redirect(url_for("tracked.show", task_id=task_id), 303)
    refused = []
    for upload in request.files.getlist("files"):
        if upload and upload.filename:
            try:
                attachments.store(ctx, "progress_update", update_id, upload.filename, upload.stream, g.user.username)
            except attachments.AttachmentRefused as error:
                refused.append(f"{upload.filename}: {error.message if g.lang == 'vi' else error.message_en}")
    flash(_("progress_saved"))
    for message in refused:  # the update itself is kept: nothing typed is lost
        flash(message, "error")
    return redirect(url_for("tracked.show", task_id=task_id), 303)


@bp.post("/office/tasks/<int:task_id>/delegate")
@login_required
def delegate(task_id: int):
    """The lead unit passes a part of the task to a unit below it."""
    page = _visible(task_id)
    if not _abilities(page)["delegate"]:
        abort(403)
    try:
        deadline = date.fromisoformat(request.form.get("deadline", "")) if request.form.get("deadline") else None
        tracking.delegate(current_app.extensions["engine"], task_id, g.user.unit_code, [tracking.DelegatedPart(
            request.form.get("unit", "").strip(), request.form.get("content", ""), deadline)], g.user.username)
    except (InvalidInput, NotFound, ValueError) as error:
        flash(str(error), "error")
        return redirect(url_for("tracked.show", task_id=task_id), 303)
    flash(_("delegated"))
    return redirect(url_for("tracked.show", task_id=task_id), 303)


@bp.get("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    """An attachment, for those who may see its task."""
    ctx = current_app.extensions["engine"]
    view, stream = attachments.open_attachment(ctx, attachment_id)
    try:
        data = stream.read()
    finally:
        stream.close()
    if view.owner_kind != "progress_update":
        abort(404)
    from engine.records import ProgressUpdate

    with ctx.unit_of_work(readonly=True) as session:
        update = session.get(ProgressUpdate, view.owner_id)
    _visible(update.task_id)
    return Response(data, mimetype=view.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(view.filename)}",
        "X-Content-Type-Options": "nosniff"})


def _visible(task_id: int):
    page = task_queries.task_page(current_app.extensions["engine"], task_id)
    if g.actor.unit_codes is not None and page.task.lead_unit not in g.actor.unit_codes:
        abort(404)  # another unit's task: not even its existence is shown
    return page


def _abilities(page) -> dict[str, bool]:
    roles = g.user.roles
    lead = g.user.unit_code == page.task.lead_unit and Role.UNIT_FOCAL_POINT in roles
    open_ = page.task.status in ("in_progress", "no_deadline", "awaiting_confirmation", "returned")
    return {"request_update": open_ and Role.TRACKING_SPECIALIST in roles and g.actor.unit_codes is None,
            "update": open_ and lead, "delegate": open_ and lead}


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
