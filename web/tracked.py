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


def _show(page, delegate_form=None, delegate_error=None, progress_form=None, progress_error=None, status=200):
    # The page, with a refused form (delegate or progress) as it was sent: nothing typed is lost.
    ctx = current_app.extensions["engine"]
    units = unit_choices.unit_choices(ctx, below=page.task.lead_unit) if page.abilities.delegate else []
    return render_template("tracked.html", page=page, can=page.abilities, states=ProgressState.reported(),
                           units=units, delegate_form=delegate_form or {}, delegate_error=delegate_error,
                           progress_form=progress_form or {}, progress_error=progress_error), status


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
    """The lead unit records progress with its attachments: all of it, or (a field or a file refused)
    nothing, and the form comes back as typed, the refused file named."""
    page = _page(task_id)
    if not page.abilities.update:
        abort(403)
    fields = {k: request.form.get(k, "") for k in PROGRESS_FIELDS}
    files = [(f.filename, f.stream) for f in request.files.getlist("files") if f and f.filename]
    try:
        tracking.record_progress(current_app.extensions["engine"], task_id, g.actor.unit_code, fields,
                                 g.actor.username, files)
    except InvalidInput as error:
        message = error_text(error) + (" " + _("files_choose_again") if files else "")
        return _show(page, progress_form=fields, progress_error=message, status=422)
    flash(_("progress_saved"))
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
        return _show(page, delegate_form=form, delegate_error=error_text(error), status=422)
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
