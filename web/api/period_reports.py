"""API: the periodic report, the overdue list and the process heatmap, under the pages' access rule
(`access.report_unit`): the province for the Office, the PPC and admins; a unit's subtree for its people.
`unit` is a unit's code; without it, the province's (or the reader's own unit's)."""
from __future__ import annotations

from flask import g, jsonify, request

from engine.read import heatmap, overdue_list, period_reports
from engine.read.heatmap import Heatmap, StepTask
from engine.read.overdue_list import OverdueList
from engine.read.period_reports import PeriodReport
from engine.regulation import access

from . import bp, ctx, to_json
from .openapi import STRING, _errors, _query, schema_of

_PERIOD = {**_query("period", STRING), "description": "a period key: 2025-M06, 2025-Q2, 2025-H1, 2025-9M, 2025-Y "
                                                    "(default: this quarter)"}
_UNIT = {**_query("unit", STRING), "description": "a unit's code (default: the province, or the reader's unit)"}
_PROCESS = {**_query("process", STRING), "description": "a deployed process id (default: task_followup)"}


def _unit() -> str | None:
    return access.report_unit(g.actor, (request.args.get("unit") or "").strip()[:100] or None)


def _period():
    return period_reports.period_of(request.args.get("period"), ctx().now().date())


def _process() -> str:
    return (request.args.get("process") or "task_followup").strip()[:200]


@bp.get("/reports/period")
def period_report():
    """The periodic report of the province or of a unit (with the units below it)."""
    unit = _unit()
    return jsonify(to_json(period_reports.period_report(ctx(), unit, _period())))


@bp.get("/reports/overdue")
def overdue():
    """The overdue tasks of the province or of a unit's subtree."""
    return jsonify(to_json(overdue_list.overdue_tasks(ctx(), _unit())))


@bp.get("/reports/heatmap")
def heatmap_figures():
    """Each step's waits (median, 90th percentile), late and waiting tasks for a procedure, a period, a unit."""
    unit = _unit()
    return jsonify(to_json(heatmap.heatmap(ctx(), _process(), _period(), unit)))


@bp.get("/reports/heatmap/tasks")
def heatmap_tasks():
    """The tasks behind one step's figures (`step`: its BPMN id)."""
    unit = _unit()
    step = (request.args.get("step") or "").strip()[:200]
    return jsonify(items=to_json(heatmap.step_tasks(ctx(), _process(), step, _period(), unit)))


def openapi_paths() -> dict:
    """The OpenAPI description of these routes (merged into /api/openapi.json)."""
    def ok(schema):
        return {"200": {"description": "ok", "content": {"application/json": {"schema": schema}}},
                **_errors(401, 403, 404, 422)}
    step = {**_query("step", STRING), "description": "the step's BPMN id"}
    return {
        "/api/reports/period": {"get": {
            "summary": "The periodic report (Art. 17.1) of the province or of a unit: each unit's figures by "
                       "status category, their totals, a unit's self-inspection draft",
            "parameters": [_PERIOD, _UNIT], "responses": ok(schema_of(PeriodReport))}},
        "/api/reports/overdue": {"get": {
            "summary": "The overdue tasks of the province or of a unit's subtree, for urging",
            "parameters": [_UNIT], "responses": ok(schema_of(OverdueList))}},
        "/api/reports/heatmap": {"get": {
            "summary": "The process heatmap: each step's waits, late and waiting tasks",
            "parameters": [_PROCESS, _PERIOD, _UNIT], "responses": ok(schema_of(Heatmap))}},
        "/api/reports/heatmap/tasks": {"get": {
            "summary": "The tasks behind one step's heatmap figures",
            "parameters": [_PROCESS, step, _PERIOD, _UNIT],
            "responses": ok({"type": "object", "required": ["items"],
                             "properties": {"items": {"type": "array", "items": schema_of(StepTask)}}})}},
    }
