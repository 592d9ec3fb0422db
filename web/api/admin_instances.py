"""API: the admin console's instances and incidents. Admins and the Provincial Office see
(`access.may_see_administration`); admins act (`access.may_administer`): retry an instance in error,
suspend, resume, cancel, each audited with the reason. The pages are web/admin_instances.py."""
from __future__ import annotations

from flask import g, jsonify, request

from engine.process import recovery, suspension
from engine.process.steps import InstanceView
from engine.process.tables import InstanceStatus
from engine.read import instance_detail, instance_queries
from engine.read.instance_detail import InstanceDetail
from engine.read.instance_queries import InstanceItem
from engine.regulation import access, instance_cancel

from ..inputs import int_arg, parse_id
from . import body_matching, bp, ctx, forbid_unless, to_json
from .openapi import ID, PAGE, STRING, _operation, _path, _query, enum_of, obj, schema_of

_SEE, _ACT = "instances_see_only", "instances_admins_only"
REASON = {"type": "string", "maxLength": suspension.MAX_REASON}
NEEDED_REASON = {"type": "string", "minLength": 1, "maxLength": suspension.MAX_REASON,
                 "description": "why (kept in the audit log); blank is refused"}
RETRY = obj(to_latest={"type": "boolean", "description": "move it to the newest deployed version first"},
            reason=REASON)
RESUME = obj(reason=REASON)
WITH_REASON = obj(("reason",), reason=NEEDED_REASON)

COUNTS = {"type": "object", "propertyNames": enum_of(InstanceStatus), "additionalProperties": {"type": "integer"}}
LIST = obj(("total", "counts", "page", "per_page", "items"), total={"type": "integer"}, counts=COUNTS,
           page={"type": "integer"}, per_page={"type": "integer"},
           items={"type": "array", "items": schema_of(InstanceItem)})
INSTANCE = schema_of(InstanceView)
DETAIL = schema_of(InstanceDetail)


@bp.get("/instances")
def list_instances():
    """Instances filtered by status, procedure, version and unit, in error first, paged, counted per status."""
    forbid_unless(access.may_see_administration(g.actor), _SEE)
    args = request.args
    version = parse_id(args["version"], "version") if args.get("version", "").strip() else None
    found = instance_queries.list_instances(ctx(), status=args.get("status"), process_id=args.get("process"),
                                            version=version, unit=args.get("unit"), page=int_arg("page", 1),
                                            per_page=int_arg("per_page", 50, high=instance_queries.MAX_PER_PAGE))
    return jsonify(to_json(found))


@bp.get("/instances/<id:instance_id>")
def show_instance(instance_id: int):
    """One instance: position on its diagram, data, history, waiting timers, the error or who suspended it."""
    forbid_unless(access.may_see_administration(g.actor), _SEE)
    return jsonify(to_json(instance_detail.instance_detail(ctx(), instance_id)))


@bp.post("/instances/<id:instance_id>/retry")
def retry_instance(instance_id: int):
    """Run an instance in error again from its saved state (optionally on the latest version); 409 otherwise."""
    forbid_unless(access.may_administer(g.actor), _ACT)
    body = body_matching(RETRY, optional=True)
    reason = suspension.checked_reason(body.get("reason"), required=False)
    view = recovery.retry_instance(ctx(), instance_id, g.actor.username, to_latest=bool(body.get("to_latest")),
                                   reason=reason)
    return jsonify(to_json(view))


@bp.post("/instances/<id:instance_id>/suspend")
def suspend_instance(instance_id: int):
    """Hold a running instance with a reason: its timers stop firing, its tasks cannot be completed."""
    forbid_unless(access.may_administer(g.actor), _ACT)
    body = body_matching(WITH_REASON)
    return jsonify(to_json(suspension.suspend_instance(ctx(), instance_id, g.actor.username, body["reason"])))


@bp.post("/instances/<id:instance_id>/resume")
def resume_instance(instance_id: int):
    """Let a suspended instance run again; timers that fell due fire on the worker's next pass."""
    forbid_unless(access.may_administer(g.actor), _ACT)
    body = body_matching(RESUME, optional=True)
    return jsonify(to_json(suspension.resume_instance(ctx(), instance_id, g.actor.username,
                                                      body.get("reason") or "")))


@bp.post("/instances/<id:instance_id>/cancel")
def cancel_instance(instance_id: int):
    """Cancel an instance with a reason; the open tracked task it drives is cancelled with it."""
    forbid_unless(access.may_administer(g.actor), _ACT)
    body = body_matching(WITH_REASON)
    return jsonify(to_json(instance_cancel.cancel_from_console(ctx(), instance_id, g.actor.username,
                                                               body["reason"])))


def openapi_paths() -> dict:
    """The OpenAPI description of these routes (merged into /api/openapi.json)."""
    one = [_path("instance_id", ID)]
    acted = "(admins; audited with the reason)"
    return {
        "/api/instances": {"get": _operation(
            "Process instances, in error first (with their message), then suspended, then the latest changed; "
            "filtered by status, procedure (process id), version and unit (the lead unit of the tracked task it "
            "follows, or the unit a ready task of it waits on); counts per status of the list without its "
            "status filter (admins and the Provincial Office)", (200, LIST), 403, parameters=[
                _query("status", enum_of(InstanceStatus)), _query("process", STRING), _query("version", ID),
                _query("unit", STRING), _query("page", PAGE),
                _query("per_page", {"type": "integer", "minimum": 1, "maximum": instance_queries.MAX_PER_PAGE})])},
        "/api/instances/{instance_id}": {"get": _operation(
            "One instance: the path taken and where it waits (ready tasks, waiting timers with due times), its "
            "data with the forms' titles, its history by name, the error or who suspended it and why",
            (200, DETAIL), 403, 404, parameters=one)},
        "/api/instances/{instance_id}/retry": {"post": _operation(
            f"Run an instance in error again from its saved state, optionally on the latest version {acted}; "
            "409 when it is not in error or its state does not fit the latest version; 500 when it fails again "
            "(it stays in error with the new message)", (200, INSTANCE), 403, 404, 409, parameters=one,
            body=RETRY, body_required=False)},
        "/api/instances/{instance_id}/suspend": {"post": _operation(
            f"Suspend a running instance {acted}: its timers do not fire and its tasks cannot be completed (409) "
            "until it is resumed; 409 when it is not running", (200, INSTANCE), 403, 404, 409, parameters=one,
            body=WITH_REASON)},
        "/api/instances/{instance_id}/resume": {"post": _operation(
            f"Resume a suspended instance {acted}; timers that fell due meanwhile fire on the timer worker's next "
            "pass; 409 when it is not suspended", (200, INSTANCE), 403, 404, 409, parameters=one, body=RESUME,
            body_required=False)},
        "/api/instances/{instance_id}/cancel": {"post": _operation(
            f"Cancel a running, suspended or failed instance {acted}; the open tracked task it drives becomes "
            "cancelled and its periodic updates stop; 409 when it has already ended", (200, INSTANCE), 403, 404,
            409, parameters=one, body=WITH_REASON)},
    }
