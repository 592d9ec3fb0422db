"""Admin console: the working-day calendar (/admin/calendar?year=). Admins and the Provincial Office see the
year and use the tester; admins add and remove overrides after a preview of the due dates they move, and
import a year's announcement from CSV. Each action calls the same use case as its API twin
(web/api/admin_calendar.py)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.regulation import access, calendar_admin, calendar_import
from engine.regulation.calendar_import import ImportRefused
from engine.worktime.calendar import TZ, OverrideKind

from .admin_settings import process_names
from .errors import status_of
from .i18n import error_text, parse_date, parse_datetime
from .i18n import translate as _
from .security import allowed_if

bp = Blueprint("admin_calendar", __name__, url_prefix="/admin/calendar")


def _ctx():
    return current_app.extensions["engine"]


@bp.get("")
@allowed_if(access.may_see_administration)
def index():
    """The year: 12 month grids, the overrides with reason and source, the tester and (admins) the forms."""
    year = _year(request.args.get("year"))
    tester, tester_error = None, None
    if request.args.get("since"):
        try:
            since = parse_datetime(request.args["since"], _("admin_calendar.tester_since")).replace(tzinfo=TZ)
            n = request.args.get("n", "")
            if not n.isdigit() or len(n) > 5:
                raise InvalidInput("tester_days_invalid", max=calendar_admin.MAX_TESTER_DAYS)
            tester = calendar_admin.working_days_after(_ctx(), since, int(n))
        except ValueError:
            tester_error = error_text(InvalidInput("date_invalid", field=_("admin_calendar.tester_since")))
        except InvalidInput as invalid:
            tester_error = error_text(invalid)
    return _page(year, tester=tester, tester_error=tester_error)


@bp.post("/overrides/preview")
@allowed_if(access.may_administer)
def preview_add():
    """The due dates adding the typed override would move; then record it or go back."""
    form = request.form
    try:
        day = parse_date(form.get("day"), _("admin_calendar.day"))
        moves = calendar_admin.preview_add(_ctx(), day, form.get("kind", ""), form.get("reason", ""),
                                           form.get("source", ""))
    except (InvalidInput, Conflict) as invalid:
        return _page(_year(form.get("year")), error=error_text(invalid)), status_of(invalid)
    return _page(day.year, pending={"action": "add", "day": day, "kind": form.get("kind"), "moves": moves,
                                    "reason": form.get("reason", ""), "source": form.get("source", "")})


@bp.post("/overrides")
@allowed_if(access.may_administer)
def add():
    """Record the override, applied to running instances or only to new ones."""
    form = request.form
    try:
        day = parse_date(form.get("day"), _("admin_calendar.day"))
        changed = calendar_admin.add(_ctx(), day, form.get("kind", ""), form.get("reason", ""),
                                     form.get("source", ""), form.get("apply_to_running") == "1", g.actor.username)
    except (InvalidInput, Conflict) as invalid:
        return _page(_year(form.get("year")), error=error_text(invalid)), status_of(invalid)
    _flash_moved(changed.applied_to_running, len(changed.moved), "admin_calendar.added", day)
    return redirect(url_for("admin_calendar.index", year=day.year), 303)


@bp.get("/overrides/<day>/remove")
@allowed_if(access.may_administer)
def preview_remove(day: str):
    """The due dates removing the override of a day would move; then remove it or go back."""
    when = _day(day)
    moves = calendar_admin.preview_remove(_ctx(), when)  # NotFound: 404
    return _page(when.year, pending={"action": "remove", "day": when, "moves": moves})


@bp.post("/overrides/<day>/remove")
@allowed_if(access.may_administer)
def remove(day: str):
    """Remove the override of a day, applied to running instances or only to new ones."""
    when = _day(day)
    changed = calendar_admin.remove(_ctx(), when, request.form.get("apply_to_running") == "1", g.actor.username)
    _flash_moved(changed.applied_to_running, len(changed.moved), "admin_calendar.removed", when)
    return redirect(url_for("admin_calendar.index", year=when.year), 303)


@bp.post("/import")
@allowed_if(access.may_administer)
def import_csv():
    """A year's announcement as CSV: the preview of every line, then (apply) the import, all or nothing."""
    form = request.form
    upload = request.files.get("file")
    text = upload.read().decode("utf-8", errors="replace") if upload and upload.filename else form.get("csv", "")
    year = _year(form.get("year"))
    try:
        if form.get("step") == "apply":
            result = calendar_import.apply_import(_ctx(), text, form.get("apply_to_running") == "1",
                                                  g.actor.username)
            _flash_moved(result.applied, len(result.moved), "admin_calendar.imported", result.added)
            return redirect(url_for("admin_calendar.index", year=year), 303)
        result = calendar_import.preview_import(_ctx(), text)
    except ImportRefused as refused:
        return _page(year, imported={"lines": refused.lines, "errors": 1, "csv": text},
                     error=error_text(refused)), 422
    except InvalidInput as invalid:
        return _page(year, error=error_text(invalid), imported={"lines": (), "errors": 1, "csv": text}), 422
    return _page(year, imported={"lines": result.lines, "errors": result.errors, "added": result.added,
                                 "moves": result.moved, "csv": text})


def _page(year: int, **extra):
    view = calendar_admin.year_view(_ctx(), year)
    return render_template("admin_calendar.html", calendar=view, kinds=tuple(OverrideKind),
                           processes=process_names(), **{"error": None, "pending": None, "imported": None,
                                                         "tester": None, "tester_error": None, **extra})


def _flash_moved(applied: bool, count: int, key: str, subject) -> None:
    subject = subject.strftime("%d/%m/%Y") if isinstance(subject, date) else subject
    flash(_(key, subject=subject) + " " + (_("admin_moves.applied", count=count) if applied
                                           else _("admin_moves.new_only")))


def _year(text: str | None) -> int:
    if text is None or text == "":
        return _ctx().now().astimezone(TZ).year
    if not text.isdigit() or len(text) != 4:
        raise NotFound("calendar_year_unknown", first=calendar_admin.FIRST_YEAR, last=calendar_admin.LAST_YEAR)
    return int(text)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise NotFound("override_not_found", day=text) from None
