"""The Flask web app: an application factory, one blueprint per area."""
from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask

from engine.core.config import ROOT
from engine.process.context import EngineContext


def create_app(ctx: EngineContext | None = None, test_config: dict | None = None) -> Flask:
    """Build the app around an engine context (prepared from the environment when not given)."""
    from engine.app.bootstrap import prepare

    ctx = ctx or prepare()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=ctx.config.secret_key or _local_secret(ROOT / "var" / "secret_key"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=ctx.config.secure_cookies,
        PERMANENT_SESSION_LIFETIME=8 * 3600,  # a working day
        MAX_CONTENT_LENGTH=ctx.config.max_attachment_bytes * 5 + 1_000_000,  # a few attachments per post
    )
    app.config.update(test_config or {})
    app.extensions["engine"] = ctx

    from . import api, auth, errors, headers, health, i18n, inbox, inputs, notices, office, reports, security, tracked
    from .request_log import init_app as log_requests
    from .workbench import bp as workbench_bp

    log_requests(app)  # first, so that every request has its id and its line, refused ones too
    i18n.init_app(app)
    inputs.init_app(app)  # before any route: the <id:...> converter, and NUL refused before other checks
    security.init_app(app)
    headers.init_app(app)
    errors.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(notices.bp)
    app.register_blueprint(office.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(tracked.bp)
    from .versions import bp as versions_bp  # the versions, diff and migration pages
    app.register_blueprint(versions_bp)
    from . import dry_run  # the workbench's dry-run pages
    app.register_blueprint(dry_run.bp)
    app.register_blueprint(workbench_bp)
    from .admin_units import bp as admin_units_bp  # admin console: the organisation
    app.register_blueprint(admin_units_bp)
    from . import admin_audit, admin_users  # admin console: users, sessions and API tokens; the audit log
    app.register_blueprint(admin_users.bp)
    app.register_blueprint(admin_audit.bp)
    from .admin_instances import bp as admin_instances_bp  # admin console: instances and incidents
    app.register_blueprint(admin_instances_bp)
    from . import admin_calendar, admin_settings  # admin console: timer settings, the working-day calendar
    app.register_blueprint(admin_settings.bp), app.register_blueprint(admin_calendar.bp)
    api.init_app(app)
    notices.init_app(app)
    from . import dashboard  # the dashboard and its drill-downs (issue 14)
    app.register_blueprint(dashboard.bp)
    from . import claims  # the task page names who holds a claimed task
    claims.init_app(app)
    from . import heatmap, period_reports  # periodic reports, overdue lists, the process heatmap (issue 14)
    app.register_blueprint(period_reports.bp), app.register_blueprint(heatmap.bp)
    app.jinja_env.filters["dict_without"] = lambda d, key: {k: v for k, v in d.items() if k != key}
    return app


def _local_secret(path: Path) -> str:
    # Without SECRET_KEY set, keep one random key per installation so sessions survive restarts.
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
