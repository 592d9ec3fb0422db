"""API: the versions of a process (history, deploy with a comment, diff, roll back) and moving running
instances between them. Reading asks `access.may_read_processes`, changing `access.may_edit_diagrams`,
as the pages do (web/versions.py)."""
from __future__ import annotations

from flask import g, jsonify

from engine.process import instance_migration, versions
from engine.process.instance_migration import MigrationCandidate, RunningInstance
from engine.process.versions import VersionDiff, VersionView
from engine.regulation import access

from . import body_matching, bp, ctx, forbid_unless, language, to_json
from .openapi import ID, STRING, _operation, _path, nullable, obj, schema_of

_READERS, _EDITORS = "process_readers_only", "versions_editors_only"
COMMENT = {"type": "string", "minLength": 1, "maxLength": versions.MAX_COMMENT}
NEW_VERSION = obj(("bpmn", "comment"), bpmn={"type": "string", "minLength": 1}, comment=COMMENT,
                  forms={"type": "object", "description": "form file name -> its JSON Schema; files the diagram "
                         "names and this leaves out come from the latest version", "additionalProperties": {
                             "type": "object"}})
MIGRATION = obj(("from", "to"), **{"from": ID, "to": ID}, instance_ids={"type": "array", "items": ID})
ROLL_BACK = obj(("comment",), comment=COMMENT)

VERSION = schema_of(VersionView)
VERSIONS = obj(("process_id", "items"), process_id=STRING, items={"type": "array", "items": VERSION})
DIFF = schema_of(VersionDiff)
INSTANCES = obj(("items",), items={"type": "array", "items": schema_of(RunningInstance)})
OBSTACLE = obj(("element_id", "name", "reason", "detail", "message"), element_id=STRING, name=nullable(STRING),
               reason={"type": "string", "enum": ["removed", "kind_changed", "boundary_changed",
                                                  "history_removed", "not_on_version"]},
               detail=STRING, message=STRING)
CANDIDATE = obj(("instance_id", "at", "can_move", "obstacles"), instance_id=ID,
                at=schema_of(MigrationCandidate)["properties"]["at"], can_move={"type": "boolean"},
                obstacles={"type": "array", "items": OBSTACLE})
PREVIEW = obj(("from", "to", "items"), **{"from": ID, "to": ID}, items={"type": "array", "items": CANDIDATE})
MIGRATED = obj(("from", "to", "moved", "left"), **{"from": ID, "to": ID},
               moved={"type": "array", "items": ID}, left={"type": "array", "items": CANDIDATE})


@bp.get("/processes/<process_id>/versions")
def list_versions(process_id: str):
    """The versions of a process, newest first, with author, time, comment and running instances."""
    forbid_unless(access.may_read_processes(g.actor), _READERS)
    return jsonify(process_id=process_id, items=to_json(versions.list_versions(ctx(), process_id)))


@bp.post("/processes/<process_id>/versions")
def deploy_version(process_id: str):
    """Deploy a diagram (and forms) as the next version, with a comment: 201 with the version."""
    forbid_unless(access.may_edit_diagrams(g.actor), _EDITORS)
    body = body_matching(NEW_VERSION)
    view = versions.deploy_version(ctx(), process_id, body["bpmn"].encode("utf-8"),
                                   versions.forms_as_text(body.get("forms")), body["comment"], g.actor.username,
                                   lang=language())
    return jsonify(to_json(view)), 201


@bp.get("/processes/<process_id>/versions/<id:a>/diff/<id:b>")
def diff(process_id: str, a: int, b: int):
    """Elements added, removed, changed (and only moved) from version a to version b, by id."""
    forbid_unless(access.may_read_processes(g.actor), _READERS)
    return jsonify(to_json(versions.diff_versions(ctx(), process_id, a, b)))


@bp.get("/processes/<process_id>/versions/<id:version>/instances")
def running_instances(process_id: str, version: int):
    """The instances running on one version and where they stand."""
    forbid_unless(access.may_read_processes(g.actor), _READERS)
    return jsonify(items=to_json(instance_migration.running_instances(ctx(), process_id, version)))


@bp.post("/processes/<process_id>/migrations/preview")
def migration_preview(process_id: str):
    """Which instances of version `from` can move to version `to`, and why the others cannot."""
    forbid_unless(access.may_edit_diagrams(g.actor), _EDITORS)
    body = body_matching(MIGRATION)
    found = instance_migration.migration_preview(ctx(), process_id, body["from"], body["to"])
    return jsonify({"from": body["from"], "to": body["to"], "items": [_candidate(c) for c in found]})


@bp.post("/processes/<process_id>/migrations")
def migrate(process_id: str):
    """Move the instances of version `from` that can move (all, or `instance_ids`) to version `to`."""
    forbid_unless(access.may_edit_diagrams(g.actor), _EDITORS)
    body = body_matching(MIGRATION)
    result = instance_migration.migrate(ctx(), process_id, body["from"], body["to"], body.get("instance_ids"),
                                        g.actor.username)
    return jsonify({"from": result.from_version, "to": result.to_version, "moved": list(result.moved),
                    "left": [_candidate(c) for c in result.left]})


@bp.post("/processes/<process_id>/versions/<id:version>/roll-back")
def roll_back(process_id: str, version: int):
    """New instances start on this version's content again (deployed as the next version): 201."""
    forbid_unless(access.may_edit_diagrams(g.actor), _EDITORS)
    body = body_matching(ROLL_BACK)
    view = versions.roll_back(ctx(), process_id, version, body["comment"], g.actor.username)
    return jsonify(to_json(view)), 201


def _candidate(candidate: MigrationCandidate) -> dict:
    return {"instance_id": candidate.instance_id, "at": to_json(candidate.at), "can_move": candidate.can_move,
            "obstacles": [{**to_json(o), "message": instance_migration.reason_text(o, language())}
                          for o in candidate.obstacles]}


def openapi_paths() -> dict:
    """The OpenAPI description of these routes (merged into /api/openapi.json)."""
    process = _path("process_id", {"type": "string", "minLength": 1})
    return {
        "/api/processes/{process_id}/versions": {
            "get": _operation("The versions of a process, newest first, with author, time, comment and running "
                              "instances", (200, VERSIONS), 403, 404, parameters=[process]),
            "post": _operation("Deploy a diagram as the next version with a comment (analysts and admins); 422 "
                               "with the located problems (error.problems) when the diagram does not pass, "
                               "nothing deployed; 409 when it equals the latest version", (201, VERSION),
                               403, 404, 409, parameters=[process], body=NEW_VERSION)},
        "/api/processes/{process_id}/versions/{a}/diff/{b}": {"get": _operation(
            "Elements added, removed, changed and only moved from version a to version b, by element id",
            (200, DIFF), 403, 404, parameters=[process, _path("a", ID), _path("b", ID)])},
        "/api/processes/{process_id}/versions/{version}/instances": {"get": _operation(
            "The instances running on a version and where they stand", (200, INSTANCES), 403, 404,
            parameters=[process, _path("version", ID)])},
        "/api/processes/{process_id}/migrations/preview": {"post": _operation(
            "Which running instances of version `from` can move to version `to`, and why the others cannot "
            "(analysts and admins; nothing saved)", (200, PREVIEW), 403, 404, parameters=[process],
            body=MIGRATION)},
        "/api/processes/{process_id}/migrations": {"post": _operation(
            "Move the instances of version `from` that can move (all, or instance_ids) to version `to`, "
            "audited per instance (analysts and admins)", (200, MIGRATED), 403, 404, 409, parameters=[process],
            body=MIGRATION)},
        "/api/processes/{process_id}/versions/{version}/roll-back": {"post": _operation(
            "New instances start on this version's content again, deployed as the next version with the comment "
            "(analysts and admins); running instances stay", (201, VERSION), 403, 404, 409,
            parameters=[process, _path("version", ID)], body=ROLL_BACK)},
    }
