"""API: what a district, agency or commune needs to file feedback (issue 13, item 8): the tasks it may
report on, searched by content or document number, and the feedback its unit filed with each outcome.
The same read models as the page /feedback/new; who may is `access.may_file_feedback`."""
from __future__ import annotations

from flask import g, jsonify, request

from engine.read import feedback_choices
from engine.read.feedback_choices import ReportableTask
from engine.read.task_queries import FeedbackRow
from engine.regulation import access

from . import bp, ctx, forbid_unless, to_json
from .openapi import STRING, _operation, _query, obj, schema_of

_WHO = "feedback_filers_only"


@bp.get("/feedback/tasks")
def reportable_tasks():
    """The open tasks led by other units that I may report on, newest first; ?q= words of the content or
    the document number (accents and case ignored)."""
    forbid_unless(access.may_file_feedback(g.actor), _WHO)
    return jsonify(items=to_json(feedback_choices.reportable_tasks(ctx(), g.actor, request.args.get("q", ""))))


@bp.get("/feedback/mine")
def own_feedback():
    """The feedback my unit filed, newest first, with what the Office did (outcome, urging documents)."""
    forbid_unless(access.may_file_feedback(g.actor), _WHO)
    return jsonify(items=to_json(feedback_choices.own_feedback(ctx(), g.actor)))


def openapi_paths() -> dict:
    """The OpenAPI description of these routes (merged into /api/openapi.json)."""
    return {
        "/api/feedback/tasks": {"get": _operation(
            "The open tasks led by other units that I may file feedback on (districts, agencies, communes), newest "
            "first, at most 30; q: words of the task's content or its document number, accents and case ignored",
            (200, obj(("items",), items={"type": "array", "items": schema_of(ReportableTask)})), 403,
            parameters=[_query("q", STRING)])},
        "/api/feedback/mine": {"get": _operation(
            "The feedback my unit filed, newest first, with its outcome and the urging documents issued",
            (200, obj(("items",), items={"type": "array", "items": schema_of(FeedbackRow)})), 403)},
    }
