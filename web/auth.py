"""Sign-in and sign-out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

from engine.regulation import access

from .i18n import translate as _

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in form; on success a fresh session (no fixation) and back to where the user was."""
    if request.method == "GET":
        return render_template("login.html")
    username = request.form.get("username", "").strip().lower()
    password = request.form.get("password", "")
    limiter = current_app.extensions["sign_in_limiter"]
    keys = (f"ip:{request.remote_addr}", f"user:{username}")
    if limiter.blocked(*keys):
        return render_template("login.html", error=_("login_rate_limited"), username=username), 429
    user = access.sign_in(current_app.extensions["engine"], username, password, request.remote_addr)
    if user is None:
        limiter.failed(*keys)
        return render_template("login.html", error=_("login_failed"), username=username), 401
    lang = session.get("lang")
    session.clear()
    session["username"] = user.username
    if lang:
        session["lang"] = lang
    flash(_("login_welcome", name=user.full_name))
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout():
    """End the session."""
    session.clear()
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after sign-in is a phishing tool.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("inbox.index")
