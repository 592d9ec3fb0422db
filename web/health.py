"""Health check, the home redirect, and the plain overview of deployed definitions and instances."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, url_for
from sqlalchemy import text

from engine import definitions, instances
from engine.organisation import Role

from .security import roles_required

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """Liveness and database check, as JSON, for monitoring."""
    ctx = current_app.extensions["engine"]
    with ctx.unit_of_work(readonly=True) as session:
        session.execute(text("SELECT 1"))
    deployed = definitions.list_definitions(ctx)
    return jsonify(status="ok", database=ctx.db.engine.dialect.name,
                   definitions=sorted({d.process_id for d in deployed}))


@bp.get("/")
def home():
    """Signed-in people start at their inbox; others at the sign-in page."""
    return redirect(url_for("inbox.index") if g.user else url_for("auth.login"))


@bp.get("/processes")
@roles_required(Role.ADMIN, Role.PROCESS_ANALYST, Role.TRACKING_SPECIALIST, Role.OFFICE_LEADER)
def overview():
    """Deployed process versions and the most recent instances."""
    ctx = current_app.extensions["engine"]
    return render_template("overview.html", definitions=definitions.list_definitions(ctx),
                           instances=instances.list_instances(ctx, limit=50))
