"""The inbox and the task page: what a person must do, and the form to do it."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for

from datetime import date, datetime, time, timedelta

from engine import audit, definitions, forms, instances, periods
from engine.calendar import TZ
from engine.errors import Conflict
from engine import inbox as inbox_module
from engine.inbox import inbox, lanes_for

from .i18n import translate as _
from .security import login_required

bp = Blueprint("inbox", __name__)
CATEGORIES = ("overdue", "nearly_due", "within_deadline", "no_deadline")


@bp.get("/inbox")
@login_required
def index():
    """My tasks and my unit's tasks, soonest due first, with filters and paging."""
    args = request.args
    page = inbox(current_app.extensions["engine"], g.actor, process_id=args.get("process") or None,
                 unit=args.get("unit") or None, text=args.get("q") or None,
                 category=args.get("category") if args.get("category") in CATEGORIES else None,
                 mine=args.get("mine") == "1", **_period(args.get("period")), page=args.get("page", 1, type=int))
    names = {d.process_id: d.name for d in reversed(definitions.list_definitions(current_app.extensions["engine"]))}
    return render_template("inbox.html", page=page, categories=CATEGORIES, filters=args, process_names=names)


def _period(text: str | None) -> dict:
    # "2025-05" (a month) or "2025-Q2" (a quarter): tasks due within it, Vietnam time.
    try:
        if text and "-Q" in text.upper():
            year, quarter = text.upper().split("-Q")
            start = periods.period_containing("quarterly", date(int(year), 3 * int(quarter) - 2, 1))
        elif text:
            year, month = text.split("-")
            start = periods.period_containing("monthly", date(int(year), int(month), 1))
        else:
            return {}
    except ValueError:
        return {}
    return {"due_from": datetime.combine(start.start, time.min, TZ),
            "due_before": datetime.combine(start.end + timedelta(days=1), time.min, TZ)}


@bp.route("/tasks/<int:instance_id>/<task_id>", methods=["GET", "POST"])
@login_required
def task(instance_id: int, task_id: str):
    """Show a task's form; on POST validate it on the server and complete the task."""
    ctx = current_app.extensions["engine"]
    details = instances.task_details(ctx, instance_id, task_id)
    if not _mine(details.task):
        abort(404)  # not 403: whether another unit's task exists is not this user's business
    if request.method == "GET":
        return render_template("task.html", details=details, values=details.data, errors={},
                               history=_history(ctx, instance_id))
    data = forms.coerce(details.form, request.form) if details.form else {}
    try:
        instances.complete_task(ctx, instance_id, task_id, data, actor=g.user.username,
                                expected_version=request.form.get("row_version", type=int))
    except forms.FormInvalid as invalid:
        return render_template("task.html", details=details, values={**details.data, **data},
                               errors=invalid.messages(g.lang), history=_history(ctx, instance_id)), 422
    except Conflict:
        flash(_("task_conflict"), "error")
        return redirect(url_for("inbox.index")), 303
    flash(_("task_done").format(name=details.task.name or details.task.bpmn_id))
    return redirect(url_for("inbox.index"), 303)


@bp.get("/tasks/<int:instance_id>/<task_id>/diagram.xml")
@login_required
def diagram(instance_id: int, task_id: str):
    """The diagram the task belongs to, for the bpmn-js viewer on the task page."""
    ctx = current_app.extensions["engine"]
    if not _mine(instances.task_details(ctx, instance_id, task_id).task):
        abort(404)
    return Response(definitions.diagram_of_instance(ctx, instance_id), mimetype="application/xml")


def _history(ctx, instance_id: int):
    with ctx.unit_of_work(readonly=True) as session:
        return [(e.at, e.actor, e.action, e.bpmn_id) for e in audit.entries_for(session, instance_id)]


@bp.post("/tasks/<int:instance_id>/<task_id>/claim")
@login_required
def claim(instance_id: int, task_id: str):
    """Take the task on (or give it back with ?release=1)."""
    ctx = current_app.extensions["engine"]
    try:
        if request.form.get("release") == "1":
            inbox_module.release(ctx, g.actor, instance_id, task_id)
        else:
            inbox_module.claim(ctx, g.actor, instance_id, task_id)
    except Conflict as error:
        flash(str(error), "error")
    return redirect(request.referrer if _same_site(request.referrer) else url_for("inbox.index"), 303)


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)


def _mine(task) -> bool:
    return mine_for(g.actor, task)


def mine_for(actor, task) -> bool:
    """Whether an actor may act on a ready task (the same rule as the inbox's SQL)."""
    return task.lane in lanes_for(actor.roles) and (actor.unit_codes is None or task.assignee in actor.unit_codes)
