"""Admin console pages on the organisation: the unit tree (admins change it, the Office sees it), create,
rename and move units, merge or retire one after a preview, import an organisation change file after a
preview. Each action calls the same use case as its JSON API twin (web/api/admin_units.py)."""
from __future__ import annotations

import json

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.regulation import access, organisation, organisation_import, reorganisation, unit_tree
from engine.regulation.organisation import UnitKind

from .errors import status_of
from .i18n import error_text
from .i18n import translate as _
from .security import allowed_if

bp = Blueprint("admin_units", __name__)
_REFUSED = (InvalidInput, Conflict, NotFound)


def _ctx():
    return current_app.extensions["engine"]


@bp.get("/admin/units")
@allowed_if(access.may_see_administration)
def tree():
    """The unit tree: names first, kinds, people and open work; admins get the forms that change it."""
    return _tree()


@bp.post("/admin/units")
@allowed_if(access.may_administer)
def create():
    """Create a unit under an active parent."""
    form = request.form
    try:
        view = organisation.add_unit(_ctx(), form.get("code", "").strip(), form.get("name", ""),
                                     form.get("kind", ""), form.get("parent") or None, g.actor.username)
    except _REFUSED as error:
        return _tree(error_text(error)), status_of(error)
    flash(_("units.created", name=view.name))
    return redirect(url_for("admin_units.tree"), 303)


@bp.post("/admin/units/change")
@allowed_if(access.may_administer)
def change():
    """Rename a unit and/or move it under another parent."""
    form = request.form
    code, name, parent = form.get("unit", ""), form.get("name", "").strip(), form.get("parent", "")
    try:
        if not name and not parent:
            raise InvalidInput("unit_change_empty")
        if name:
            reorganisation.rename_unit(_ctx(), code, name, g.actor.username, form.get("reason", ""))
        if parent:
            organisation.move_unit(_ctx(), code, None if parent == "-" else parent, g.actor.username)
    except _REFUSED as error:
        return _tree(error_text(error)), status_of(error)
    flash(_("units.changed"))
    return redirect(url_for("admin_units.tree"), 303)


@bp.post("/admin/units/hand-over-preview")
@allowed_if(access.may_administer)
def hand_over_preview():
    """What merging (or retiring) a unit would move, with the form that applies it."""
    form = _hand_over_form()
    try:
        report = _hand_over(form, apply=False)
    except _REFUSED as error:
        return _tree(error_text(error)), status_of(error)
    return render_template("admin_units_preview.html", report=report, form=form, kind="hand_over",
                           reason_text=_reason_text)


@bp.post("/admin/units/hand-over")
@allowed_if(access.may_administer)
def hand_over():
    """Merge or retire a unit, as previewed, in one transaction."""
    form = _hand_over_form()
    try:
        report = _hand_over(form, apply=True)
    except _REFUSED as error:
        return _tree(error_text(error)), status_of(error)
    flash(_("units.handed_over", steps=len(report.steps), tasks=len(report.tracked_tasks), users=len(report.users)))
    return redirect(url_for("admin_units.tree"), 303)


@bp.post("/admin/units/import-preview")
@allowed_if(access.may_administer)
def import_preview():
    """Every change an uploaded organisation file makes, and the work that would move."""
    upload = request.files.get("file")
    content = upload.read().decode("utf-8", "replace") if upload else request.form.get("content", "")
    try:
        report = organisation_import.import_changes(_ctx(), _decoded(content), g.actor.username, apply=False)
    except _REFUSED as error:
        return _tree(error_text(error)), status_of(error)
    return render_template("admin_units_preview.html", report=report, form={"content": content}, kind="import",
                           reason_text=_reason_text)


@bp.post("/admin/units/import")
@allowed_if(access.may_administer)
def import_apply():
    """Apply an organisation change file as previewed."""
    try:
        report = organisation_import.import_changes(_ctx(), _decoded(request.form.get("content", "")),
                                                    g.actor.username, request.form.get("reason", ""))
    except _REFUSED as error:
        return _tree(error_text(error)), status_of(error)
    flash(_("units.imported", units=len(report.units), steps=len(report.steps)))
    return redirect(url_for("admin_units.tree"), 303)


def _tree(error: str | None = None):
    nodes = unit_tree.unit_tree(_ctx())
    return render_template("admin_units.html", nodes=nodes, names={n.code: n.name for n in nodes},
                           active=[n for n in nodes if n.active], kinds=list(UnitKind), error=error,
                           may_change=access.may_administer(g.actor), form=request.form)


def _hand_over_form() -> dict:
    form = request.form
    return {"action": form.get("action", "merge"), "unit": form.get("unit", ""), "into": form.get("into", ""),
            "users": form.get("users", ""), "with_sub_units": form.get("with_sub_units") == "1",
            "reason": form.get("reason", "")}


def _hand_over(form: dict, apply: bool):
    if form["action"] not in ("merge", "retire"):
        raise InvalidInput("org_file_invalid", where="action", problem=form["action"][:40])
    if form["action"] == "merge":
        return reorganisation.merge_unit(_ctx(), form["unit"], form["into"], g.actor.username, form["reason"],
                                         apply=apply, users=form["users"] or "move",
                                         with_sub_units=form["with_sub_units"])
    return reorganisation.retire_unit(_ctx(), form["unit"], form["into"], g.actor.username, form["reason"],
                                      apply=apply, users=form["users"] or "deactivate")


def _decoded(content: str):
    try:
        return json.loads(content)
    except ValueError:
        raise InvalidInput("org_file_not_json") from None


def _reason_text(blocked) -> str:
    return _(blocked.reason, **blocked.params)
