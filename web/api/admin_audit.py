"""API: the audit log, filtered and paged by key, and its CSV export. Admins and the Office read it
(`access.may_see_administration`), as the page (web/admin_audit.py), which reads through the same queries."""
from __future__ import annotations

from flask import g, jsonify, request

from engine.read import audit_queries
from engine.read.audit_queries import AuditRow
from engine.regulation import access

from ..admin_audit import action_label, csv_response, filter_from
from ..inputs import int_arg
from . import bp, ctx, forbid_unless, language, to_json
from .openapi import DATE, STRING, WHEN, _errors, _query, nullable, obj, schema_of

_READERS = "audit_readers_only"
ROW = schema_of(AuditRow)
ROW = {**ROW, "required": [*ROW["required"], "action_label"],
       "properties": {**ROW["properties"], "action_label": STRING}}
PAGE = obj(("items", "next"), items={"type": "array", "items": ROW},
           next=nullable({"type": "string", "description": "the key of the next (older) page: pass it as `after`"}))


@bp.get("/audit")
def audit_page():
    """A page of audit entries, newest first, and the key of the next one (`after`)."""
    forbid_unless(access.may_see_administration(g.actor), _READERS)
    limit = int_arg("limit", audit_queries.PAGE_SIZE, 1, audit_queries.MAX_PAGE_SIZE)
    page = audit_queries.search(ctx(), filter_from(request.args), request.args.get("after") or None, limit)
    lang = language()
    return jsonify(items=[{**to_json(row), "action_label": action_label(row.action, lang)} for row in page.items],
                   next=page.next)


@bp.get("/audit.csv")
def audit_csv():
    """Every entry matching the filters as CSV, streamed; 422 when more than the export limit match."""
    forbid_unless(access.may_see_administration(g.actor), _READERS)
    return csv_response(audit_queries.export(ctx(), filter_from(request.args)), language())


def openapi_paths() -> dict:
    """The OpenAPI description of these routes (merged into /api/openapi.json)."""
    filters = [
        {**_query("actor", STRING), "description": "the person's username"},
        {**_query("unit", STRING), "description": "the person's unit (code or name), units below it included"},
        {**_query("process", STRING), "description": "the procedure (process id) of the entry's instance"},
        {**_query("action", STRING), "description": "the action's code (audit_action.* in the catalog)"},
        {**_query("from", DATE), "description": "first day, Vietnam's time"},
        {**_query("to", DATE), "description": "last day, Vietnam's time"}]
    csv_ok = {"description": "ok", "content": {"text/csv": {"schema": {"type": "string"}}}}
    return {
        "/api/audit": {"get": {
            "summary": "Audit entries, newest first, filtered, paged by key (admins and the Office)",
            "parameters": [*filters, {**_query("after", STRING), "description": "a page's `next`"},
                           _query("limit", {"type": "integer", "minimum": 1,
                                            "maximum": audit_queries.MAX_PAGE_SIZE})],
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": PAGE}}},
                          **_errors(401, 403)}}},
        "/api/audit.csv": {"get": {
            "summary": f"Every filtered entry as CSV (admins and the Office); 422 when more than "
                       f"{audit_queries.EXPORT_LIMIT} match ({WHEN[422]})",
            "parameters": filters, "responses": {"200": csv_ok, **_errors(401, 403)}}},
    }
