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
    outcome = access.sign_in(current_app.extensions["engine"], username, password, request.remote_addr)
    shown = username[:100]  # a name longer than any username is not echoed whole
    if outcome.limited:
        return render_template("login.html", error=_("login_rate_limited"), username=shown), 429
    if outcome.actor is None:
        return render_template("login.html", error=_("login_failed"), username=shown), 401
    user = outcome.actor
    if session.get("sid"):  # signing in over an earlier session ends that one
        access.sign_out(current_app.extensions["engine"], session["sid"])
    lang = session.get("lang")
    session.clear()
    session["sid"] = outcome.session_token
    if lang:
        session["lang"] = lang
    flash(_("login_welcome", name=user.full_name))
    return redirect(_safe_next(request.args.get("next")))


@bp.post("/logout")
def logout():
    """End the session on the server too: a copy of the cookie no longer works."""
    if session.get("sid"):
        access.sign_out(current_app.extensions["engine"], session["sid"])
    session.clear()
    return redirect(url_for("auth.login"))


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after sign-in is a phishing tool.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("inbox.index")
