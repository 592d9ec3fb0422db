"""Pages: try a process's draft before deploying it (a dry run), the twin of web/api/dry_run.py."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, current_app, g, redirect, render_template, request, url_for

from engine.app import dry_run
from engine.app.dry_run_sample import EXTRA, start_data_from_form, start_fields
from engine.bpmn import forms
from engine.core import i18n
from engine.core.errors import DeployRefused, FieldErrors, InvalidInput
from engine.regulation import access
from engine.worktime.calendar import TZ

from .headers import diagram_response
from .i18n import error_text, format_due, translate
from .security import allowed_if

bp = Blueprint("dry_run", __name__)


def _ctx():
    return current_app.extensions["engine"]


@bp.route("/processes/<process_id>/dry-run", methods=["GET", "POST"])
@allowed_if(access.may_edit_diagrams)
def start(process_id: str):
    """The start form (sample data prefilled from the declared start data); on POST start the run."""
    ctx = _ctx()
    source = dry_run.source_of(ctx, process_id)
    values, errors, problems = {}, {}, []
    at = ctx.now()
    if request.method == "POST":
        values = request.form
        try:
            at = _local_instant(request.form.get("start_at")) or at
            data = start_data_from_form(ctx, process_id, request.form)
            run = dry_run.start_dry_run(ctx, process_id, source.bpmn, source.forms, data, g.actor, at)
            return redirect(url_for("dry_run.show", process_id=process_id, run_id=run.run_id), 303)
        except FieldErrors as invalid:
            errors = {name: message.text(g.lang) for name, message in invalid.problems.items()}
        except DeployRefused as refused:
            problems = refused.problems
        except InvalidInput as invalid:
            errors = {"_form": error_text(invalid)}
    fields = start_fields(ctx, process_id, at)
    labels = {f.name: translate(f"dry_run.field.{f.name}") for f in fields if i18n.has(f"dry_run.field.{f.name}")}
    return render_template("dry_run_start.html", process_id=process_id, source=source, fields=fields,
                           labels=labels, values=values, errors=errors,
                           problems=problems, start_at=at.astimezone(TZ).strftime("%Y-%m-%dT%H:%M"),
                           extra=EXTRA), 422 if (errors or problems) else 200


@bp.get("/processes/<process_id>/dry-run/<run_id>")
@allowed_if(access.may_edit_diagrams)
def show(process_id: str, run_id: str):
    """The run: the diagram with the path taken and due dates, the ready tasks' forms, the clock, the log."""
    return _page(process_id, _state(process_id, run_id))


@bp.get("/processes/<process_id>/dry-run/<run_id>/diagram.xml")
@allowed_if(access.may_edit_diagrams)
def diagram(process_id: str, run_id: str):
    """The diagram the run is trying, for the viewer."""
    _state(process_id, run_id)
    return diagram_response(dry_run.dry_run_diagram(_ctx(), run_id, g.actor))


@bp.post("/processes/<process_id>/dry-run/<run_id>/tasks/<task_id>")
@allowed_if(access.may_edit_diagrams)
def complete(process_id: str, run_id: str, task_id: str):
    """Answer a ready task with its form; a refused answer is shown again with each field's message."""
    run = _state(process_id, run_id)
    task = next((t for t in run.ready if t.task_id == task_id), None)
    if task is None:
        abort(404)
    data = forms.coerce(task.form, request.form) if task.form else {}
    try:
        dry_run.complete_dry_run_task(_ctx(), run_id, task_id, data, g.actor)
    except forms.FormInvalid as invalid:
        return _page(process_id, run, task_id=task_id, values=data, errors=invalid.messages(g.lang)), 422
    return redirect(url_for("dry_run.show", process_id=process_id, run_id=run_id), 303)


@bp.post("/processes/<process_id>/dry-run/<run_id>/clock")
@allowed_if(access.may_edit_diagrams)
def clock(process_id: str, run_id: str):
    """Move the run's clock: to the next timer, to the next working day, or to a date and time."""
    run = _state(process_id, run_id)
    until = request.form.get("until", "")
    try:
        if until not in (dry_run.NEXT_TIMER, dry_run.NEXT_WORKING_DAY):
            until = _local_instant(request.form.get("at"))
            if until is None:
                raise InvalidInput("dry_run_until_invalid")
        dry_run.advance_dry_run_clock(_ctx(), run_id, until, g.actor)
    except InvalidInput as invalid:
        return _page(process_id, run, clock_error=error_text(invalid)), 422
    return redirect(url_for("dry_run.show", process_id=process_id, run_id=run_id), 303)


@bp.post("/processes/<process_id>/dry-run/<run_id>/end")
@allowed_if(access.may_edit_diagrams)
def end(process_id: str, run_id: str):
    """End the run (its throwaway database is deleted) and go back to the start form."""
    _state(process_id, run_id)
    dry_run.end_dry_run(_ctx(), run_id, g.actor)
    return redirect(url_for("dry_run.start", process_id=process_id), 303)


def _state(process_id: str, run_id: str) -> dry_run.DryRunView:
    run = dry_run.dry_run_state(_ctx(), run_id, g.actor)
    if run.process_id != process_id:
        abort(404)
    return run


def _page(process_id: str, run: dry_run.DryRunView, task_id: str | None = None, values=None, errors=None,
          clock_error: str | None = None):
    overlay = {"path": [[s.bpmn_id, s.came_from] for s in run.path], "current": [t.bpmn_id for t in run.ready],
               "due": [{"id": t.bpmn_id, "at": _shown(t.due_at), "kind": "task"} for t in run.ready if t.due_at]
               + [{"id": t.bpmn_id, "at": _shown(t.due_at), "kind": "timer"} for t in run.timers]}
    return render_template("dry_run.html", process_id=process_id, run=run, overlay=overlay, task_id=task_id,
                           values=values or {}, errors=errors or {}, clock_error=clock_error,
                           at=run.now.astimezone(TZ).strftime("%Y-%m-%dT%H:%M"))


def _shown(moment: datetime | None) -> str:
    return format_due(moment)


def _local_instant(text: str | None) -> datetime | None:
    """A datetime-local input's value (Vietnam time) as an aware instant; None when empty."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("dry_run_until_invalid") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=TZ)
