"""Sessions, sign-in rate limit and CSRF: who the request is from, and that a form is really theirs."""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from functools import wraps

from flask import Flask, abort, current_app, g, redirect, request, session, url_for

from engine.core.errors import NotFound
from engine.regulation import access

_UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def init_app(app: Flask) -> None:
    """Load the signed-in user for every request and check CSRF on every unsafe one."""
    app.extensions["sign_in_limiter"] = SignInLimiter()
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["may"] = lambda question: g.actor is not None and getattr(access, f"may_{question}")(g.actor)

    @app.before_request
    def _load_user():
        g.actor = None  # who is asking: an access.Actor
        username = session.get("username")
        if username:
            try:
                g.actor = access.actor_named(current_app.extensions["engine"], username)
            except NotFound:
                session.clear()  # the account was deactivated since sign-in

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


class SignInLimiter:
    """At most `limit` failed sign-ins per address and per username in `window` seconds.

    Kept in memory: enough for the embedded single-process set-up; behind several processes
    each keeps its own count, which still bounds guessing per process.
    """

    def __init__(self, limit: int = 5, window: float = 300.0):
        self.limit, self.window = limit, window
        self._failures: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, *keys: str) -> bool:
        """True when any key has used up its failures."""
        with self._lock:
            return any(len(self._recent(key)) >= self.limit for key in keys)

    def failed(self, *keys: str) -> None:
        """Count a failure against each key."""
        with self._lock:
            for key in keys:
                self._recent(key).append(time.monotonic())

    def _recent(self, key: str) -> deque:
        failures = self._failures[key]
        while failures and failures[0] < time.monotonic() - self.window:
            failures.popleft()
        return failures
