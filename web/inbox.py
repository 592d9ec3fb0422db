"""The inbox and the task page: what a person must do, and the form to do it."""
from __future__ import annotations

from functools import partial

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from engine.bpmn import forms
from engine.core.errors import Conflict
from engine.process import definitions, instances
from engine.read import due_reasons
from engine.read import inbox as inbox_queries
from engine.regulation import access

from .headers import diagram_response
from .i18n import current_language, error_text
from .i18n import translate as _
from .inputs import int_arg, parse_int
from .security import login_required
from .unit_picks import unit_filter

bp = Blueprint("inbox", __name__)
CATEGORIES = tuple(inbox_queries.InboxCategory)


@bp.get("/inbox")
@login_required
def index():
    """My tasks and my unit's tasks, soonest due first, with filters and paging."""
    args = request.args
    ctx = current_app.extensions["engine"]
    page = inbox_queries.inbox(ctx, g.actor, process_id=args.get("process") or None,
                               unit=unit_filter(ctx, args), text=args.get("q") or None,
                               category=args.get("category") if args.get("category") in CATEGORIES else None,
                               mine=args.get("mine") == "1", period=args.get("period") or None,
                               page=int_arg("page", 1))
    names = {d.process_id: d.name for d in reversed(definitions.list_definitions(ctx))}
    return render_template("inbox.html", page=page, categories=CATEGORIES, filters=args, process_names=names,
                           due_reasons=_due_reasons(ctx, {(i.instance_id, i.bpmn_id) for i in page.items}))


def _due_reasons(ctx, steps: set[tuple[int, str]]) -> dict[tuple[int, str], str]:
    # Why a step is due when it is, when that is not simply the task's deadline (engine/read/due_reasons.py).
    return {step: reason.text(current_language()) for step, reason in due_reasons.for_steps(ctx, steps).items()}


@bp.route("/tasks/<id:instance_id>/<task_id>", methods=["GET", "POST"])
@login_required
def task(instance_id: int, task_id: str):
    """Show a task's form; on POST validate it on the server and complete the task."""
    ctx = current_app.extensions["engine"]
    if request.method == "GET":  # a finished step is shown read-only; submitting it again is refused (409)
        details = inbox_queries.task_for(ctx, g.actor, instance_id, task_id)
        return render_template("task.html", details=details, values=details.data, errors={},
                               history=instances.history(ctx, instance_id),
                               due_reason=_due_reasons(ctx, {(instance_id, details.task.bpmn_id)}).get(
                                   (instance_id, details.task.bpmn_id)))
    details = inbox_queries.task_to_complete(ctx, g.actor, instance_id, task_id)
    data = forms.coerce(details.form, request.form) if details.form else {}
    try:
        instances.complete_task(ctx, instance_id, task_id, data, actor=g.actor.username,
                                expected_version=parse_int(request.form.get("row_version"), "row_version"),
                                may_complete=partial(access.may_complete, g.actor))
    except forms.FormInvalid as invalid:
        return render_template("task.html", details=details, values={**details.data, **data},
                               errors=invalid.messages(g.lang), history=instances.history(ctx, instance_id)), 422
    except Conflict as conflict:
        flash(error_text(conflict) if conflict.key in ("task_claimed_by", "instance_suspended")
              else _("task_conflict"), "error")
        return redirect(url_for("inbox.index")), 303
    flash(_("task_done", name=details.task.name or details.task.bpmn_id))
    return redirect(url_for("inbox.index"), 303)


@bp.get("/tasks/<id:instance_id>/<task_id>/diagram.xml")
@login_required
def diagram(instance_id: int, task_id: str):
    """The diagram the task belongs to, for the bpmn-js viewer on the task page."""
    ctx = current_app.extensions["engine"]
    inbox_queries.task_for(ctx, g.actor, instance_id, task_id)
    return diagram_response(definitions.diagram_of_instance(ctx, instance_id))


@bp.post("/tasks/<id:instance_id>/<task_id>/claim")
@login_required
def claim(instance_id: int, task_id: str):
    """Take the task on (or give it back with release=1, or take it over from a colleague with take_over=1)."""
    ctx = current_app.extensions["engine"]
    try:
        if request.form.get("release") == "1":
            inbox_queries.release(ctx, g.actor, instance_id, task_id)
        elif request.form.get("take_over") == "1":
            flash(_("taken_over", user=inbox_queries.take_over(ctx, g.actor, instance_id, task_id)))
        else:
            inbox_queries.claim(ctx, g.actor, instance_id, task_id)
    except Conflict as error:
        flash(error_text(error), "error")
    return redirect(request.referrer if _same_site(request.referrer) else url_for("inbox.index"), 303)


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)
