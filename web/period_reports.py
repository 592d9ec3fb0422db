"""The periodic report (Art. 17.1) and the overdue list: on screen, printable (print CSS, A4) and as XLSX.

The Office, the PPC and admins see the province's or any unit's; a unit's people see their unit's and the
units' below it (`access.report_unit`, which the JSON API asks too). docs/reports.md.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, g, render_template, request

from engine.read import overdue_list, period_reports
from engine.read.period_reports import COLUMNS
from engine.read.unit_choices import unit_choices
from engine.regulation import access
from engine.worktime.calendar import TZ

from .i18n import current_language, translate
from .report_files import download, overdue_xlsx, period_report_xlsx
from .security import allowed_if
from .unit_picks import unit_filter

bp = Blueprint("period_reports", __name__)


def chosen_unit() -> str | None:
    """The unit the request names, as access allows it (None: the province): picked by name in the form among
    the units the reader may see, or a code in the address (a link, a bookmark, the XLSX button), which is asked
    as it is, so a unit out of the reader's reach is refused (403) rather than silently replaced."""
    ctx, args = current_app.extensions["engine"], request.args
    if (args.get("unit_name") or "").strip():
        return access.report_unit(g.actor, unit_filter(ctx, args))
    g.filter_units = unit_choices(ctx, within=g.actor.unit_codes)
    return access.report_unit(g.actor, (args.get("unit") or "").strip()[:100] or None)


def chosen_report():
    """The report the query string asks for (`period`, `unit`)."""
    ctx = current_app.extensions["engine"]
    unit = chosen_unit()
    period = period_reports.period_of(request.args.get("period"), ctx.now().date())
    return period_reports.period_report(ctx, unit, period)


def _today():
    """Today in Vietnam, the day a report is made on (its signature line)."""
    return current_app.extensions["engine"].now().astimezone(TZ).date()


@bp.get("/reports/period")
@allowed_if(access.may_see_reports)
def period_report():
    """The periodic report of the province or of a unit for a period, with the unit's Art. 17.1 draft."""
    report = chosen_report()
    return render_template("period_report.html", report=report, columns=COLUMNS, today=_today(),
                           choices=period_reports.period_choices(current_app.extensions["engine"].now().date()),
                           filters={"unit": report.unit_code or ""})


@bp.get("/reports/period.xlsx")
@allowed_if(access.may_see_reports)
def period_report_file():
    """The same report as an XLSX file."""
    report = chosen_report()
    return download(period_report_xlsx(report, current_language(), _today()),
                    f"bao-cao-{report.period_key}-{report.unit_code or 'tinh'}.xlsx")


@bp.get("/reports/overdue")
@allowed_if(access.may_see_reports)
def overdue():
    """The overdue tasks of the province or of a unit's subtree, for urging."""
    listing = overdue_list.overdue_tasks(current_app.extensions["engine"], chosen_unit())
    return render_template("overdue_list.html", listing=listing, filters={"unit": listing.unit_code or ""})


@bp.get("/reports/overdue.xlsx")
@allowed_if(access.may_see_reports)
def overdue_file():
    """The overdue list as an XLSX file."""
    listing = overdue_list.overdue_tasks(current_app.extensions["engine"], chosen_unit())
    return download(overdue_xlsx(listing, current_language()),
                    f"qua-han-{listing.today:%Y%m%d}-{listing.unit_code or 'tinh'}.xlsx")


@bp.app_template_filter("rate")
def rate(value: float | None) -> str:
    """An on-time rate as people write it: 87,5% (a dash when no task with a deadline was completed)."""
    return "—" if value is None else f"{value * 100:.1f}%".replace(".", ",")


@bp.app_template_filter("figures_as_of")
def figures_as_of(value) -> str:
    """When the figures stand: "to the end of 14/03/2025" for a window's cut-off (24:00, stored as 00:00 of the
    next day), else the moment (now, while the window is open)."""
    local = value.astimezone(TZ)
    if local.hour == local.minute == local.second == 0:
        return translate("report_as_of_day", day=f"{local - timedelta(days=1):%d/%m/%Y}")
    return translate("report_as_of", at=f"{local:%d/%m/%Y %H:%M}")
