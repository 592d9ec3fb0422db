"""Security headers on every response, and how a diagram's XML is served.

Scripts and styles come only from this site's files (no inline script: a diagram or a user text
that slipped some markup through could not run it); the pages cannot be framed; no referrer leaves
the site. A diagram is untrusted text written in the modeller: it is served as plain text with its
own sandboxing policy, so no browser renders or runs anything in it, even when opened directly.
"""
from __future__ import annotations

from flask import Flask, Response

# bpmn-js sets style attributes on the SVG it draws, hence 'unsafe-inline' for styles only.
POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
          "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    """Add the headers to every response that has not set its own."""

    @app.after_request
    def _secure(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def diagram_response(xml: bytes) -> Response:
    """A diagram's XML for the viewer's fetch(): plain text, sandboxed, never rendered as a document."""
    return Response(xml, mimetype="text/plain", headers={
        "Content-Security-Policy": "default-src 'none'; sandbox", "X-Content-Type-Options": "nosniff",
        "Content-Disposition": "attachment; filename=diagram.bpmn"})
