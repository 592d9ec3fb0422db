"""API: the organisation (the admin console's unit tree): list, create, rename and move units, merge and
retire them with a preview first, import an organisation change file. Seeing asks
`access.may_see_administration` (admins and the Office), changing `access.may_administer` (admins), as the
pages do (web/admin_units.py)."""
from __future__ import annotations

from flask import g, jsonify

from engine.core import i18n
from engine.core.errors import InvalidInput
from engine.regulation import access, organisation, organisation_import, reorganisation, unit_tree
from engine.regulation.organisation import UnitKind, UnitView
from engine.regulation.reorganisation import ChangeReport
from engine.regulation.unit_tree import UnitNode

from . import body_matching, bp, ctx, forbid_unless, language, to_json
from .openapi import STRING, _operation, _path, enum_of, nullable, obj, schema_of

_SEE, _CHANGE = "units_see_only", "units_admins_only"
CODE = {"type": "string", "pattern": "^[a-z0-9-]{2,60}$"}
NAME = {"type": "string", "minLength": 1, "maxLength": 300}
REASON = {"type": "string", "maxLength": 2000}
USERS = {"type": "string", "enum": list(reorganisation.USER_MODES)}
NEW_UNIT = obj(("code", "name", "kind"), code=CODE, name=NAME, kind=enum_of(UnitKind), parent=nullable(CODE))
UNIT_CHANGE = obj(name=NAME, parent=nullable(CODE), reason=REASON)
MERGE_PREVIEW = obj(("into",), into=CODE, users=USERS, with_sub_units={"type": "boolean"})
MERGE = obj(("into", "reason"), into=CODE, reason=REASON, users=USERS, with_sub_units={"type": "boolean"})
RETIRE_PREVIEW = obj(("work_to",), work_to=CODE, users=USERS)
RETIRE = obj(("work_to", "reason"), work_to=CODE, reason=REASON, users=USERS)
IMPORT_PREVIEW = obj(("file",), file={"type": "object", "description": "an org-change/1 file "
                                      "(docs/regulation.md, \"Organisation changes\")"}, reason=REASON)
IMPORT = obj(("file", "reason"), file=IMPORT_PREVIEW["properties"]["file"], reason=REASON)

UNITS = obj(("items",), items={"type": "array", "items": schema_of(UnitNode)})
UNIT = schema_of(UnitView)
REPORT = schema_of(ChangeReport)
REPORT["properties"]["blocked"]["items"]["properties"]["message"] = STRING


@bp.get("/units")
def list_units():
    """Every unit, top down, with where a merged or retired unit's work went."""
    forbid_unless(access.may_see_administration(g.actor), _SEE)
    return jsonify(items=to_json(unit_tree.unit_tree(ctx())))


@bp.post("/units")
def create_unit():
    """Create a unit under an active parent (none: a new root): 201 with the unit."""
    forbid_unless(access.may_administer(g.actor), _CHANGE)
    body = body_matching(NEW_UNIT)
    view = organisation.add_unit(ctx(), body["code"], body["name"], body["kind"], body.get("parent"),
                                 g.actor.username)
    return jsonify(to_json(view)), 201


@bp.patch("/units/<code>")
def change_unit(code: str):
    """Rename a unit (a correction: its records show the new name) and/or move it under another parent."""
    forbid_unless(access.may_administer(g.actor), _CHANGE)
    body = body_matching(UNIT_CHANGE)
    if "name" not in body and "parent" not in body:
        raise InvalidInput("unit_change_empty")
    if "name" in body:
        reorganisation.rename_unit(ctx(), code, body["name"], g.actor.username, body.get("reason", ""))
    if "parent" in body:
        organisation.move_unit(ctx(), code, body["parent"], g.actor.username)
    return jsonify(to_json(_view(code)))


@bp.post("/units/<code>/merge-preview")
def merge_preview(code: str):
    """What merging the unit into `into` would move, and what could not move and why (nothing saved)."""
    forbid_unless(access.may_administer(g.actor), _CHANGE)
    body = body_matching(MERGE_PREVIEW)
    return _report(reorganisation.merge_unit(ctx(), code, body["into"], g.actor.username, apply=False,
                                             **_options(body)))


@bp.post("/units/<code>/merge")
def merge(code: str):
    """Merge the unit into `into`: its work and people move there, in one transaction, audited."""
    forbid_unless(access.may_administer(g.actor), _CHANGE)
    body = body_matching(MERGE)
    return _report(reorganisation.merge_unit(ctx(), code, body["into"], g.actor.username, body["reason"],
                                             **_options(body)))


@bp.post("/units/<code>/retire-preview")
def retire_preview(code: str):
    """What retiring the unit (its work to `work_to`) would move (nothing saved)."""
    forbid_unless(access.may_administer(g.actor), _CHANGE)
    body = body_matching(RETIRE_PREVIEW)
    return _report(reorganisation.retire_unit(ctx(), code, body["work_to"], g.actor.username, apply=False,
                                              **_options(body)))


@bp.post("/units/<code>/retire")
def retire(code: str):
    """Retire the unit, its work going to `work_to`; its people deactivated unless users is "move"."""
    forbid_unless(access.may_administer(g.actor), _CHANGE)
    body = body_matching(RETIRE)
    return _report(reorganisation.retire_unit(ctx(), code, body["work_to"], g.actor.username, body["reason"],
                                              **_options(body)))


@bp.post("/organisation/import-preview")
def import_preview():
    """Every unit an organisation change file creates, renames, moves, merges or retires, and the work that
    would move (nothing saved)."""
    forbid_unless(access.may_administer(g.actor), _CHANGE)
    body = body_matching(IMPORT_PREVIEW)
    return _report(organisation_import.import_changes(ctx(), body["file"], g.actor.username, apply=False))


@bp.post("/organisation/import")
def import_file():
    """Apply an organisation change file in one transaction, audited."""
    forbid_unless(access.may_administer(g.actor), _CHANGE)
    body = body_matching(IMPORT)
    return _report(organisation_import.import_changes(ctx(), body["file"], g.actor.username, body["reason"]))


def _options(body: dict) -> dict:
    return {k: body[k] for k in ("users", "with_sub_units") if k in body}


def _view(code: str) -> UnitView:
    return next(unit for unit in organisation.list_units(ctx()) if unit.code == code)


def _report(report: ChangeReport):
    out = to_json(report)
    for item, blocked in zip(out["blocked"], report.blocked, strict=True):
        item["message"] = i18n.text(blocked.reason, language(), **blocked.params)
    return jsonify(out)


def openapi_paths() -> dict:
    """The OpenAPI description of these routes (merged into /api/openapi.json)."""
    unit = [_path("code", STRING)]
    preview = ("; nothing is saved: the change runs and is rolled back, so the preview lists exactly what "
               "applying would do")
    return {
        "/api/units": {
            "get": _operation("Every unit, top down, with its people, open tasks and ready steps, and where a merged "
                              "or retired unit's work went (admins and the Office)", (200, UNITS), 403),
            "post": _operation("Create a unit under an active parent (admins); 409 when the code is taken or the "
                               "parent inactive", (201, UNIT), 403, 404, 409, body=NEW_UNIT)},
        "/api/units/{code}": {"patch": _operation(
            "Rename a unit (a correction: its records show the new name; a new body is a merge) and/or move it "
            "under another parent (admins); 409 for a loop or an inactive unit", (200, UNIT), 403, 404, 409,
            parameters=unit, body=UNIT_CHANGE)},
        "/api/units/{code}/merge-preview": {"post": _operation(
            "What merging the unit into `into` would move: tracked tasks, steps, timers, instances, schedules, "
            "reports, people; and what cannot move and why" + preview, (200, REPORT), 403, 404, 409,
            parameters=unit, body=MERGE_PREVIEW)},
        "/api/units/{code}/merge": {"post": _operation(
            "Merge the unit into `into` in one transaction, audited (admins); the unit stays, inactive, so its "
            "records keep its name", (200, REPORT), 403, 404, 409, parameters=unit, body=MERGE)},
        "/api/units/{code}/retire-preview": {"post": _operation(
            "What retiring the unit, its work going to `work_to`, would move" + preview, (200, REPORT), 403, 404,
            409, parameters=unit, body=RETIRE_PREVIEW)},
        "/api/units/{code}/retire": {"post": _operation(
            "Retire the unit, its work going to `work_to`, in one transaction, audited (admins); its people are "
            "deactivated unless users is \"move\"", (200, REPORT), 403, 404, 409, parameters=unit, body=RETIRE)},
        "/api/organisation/import-preview": {"post": _operation(
            "Every unit an org-change/1 file creates, renames, moves, merges or retires, and the work that would "
            "move" + preview, (200, REPORT), 403, 404, 409, body=IMPORT_PREVIEW)},
        "/api/organisation/import": {"post": _operation(
            "Apply an org-change/1 file in one transaction, audited (admins)", (200, REPORT), 403, 404, 409,
            body=IMPORT)},
    }
