"""The analyst's workbench page: a process's diagram in the modeler, its forms beside it, checks on demand.

The page's script talks to the JSON routes below under the signed-in session (CSRF in a header); they
answer with the same functions as the bearer-token API (web/api/workbench.py), so a page and its API
twin never differ. docs/workbench.md says how the page is put together.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, g, jsonify, render_template, url_for

from engine.core import i18n
from engine.core.errors import DeployRefused
from engine.process import definitions, drafts, versions
from engine.read import workbench as workbench_read
from engine.regulation import access

from .api import body_matching
from .api import workbench as api
from .api.openapi import obj
from .i18n import current_language
from .i18n import translate as _
from .security import allowed_if

bp = Blueprint("workbench", __name__)
DEPLOY_IN = obj(("bpmn", "forms", "comment"), bpmn=api.DRAFT_IN["properties"]["bpmn"], forms=api.FORMS,
                comment={"type": "string", "minLength": 1, "maxLength": versions.MAX_COMMENT},
                draft_saved_at={"type": ["string", "null"], "format": "date-time"})
TEXTS = ("wb_saved_by", "wb_not_saved", "wb_unsaved_changes", "wb_saved", "wb_discarded", "wb_discard_confirm",
         "wb_no_problems", "wb_problems_found", "wb_form_not_json", "wb_form_missing", "wb_select_user_task",
         "wb_deployed", "wb_deploy_refused", "wb_failed", "wb_imported", "wb_form_created", "wb_form_name_invalid",
         "wb_checking", "wb_line", "wb_severity_error", "wb_severity_warning", "wb_form_of", "wb_preview_error")


def _ctx():
    return current_app.extensions["engine"]


@bp.get("/processes/<process_id>/edit")
@allowed_if(access.may_edit_diagrams)
def edit(process_id: str):
    """The modeler for one process: its draft, or its latest version when no draft is saved."""
    opened = drafts.open_for_editing(_ctx(), process_id)  # an unknown process with no draft: 404 before the page
    urls = {"draft": url_for("workbench.draft", process_id=process_id),
            "check": url_for("workbench.check", process_id=process_id),
            "deploy": url_for("workbench.deploy", process_id=process_id),
            "catalog": url_for("workbench.catalog"), "preview": url_for("workbench.preview")}
    return render_template("workbench.html", process_id=process_id, process_name=opened.name or process_id, urls=urls,
                           texts={key: _template(key) for key in TEXTS})


def _template(key: str) -> str:
    # The text with its {parameters} unfilled: the page's script fills them in.
    texts = i18n.catalog()[key]
    return texts.get(current_language()) or texts[i18n.DEFAULT_LANGUAGE]


@bp.get("/processes/<process_id>/edit/draft")
@allowed_if(access.may_edit_diagrams)
def draft(process_id: str):
    """The page's twin of GET /api/processes/<id>/draft."""
    return jsonify(api.draft_json(drafts.open_for_editing(_ctx(), process_id)))


@bp.put("/processes/<process_id>/edit/draft")
@allowed_if(access.may_edit_diagrams)
def save(process_id: str):
    """The page's twin of PUT /api/processes/<id>/draft."""
    bpmn, forms = api.draft_input()
    return jsonify(api.draft_json(drafts.save_draft(_ctx(), process_id, bpmn, forms, g.actor.username)))


@bp.delete("/processes/<process_id>/edit/draft")
@allowed_if(access.may_edit_diagrams)
def discard(process_id: str):
    """The page's twin of DELETE /api/processes/<id>/draft."""
    return jsonify(api.discard(process_id, g.actor.username))


@bp.post("/processes/<process_id>/edit/check")
@allowed_if(access.may_edit_diagrams)
def check(process_id: str):
    """The page's twin of POST /api/processes/<id>/draft/check."""
    bpmn, forms = api.draft_input()
    return jsonify(api.problems_json(definitions.check_draft(_ctx(), bpmn, forms, f"{process_id}.bpmn",
                                                             lang=current_language())))


@bp.post("/processes/<process_id>/edit/deploy")
@allowed_if(access.may_edit_diagrams)
def deploy(process_id: str):
    """The page's twin of POST /api/processes/<id>/versions (versions.deploy_version): the diagram and
    forms as the next version with a comment; 201 with the version, 422 with the located problems."""
    body = body_matching(DEPLOY_IN)
    try:
        saved_at = body.get("draft_saved_at")  # the draft this page was editing: its deploy consumes it
        view = versions.deploy_version(_ctx(), process_id, body["bpmn"].encode("utf-8"),
                                       versions.forms_as_text(body["forms"]), body["comment"], g.actor.username,
                                       datetime.fromisoformat(saved_at) if saved_at else None,
                                       lang=current_language())
    except DeployRefused as refused:
        return jsonify(error={"code": refused.code, "message": _("wb_deploy_refused"),
                              **api.problems_json(refused.problems)}), 422
    return jsonify(process_id=view.process_id, version=view.version, comment=view.comment), 201


@bp.get("/workbench/catalog")
@allowed_if(access.may_edit_diagrams)
def catalog():
    """The page's twin of GET /api/workbench/catalog, in the page's language."""
    return jsonify(workbench_read.catalog(_ctx(), current_language()))


@bp.post("/workbench/form-preview")
@allowed_if(access.may_edit_diagrams)
def preview():
    """The page's twin of POST /api/workbench/form-preview."""
    return jsonify(api.form_preview())
