"""API: dry runs of a diagram before deploying it (analysts and admins), the twin of the dry-run pages."""
from __future__ import annotations

from datetime import datetime

from flask import g, jsonify

from engine.app import dry_run
from engine.core.errors import DeployRefused, InvalidInput
from engine.regulation import access

from . import body_matching, bp, ctx, error, forbid_unless, language, to_json
from .openapi import DATE_TIME, STRING, _operation, _path, obj, schema_of

_WHY = "dry_run_forbidden"  # catalog key of why a 403
UNTIL = {"anyOf": [DATE_TIME, {"type": "string", "enum": [dry_run.NEXT_TIMER, dry_run.NEXT_WORKING_DAY]}]}
START = obj(("start_data",), bpmn=STRING, forms={"type": "object", "additionalProperties": STRING},
            start_data={"type": "object"}, start_at=DATE_TIME)
COMPLETE = obj(("data",), data={"type": "object"})
CLOCK = obj(("until",), until=UNTIL)
RUN = obj(("run",), run=schema_of(dry_run.DryRunView))
PROBLEMS = {"type": "array", "items": obj(("message",), file=STRING, line={"type": ["integer", "null"]},
                                          element_id={"type": ["string", "null"]}, message=STRING,
                                          severity=STRING)}


@bp.post("/processes/<process_id>/dry-runs")
def start_dry_run(process_id: str):
    """Start a dry run of a diagram (the body's, else the saved draft, else the latest version) with sample data."""
    forbid_unless(access.may_edit_diagrams(g.actor), _WHY)
    body = body_matching(START)
    if "bpmn" in body:
        bpmn, forms = body["bpmn"].encode("utf-8"), body.get("forms") or {}
    else:
        source = dry_run.source_of(ctx(), process_id)
        bpmn, forms = source.bpmn, body.get("forms", source.forms)
    start_at = _instant(body["start_at"], "start_at") if "start_at" in body else None
    try:
        view = dry_run.start_dry_run(ctx(), process_id, bpmn, forms, body["start_data"], g.actor, start_at)
    except DeployRefused as refused:
        return error(422, refused.code, refused.text(language()), problems=[{
            "file": p.file, "line": p.line, "element_id": p.element_id, "message": p.message,
            "severity": p.severity} for p in refused.problems])
    return jsonify(run=to_json(view)), 201


@bp.get("/dry-runs/<run_id>")
def dry_run_state(run_id: str):
    """A dry run now: path taken, ready tasks with forms and due dates, waiting timers, log."""
    forbid_unless(access.may_edit_diagrams(g.actor), _WHY)
    return jsonify(run=to_json(dry_run.dry_run_state(ctx(), run_id, g.actor)))


@bp.post("/dry-runs/<run_id>/tasks/<task_id>")
def complete_dry_run_task(run_id: str, task_id: str):
    """Answer a ready task of a dry run with data its form accepts (422 naming each field otherwise)."""
    forbid_unless(access.may_edit_diagrams(g.actor), _WHY)
    data = body_matching(COMPLETE)["data"]
    return jsonify(run=to_json(dry_run.complete_dry_run_task(ctx(), run_id, task_id, data, g.actor)))


@bp.post("/dry-runs/<run_id>/clock")
def move_dry_run_clock(run_id: str):
    """Move a dry run's clock forward, firing the timers due on the way."""
    forbid_unless(access.may_edit_diagrams(g.actor), _WHY)
    until = body_matching(CLOCK)["until"]
    if until not in (dry_run.NEXT_TIMER, dry_run.NEXT_WORKING_DAY):
        until = _instant(until, "until")
    return jsonify(run=to_json(dry_run.advance_dry_run_clock(ctx(), run_id, until, g.actor)))


@bp.delete("/dry-runs/<run_id>")
def end_dry_run(run_id: str):
    """End a dry run: its throwaway database is deleted."""
    forbid_unless(access.may_edit_diagrams(g.actor), _WHY)
    dry_run.end_dry_run(ctx(), run_id, g.actor)
    return jsonify(ended=True)


def _instant(text: str, field: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidInput("dry_run_until_invalid") from None
    if moment.tzinfo is None:
        raise InvalidInput("dry_run_until_invalid")
    return moment


def openapi_paths() -> dict:
    """The dry-run routes in the OpenAPI document."""
    run_path = [_path("run_id", {"type": "string", "minLength": 1})]
    return {
        "/api/processes/{process_id}/dry-runs": {"post": _operation(
            "Dry-run a diagram in a throwaway database (analysts, admins): `bpmn` and `forms` (file name -> JSON "
            "Schema text) or else the saved draft or else the latest version; 422 with `problems` for a diagram "
            "that does not deploy", (201, RUN), 403, 404,
            parameters=[_path("process_id", {"type": "string", "minLength": 1})], body=START)},
        "/api/dry-runs/{run_id}": {
            "get": _operation("A dry run: path taken, ready tasks with forms and due dates, timers, log",
                              (200, RUN), 403, 404, parameters=run_path),
            "delete": _operation("End a dry run (its database is deleted)", (200, obj(("ended",), ended={
                "type": "boolean"})), 403, 404, parameters=run_path)},
        "/api/dry-runs/{run_id}/tasks/{task_id}": {"post": _operation(
            "Answer a ready task of a dry run (422 naming each field its form refuses)", (200, RUN), 403, 404, 409,
            parameters=[*run_path, _path("task_id", {"type": "string", "minLength": 1})], body=COMPLETE)},
        "/api/dry-runs/{run_id}/clock": {"post": _operation(
            "Move a dry run's clock to an instant, to the next timer or to the next working day; the timers due "
            "on the way fire", (200, RUN), 403, 404, parameters=run_path, body=CLOCK)},
    }
