"""Admin console: the named timer settings (/admin/settings). Admins and the Provincial Office see them;
admins change one with a reason after a preview of the running work it moves, then apply it to running
instances or only to new ones. Each action calls the same use case as its API twin (web/api/admin_settings.py)."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from engine.core.errors import InvalidInput, NotFound
from engine.process import definitions
from engine.regulation import access, working_time

from .errors import status_of
from .i18n import current_language, error_text
from .i18n import translate as _
from .security import allowed_if

bp = Blueprint("admin_settings", __name__, url_prefix="/admin/settings")


def _ctx():
    return current_app.extensions["engine"]


def in_language(text: str) -> str:
    """The part of a bilingual seed text ("Vietnamese / English") in the reader's language."""
    vi, _sep, en = text.partition(" / ")
    return en if current_language() == "en" and en else vi


def process_names() -> dict[str, str]:
    """Each deployed process's name by its id (pages show names, not codes)."""
    return {d.process_id: d.name for d in reversed(definitions.list_definitions(_ctx()))}


@bp.get("")
@allowed_if(access.may_see_administration)
def index():
    """Every setting: description, value and unit, legal basis, last change and by whom."""
    return render_template("admin_settings.html", settings=working_time.list_settings(_ctx()), text=in_language)


@bp.get("/<setting>")
@allowed_if(access.may_see_administration)
def show(setting: str):
    """One setting with its history, and for admins the form to change it."""
    return _show(setting)


@bp.post("/<setting>/preview")
@allowed_if(access.may_administer)
def preview(setting: str):
    """The running timers and ready tasks' due dates the typed value would move; then save or go back."""
    form = request.form
    try:
        value = _value(form.get("value"))
        if not form.get("reason", "").strip():
            raise InvalidInput("timer_reason_missing")
        moves = working_time.preview_change(_ctx(), setting, value)
    except InvalidInput as invalid:
        return _show(setting, error=error_text(invalid)), status_of(invalid)
    return _show(setting, moves=moves, value=value)


@bp.post("/<setting>")
@allowed_if(access.may_administer)
def change(setting: str):
    """Save the value with its reason, applied to running instances or only to new ones."""
    form = request.form
    try:
        changed = working_time.change(_ctx(), setting, _value(form.get("value")), None, form.get("reason", ""),
                                      form.get("apply_to_running") == "1", g.actor.username)
    except InvalidInput as invalid:
        return _show(setting, error=error_text(invalid)), status_of(invalid)
    if changed.applied_to_running:
        flash(_("admin_settings.saved_applied", count=len(changed.moved)))
    else:
        flash(_("admin_settings.saved_new_only"))
    return redirect(url_for("admin_settings.show", setting=setting), 303)


def _show(setting: str, error: str | None = None, moves=None, value=None):
    found = working_time.get_setting(_ctx(), setting)  # NotFound: 404
    return render_template("admin_settings_edit.html", setting=found, history=working_time.history(_ctx(), setting),
                           text=in_language, error=error, moves=moves, value=value,
                           reason=request.form.get("reason", ""), processes=process_names() if moves else {})


def _value(text: str | None) -> int:
    text = (text or "").strip()
    if not text.isdigit() or len(text) > 6:
        raise InvalidInput("timer_value_invalid")
    return int(text)


__all__ = ["bp", "in_language", "process_names", "NotFound"]
