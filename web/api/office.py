"""API: my notifications, the Office's feedback register and reporting rounds, deployed processes."""
from __future__ import annotations

from datetime import date

from flask import g, jsonify, request

from engine.core.errors import InvalidInput
from engine.process import definitions, instances
from engine.read import notices as notice_queries
from engine.read import report_queries, task_queries
from engine.regulation import access, notifications, reporting, reporting_plan

from ..inputs import int_arg, parse_id
from ..notices import url_of
from . import body_matching, bp, ctx, forbid_unless, language, openapi, to_json

_OFFICE_ONLY = "office_only"  # catalog key of why a 403


@bp.get("/notifications")
def list_notifications():
    """My notifications, newest first, a page at a time; each names its task and links to its subject."""
    page = notice_queries.notice_page(ctx(), g.actor, page=int_arg("page", 1),
                                      per_page=int_arg("per_page", int_arg("limit", 50, high=200), high=200),
                                      lang=language())
    return jsonify(unread=page.unread, total=page.total, page=page.page, per_page=page.per_page, items=[{
        "id": n.id, "kind": n.kind.value, "title": n.title, "body": n.body, "subject": n.subject, "read": n.read,
        "url": url_of(n.link), "created_at": n.created_at.isoformat()} for n in page.items])


@bp.post("/notifications/read")
def mark_notifications_read():
    """Mark my notifications read: {"all": true} every one, or {"ids": [...]} some (ids not mine are ignored)."""
    body = body_matching(openapi.NOTIFICATIONS_READ)
    if body.get("all"):
        return jsonify(marked=notifications.mark_all_read(ctx(), g.actor))
    if "ids" not in body:
        raise InvalidInput("field_required", field="ids")
    return jsonify(marked=notifications.mark_read(ctx(), g.actor, [parse_id(i, "ids") for i in body["ids"]]))


@bp.get("/feedback")
def feedback_register():
    """The Office's register of feedback received, with what it did (urging, direction)."""
    forbid_unless(access.may_follow_province(g.actor), _OFFICE_ONLY)
    return jsonify(items=to_json(task_queries.feedback_register(
        ctx(), open_only=request.args.get("open") == "1")))


@bp.get("/reporting-rounds")
def list_rounds():
    """The reporting rounds opened, newest first, and the cadences that open by themselves."""
    forbid_unless(access.may_follow_province(g.actor), _OFFICE_ONLY)
    return jsonify(items=to_json(report_queries.list_rounds(ctx())),
                              automatic=sorted(c.value for c in reporting_plan.automatic_cadences(ctx())))


@bp.post("/reporting-rounds")
def open_round():
    """Open the round of the period containing a day: {"cadence", "period_day", "kinds"?}."""
    forbid_unless(access.may_follow_province(g.actor), _OFFICE_ONLY)
    body = body_matching(openapi.ROUND)
    try:
        day = date.fromisoformat(str(body.get("period_day")))
    except ValueError:
        raise InvalidInput("period_day_not_date") from None
    kinds = body.get("kinds") or [k.value for k in reporting.DEFAULT_KINDS]
    opened = reporting.open_reporting_round(ctx(), str(body.get("cadence", "")), day, unit_kinds=kinds,
                                            actor=g.actor.username)
    return jsonify(period_key=opened.period_key, period_label=opened.period_label, reports=len(opened.reports)), 201


@bp.get("/reporting-rounds/<period_key>")
def show_round(period_key: str):
    """One round: each unit's report, in or not, on time or late."""
    forbid_unless(access.may_follow_province(g.actor), _OFFICE_ONLY)
    round_view, reports = report_queries.round_reports(ctx(), period_key)
    return jsonify(round=to_json(round_view), reports=to_json(reports))


@bp.put("/reporting-plan")
def set_plan():
    """Choose the cadences whose rounds the worker opens by itself: {"automatic": [...]}."""
    forbid_unless(access.may_follow_province(g.actor), _OFFICE_ONLY)
    chosen = body_matching(openapi.PLAN)["automatic"]
    saved = reporting_plan.set_automatic_cadences(ctx(), chosen, g.actor.username)
    return jsonify(automatic=sorted(c.value for c in saved))


@bp.get("/processes")
def list_processes():
    """Deployed process versions and the most recent instances."""
    forbid_unless(access.may_read_processes(g.actor), "process_readers_only")
    return jsonify(definitions=to_json(definitions.list_definitions(ctx())),
                              instances=to_json(instances.list_instances(ctx(), limit=50)))
