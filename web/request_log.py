"""One log line per request, and a request id that ties it to the client's report and the other lines.

The id comes from the proxy in front (`X-Request-Id`, when it looks like an id) or is made here; it goes
back in the response's `X-Request-Id` header and on the page of an error (web/errors.py), so a user's
"it failed at 10:02" can be found in the logs. Fields: docs/operations.md, "Logs".
"""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, g, request

log = logging.getLogger("web.request")

_GOOD_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def init_app(app: Flask) -> None:
    """Install the request id and the request line on `app`."""

    @app.before_request
    def _start():
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _GOOD_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_began = time.perf_counter()

    @app.after_request
    def _line(response):
        request_id = getattr(g, "request_id", None)
        if request_id is None:  # refused before _start ran (another before_request answered first)
            return response
        response.headers["X-Request-Id"] = request_id
        actor = getattr(g, "actor", None)
        log.info("%s %s %s", request.method, request.path, response.status_code, extra={
            "event": "request", "request_id": request_id, "user": actor.username if actor else None,
            "method": request.method, "route": request.url_rule.rule if request.url_rule else None,
            "path": request.path, "status": response.status_code,
            "duration_ms": round((time.perf_counter() - g.request_began) * 1000, 1)})
        return response
