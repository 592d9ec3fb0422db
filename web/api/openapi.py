"""The OpenAPI document of /api/ (kept next to the routes it describes; tests check they agree).

The request bodies' schemas here are also what the routes check bodies against (`body_matching`), and
every enum and every response's shape is generated from the engine's own enums and read models, so the
document cannot drift from what the API accepts and answers. tests/test_api_schema.py runs schemathesis
against it.
"""
from __future__ import annotations

import dataclasses
import enum
import importlib
import types
import typing
from datetime import date, datetime

from engine.core import i18n
from engine.process.definitions import DefinitionView
from engine.process.steps import InstanceView, TaskView
from engine.process.tables import InstanceStatus
from engine.read.inbox import InboxCategory
from engine.read.report_queries import RoundView, UnitReportView
from engine.read.task_queries import CATEGORIES, FeedbackRow, TaskPage
from engine.regulation.notifications import NotificationKind
from engine.regulation.records import DocumentType, ProgressState, TaskStatus
from engine.regulation.reporting import REPORTING_KINDS
from engine.worktime.periods import Cadence

from ..idempotency import HEADER, REPLAYED, WRITES
from ..inputs import ID_MAX
from . import area_modules

STRING, TEXT, DATE = {"type": "string"}, {"type": "string"}, {"type": "string", "format": "date"}
DATE_TIME = {"type": "string", "format": "date-time"}
ID = {"type": "integer", "minimum": 1, "maximum": ID_MAX}


def enum_of(members) -> dict:
    """A string enum of the members' values (an engine enum, or some of its members)."""
    return {"type": "string", "enum": [m.value for m in members]}


def nullable(schema: dict) -> dict:
    """The schema, or null."""
    if set(schema) == {"type"} and isinstance(schema["type"], str):
        return {"type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def schema_of(kind) -> dict:
    """The JSON Schema of a read model (a dataclass, as `to_json` writes it) or of one of its field types."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        schema = schema_of(options[0]) if len(options) == 1 else {"anyOf": [schema_of(a) for a in options]}
        return nullable(schema) if len(options) < len(args) else schema
    if dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        fields = [f.name for f in dataclasses.fields(kind)]
        return {"type": "object", "required": fields, "properties": {name: schema_of(hints[name]) for name in fields}}
    if origin in (list, tuple, set, frozenset):
        return {"type": "array", "items": schema_of(args[0]) if args else {}}
    if origin is dict or kind is dict:
        return {"type": "object"}
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return enum_of(kind)
    simple = {bool: {"type": "boolean"}, int: {"type": "integer"}, float: {"type": "number"}, str: STRING,
              datetime: DATE_TIME, date: DATE}
    return dict(simple.get(kind, {}))


def obj(required: tuple[str, ...] | list[str] = (), **properties) -> dict:
    """An object schema with these properties, `required` naming those that must be there."""
    return {"type": "object", **({"required": list(required)} if required else {}), "properties": properties}


# --- request bodies: the routes check bodies against these -------------------------------------------------

COMPLETE = obj(data={"type": "object"}, row_version={"type": "integer", "minimum": 0})
CLAIM = obj(release={"type": "boolean"}, take_over={"type": "boolean"})
PROGRESS = obj(("work_done",), state=nullable(enum_of(ProgressState.reported())),
               work_done={"type": "string", "minLength": 1},
               **{k: nullable(TEXT) for k in ("difficulties", "proposals", "report_document")})
REQUEST_UPDATE = obj(("note",), note=TEXT)  # what the unit should report, and why
DELEGATE = obj(("parts",), parts={"type": "array", "items": obj(  # no part at all: the engine's "parts_missing"
    ("unit", "content"), unit=STRING, content=TEXT, deadline=nullable(DATE))})
DOCUMENT_TASK = obj(("content", "lead_unit"), content=TEXT, lead_unit=STRING, expected_output=nullable(TEXT),
                    deadline=nullable(DATE), update_cadence=nullable(enum_of(Cadence)),
                    coordinators={"type": "array", "items": STRING})
DOCUMENT = obj(("number_symbol", "issued_on", "doc_type", "issuer", "signer", "summary", "tasks"),
               number_symbol={"type": "string", "pattern": "^[0-9]+/[0-9A-ZĐ-]+$"}, issued_on=DATE,
               doc_type=enum_of(DocumentType), issuer=STRING, signer=STRING, summary=TEXT,
               classification=nullable(STRING), tasks={"type": "array", "minItems": 1, "items": DOCUMENT_TASK})
FEEDBACK = obj(("task_id", "content"), task_id=ID, content=TEXT)
NOTIFICATIONS_READ = obj(ids={"type": "array", "items": ID}, all={"type": "boolean"})  # all: every one, not only ids
ROUND = obj(("cadence", "period_day"), cadence=enum_of(Cadence), period_day=DATE,
            kinds={"type": "array", "items": enum_of(REPORTING_KINDS)})
PLAN = obj(("automatic",), automatic={"type": "array", "items": enum_of(Cadence)})

# --- responses -------------------------------------------------------------------------------------------

ERROR = obj(("error",), error=obj(("code", "message"), code=STRING, message=STRING,
                                  fields={"type": "object", "additionalProperties": STRING}))
TASK = schema_of(TaskView)
TASK_OUT = obj(("instance_id", "task_id", "bpmn_id", "name", "lane", "assignee", "due_at"), **{
    k: v for k, v in TASK["properties"].items() if k != "created_at"})
INBOX_ITEM = obj(("instance_id", "task_id", "bpmn_id", "name", "process_id", "lane", "assignee", "category",
                  "due_at", "created_at", "claimed_by", "assignee_name", "subject"),
                 **TASK_OUT["properties"], process_id=STRING, category=enum_of(InboxCategory),
                 created_at=DATE_TIME, claimed_by=nullable(STRING), assignee_name=nullable(STRING),
                 # What the task is about (engine/read/inbox_subjects.py): null fields do not apply.
                 subject=obj(("tracked_task_id", "content", "document", "lead_unit_name", "reporter", "period"),
                             tracked_task_id=nullable({"type": "integer"}), content=nullable(STRING),
                             document=nullable(STRING), lead_unit_name=nullable(STRING), reporter=nullable(STRING),
                             period=nullable(STRING)),
                 due_reason=nullable(STRING))  # why it is due then, when not the task's deadline (due_reasons)
INBOX = obj(("total", "counts", "page", "per_page", "items"), total={"type": "integer"},
            counts={"type": "object", "propertyNames": enum_of(InboxCategory), "additionalProperties": {
                "type": "integer"}}, page={"type": "integer"}, per_page={"type": "integer"},
            items={"type": "array", "items": INBOX_ITEM})
STEP_RECORD = obj(("task_id", "bpmn_id", "name", "by", "by_name", "at", "data"), task_id=STRING,
                  bpmn_id=nullable(STRING), name=nullable(STRING), by=STRING, by_name=STRING, at=DATE_TIME,
                  data={"type": "object"})  # a finished step: what it was completed with, by whom, when
TASK_DETAILS = obj(("task", "process_id", "row_version", "form", "data", "state", "completed", "earlier_steps"),
                   task=TASK_OUT, process_id=STRING, row_version={"type": "integer"},
                   form={"type": ["object", "null"]}, data={"type": "object"}, state={"enum": ["ready", "completed"]},
                   completed={"oneOf": [STEP_RECORD, {"type": "null"}]},
                   earlier_steps={"type": "array", "items": STEP_RECORD},
                   # What it is about (as an inbox item's) and, on a feedback's steps, the PPC's direction
                   # once given, in or outside the system (engine/read/feedback_directions.py).
                   subject={"oneOf": [INBOX_ITEM["properties"]["subject"], {"type": "null"}]},
                   due_reason=nullable(STRING),
                   direction={"oneOf": [obj(("content", "given_by", "given_on", "given_at", "outside_system"),
                                            content=STRING, given_by=STRING, given_on=nullable(DATE),
                                            given_at=DATE_TIME, outside_system={"type": "boolean"},
                                            recorded_by=nullable(STRING), recorded_by_name=nullable(STRING),
                                            notice_number=STRING), {"type": "null"}]})
HISTORY = obj(("items",), items={"type": "array", "items": obj(
    ("at", "actor", "action", "bpmn_id"), at=DATE_TIME, actor=STRING, action=STRING, bpmn_id=nullable(STRING))})
COMPLETED = obj(("instance_id", "status", "row_version", "next_tasks"), instance_id={"type": "integer"},
                status=enum_of(InstanceStatus), row_version={"type": "integer"},
                next_tasks={"type": "array", "items": TASK_OUT})
TRACKED_ITEM = obj(("id", "content", "document", "lead_unit", "deadline", "status", "category", "urge_count"),
                   id={"type": "integer"}, content=STRING, document=STRING, lead_unit=STRING,
                   deadline=nullable(DATE), status=enum_of(TaskStatus), category=STRING,
                   urge_count={"type": "integer"})
TRACKED = obj(("total", "page", "items"), total={"type": "integer"}, page={"type": "integer"},
              items={"type": "array", "items": TRACKED_ITEM})
NOTIFICATIONS = obj(("unread", "total", "page", "per_page", "items"), unread={"type": "integer"},
                    total={"type": "integer"}, page={"type": "integer"}, per_page={"type": "integer"},
                    items={"type": "array", "items": obj(
                        ("id", "kind", "title", "body", "subject", "read", "url", "created_at"), id={"type": "integer"},
                        kind=enum_of(NotificationKind), title=STRING, body=STRING, subject=nullable(STRING),
                        read={"type": "boolean"}, url=nullable(STRING), created_at=DATE_TIME)})
ROUNDS = obj(("items", "automatic"), items={"type": "array", "items": schema_of(RoundView)},
             automatic={"type": "array", "items": enum_of(Cadence)})
ROUND_OPENED = obj(("period_key", "period_label", "reports"), period_key=STRING, period_label=STRING,
                   reports={"type": "integer"})
ONE_ROUND = obj(("round", "reports"), round=schema_of(RoundView),
                reports={"type": "array", "items": schema_of(UnitReportView)})
PROCESSES = obj(("definitions", "instances"), definitions={"type": "array", "items": schema_of(DefinitionView)},
                instances={"type": "array", "items": schema_of(InstanceView)})


# When each error status is answered (technical text for client developers, English like the rest of the document).
WHEN = {401: "no bearer token, or one unknown or revoked", 403: "this user may not do this (the message says who may)",
        404: "no such record, or not one this user may see", 409: "the record changed or is not in a state that "
        "allows this (a stale row_version, a task claimed by someone else, registered already, opened already)",
        413: "the body is larger than the server accepts", 415: "the body is not JSON (Content-Type: application/json)",
        422: "the input does not fit (fields names each field; a NUL character anywhere is refused too)",
        503: "the database failed for a moment; nothing was changed unless the message says it may have been: "
        "try again after Retry-After seconds"}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _errors(*codes: int) -> dict:
    """Error responses: always 422 (a NUL character anywhere is refused) and 503 (the database failed for
    a moment: try again after Retry-After seconds); 401 without a valid token."""
    described = {}
    for code in sorted({*codes, 422, 503}):
        described[str(code)] = {"description": WHEN[code],
                                "content": _json({"$ref": "#/components/schemas/Error"})}
    described["503"]["headers"] = {"Retry-After": {"schema": {"type": "string"}, "required": True}}
    return described


def _operation(summary: str, ok: tuple[int, dict], *codes: int, parameters: list | None = None,
               body: dict | None = None, body_required: bool = True) -> dict:
    status, schema = ok
    operation = {"summary": summary, **({"parameters": parameters} if parameters else {})}
    if body is not None:
        # A body that is not JSON is 415; one too large for the server (MAX_CONTENT_LENGTH) is 413.
        operation["requestBody"] = {"required": body_required, "content": _json(body)}
        codes = (*codes, 413, 415)
    operation["responses"] = {str(status): {"description": "ok", "content": _json(schema)}, **_errors(401, *codes)}
    return operation


IDEMPOTENCY_KEY = {"name": HEADER, "in": "header", "description": (
    "Optional. The same request sent again with the same key (per user, kept 24 hours) gets the first answer, "
    f"with the header {REPLAYED}: true, and is not carried out twice; the key with another request is 422; "
    "409 when the request was carried out but its answer was lost (read the result)"),
    "schema": {"type": "string", "pattern": "^[!-~]{1,200}$"}}


def _idempotent(operation: dict) -> None:
    # Every write takes an Idempotency-Key (web/idempotency.py): the header, and its 409 and 422.
    operation["parameters"] = [*operation.get("parameters", ()), IDEMPOTENCY_KEY]
    for code in (409, 422):
        operation["responses"].setdefault(str(code), {"description": WHEN[code], "content": _json(
            {"$ref": "#/components/schemas/Error"})})


def _with_files(operation: dict) -> dict:
    # The same body as form fields (a form sends no null: a field is left out), plus the files, as a
    # page's form sends them.
    fields = operation["requestBody"]["content"]["application/json"]["schema"]
    files = {"type": "array", "items": {"type": "string", "format": "binary"}}
    operation["requestBody"]["content"]["multipart/form-data"] = {"schema": {**fields, "properties": {
        **{name: _not_null(schema) for name, schema in fields["properties"].items()}, "files": files}}}
    return operation


def _not_null(schema: dict) -> dict:
    if isinstance(schema.get("type"), list):
        return {**schema, "type": next(t for t in schema["type"] if t != "null")}
    return next((s for s in schema.get("anyOf", ()) if s != {"type": "null"}), schema)


def _query(name: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "schema": schema}


def _path(name: str, schema: dict) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema}


PAGE = {"type": "integer", "minimum": 1, "maximum": ID_MAX}


def document() -> dict:
    """The OpenAPI 3.1 document."""
    task_path = [_path("instance_id", ID), _path("task_id", {"type": "string", "minLength": 1})]
    tracked_path = [_path("task_id", ID)]
    paths = {
        "/api/tasks": {"get": _operation(
            "My ready tasks, soonest due first", (200, INBOX), parameters=[
                _query("process", STRING), _query("unit", STRING), _query("q", STRING),
                _query("category", enum_of(InboxCategory)), _query("mine", {"type": "string", "enum": ["0", "1"]}),
                _query("period", {"type": "string", "description": "a month (2025-05) or a quarter (2025-Q2)"}),
                _query("page", PAGE), _query("per_page", {"type": "integer", "minimum": 1, "maximum": 200})])},
        "/api/tasks/{instance_id}/{task_id}": {"get": _operation(
            "A task with its form schema and data and the steps finished before it; a finished step answers 200 "
            "with state \"completed\" (by whom, when, its data)", (200, TASK_DETAILS), 404, 409,
            parameters=task_path)},
        "/api/tasks/{instance_id}/{task_id}/history": {"get": _operation(
            "Who did what to the task's instance, oldest first", (200, HISTORY), 404, 409, parameters=task_path)},
        "/api/tasks/{instance_id}/{task_id}/complete": {"post": _operation(
            "Complete a task with form data; 409 when it was claimed by someone else, or the form is stale "
            "(row_version)", (200, COMPLETED), 404, 409, parameters=task_path, body=COMPLETE)},
        "/api/tasks/{instance_id}/{task_id}/claim": {"post": _operation(
            "Claim a task; {\"release\": true} gives it back; {\"take_over\": true} takes it over from the "
            "colleague who claimed it (audited)", (200, obj(("ok",), ok={"type": "boolean"})), 404, 409,
            parameters=task_path, body=CLAIM, body_required=False)},
        "/api/tracked-tasks": {"get": _operation(
            "Tracked tasks I may see", (200, TRACKED), parameters=[
                _query("unit", STRING), _query("q", STRING), _query("status", {
                    "type": "string", "enum": [s.value for s in TaskStatus] + [
                        c for c in CATEGORIES if c not in {s.value for s in TaskStatus}],
                    "description": "a status, or a category the list shows (overdue, nearly_due...)"}),
                _query("page", PAGE), _query("per_page", {"type": "integer", "minimum": 1, "maximum": 200})])},
        "/api/tracked-tasks/{task_id}": {"get": _operation(
            "A tracked task with its updates, parts and what I may do on it", (200, schema_of(TaskPage)), 404,
            parameters=tracked_path)},
        "/api/tracked-tasks/{task_id}/request-update": {"post": _operation(
            "Ask the lead unit for an update now (the Office)", (201, obj(("instance_id",), instance_id=ID)),
            403, 404, parameters=tracked_path, body=REQUEST_UPDATE)},
        "/api/tracked-tasks/{task_id}/delegate": {"post": _operation(
            "Pass parts of the task to units below the lead unit", (201, obj(("task_ids",), task_ids={
                "type": "array", "items": ID})), 403, 404, parameters=tracked_path, body=DELEGATE)},
        "/api/tracked-tasks/{task_id}/progress": {"post": _with_files(_operation(
            "Record a progress update (lead unit); with attachments as multipart/form-data (`files`): one "
            "refused file (type, size, content, count) is 422 naming it and stores nothing",
            (201, obj(("progress_update_id",), progress_update_id=ID)), 403, 404, parameters=tracked_path,
            body=PROGRESS))},
        "/api/documents": {"post": _operation(
            "Register an assigning document and its tasks (Office); classified documents are refused (422), "
            "a document registered already is 409", (201, obj(("document_id", "task_ids"), document_id=ID,
                                                              task_ids={"type": "array", "items": ID})),
            403, 409, body=DOCUMENT)},
        "/api/feedback": {
            "get": _operation("The Office's feedback register", (200, obj(("items",), items={
                "type": "array", "items": schema_of(FeedbackRow)})), 403,
                parameters=[_query("open", {"type": "string", "enum": ["0", "1"]})]),
            "post": _operation("File feedback about a late task (districts, agencies)",
                               (201, obj(("feedback_id",), feedback_id=ID)), 403, 404, body=FEEDBACK)},
        "/api/notifications": {"get": _operation(
            "My notifications, newest first, a page at a time, with the unread count; each names its task "
            "(subject) and links to it (url: the step waiting for me, the reporting round or the tracked task)",
            (200, NOTIFICATIONS), parameters=[_query("page", PAGE),
                                              _query("per_page", {"type": "integer", "minimum": 1, "maximum": 200}),
                                              _query("limit", {"type": "integer", "minimum": 1, "maximum": 500})])},
        "/api/notifications/read": {"post": _operation(
            "Mark my notifications read: {\"all\": true} every one, or {\"ids\": [...]} some (ids that are not "
            "mine are ignored; neither is 422)",
            (200, obj(("marked",), marked={"type": "integer"})), body=NOTIFICATIONS_READ)},
        "/api/reporting-rounds": {
            "get": _operation("Reporting rounds opened, newest first (the Office)", (200, ROUNDS), 403),
            "post": _operation("Open the round of the period containing a day (the Office)", (201, ROUND_OPENED),
                               403, 409, body=ROUND)},
        "/api/reporting-rounds/{period_key}": {"get": _operation(
            "One round with each unit's report (the Office)", (200, ONE_ROUND), 403, 404,
            parameters=[_path("period_key", {"type": "string", "minLength": 1})])},
        "/api/reporting-plan": {"put": _operation(
            "Choose the cadences whose rounds open by themselves (the Office)", (200, obj(("automatic",), automatic={
                "type": "array", "items": enum_of(Cadence)})), 403, body=PLAN)},
        "/api/processes": {"get": _operation("Deployed process versions and recent instances", (200, PROCESSES), 403)},
        "/api/openapi.json": {"get": {"summary": "This document", "security": [],
                                      "responses": {"200": {"description": "OpenAPI", "content": _json(
                                          {"type": "object"})}}}},
    }
    for module in area_modules():  # an area may describe its own routes beside them: openapi_paths()
        paths.update(getattr(importlib.import_module(module), "openapi_paths", dict)())
    for methods in paths.values():
        for method, operation in methods.items():
            if method.upper() in WRITES:
                _idempotent(operation)
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{i18n.text('app_title')} — API", "version": "1"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR, "Task": TASK},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    }

