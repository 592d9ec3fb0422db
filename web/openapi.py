"""The OpenAPI document of /api/ (kept next to the routes it describes; a test checks they agree)."""
from __future__ import annotations

ERROR = {"type": "object", "required": ["error"], "properties": {"error": {
    "type": "object", "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                   "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}}}
TASK = {"type": "object", "properties": {
    "instance_id": {"type": "integer"}, "task_id": {"type": "string"}, "bpmn_id": {"type": "string"},
    "name": {"type": ["string", "null"]}, "lane": {"type": ["string", "null"]},
    "assignee": {"type": ["string", "null"]}, "due_at": {"type": ["string", "null"], "format": "date-time"}}}


def _errors(*codes: int) -> dict:
    return {str(code): {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
            for code in codes}


def document() -> dict:
    """The OpenAPI 3.1 document."""
    task_path = [{"name": "instance_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                 {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string"}}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Theo dõi, đôn đốc nhiệm vụ UBND tỉnh — API", "version": "1"},
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
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"data": {"type": "object"}, "row_version": {"type": "integer"}}}}}},
                "responses": {"200": {"description": "the instance after the step"}, **_errors(401, 404, 409, 422)}}},
            "/api/tasks/{instance_id}/{task_id}/claim": {"post": {
                "summary": "Claim a task, or release it with {\"release\": true}", "parameters": task_path,
                "responses": {"200": {"description": "done"}, **_errors(401, 404, 409)}}},
            "/api/tracked-tasks": {"get": {
                "summary": "Tracked tasks I may see", "parameters": [{"name": n, "in": "query", "schema": {"type": t}}
                                                                      for n, t in (("unit", "string"), ("q", "string"),
                                                                                   ("status", "string"), ("page", "integer"))],
                "responses": {"200": {"description": "a page of tracked tasks"}, **_errors(401)}}},
            "/api/tracked-tasks/{task_id}/progress": {"post": {
                "summary": "Record a progress update (lead unit)",
                "parameters": [{"name": "task_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "properties": {
                    k: {"type": "string"} for k in ("state", "work_done", "difficulties", "proposals", "report_document")}}}}},
                "responses": {"201": {"description": "recorded"}, **_errors(401, 403, 404, 422)}}},
            "/api/documents": {"post": {
                "summary": "Register an assigning document and its tasks (Office); classified documents are refused",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"201": {"description": "registered"}, **_errors(401, 403, 422)}}},
            "/api/feedback": {"post": {
                "summary": "File feedback about a late task (districts, agencies)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "properties": {
                    "task_id": {"type": "integer"}, "content": {"type": "string"}}}}}},
                "responses": {"201": {"description": "filed"}, **_errors(401, 403, 404, 422)}}},
            "/api/notifications": {"get": {
                "summary": "My notifications", "responses": {"200": {"description": "notifications"}, **_errors(401)}}},
            "/api/openapi.json": {"get": {"summary": "This document", "security": [],
                                          "responses": {"200": {"description": "OpenAPI"}}}},
        },
    }
