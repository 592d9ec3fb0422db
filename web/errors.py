"""Domain errors to HTTP, in one place: JSON for API clients, a page for people."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request

from engine.core.errors import Conflict, DeployRefused, DiagramError, EngineError, InvalidInput, NotFound

STATUS = ((NotFound, 404), (Conflict, 409), (InvalidInput, 422), (DeployRefused, 422), (DiagramError, 500))


def status_of(error: EngineError) -> int:
    """The HTTP status for a domain error."""
    return next((code for kind, code in STATUS if isinstance(error, kind)), 400)


def init_app(app: Flask) -> None:
    """Register the handler for every domain error."""

    @app.errorhandler(EngineError)
    def _engine_error(error: EngineError):
        status = status_of(error)
        body = {"error": {"code": error.code, "message": str(error)}}
        if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
            return jsonify(body), status
        return render_template("error.html", code=error.code, message=str(error)), status
