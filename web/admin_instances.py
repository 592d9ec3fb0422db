"""Admin console pages on process instances and incidents: the filtered list (in error first), one
instance on its diagram with its data, history and timers, and the actions (retry, suspend, resume,
cancel), each with a reason. Each action calls the same use case as its JSON API twin
(web/api/admin_instances.py). Admins and the Provincial Office see; admins act."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from engine.core.errors import Conflict, DiagramError, InvalidInput
from engine.process import definitions, recovery, suspension
from engine.process.tables import InstanceStatus
from engine.read import instance_detail, instance_queries
from engine.regulation import access, instance_cancel

from .errors import status_of
from .headers import diagram_response
from .i18n import error_text, format_datetime
from .i18n import translate as _
from .inputs import int_arg, parse_id
from .security import allowed_if

bp = Blueprint("admin_instances", __name__, url_prefix="/admin/instances")


def _ctx():
    return current_app.extensions["engine"]


@bp.get("")
@allowed_if(access.may_see_administration)
def index():
    """Instances filtered by procedure, version, status and unit, in error first, counted per status."""
    args = request.args
    version = parse_id(args["version"], "version") if args.get("version", "").strip() else None
    found = instance_queries.list_instances(_ctx(), status=args.get("status") or None,
                                            process_id=args.get("process") or None, version=version,
                                            unit=args.get("unit") or None, page=int_arg("page", 1))
    return render_template("admin_instances.html", found=found, filters=args, statuses=list(InstanceStatus),
                           processes=instance_queries.process_choices(_ctx()),
                           units=instance_queries.unit_choices(_ctx()))


@bp.get("/<id:instance_id>")
@allowed_if(access.may_see_administration)
def show(instance_id: int):
    """One instance: the diagram with the path taken and where it waits, its data, history and timers."""
    return _show(instance_id)


@bp.get("/<id:instance_id>/diagram.xml")
@allowed_if(access.may_see_administration)
def diagram(instance_id: int):
    """The diagram of the version the instance runs on, for the viewer."""
    return diagram_response(definitions.diagram_of_instance(_ctx(), instance_id))


@bp.post("/<id:instance_id>/retry")
@allowed_if(access.may_administer)
def retry(instance_id: int):
    """Run an instance in error again (optionally on the latest version); a new failure is shown."""
    form = request.form
    return _act(instance_id, "admin_instances.retried", lambda reason: recovery.retry_instance(
        _ctx(), instance_id, g.actor.username, to_latest=form.get("to_latest") == "1", reason=reason),
        required=False)


@bp.post("/<id:instance_id>/suspend")
@allowed_if(access.may_administer)
def suspend(instance_id: int):
    """Suspend a running instance with a reason."""
    return _act(instance_id, "admin_instances.suspended", lambda reason: suspension.suspend_instance(
        _ctx(), instance_id, g.actor.username, reason))


@bp.post("/<id:instance_id>/resume")
@allowed_if(access.may_administer)
def resume(instance_id: int):
    """Resume a suspended instance."""
    return _act(instance_id, "admin_instances.resumed", lambda reason: suspension.resume_instance(
        _ctx(), instance_id, g.actor.username, reason), required=False)


@bp.post("/<id:instance_id>/cancel")
@allowed_if(access.may_administer)
def cancel(instance_id: int):
    """Cancel an instance with a reason (and the open tracked task it drives)."""
    return _act(instance_id, "admin_instances.cancelled", lambda reason: instance_cancel.cancel_from_console(
        _ctx(), instance_id, g.actor.username, reason))


def _act(instance_id: int, done_key: str, action, required: bool = True):
    # A refusal (no reason 422, wrong state 409) or a retry that failed again shows the page with the
    # message and what was typed, with its status; success goes back to the page (303).
    reason = request.form.get("reason", "")
    try:
        action(suspension.checked_reason(reason, required=required))
    except (InvalidInput, Conflict) as error:
        return _show(instance_id, error_text(error), reason), status_of(error)
    except DiagramError as error:
        return _show(instance_id, _("admin_instances.failed_again", error=error.text()), reason), 200
    flash(_(done_key, instance=instance_id))
    return redirect(url_for("admin_instances.show", instance_id=instance_id), 303)


def _show(instance_id: int, problem: str | None = None, reason: str = ""):
    found = instance_detail.instance_detail(_ctx(), instance_id)
    overlay = {"path": [[s.bpmn_id, s.came_from] for s in found.path],
               "current": [t.bpmn_id for t in found.ready] + list(found.stalled_at),
               "suspended": found.status is InstanceStatus.SUSPENDED,
               "failed": [h.bpmn_id for h in found.history if h.action == "error" and h.bpmn_id][-1:]
               if found.status is InstanceStatus.ERROR else [],
               "due": [{"id": t.bpmn_id, "kind": "task", "at": format_datetime(t.due_at)}
                       for t in found.ready if t.due_at]
               + [{"id": t.bpmn_id, "kind": "timer", "at": format_datetime(t.due_at)} for t in found.timers]}
    return render_template("admin_instances_show.html", found=found, overlay=overlay, problem=problem,
                           reason=reason, may_act=access.may_administer(g.actor))
