"""The Office's pages (register a document with its tasks, the province-wide task list) and the
units' feedback page."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from engine.core import i18n
from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.read import task_queries
from engine.regulation import access, tracking
from engine.regulation.records import DocumentType, TaskStatus

from .errors import status_of
from .i18n import error_text, parse_date
from .i18n import translate as _
from .inputs import int_arg, parse_id
from .security import allowed_if, login_required

bp = Blueprint("office", __name__)
TASK_ROWS = 5  # blank task rows on the registration form


@bp.route("/office/documents/new", methods=["GET", "POST"])
@allowed_if(access.may_register_documents)
def register():
    """Register an assigning document and its tasks; a classified one is refused, nothing kept."""
    if request.method == "GET":
        return render_template("register.html", form={}, doc_types=list(DocumentType), rows=TASK_ROWS)
    form = request.form
    try:
        document = tracking.DocumentInput(
            number_symbol=form.get("number_symbol", ""), issued_on=parse_date(form.get("issued_on"), "issued_on"),
            doc_type=form.get("doc_type", ""), issuer=form.get("issuer", ""), signer=form.get("signer", ""),
            summary=form.get("summary", ""), classification=form.get("classification", ""))
        tasks = [tracking.TaskInput(
            content=form.get(f"content_{i}", ""), lead_unit=form.get(f"lead_unit_{i}", "").strip(),
            expected_output=form.get(f"expected_output_{i}", "") or i18n.text("default_expected_output"),
            deadline=parse_date(form.get(f"deadline_{i}"), f"deadline_{i}") if form.get(f"deadline_{i}") else None,
            update_cadence=form.get(f"cadence_{i}") or None,
            coordinators=tuple(c.strip() for c in form.get(f"coordinators_{i}", "").split(",") if c.strip()))
            for i in range(TASK_ROWS) if form.get(f"content_{i}", "").strip()]
        registered = tracking.register_document(current_app.extensions["engine"], document, tasks, g.actor.username)
    except tracking.ClassifiedDocumentRefused:
        # Nothing of the document is echoed back: the form comes back empty.
        return render_template("register.html", form={}, doc_types=list(DocumentType), rows=TASK_ROWS,
                               error=_("classified_refused")), 422
    except (InvalidInput, Conflict) as error:  # Conflict: registered already (e.g. sent again after Back)
        return render_template("register.html", form=form, doc_types=list(DocumentType), rows=TASK_ROWS,
                               error=error_text(error)), status_of(error)
    flash(_("document_registered", n=len(registered.task_ids)))
    return redirect(url_for("office.task_list"), 303)


@bp.get("/office/tasks")
@login_required
def task_list():
    """Tracked tasks: the whole province for the Office, a unit's own subtree for a unit."""
    args, statuses = request.args, {s.value for s in TaskStatus} | set(task_queries.CATEGORIES)
    tasks = task_queries.list_tasks(current_app.extensions["engine"], g.actor.unit_codes,
                                    lead_unit=args.get("unit") or None, text=args.get("q") or None,
                                    status=args.get("status") if args.get("status") in statuses else None,
                                    page=int_arg("page", 1))
    return render_template("tasks.html", tasks=tasks, statuses=task_queries.CATEGORIES, filters=args)


@bp.get("/office/feedback")
@allowed_if(access.may_follow_province)
def feedback_register():
    """The feedback register: what was reported, by whom, and what the Office did (urging, direction)."""
    rows = task_queries.feedback_register(current_app.extensions["engine"], open_only=request.args.get("open") == "1")
    return render_template("feedback_register.html", rows=rows)


@bp.route("/feedback/new", methods=["GET", "POST"])
@login_required
def file_feedback():
    """A district or agency reports that a task's lead unit is late (Art. 16.4)."""
    if not access.may_file_feedback(g.actor):
        return render_template("error.html", code="forbidden", message=_("feedback_who")), 403
    if request.method == "GET":
        return render_template("feedback.html", task_id=request.args.get("task_id", ""), content="")
    try:
        tracking.file_feedback(current_app.extensions["engine"], parse_id(request.form.get("task_id", ""), "task_id"),
                               g.actor.unit_code, request.form.get("content", ""), g.actor.username)
    except (InvalidInput, NotFound) as error:
        return render_template("feedback.html", task_id=request.form.get("task_id", ""),
                               content=request.form.get("content", ""), error=error_text(error)), 422
    flash(_("feedback_filed"))
    return redirect(url_for("inbox.index"), 303)
