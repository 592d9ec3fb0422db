"""API: the dashboard's figures (the same as the page's) and the tasks behind each."""
from __future__ import annotations

from flask import jsonify, request

from engine.read import dashboard as queries

from ..dashboard import scope_of
from ..inputs import int_arg
from . import bp, ctx, language, to_json


@bp.get("/dashboard")
def dashboard():
    """A unit's (default: the province's, or the asker's unit) figures for a period (?period=2025-Q2; default:
    this quarter): categories, total, on-time rate, urging, per unit below, the overdue list, the 12 months."""
    unit = scope_of(ctx(), request.args.get("unit") or None)
    board = queries.dashboard(ctx(), unit, request.args.get("period") or None)
    body = to_json(board)
    body["period_label"] = board.period_label.text(language())
    for month, shown in zip(board.trend, body["trend"], strict=True):
        shown["label"] = month.label.text(language())
    return jsonify(body)


@bp.get("/dashboard/tasks")
def dashboard_tasks():
    """The tasks behind one figure (?figure= a category, total or urged; ?unit=, ?period=, ?own=1, ?page=)."""
    unit = scope_of(ctx(), request.args.get("unit") or None)
    drill = queries.drill_down(ctx(), unit, request.args.get("period") or None, request.args.get("figure", "total"),
                               own=request.args.get("own") == "1", page=int_arg("page", 1))
    body = to_json(drill)
    body["period_label"] = drill.period_label.text(language())
    return jsonify(body)


def openapi_paths() -> dict:
    """The OpenAPI description of these routes (merged into /api/openapi.json)."""
    from .openapi import PAGE, STRING, _operation, _query, obj

    scope = [{**_query("unit", STRING), "description": "a unit's code (default: the province, or the asker's unit)"},
             {**_query("period", STRING), "description": "a period key: 2025-M06, 2025-Q2, 2025-H1, 2025-9M, 2025-Y"}]
    counts = {"type": "object", "additionalProperties": {"type": ["integer", "number", "null"]}}
    items = {"type": "array", "items": {"type": "object"}}
    board = obj(("unit_code", "period_key", "figures", "units", "overdue", "trend"), unit_code=STRING,
                unit_name=STRING, period_key=STRING, period_label=STRING, figures=counts, units=items, overdue=items,
                trend=items)
    drill = obj(("total", "rows"), total={"type": "integer"}, page={"type": "integer"},
                rows=items)
    return {
        "/api/dashboard": {"get": _operation(
            "A unit's (or the province's) figures for a period: status categories, total, on-time rate, urging, "
            "each unit below, the overdue tasks, the 12 months' trend (the dashboard page's figures)",
            (200, board), 403, 404, 422, parameters=scope)},
        "/api/dashboard/tasks": {"get": _operation(
            "The tasks behind one figure of the dashboard: as many as the figure says", (200, drill), 403, 404, 422,
            parameters=[*scope, {**_query("figure", STRING), "description": "a status category, total or urged"},
                        {**_query("own", {"type": "string", "enum": ["0", "1"]}),
                         "description": "1: the unit's own tasks only"}, _query("page", PAGE)])},
    }
