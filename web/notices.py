"""Notifications with an unread count in every page's header."""
from __future__ import annotations

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from engine.regulation import notifications

from .i18n import current_language
from .inputs import ids_in
from .security import login_required

bp = Blueprint("notices", __name__)


def init_app(app) -> None:
    """Give every page the signed-in user's unread count."""

    @app.context_processor
    def _unread():
        if getattr(g, "actor", None) is None:
            return {}
        return {"unread_count": notifications.unread_count(current_app.extensions["engine"], g.actor)}


@bp.get("/notifications")
@login_required
def index():
    """My notifications, newest first, in my language."""
    items = notifications.for_actor(current_app.extensions["engine"], g.actor, limit=100, lang=current_language())
    return render_template("notifications.html", items=items)


@bp.post("/notifications/read")
@login_required
def mark_read():
    """Mark the listed notifications (or all shown) read."""
    notifications.mark_read(current_app.extensions["engine"], g.actor, ids_in(request.form.getlist("id")))
    return redirect(url_for("notices.index"), 303)
