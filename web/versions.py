"""Pages on the versions of a process: the history (deploy a file with a comment, roll back), the diff of
two versions drawn on their diagrams, and moving running instances to another version. Each action calls
the same use case as its JSON API twin (web/api/versions.py)."""
from __future__ import annotations

import json

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from engine.core import i18n
from engine.core.errors import Conflict, DeployRefused, InvalidInput
from engine.process import instance_migration, versions
from engine.regulation import access, working_time

from .errors import status_of
from .headers import diagram_response
from .i18n import current_language, error_text
from .i18n import translate as _
from .inputs import parse_id
from .security import allowed_if

bp = Blueprint("versions", __name__)


def _ctx():
    return current_app.extensions["engine"]


@bp.get("/processes/<process_id>/versions")
@allowed_if(access.may_read_processes)
def history(process_id: str):
    """The versions, newest first: author, time, comment, running instances; compare, roll back, deploy."""
    return _history(process_id)


@bp.post("/processes/<process_id>/versions")
@allowed_if(access.may_edit_diagrams)
def deploy(process_id: str):
    """Deploy an uploaded .bpmn file as the next version with a comment (forms from the latest version)."""
    upload = request.files.get("bpmn")
    data = upload.read() if upload else b""
    try:
        if not data:
            raise InvalidInput("version_file_required")
        view = versions.deploy_version(_ctx(), process_id, data, None, request.form.get("comment", ""),
                                       g.actor.username, lang=current_language())
    except (InvalidInput, Conflict, DeployRefused) as error:
        problems = error.problems if isinstance(error, DeployRefused) else ()
        message = _("versions.refused", count=len(problems)) if problems else error_text(error)
        return _history(process_id, message, problems, request.form.get("comment", "")), status_of(error)
    flash(_("versions.deployed", version=view.version))
    return redirect(url_for("versions.history", process_id=process_id), 303)


@bp.post("/processes/<process_id>/versions/<id:version>/roll-back")
@allowed_if(access.may_edit_diagrams)
def roll_back(process_id: str, version: int):
    """New instances start on this version's content again (deployed as the next version)."""
    try:
        versions.roll_back(_ctx(), process_id, version, request.form.get("comment", ""), g.actor.username)
    except (InvalidInput, Conflict) as error:
        return _history(process_id, error_text(error)), status_of(error)
    flash(_("versions.rolled_back", version=version))
    return redirect(url_for("versions.history", process_id=process_id), 303)


@bp.get("/processes/<process_id>/versions/<id:a>/diff/<id:b>")
@allowed_if(access.may_read_processes)
def diff(process_id: str, a: int, b: int):
    """The elements added, removed and changed from version a to b, listed and coloured on the diagrams."""
    found = versions.diff_versions(_ctx(), process_id, a, b)
    marks = {"added": [e.id for e in found.added], "changed": [e.id for e in found.changed],
             "removed": [e.id for e in found.removed]}
    name = versions.list_versions(_ctx(), process_id)[0].name or process_id  # the newest version's name
    return render_template("versions_diff.html", process_id=process_id, process_name=name, diff=found,
                           marks=json.dumps(marks), aspect=_aspect)


@bp.get("/processes/<process_id>/versions/compare")
@allowed_if(access.may_read_processes)
def compare(process_id: str):
    """The history's "compare" form (?a=&b=) leads to the diff page."""
    a, b = parse_id(request.args.get("a"), "a"), parse_id(request.args.get("b"), "b")
    return redirect(url_for("versions.diff", process_id=process_id, a=a, b=b), 303)


@bp.get("/processes/<process_id>/versions/<id:version>/diagram.xml")
@allowed_if(access.may_read_processes)
def diagram(process_id: str, version: int):
    """One version's BPMN XML, for the viewer."""
    return diagram_response(versions.version_xml(_ctx(), process_id, version))


@bp.get("/processes/<process_id>/migrate")
@allowed_if(access.may_edit_diagrams)
def migrate_preview(process_id: str):
    """Which instances of version `from` can move to version `to` (default: the latest), and why not."""
    listed = versions.list_versions(_ctx(), process_id)
    source = _version_arg("from", listed[1].version if len(listed) > 1 else listed[0].version)
    target = _version_arg("to", listed[0].version)
    candidates = (instance_migration.migration_preview(_ctx(), process_id, source, target)
                  if source != target else [])
    running = {r.id: r for r in instance_migration.running_instances(_ctx(), process_id, source)}
    return render_template("versions_migrate.html", process_id=process_id, versions=listed, source=source,
                           target=target, candidates=candidates, running=running, reason=_reason)


@bp.post("/processes/<process_id>/migrate")
@allowed_if(access.may_edit_diagrams)
def migrate(process_id: str):
    """Move the chosen instances (checkboxes) that can move; the others stay, said why."""
    form = request.form
    source, target = parse_id(form.get("from"), "from"), parse_id(form.get("to"), "to")
    chosen = [parse_id(value, "instance_ids") for value in form.getlist("instance_ids")]
    if not chosen:
        flash(_("versions.none_selected"), "error")
    else:
        result = instance_migration.migrate(_ctx(), process_id, source, target, chosen, g.actor.username)
        flash(_("versions.migrated", count=len(result.moved), version=target))
        if result.left:
            flash(_("versions.not_migrated", count=len(result.left)), "error")
    return redirect(url_for("versions.migrate_preview", process_id=process_id, **{"from": source, "to": target}), 303)


def _history(process_id: str, error: str | None = None, problems=(), comment: str = ""):
    listed = versions.list_versions(_ctx(), process_id)
    return render_template("versions.html", process_id=process_id, versions=listed, error=error,
                           problems=problems, comment=comment,
                           people=working_time.full_names(_ctx(), {v.deployed_by for v in listed}))


def _version_arg(name: str, default: int) -> int:
    value = request.args.get(name, "").strip()
    return parse_id(value, name) if value else default


def _aspect(name: str) -> str:
    # What changed in an element, in words: a property named by the engine, else the BPMN term as it is.
    key = f"diff_aspect.{name}"
    if i18n.has(key):
        return _(key)
    return _("diff_aspect.property", name=name.split(":", 1)[1]) if name.startswith("property:") else name


def _reason(obstacle) -> str:
    return instance_migration.reason_text(obstacle, current_language())
