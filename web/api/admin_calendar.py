"""API: the working-day calendar (the twin of /admin/calendar). Admins and the Provincial Office read the
year and use the tester; admins add and remove overrides and import a year's announcement."""
from __future__ import annotations

from datetime import date, datetime

from flask import g, jsonify, request

from engine.core.errors import InvalidInput, NotFound
from engine.regulation import access, calendar_admin, calendar_import
from engine.regulation.calendar_admin import CalendarYear, OverrideChanged, TesterResult
from engine.regulation.calendar_import import ImportRefused, LineStatus
from engine.regulation.working_time import MoveView
from engine.worktime.calendar import OverrideKind

from . import body_matching, bp, ctx, error, forbid_unless, language, to_json
from .admin_settings import ADMINS, READERS
from .openapi import DATE, DATE_TIME, STRING, _operation, _path, _query, enum_of, nullable, obj, schema_of

TEXT = {"type": "string", "maxLength": 2000}
OVERRIDE = obj(("kind", "reason", "source", "apply_to_running"), kind=enum_of(OverrideKind), reason=TEXT,
               source=TEXT, apply_to_running={"type": "boolean"})
PREVIEW = obj(("action",), action={"type": "string", "enum": ["add", "remove"]}, kind=enum_of(OverrideKind),
              reason=TEXT, source=TEXT)
IMPORT = obj(("csv",), csv={"type": "string", "maxLength": calendar_import.MAX_CHARS},
             apply={"type": "boolean", "description": "false (the default): only the preview"},
             apply_to_running={"type": "boolean"})
MOVES = {"type": "array", "items": schema_of(MoveView)}
LINE = obj(("line", "day", "kind", "reason", "source", "status", "problem"), line={"type": "integer"},
           day=nullable(DATE), kind=nullable(enum_of(OverrideKind)), reason=STRING, source=STRING,
           status=enum_of(LineStatus), problem=nullable(STRING))
IMPORTED = obj(("lines", "added", "errors", "moved", "applied"), lines={"type": "array", "items": LINE},
               added={"type": "integer"}, errors={"type": "integer"}, moved=MOVES, applied={"type": "boolean"})


@bp.get("/calendar/<year>")
def calendar_year(year: str):
    """A year: every day's kind (working, weekend, holiday, compensatory, announced day off, make-up day)
    with reason and source, and the overrides with who recorded them."""
    forbid_unless(access.may_see_administration(g.actor), READERS)
    if not year.isdigit() or len(year) != 4:
        raise NotFound("calendar_year_unknown", first=calendar_admin.FIRST_YEAR, last=calendar_admin.LAST_YEAR)
    return jsonify(to_json(calendar_admin.year_view(ctx(), int(year))))


@bp.get("/calendar/working-days")
def working_days():
    """The tester: when "within n working days of `from`" ends, and the days off it skips."""
    forbid_unless(access.may_see_administration(g.actor), READERS)
    since = _instant(request.args.get("from", ""))
    n = request.args.get("n", "")
    if not n.isdigit() or len(n) > 5:
        raise InvalidInput("tester_days_invalid", max=calendar_admin.MAX_TESTER_DAYS)
    return jsonify(to_json(calendar_admin.working_days_after(ctx(), since, int(n))))


@bp.post("/calendar/overrides/<day>/preview")
def preview_override(day: str):
    """The running due dates that adding (or removing) the override of a day would move; nothing changes."""
    forbid_unless(access.may_administer(g.actor), ADMINS)
    body = body_matching(PREVIEW)
    if body["action"] == "remove":
        moves = calendar_admin.preview_remove(ctx(), _day(day))
    else:
        moves = calendar_admin.preview_add(ctx(), _day(day), body.get("kind", ""), body.get("reason", ""),
                                           body.get("source", ""))
    return jsonify(day=day, moves=to_json(moves))


@bp.put("/calendar/overrides/<day>")
def put_override(day: str):
    """Record an announced day off or make-up working day (409 if the day has one: remove it first)."""
    forbid_unless(access.may_administer(g.actor), ADMINS)
    body = body_matching(OVERRIDE)
    changed = calendar_admin.add(ctx(), _day(day), body["kind"], body["reason"], body["source"],
                                 body["apply_to_running"], g.actor.username)
    return jsonify(to_json(changed)), 201


@bp.delete("/calendar/overrides/<day>")
def delete_override(day: str):
    """Remove the override of a day; ?apply_to_running=1 moves running due dates too."""
    forbid_unless(access.may_administer(g.actor), ADMINS)
    apply = request.args.get("apply_to_running", "0")
    if apply not in ("0", "1"):
        raise InvalidInput("apply_to_running_invalid")
    return jsonify(to_json(calendar_admin.remove(ctx(), _day(day), apply == "1", g.actor.username)))


@bp.post("/calendar/import")
def import_calendar():
    """A year's announcement from CSV (day,kind,reason,source): the preview of every line, or with
    "apply": true the import, all or nothing (422 naming each wrong line in `fields`)."""
    forbid_unless(access.may_administer(g.actor), ADMINS)
    body = body_matching(IMPORT)
    if not body.get("apply"):
        return jsonify(_imported(calendar_import.preview_import(ctx(), body["csv"])))
    try:
        result = calendar_import.apply_import(ctx(), body["csv"], body.get("apply_to_running", False),
                                              g.actor.username)
    except ImportRefused as refused:
        return error(422, refused.code, refused.text(language()), fields={
            f"line {x.line}": x.problem.text(language()) for x in refused.lines if x.problem is not None})
    return jsonify(_imported(result))


def _imported(result) -> dict:
    data = to_json(result)
    for line, x in zip(data["lines"], result.lines, strict=True):
        line["problem"] = x.problem.text(language()) if x.problem is not None else None
    return data


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("date_invalid", field="day") from None


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace(" ", "+"))  # a "+" in a query string arrives as a space
    except ValueError:
        raise InvalidInput("date_invalid", field="from") from None
    return moment


def openapi_paths() -> dict:
    """The calendar's routes in the OpenAPI document."""
    day = [_path("day", DATE)]
    return {
        "/api/calendar/{year}": {"get": _operation(
            "A year's calendar: each day's kind with reason and source, the overrides with who recorded them "
            "(admins and the Office)", (200, schema_of(CalendarYear)), 403, 404,
            parameters=[_path("year", {"type": "string", "pattern": "^[0-9]{4}$"})])},
        "/api/calendar/working-days": {"get": _operation(
            "When \"within n working days of an instant\" ends (Civil Code Art. 147) and the days off it skips "
            "(admins and the Office)", (200, schema_of(TesterResult)), 403,
            parameters=[{**_query("from", DATE_TIME), "required": True},
                        {**_query("n", {"type": "integer", "minimum": 0,
                                        "maximum": calendar_admin.MAX_TESTER_DAYS}), "required": True}])},
        "/api/calendar/overrides/{day}/preview": {"post": _operation(
            "The running timers and ready tasks' due dates that adding (action add, with kind, reason, source) or "
            "removing (action remove) the override of a day would move (admins; nothing changes)",
            (200, obj(("day", "moves"), day=STRING, moves=MOVES)), 403, 404, 409, parameters=day, body=PREVIEW)},
        "/api/calendar/overrides/{day}": {
            "put": _operation(
                "Record an announced day off or make-up working day with its reason and document (audited); "
                "apply_to_running moves running due dates in the same transaction (admins); 409 if the day has "
                "an override", (201, schema_of(OverrideChanged)), 403, 409, parameters=day, body=OVERRIDE),
            "delete": _operation(
                "Remove the override of a day (audited); apply_to_running=1 moves running due dates too (admins)",
                (200, schema_of(OverrideChanged)), 403, 404, parameters=[
                    *day, _query("apply_to_running", {"type": "string", "enum": ["0", "1"]})])},
        "/api/calendar/import": {"post": _operation(
            "A year's announcement as CSV lines day,kind,reason,source: the preview of every line (and of the due "
            "dates it moves), or with apply the import, all or nothing (admins); wrong lines are 422 with fields "
            "naming each line", (200, IMPORTED), 403, 409, body=IMPORT)},
    }
