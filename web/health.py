"""Health and readiness checks, the home redirect, and the plain overview of deployed definitions and instances."""
from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, url_for

from engine.app import readiness
from engine.process import definitions, instances
from engine.regulation import access, working_time

from .security import allowed_if

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """Liveness and database check, as JSON, for monitoring."""
    ctx = current_app.extensions["engine"]
    deployed = definitions.list_definitions(ctx)  # a read that fails when the database is down
    return jsonify(status="ok", database=ctx.db.engine.dialect.name,
                   definitions=sorted({d.process_id for d in deployed}))


@bp.get("/ready")
def ready():
    """Readiness for a load balancer or a monitor: 200 when the database answers, its schema is current
    and a timer worker beat recently; 503 with what failed otherwise (engine/app/readiness.py)."""
    state = readiness.check(current_app.extensions["engine"])
    return jsonify(state.as_dict()), 200 if state.ready else 503


@bp.get("/")
def home():
    """Signed-in people start at their inbox; others at the sign-in page."""
    return redirect(url_for("inbox.index") if g.actor else url_for("auth.login"))


@bp.get("/processes")
@allowed_if(access.may_read_processes)
def overview():
    """Deployed process versions and the most recent instances."""
    ctx = current_app.extensions["engine"]
    deployed = definitions.list_definitions(ctx)
    return render_template("overview.html", definitions=deployed, instances=instances.list_instances(ctx, limit=50),
                           names={d.process_id: d.name for d in deployed},
                           people=working_time.full_names(ctx, {d.deployed_by for d in deployed}))
