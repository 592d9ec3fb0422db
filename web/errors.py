"""Domain errors to HTTP, in one place: JSON for API clients, a page for people."""
from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from engine.core import i18n
from engine.core.errors import (
    Conflict,
    DeployRefused,
    DiagramError,
    EngineError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unavailable,
)

from .i18n import current_language

log = logging.getLogger(__name__)

STATUS = ((NotFound, 404), (Forbidden, 403), (Conflict, 409), (InvalidInput, 422), (DeployRefused, 422),
          (DiagramError, 500), (Unavailable, 503))


def status_of(error: EngineError) -> int:
    """The HTTP status for a domain error."""
    return next((code for kind, code in STATUS if isinstance(error, kind)), 400)


def note_fault(error: EngineError, status: int) -> None:
    """Log an error answered 5xx (a diagram fault, the database away): operations must see it, not only the user."""
    if status >= 500:
        log.warning("%s: %s", error.code, error.text("en"), extra={"event": "engine_error", "code": error.code,
                                                                 "request_id": getattr(g, "request_id", None)})


def details_of(error: EngineError) -> dict:
    """What an error's JSON carries beside code and message: a refused diagram's located problems."""
    if isinstance(error, DeployRefused):
        return {"problems": [{"element_id": p.element_id, "line": p.line, "message": p.message,
                              "severity": getattr(p, "severity", "error")} for p in error.problems]}
    return {}


def headers_of(error: EngineError) -> dict[str, str]:
    """Response headers a domain error asks for: when to try again after a database failure."""
    return {"Retry-After": str(error.retry_after)} if isinstance(error, Unavailable) else {}


def init_app(app: Flask) -> None:
    """Register the handler for every domain error."""

    @app.errorhandler(EngineError)
    def _engine_error(error: EngineError):
        status, message = status_of(error), error.text(message_language())
        note_fault(error, status)
        body = {"error": {"code": error.code, "message": message, **details_of(error)}}
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return jsonify(body), status, headers_of(error)
        return render_template("error.html", code=error.code, message=message), status, headers_of(error)


def message_language() -> str:
    """The language of an error message: the API's is asked with ?lang= (as for its form fields), a
    person's is the one they chose for the pages."""
    return i18n.language(request.args.get("lang")) if request.path.startswith("/api/") else current_language()


def http_error(failure: HTTPException):
    """An HTTP error: under /api/ the API's one error shape, on pages (4xx and an unexpected 500) the error
    page with a way back, both in the asker's language; werkzeug's own response for anything else."""
    name = failure.name.lower().replace(" ", "_")
    key = f"http_error.{name}"
    message = i18n.text(key, message_language()) if i18n.has(key) else failure.description
    if request.path.startswith("/api/"):
        return jsonify({"error": {"code": name, "message": message}}), failure.code
    if failure.code is None or not 400 <= failure.code <= 500 or not i18n.has(f"error_code.{name}"):
        return failure
    try:
        page = render_template("error.html", code=name, message=message)
    except Exception:  # noqa: BLE001 - a 500 page that fails to render (e.g. no database) falls back to werkzeug's
        if failure.code < 500:
            raise
        return failure
    return page, failure.code, _kept_headers(failure)


def _kept_headers(failure: HTTPException) -> dict[str, str]:
    # What the error's own response says beyond its body (Allow on a 405, WWW-Authenticate on a 401).
    return {k: v for k, v in failure.get_headers() if k.lower() != "content-type"}
