"""API: the named timer settings (the twin of /admin/settings). Admins and the Provincial Office read them;
admins preview and change them (`access.may_see_administration`, `access.may_administer`)."""
from __future__ import annotations

from flask import g, jsonify

from engine.regulation import access, working_time
from engine.regulation.working_time import ChangeView, MoveView, SettingView
from engine.worktime.timer_settings import MAX_VALUE, DurationUnit

from . import body_matching, bp, ctx, forbid_unless, to_json
from .openapi import STRING, _operation, _path, enum_of, obj, schema_of

READERS, ADMINS = "worktime_readers_only", "worktime_admins_only"  # catalog keys of why a 403
VALUE = {"type": "integer", "minimum": 0, "maximum": MAX_VALUE}
PREVIEW = obj(("value",), value=VALUE, unit=enum_of(DurationUnit))
CHANGE = obj(("value", "reason", "apply_to_running"), value=VALUE, unit=enum_of(DurationUnit),
             reason={"type": "string", "minLength": 1, "maxLength": 2000}, apply_to_running={"type": "boolean"})
MOVES = {"type": "array", "items": schema_of(MoveView)}
SETTINGS = obj(("items",), items={"type": "array", "items": schema_of(SettingView)})
HISTORY = obj(("name", "items"), name=STRING, items={"type": "array", "items": schema_of(ChangeView)})
PREVIEWED = obj(("name", "value", "moves"), name=STRING, value=VALUE, moves=MOVES)
CHANGED = obj(("setting", "applied_to_running", "moved"), setting=schema_of(SettingView),
              applied_to_running={"type": "boolean"}, moved=MOVES)


@bp.get("/settings")
def list_settings():
    """Every timer setting: value, unit, description, legal basis, last change and by whom."""
    forbid_unless(access.may_see_administration(g.actor), READERS)
    return jsonify(items=to_json(working_time.list_settings(ctx())))


@bp.get("/settings/<setting>/history")
def setting_history(setting: str):
    """The changes of one setting, newest first, with their reasons."""
    forbid_unless(access.may_see_administration(g.actor), READERS)
    return jsonify(name=setting, items=to_json(working_time.history(ctx(), setting)))


@bp.post("/settings/<setting>/preview")
def preview_setting(setting: str):
    """The running timers and ready tasks' due dates a new value would move; nothing is changed."""
    forbid_unless(access.may_administer(g.actor), ADMINS)
    body = body_matching(PREVIEW)
    moves = working_time.preview_change(ctx(), setting, body["value"], body.get("unit"))
    return jsonify(name=setting, value=body["value"], moves=to_json(moves))


@bp.put("/settings/<setting>")
def change_setting(setting: str):
    """Save a new value with its reason; apply_to_running moves running due dates too (one transaction)."""
    forbid_unless(access.may_administer(g.actor), ADMINS)
    body = body_matching(CHANGE)
    changed = working_time.change(ctx(), setting, body["value"], body.get("unit"), body["reason"],
                                  body["apply_to_running"], g.actor.username)
    return jsonify(to_json(changed))


def openapi_paths() -> dict:
    """The timer settings' routes in the OpenAPI document."""
    name = [_path("setting", {"type": "string", "minLength": 1})]
    return {
        "/api/settings": {"get": _operation(
            "Every timer setting with its value, unit, description, legal basis and last change (admins and the "
            "Office)", (200, SETTINGS), 403)},
        "/api/settings/{setting}/history": {"get": _operation(
            "The changes of one setting, newest first, with who, when and why (admins and the Office)",
            (200, HISTORY), 403, 404, parameters=name)},
        "/api/settings/{setting}/preview": {"post": _operation(
            "The running timers and ready tasks' due dates this value would move: instance, element, unit, old "
            "and new due (admins; nothing is changed)", (200, PREVIEWED), 403, 404, parameters=name, body=PREVIEW)},
        "/api/settings/{setting}": {"put": _operation(
            "Change a setting with a reason (kept in its history, audited); apply_to_running moves the running "
            "due dates the preview lists in the same transaction, else only work started afterwards follows it "
            "(admins). A value out of range or not a whole number is 422 and changes nothing",
            (200, CHANGED), 403, 404, 409, parameters=name, body=CHANGE)},
    }
