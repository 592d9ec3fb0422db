"""The process heatmap: each step of a procedure's diagram coloured by how long tasks wait there, with the
figures written on it and in a table below; clicking a step lists its tasks (docs/reports.md)."""
from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, current_app, render_template, request

from engine.read import heatmap as heatmap_read
from engine.read import period_reports
from engine.regulation import access

from .headers import diagram_response
from .period_reports import chosen_unit
from .security import allowed_if

bp = Blueprint("heatmap", __name__)
DEFAULT_PROCESS = "task_followup"
# Working days of the median wait at which a step turns warmer: the legend says the same.
LEVELS = (1, 3, 5)


def level(median_days: float | None) -> int:
    """0 (nothing finished there) to 4 (a median wait over the last threshold)."""
    if median_days is None:
        return 0
    return 1 + sum(median_days > bound for bound in LEVELS)


def _choice():
    ctx = current_app.extensions["engine"]
    process_id = (request.args.get("process") or DEFAULT_PROCESS).strip()[:200]
    period = period_reports.period_of(request.args.get("period"), ctx.now().date())
    return ctx, process_id, period, chosen_unit()


@bp.get("/reports/heatmap")
@allowed_if(access.may_see_reports)
def page():
    """The diagram of a procedure coloured by the waits at its steps, for a period and a unit."""
    ctx, process_id, period, unit = _choice()
    figures = heatmap_read.heatmap(ctx, process_id, period, unit)
    step = request.args.get("step")
    tasks = heatmap_read.step_tasks(ctx, process_id, step, period, unit) if step else None
    return render_template("heatmap.html", heatmap=figures, levels=LEVELS, level=level, step=step, tasks=tasks,
                           steps_json=[asdict(s) for s in figures.steps],
                           step_levels=[level(s.median_days) for s in figures.steps],
                           processes=heatmap_read.processes(ctx),
                           choices=period_reports.period_choices(ctx.now().date()),
                           filters={"unit": unit or ""})


@bp.get("/reports/heatmap/tasks")
@allowed_if(access.may_see_reports)
def tasks():
    """The tasks behind one step's figures, as the part of the page that lists them (the diagram's click)."""
    ctx, process_id, period, unit = _choice()
    step = (request.args.get("step") or "").strip()[:200]
    figures = heatmap_read.heatmap(ctx, process_id, period, unit)
    return render_template("_heatmap_tasks.html", heatmap=figures, step=step,
                           tasks=heatmap_read.step_tasks(ctx, process_id, step, period, unit))


@bp.get("/reports/heatmap/<process_id>/diagram.xml")
@allowed_if(access.may_see_reports)
def diagram(process_id: str):
    """The latest version's diagram, for the viewer."""
    return diagram_response(heatmap_read.diagram_xml(current_app.extensions["engine"], process_id[:200]))


@bp.app_template_filter("decimal")
def decimal(value: float | None) -> str:
    """A figure with a decimal comma, as Vietnamese writes it (2,5)."""
    return "" if value is None else f"{value:g}".replace(".", ",")
