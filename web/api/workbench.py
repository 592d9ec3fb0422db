"""API: the analyst's workbench - a process's draft (open, save, discard, check), the lists the modeler
chooses from, and the preview of a user task's form drawn by the renderer staff see.

The page (web/workbench.py) answers the same questions with the same functions below, under the
signed-in session; these routes are their bearer-token twins.
"""
from __future__ import annotations

import json

from flask import g, jsonify, render_template

from engine.bpmn import forms as form_schemas
from engine.core.errors import DefinitionNotFound, InvalidInput
from engine.process import definitions, drafts
from engine.read import workbench as workbench_read
from engine.regulation import access

from . import body_matching, bp, ctx, forbid_unless, language
from .openapi import DATE_TIME, STRING, _operation, _path, _query, nullable, obj

_EDITORS_ONLY = "diagram_editors_only"  # catalog key of why a 403
FORM_NAME = r"^[\w.-]{1,200}\.json$"
FORMS = {"type": "object", "propertyNames": {"pattern": FORM_NAME}, "additionalProperties": {"type": "object"},
         "maxProperties": drafts.MAX_FORMS}
DRAFT_IN = obj(("bpmn", "forms"), bpmn={"type": "string", "minLength": 1}, forms=FORMS)
PREVIEW_IN = obj(("schema",), schema={"type": "object"})


def draft_json(view: drafts.DraftView) -> dict:
    """A draft (or the latest version's content) as the modeler reads it: forms as schema objects."""
    return {"process_id": view.process_id, "bpmn": view.bpmn_xml.decode("utf-8", errors="replace"),
            "forms": {name: _object(text) for name, text in sorted(view.forms.items())}, "saved": view.saved,
            "base_version": view.base_version, "latest_version": view.latest_version,
            "updated_by": view.updated_by, "updated_at": view.updated_at.isoformat() if view.updated_at else None}


def _object(text: str):
    try:
        return json.loads(text)
    except ValueError:  # a version deployed before forms were checked as JSON: shown as text, never lost
        return text


def draft_input() -> tuple[bytes, dict[str, str]]:
    """The body {"bpmn": text, "forms": {file name: schema object}} as the engine takes it."""
    body = body_matching(DRAFT_IN)
    return body["bpmn"].encode("utf-8"), {
        name: json.dumps(schema, ensure_ascii=False, indent=2) for name, schema in body["forms"].items()}


def problems_json(problems) -> dict:
    """Located problems: each with the element, line, message and severity (and the file: a form's)."""
    return {"problems": [{"element_id": p.element_id, "line": p.line, "message": p.message,
                          "severity": p.severity, "file": p.file} for p in problems]}


def discard(process_id: str, actor: str) -> dict:
    """Discard the draft: {"discarded": true}, or false when there was none (the process exists; 404 if not)."""
    try:
        drafts.discard_draft(ctx(), process_id, actor)
    except DefinitionNotFound:
        drafts.open_for_editing(ctx(), process_id)  # no draft and no version: the process does not exist
        return {"discarded": False}
    return {"discarded": True}


def form_preview() -> dict:
    """The body {"schema": {...}} drawn as staff would see the form; InvalidInput names the schema's problem."""
    schema = body_matching(PREVIEW_IN)["schema"]
    try:
        form = form_schemas.form_from_json("preview.schema.json", json.dumps(schema))
    except ValueError as error:
        raise InvalidInput("form_schema_invalid", reason=str(error).removeprefix("preview.schema.json: ")) from None
    return {"html": render_template("workbench_form_preview.html", form=form)}


@bp.get("/processes/<process_id>/draft")
def open_draft(process_id: str):
    """The saved draft of a process, or its latest version's diagram and forms."""
    forbid_unless(access.may_edit_diagrams(g.actor), _EDITORS_ONLY)
    return jsonify(draft_json(drafts.open_for_editing(ctx(), process_id)))


@bp.put("/processes/<process_id>/draft")
def save_draft(process_id: str):
    """Keep the analyst's work as the process's draft (checked only for safety: an invalid diagram is kept)."""
    forbid_unless(access.may_edit_diagrams(g.actor), _EDITORS_ONLY)
    bpmn, form_texts = draft_input()
    return jsonify(draft_json(drafts.save_draft(ctx(), process_id, bpmn, form_texts, g.actor.username)))


@bp.delete("/processes/<process_id>/draft")
def discard_draft(process_id: str):
    """Drop the saved draft; the process's latest version is what opens next."""
    forbid_unless(access.may_edit_diagrams(g.actor), _EDITORS_ONLY)
    return jsonify(discard(process_id, g.actor.username))


@bp.post("/processes/<process_id>/draft/check")
def check_draft(process_id: str):
    """Everything a deploy would refuse (errors) and modelling lint (warnings), located on elements and lines."""
    forbid_unless(access.may_edit_diagrams(g.actor), _EDITORS_ONLY)
    bpmn, form_texts = draft_input()
    return jsonify(problems_json(definitions.check_draft(ctx(), bpmn, form_texts, f"{process_id}.bpmn",
                                                         lang=language())))


@bp.get("/workbench/catalog")
def catalog():
    """What the modeler chooses from: roles, timer settings, actions and the data they read, forms, functions."""
    forbid_unless(access.may_edit_diagrams(g.actor), _EDITORS_ONLY)
    return jsonify(workbench_read.catalog(ctx(), language()))


@bp.post("/workbench/form-preview")
def preview():
    """A user task's form drawn from its JSON Schema, as the task page draws it."""
    forbid_unless(access.may_edit_diagrams(g.actor), _EDITORS_ONLY)
    return jsonify(form_preview())


DRAFT_OUT = obj(("process_id", "bpmn", "forms", "saved", "base_version", "latest_version", "updated_by",
                 "updated_at"), process_id=STRING, bpmn=STRING, forms={"type": "object"}, saved={"type": "boolean"},
                base_version=nullable({"type": "integer"}), latest_version=nullable({"type": "integer"}),
                updated_by=nullable(STRING), updated_at=nullable(DATE_TIME))
PROBLEMS = obj(("problems",), problems={"type": "array", "items": obj(
    ("element_id", "line", "message", "severity"), element_id=nullable(STRING), line=nullable({"type": "integer"}),
    message=STRING, severity={"type": "string", "enum": ["error", "warning"]}, file=nullable(STRING))})
CATALOG = obj(("roles", "settings", "actions", "forms", "functions"), **{
    name: {"type": "array"} for name in ("roles", "settings", "actions", "forms", "functions")})


def openapi_paths() -> dict:
    """This module's routes in the OpenAPI document."""
    process = [_path("process_id", {"type": "string", "minLength": 1})]
    return {
        "/api/processes/{process_id}/draft": {
            "get": _operation("The process's draft, or its latest version's content (analysts, admins)",
                              (200, DRAFT_OUT), 403, 404, parameters=process),
            "put": _operation("Save the draft: diagram and forms; refused only when unsafe or too large",
                              (200, DRAFT_OUT), 403, parameters=process, body=DRAFT_IN),
            "delete": _operation("Discard the draft (audited); discarded is false when there was none",
                                 (200, obj(("discarded",), discarded={"type": "boolean"})), 403, 404,
                                 parameters=process)},
        "/api/processes/{process_id}/draft/check": {"post": _operation(
            "Check a diagram and its forms as a deploy would, plus modelling lint; located problems",
            (200, PROBLEMS), 403, parameters=process, body=DRAFT_IN)},
        "/api/workbench/catalog": {"get": _operation(
            "Roles, timer settings, actions (with the data they read), forms and diagram functions",
            (200, CATALOG), 403, parameters=[_query("lang", {"type": "string", "enum": ["vi", "en"]})])},
        "/api/workbench/form-preview": {"post": _operation(
            "A form's JSON Schema drawn as staff see it; 422 names the schema's problem",
            (200, obj(("html",), html=STRING)), 403, body=PREVIEW_IN)},
    }
