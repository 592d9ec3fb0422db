"""Sessions and CSRF: who the request is from, and that a form is really theirs.

The cookie carries a session token; the engine says whose session it is, or that it has ended
(signed out, ended by an admin, expired): access.actor_for_session. The sign-in limit is the
engine's too (access.sign_in).
"""
from __future__ import annotations

import hmac
import secrets
from functools import wraps

from flask import Flask, abort, current_app, g, redirect, request, session, url_for

from engine.regulation import access

_UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def init_app(app: Flask) -> None:
    """Load the signed-in user for every request and check CSRF on every unsafe one."""
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["may"] = lambda question: g.actor is not None and getattr(access, f"may_{question}")(g.actor)

    @app.before_request
    def _load_user():
        g.actor = None  # who is asking: an access.Actor
        token = session.get("sid")
        if token:
            g.actor = access.actor_for_session(current_app.extensions["engine"], token)
            if g.actor is None:  # signed out elsewhere, ended by an admin, expired, or the account deactivated
                lang = session.get("lang")
                session.clear()
                if lang:
                    session["lang"] = lang

    @app.before_request
    def _check_csrf():
        if request.method in _UNSAFE and not request.path.startswith("/api/"):
            sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
            # As bytes: compare_digest refuses a str with a character outside ASCII (a 500 before sign-in).
            if not sent or not hmac.compare_digest(sent.encode(), session.get("csrf_token", "").encode()):
                abort(400, description="csrf")


def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    if "csrf_token" not in session:
        session["csrf_token"] = secrets.token_urlsafe(32)
    return session["csrf_token"]


def login_required(view):
    """Send anonymous visitors to the sign-in page."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.actor is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper


def allowed_if(question):
    """Refuse (403) a signed-in user for whom `question(actor)` (an access.may_* rule) is false."""

    def decorate(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not question(g.actor):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate

