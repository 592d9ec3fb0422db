"""Notifications with an unread count in every page's header: a page at a time, each linking to its subject."""
from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from engine.read import notices as notice_queries
from engine.regulation import notifications

from .i18n import current_language
from .inputs import ids_in, int_arg
from .security import login_required

bp = Blueprint("notices", __name__)
PER_PAGE = 20


def init_app(app) -> None:
    """Give every page the signed-in user's unread count."""

    @app.context_processor
    def _unread():
        if getattr(g, "actor", None) is None:
            return {}
        return {"unread_count": notifications.unread_count(current_app.extensions["engine"], g.actor)}


def url_of(link: notice_queries.NoticeLink | None) -> str | None:
    """The page a notice leads to (the step waiting for the reader, the reporting round, the tracked task)."""
    if link is None:
        return None
    if link.kind == "task":
        return url_for("inbox.task", instance_id=link.instance_id, task_id=link.task_id)
    if link.kind == "round":
        return url_for("reports.show", period_key=link.period_key)
    return url_for("tracked.show", task_id=link.tracked_id)


@bp.get("/notifications")
@login_required
def index():
    """My notifications, newest first, a page at a time, in my language."""
    page = notice_queries.notice_page(current_app.extensions["engine"], g.actor, page=int_arg("page", 1),
                                      per_page=PER_PAGE, lang=current_language())
    return render_template("notifications.html", page=page, url_of=url_of)


@bp.post("/notifications/read")
@login_required
def mark_read():
    """Mark every notification read (all=1: on every page, not only the one shown), or the listed ones."""
    ctx = current_app.extensions["engine"]
    if request.form.get("all") == "1":
        notifications.mark_all_read(ctx, g.actor)
    else:
        notifications.mark_read(ctx, g.actor, ids_in(request.form.getlist("id")))
    return redirect(url_for("notices.index"), 303)
