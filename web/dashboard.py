"""The dashboard page and its drill-downs: a unit's (or the province's) figures for a period, charts drawn
as SVG on the server (no script), each figure a link to the tasks behind it."""
from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, request

from engine.core.errors import InvalidInput
from engine.read import dashboard as queries
from engine.read.unit_choices import unit_choices
from engine.regulation import access

from .i18n import TZ, error_text
from .inputs import int_arg
from .security import allowed_if
from .unit_picks import unit_filter

bp = Blueprint("dashboard", __name__)
BAR_CATEGORIES = ("overdue", "nearly_due", "within_deadline", "no_deadline", "awaiting_confirmation", "returned",
                  "completed_on_time", "completed_late", "completed_no_deadline", "cancelled")


def scope_of(ctx, asked: str | None) -> str:
    """The unit whose figures the actor sees when asking for `asked` (access.dashboard_scope decides)."""
    with ctx.unit_of_work(readonly=True) as session:
        province = queries.root_unit(session)
    return access.dashboard_scope(g.actor, asked, province)


@bp.get("/dashboard")
@allowed_if(access.may_see_dashboard)
def index():
    """A unit's figures for a period: categories, on-time rate, urging, the overdue list, 12 months' trend."""
    ctx, error, status = current_app.extensions["engine"], None, 200
    args = request.args
    # A code in the address (a link) goes to the access rule as it is: another unit's is refused, not ignored.
    asked = args.get("unit") if args.get("unit") and not args.get("unit_name") else unit_filter(ctx, args)
    unit = scope_of(ctx, asked or None)
    try:
        board = queries.dashboard(ctx, unit, args.get("period") or None)
    except InvalidInput as failure:  # a period typed in the address: said so, the current quarter shown
        error, status = error_text(failure), 422
        board = queries.dashboard(ctx, unit, None)
    today = ctx.now().astimezone(TZ).date()
    return render_template("dashboard.html", board=board, error=error, periods=queries.period_choices(today),
                           bars=category_bars(board.figures), trend=trend_chart(board.trend),
                           units=unit_choices(ctx, within=g.actor.unit_codes)), status


@bp.get("/dashboard/tasks")
@allowed_if(access.may_see_dashboard)
def tasks():
    """The tasks behind one figure: exactly those it counts, a page at a time."""
    ctx = current_app.extensions["engine"]
    unit = scope_of(ctx, request.args.get("unit") or None)
    drill = queries.drill_down(ctx, unit, request.args.get("period") or None, request.args.get("figure", "total"),
                               own=request.args.get("own") == "1", page=int_arg("page", 1))
    return render_template("dashboard_tasks.html", drill=drill)


def category_bars(figures: dict, width: int = 420) -> list[dict]:
    """A horizontal bar per category: its value and length (the longest bar is `width`)."""
    top = max([figures[name] for name in BAR_CATEGORIES] + [1])
    return [{"name": name, "value": figures[name], "length": round(width * figures[name] / top)}
            for name in BAR_CATEGORIES]


def trend_chart(months, height: int = 160) -> dict:
    """Three bars a month (on time, late, overdue at the cut-off): their heights scaled to the tallest."""
    from engine.read.dashboard import TREND_CATEGORIES

    top = max([month.figures[name] for month in months for name in TREND_CATEGORIES] + [1])
    return {"height": height, "categories": TREND_CATEGORIES,
            "months": [{"key": month.period_key, "label": month.label, "index": int(month.period_key[-2:]),
                        "year": month.period_key[:4],
                        "bars": [{"name": name, "value": month.figures[name],
                                  "height": round(height * month.figures[name] / top)} for name in TREND_CATEGORIES]}
                       for month in months]}
