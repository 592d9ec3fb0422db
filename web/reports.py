"""The Office's reporting rounds (Art. 17.1): open a period's round, then follow each unit's report."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from engine import report_queries, reporting, reporting_plan
from engine.errors import Conflict, InvalidInput
from engine.organisation import Role, UnitKind
from engine.periods import Cadence

from .errors import status_of
from .i18n import parse_date, translate as _
from .security import roles_required

bp = Blueprint("reports", __name__)
OFFICE = (Role.TRACKING_SPECIALIST, Role.OFFICE_LEADER)
# The kinds of unit a round may address; a round addresses the regulation's reporting units by default.
KINDS = (UnitKind.DEPARTMENT, UnitKind.DISTRICT, UnitKind.OTHER_AGENCY, UnitKind.COMMUNE)


@bp.get("/office/reports")
@roles_required(*OFFICE)
def index():
    """The rounds opened so far, newest first, and the form that opens the next one."""
    return _index_page({"kinds": [k.value for k in reporting.DEFAULT_KINDS]})


@bp.post("/office/reports")
@roles_required(*OFFICE)
def open_round():
    """Open the round of the period containing the given day: one report task per unit."""
    form = request.form
    try:
        opened = reporting.open_reporting_round(
            current_app.extensions["engine"], form.get("cadence", ""), parse_date(form.get("period_day"), "period_day"),
            unit_kinds=_kinds(form.getlist("kinds")), actor=g.user.username)
    except (InvalidInput, Conflict) as error:
        return _index_page({"cadence": form.get("cadence"), "period_day": form.get("period_day"),
                            "kinds": form.getlist("kinds")}, str(error)), status_of(error)
    flash(_("round_opened").format(label=opened.period_label, n=len(opened.reports)))
    return redirect(url_for("reports.show", period_key=opened.period_key), 303)


@bp.post("/office/reports/plan")
@roles_required(*OFFICE)
def plan():
    """Choose the cadences whose rounds the worker opens by itself after each cut-off."""
    try:
        reporting_plan.set_automatic_cadences(current_app.extensions["engine"], request.form.getlist("auto"),
                                              g.user.username)
    except InvalidInput as error:
        return _index_page({"kinds": [k.value for k in reporting.DEFAULT_KINDS]}, str(error)), status_of(error)
    flash(_("plan_saved"))
    return redirect(url_for("reports.index"), 303)


@bp.get("/office/reports/<period_key>")
@roles_required(*OFFICE)
def show(period_key: str):
    """One round: each unit's report, in or not, on time or late, with its figures."""
    round_view, reports = report_queries.round_reports(current_app.extensions["engine"], period_key)
    return render_template("report_round.html", round=round_view, reports=reports)


def _kinds(chosen: list[str]) -> list[str]:
    # Only the kinds the form offers: the Office's own units or sub-units do not report upward.
    offered = {k.value for k in KINDS}
    if not chosen:
        raise InvalidInput(_("round_units_missing"))
    unknown = sorted(set(chosen) - offered)
    if unknown:
        raise InvalidInput(f"{_('round_units')}: {', '.join(unknown)}")
    return chosen


def _index_page(form: dict, error: str | None = None) -> str:
    ctx = current_app.extensions["engine"]
    return render_template("reports.html", rounds=report_queries.list_rounds(ctx), cadences=list(Cadence),
                           automatic=reporting_plan.automatic_cadences(ctx), kinds=KINDS, form=form, error=error)
