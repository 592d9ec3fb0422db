"""The Office's reporting rounds (Art. 17.1): open a period's round, then follow each unit's report."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from engine.core.errors import Conflict, InvalidInput
from engine.read import report_queries
from engine.regulation import access, reporting, reporting_plan, working_time
from engine.worktime.periods import Cadence

from .errors import status_of
from .i18n import error_text, parse_date, period_label
from .i18n import translate as _
from .security import allowed_if

bp = Blueprint("reports", __name__)


@bp.get("/office/reports")
@allowed_if(access.may_follow_province)
def index():
    """The rounds opened so far, newest first, and the form that opens the next one."""
    return _index_page({"kinds": [k.value for k in reporting.DEFAULT_KINDS]})


@bp.post("/office/reports")
@allowed_if(access.may_follow_province)
def open_round():
    """Open the round of the period containing the given day: one report task per unit."""
    form = request.form
    try:
        opened = reporting.open_reporting_round(
            current_app.extensions["engine"], form.get("cadence", ""),
            parse_date(form.get("period_day"), _("round_period_day")),
            unit_kinds=form.getlist("kinds"), actor=g.actor.username)
    except (InvalidInput, Conflict) as error:
        return _index_page({"cadence": form.get("cadence"), "period_day": form.get("period_day"),
                            "kinds": form.getlist("kinds")}, error_text(error)), status_of(error)
    flash(_("round_opened", label=period_label(opened.period_key), n=len(opened.reports)))
    return redirect(url_for("reports.show", period_key=opened.period_key), 303)


@bp.post("/office/reports/plan")
@allowed_if(access.may_follow_province)
def plan():
    """Choose the cadences whose rounds the worker opens by itself after each cut-off."""
    try:
        reporting_plan.set_automatic_cadences(current_app.extensions["engine"], request.form.getlist("auto"),
                                              g.actor.username)
    except InvalidInput as error:
        return _index_page({"kinds": [k.value for k in reporting.DEFAULT_KINDS]}, error_text(error)), status_of(error)
    flash(_("plan_saved"))
    return redirect(url_for("reports.index"), 303)


@bp.get("/office/reports/<period_key>")
@allowed_if(access.may_follow_province)
def show(period_key: str):
    """One round: each unit's report, in or not, on time or late, with its figures."""
    ctx = current_app.extensions["engine"]
    round_view, reports = report_queries.round_reports(ctx, period_key)
    people = working_time.full_names(ctx, {round_view.opened_by, round_view.consolidated_by} - {None})
    return render_template("report_round.html", round=round_view, reports=reports, people=people)


def _index_page(form: dict, error: str | None = None) -> str:
    ctx = current_app.extensions["engine"]
    return render_template("reports.html", rounds=report_queries.list_rounds(ctx), cadences=list(Cadence),
                           automatic=reporting_plan.automatic_cadences(ctx), kinds=reporting.REPORTING_KINDS,
                           form=form, error=error)
