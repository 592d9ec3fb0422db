"""The page of one tracked task and what people do there: the Office asks for an update, the lead
unit updates progress (with attachments) or delegates parts to the units below it. What each
person may do there is `engine.regulation.access.abilities`, carried on the page read model."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for

from engine.core.errors import InvalidInput, NotFound
from engine.read import task_queries, unit_choices
from engine.regulation import attachments, tracking
from engine.regulation.records import ProgressState

from .i18n import error_text, parse_date
from .i18n import translate as _
from .security import login_required
from .unit_picks import picked

bp = Blueprint("tracked", __name__)
PROGRESS_FIELDS = ("state", "work_done", "difficulties", "proposals", "report_document")


@bp.get("/office/tasks/<id:task_id>")
@login_required
def show(task_id: int):
    """A task with its updates, attachments, delegated parts, and the actions this user may take."""
    return _show(_page(task_id))


def _show(page, delegate_form=None, delegate_error=None, status=200):
    # The page, with the delegate form as it was sent when it was refused (nothing typed is lost).
    ctx = current_app.extensions["engine"]
    files = {u.id: attachments.list_for(ctx, "progress_update", u.id) for u in page.updates}
    units = unit_choices.unit_choices(ctx, below=page.task.lead_unit) if page.abilities.delegate else []
    return render_template("tracked.html", page=page, files=files, can=page.abilities,
                           states=ProgressState.reported(), units=units, delegate_form=delegate_form or {},
                           delegate_error=delegate_error), status


@bp.post("/office/tasks/<id:task_id>/request-update")
@login_required
def request_update(task_id: int):
    """The Office asks the lead unit for an update now (Art. 8.1.b)."""
    if not _page(task_id).abilities.request_update:
        abort(403)
    try:
        tracking.request_update(current_app.extensions["engine"], task_id, request.form.get("note", ""),
                                g.actor.username)
    except InvalidInput as error:  # no note: nothing was asked, nothing typed is lost
        flash(error_text(error), "error")
        return redirect(url_for("tracked.show", task_id=task_id), 303)
    flash(_("update_requested"))
    return redirect(url_for("tracked.show", task_id=task_id), 303)


@bp.post("/office/tasks/<id:task_id>/progress")
@login_required
def progress(task_id: int):
    """The lead unit records progress, with attachments checked for size and type."""
    if not _page(task_id).abilities.update:
        abort(403)
    ctx = current_app.extensions["engine"]
    fields = {k: request.form.get(k, "") for k in PROGRESS_FIELDS}
    try:
        update_id = tracking.record_progress(ctx, task_id, g.actor.unit_code, fields, g.actor.username)
    except InvalidInput as error:
        flash(error_text(error), "error")
        return redirect(url_for("tracked.show", task_id=task_id), 303)
    refused = []
    for upload in request.files.getlist("files"):
        if upload and upload.filename:
            try:
                attachments.store(ctx, "progress_update", update_id, upload.filename, upload.stream, g.actor.username)
            except attachments.AttachmentRefused as error:
                refused.append(_("file_refused", filename=upload.filename, reason=error_text(error)))
    flash(_("progress_saved"))
    for message in refused:  # the update itself is kept: nothing typed is lost
        flash(message, "error")
    return redirect(url_for("tracked.show", task_id=task_id), 303)


@bp.post("/office/tasks/<id:task_id>/delegate")
@login_required
def delegate(task_id: int):
    """The lead unit passes a part of the task to a unit below it."""
    page = _page(task_id)
    if not page.abilities.delegate:
        abort(403)
    ctx, form = current_app.extensions["engine"], request.form
    try:
        unit = picked(form, "unit", unit_choices.unit_choices(ctx, below=page.task.lead_unit), required=True)
        deadline = parse_date(form.get("deadline"), _("deadline")) if form.get("deadline") else None
        tracking.delegate(ctx, task_id, g.actor.unit_code, [tracking.DelegatedPart(
            unit, form.get("content", ""), deadline)], g.actor.username)
    except (InvalidInput, NotFound) as error:
        return _show(page, form, error_text(error), 422)
    flash(_("delegated"))
    return redirect(url_for("tracked.show", task_id=task_id), 303)


@bp.get("/attachments/<id:attachment_id>")
@login_required
def download(attachment_id: int):
    """An attachment, for those who may see its task (checked before the file is read)."""
    view, stream = attachments.open_attachment(current_app.extensions["engine"], attachment_id, g.actor)
    try:
        data = stream.read()
    finally:
        stream.close()
    return Response(data, mimetype=view.content_type, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(view.filename, safe='')}",
        "X-Content-Type-Options": "nosniff"})


def _page(task_id: int):
    return task_queries.task_page_for(current_app.extensions["engine"], g.actor, task_id)
