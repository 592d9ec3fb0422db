"""The OpenAPI document of /api/ (kept next to the routes it describes; a test checks they agree)."""
from __future__ import annotations

from engine.core import i18n

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                   "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}}}
TASK = {"type": "object", "properties": {
    "instance_id": {"type": "integer"}, "task_id": {"type": "string"}, "bpmn_id": {"type": "string"},
    "name": {"type": ["string", "null"]}, "lane": {"type": ["string", "null"]},
    "assignee": {"type": ["string", "null"]}, "due_at": {"type": ["string", "null"], "format": "date-time"}}}


def _body(properties: dict | None = None) -> dict:
    schema = {"type": "object", **({"properties": properties} if properties else {})}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _read(summary: str, *codes: int, parameters: list | None = None) -> dict:
    return {"get": {"summary": summary, **({"parameters": parameters} if parameters else {}),
                    "responses": {"200": {"description": "ok"}, **_errors(401, *codes)}}}


def _errors(*codes: int) -> dict:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {str(code): {"description": "error", "content": error}
            for code in codes}


def document() -> dict:
    """The OpenAPI 3.1 document."""
    task_path = [{"name": "instance_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                 {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    tracked_path = [{"name": "task_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    string, date = {"type": "string"}, {"type": "string", "format": "date"}
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{i18n.text('app_title')} — API", "version": "1"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR, "Task": TASK},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/tasks": {"get": {
                "summary": "My ready tasks, soonest due first",
                "parameters": [{"name": n, "in": "query", "schema": {"type": t}} for n, t in (
                    ("process", "string"), ("unit", "string"), ("q", "string"), ("category", "string"),
                    ("mine", "string"), ("page", "integer"), ("per_page", "integer"))],
                "responses": {"200": {"description": "a page of tasks"}, **_errors(401)}}},
            "/api/tasks/{instance_id}/{task_id}": {"get": {
                "summary": "A task with its form schema and data", "parameters": task_path,
                "responses": {"200": {"description": "the task"}, **_errors(401, 404, 409)}}},
            "/api/tasks/{instance_id}/{task_id}/complete": {"post": {
                "summary": "Complete a task with form data", "parameters": task_path,
                "requestBody": _body({"data": {"type": "object"}, "row_version": {"type": "integer"}}),
                "responses": {"200": {"description": "the instance after the step"}, **_errors(401, 404, 409, 422)}}},
            "/api/tasks/{instance_id}/{task_id}/claim": {"post": {
                "summary": "Claim a task, or release it with {\"release\": true}", "parameters": task_path,
                "responses": {"200": {"description": "done"}, **_errors(401, 404, 409)}}},
            "/api/tracked-tasks": {"get": {
                "summary": "Tracked tasks I may see",
                "parameters": [{"name": n, "in": "query", "schema": {"type": t}} for n, t in (
                    ("unit", "string"), ("q", "string"), ("status", "string"), ("page", "integer"))],
                "responses": {"200": {"description": "a page of tracked tasks"}, **_errors(401)}}},
            "/api/tasks/{instance_id}/{task_id}/history": _read(
                "Who did what to the task's instance, oldest first", 404, parameters=task_path),
            "/api/tracked-tasks/{task_id}": _read(
                "A tracked task with its updates, parts and what I may do on it", 404, parameters=tracked_path),
            "/api/tracked-tasks/{task_id}/request-update": {"post": {
                "summary": "Ask the lead unit for an update now (the Office)", "parameters": tracked_path,
                "requestBody": _body({"note": string}),
                "responses": {"201": {"description": "requested"}, **_errors(401, 403, 404, 422)}}},
            "/api/tracked-tasks/{task_id}/delegate": {"post": {
                "summary": "Pass parts of the task to units below the lead unit", "parameters": tracked_path,
                "requestBody": _body({"parts": {"type": "array", "items": {"type": "object", "properties": {
                    "unit": string, "content": string, "deadline": date}}}}),
                "responses": {"201": {"description": "delegated"}, **_errors(401, 403, 404, 422)}}},
            "/api/tracked-tasks/{task_id}/progress": {"post": {
                "summary": "Record a progress update (lead unit)",
                "parameters": tracked_path,
                "requestBody": _body({k: string for k in ("state", "work_done", "difficulties", "proposals",
                                                          "report_document")}),
                "responses": {"201": {"description": "recorded"}, **_errors(401, 403, 404, 422)}}},
            "/api/documents": {"post": {
                "summary": "Register an assigning document and its tasks (Office); classified documents are refused",
                "requestBody": _body(),
                "responses": {"201": {"description": "registered"}, **_errors(401, 403, 422)}}},
            "/api/feedback": {**_read("The Office's feedback register", 403), "post": {
                "summary": "File feedback about a late task (districts, agencies)",
                "requestBody": _body({"task_id": {"type": "integer"}, "content": string}),
                "responses": {"201": {"description": "filed"}, **_errors(401, 403, 404, 422)}}},
            "/api/notifications": _read("My notifications, newest first, and the unread count"),
            "/api/notifications/read": {"post": {
                "summary": "Mark some of my notifications read", "requestBody": _body({
                    "ids": {"type": "array", "items": {"type": "integer"}}}),
                "responses": {"200": {"description": "how many were marked"}, **_errors(401, 422)}}},
            "/api/reporting-rounds": {**_read("Reporting rounds opened, newest first (the Office)", 403), "post": {
                "summary": "Open the round of the period containing a day (the Office)",
                "requestBody": _body({"cadence": string, "period_day": date,
                                      "kinds": {"type": "array", "items": string}}),
                "responses": {"201": {"description": "opened"}, **_errors(401, 403, 409, 422)}}},
            "/api/reporting-rounds/{period_key}": _read(
                "One round with each unit's report (the Office)", 403, 404,
                parameters=[{"name": "period_key", "in": "path", "required": True, "schema": string}]),
            "/api/reporting-plan": {"put": {
                "summary": "Choose the cadences whose rounds open by themselves (the Office)",
                "requestBody": _body({"automatic": {"type": "array", "items": string}}),
                "responses": {"200": {"description": "saved"}, **_errors(401, 403, 422)}}},
            "/api/processes": _read("Deployed process versions and recent instances", 403),
            "/api/openapi.json": {"get": {"summary": "This document", "security": [],
                                          "responses": {"200": {"description": "OpenAPI"}}}},
        },
    }
