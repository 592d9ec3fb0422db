"""The Office's pages (register a document with its tasks, the province-wide task list) and the
units' feedback page."""
from __future__ import annotations

import contextlib

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for

from engine.core import i18n
from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.read import feedback_choices, task_queries, unit_choices
from engine.regulation import access, tracking
from engine.regulation.records import DocumentType, TaskStatus

from .errors import status_of
from .i18n import TZ, error_text, parse_date
from .i18n import translate as _
from .inputs import ids_in, int_arg, parse_id
from .security import allowed_if, login_required
from .unit_picks import picked, picked_many, unit_filter

bp = Blueprint("office", __name__)
TASK_ROWS = 5  # blank task rows on the registration form


@bp.route("/office/documents/new", methods=["GET", "POST"])
@allowed_if(access.may_register_documents)
def register():
    """Register an assigning document and its tasks; a classified one is refused, nothing kept."""
    units = unit_choices.unit_choices(current_app.extensions["engine"])
    if request.method == "GET":
        return render_template("register.html", form={}, doc_types=list(DocumentType), rows=TASK_ROWS, units=units)
    form = request.form
    try:
        document = tracking.DocumentInput(
            number_symbol=form.get("number_symbol", ""), issued_on=parse_date(form.get("issued_on"), _("issued_on")),
            doc_type=form.get("doc_type", ""), issuer=form.get("issuer", ""), signer=form.get("signer", ""),
            summary=form.get("summary", ""), classification=form.get("classification", ""))
        tasks = [tracking.TaskInput(
            content=form.get(f"content_{i}", ""), lead_unit=picked(form, f"lead_unit_{i}", units, required=True),
            expected_output=form.get(f"expected_output_{i}", "") or i18n.text("default_expected_output"),
            deadline=(parse_date(form.get(f"deadline_{i}"), f"{_('deadline')} {i + 1}")
                      if form.get(f"deadline_{i}") else None),
            update_cadence=form.get(f"cadence_{i}") or None,
            coordinators=picked_many(form, f"coordinators_{i}", units))
            for i in range(TASK_ROWS) if form.get(f"content_{i}", "").strip()]
        past = _past_deadlines([i for i in range(TASK_ROWS) if form.get(f"content_{i}", "").strip()], tasks)
        if past and not form.get("confirm_past_deadline"):  # a typo as often as a late registration: ask first
            return render_template("register.html", form=form, doc_types=list(DocumentType), rows=TASK_ROWS,
                                   units=units, past_deadlines=", ".join(past))
        registered = tracking.register_document(current_app.extensions["engine"], document, tasks, g.actor.username)
    except tracking.ClassifiedDocumentRefused:
        # Nothing of the document is echoed back: the form comes back empty.
        return render_template("register.html", form={}, doc_types=list(DocumentType), rows=TASK_ROWS, units=units,
                               error=_("classified_refused")), 422
    except (InvalidInput, Conflict, NotFound) as error:  # Conflict: registered already (e.g. sent again after Back)
        return render_template("register.html", form=form, doc_types=list(DocumentType), rows=TASK_ROWS, units=units,
                               error=error_text(error)), 422 if isinstance(error, NotFound) else status_of(error)
    flash(_("document_registered", n=len(registered.task_ids)))
    return redirect(url_for("office.task_list"), 303)


def _past_deadlines(rows: list[int], tasks) -> list[str]:
    """The rows (counted from 1, as the form shows them) whose deadline is before today in Vietnam."""
    today = current_app.extensions["engine"].now().astimezone(TZ).date()
    return [str(i + 1) for i, task in zip(rows, tasks, strict=True) if task.deadline and task.deadline < today]


@bp.get("/office/tasks")
@login_required
def task_list():
    """Tracked tasks: the whole province for the Office, a unit's own subtree for a unit."""
    args, statuses = request.args, {s.value for s in TaskStatus} | set(task_queries.CATEGORIES)
    ctx = current_app.extensions["engine"]
    tasks = task_queries.list_tasks(ctx, g.actor.unit_codes, lead_unit=unit_filter(ctx, args),
                                    text=args.get("q") or None,
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
    """A district or agency reports that a task's lead unit is late (Art. 16.4): it picks the task among those
    it may report on (searched by content or document number) and sees the feedback it filed before."""
    if not access.may_file_feedback(g.actor):
        return render_template("error.html", code="forbidden", message=_("feedback_who")), 403
    ctx, values = current_app.extensions["engine"], request.values
    if request.method == "GET":
        return _feedback_page(ctx, values)
    try:
        task = feedback_choices.reportable_task(ctx, g.actor, parse_id(values.get("task_id", ""), "task_id"))
        tracking.file_feedback(ctx, task.id, g.actor.unit_code, values.get("content", ""), g.actor.username)
    except (InvalidInput, NotFound) as error:
        return _feedback_page(ctx, values, error_text(error), 422)
    flash(_("feedback_filed"))
    return redirect(url_for("office.file_feedback"), 303)


def _feedback_page(ctx, values, error: str | None = None, status: int = 200):
    query, chosen = values.get("q", ""), values.get("task_id", "")
    tasks = feedback_choices.reportable_tasks(ctx, g.actor, query)
    for task_id in ids_in([chosen]):  # a task chosen by a link or before a search: kept on the list
        if all(task.id != task_id for task in tasks):
            with contextlib.suppress(InvalidInput):
                tasks.insert(0, feedback_choices.reportable_task(ctx, g.actor, task_id))
    return render_template("feedback.html", tasks=tasks, q=query, task_id=chosen, content=values.get("content", ""),
                           mine=feedback_choices.own_feedback(ctx, g.actor), error=error), status
