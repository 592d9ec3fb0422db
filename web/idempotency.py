"""A write sent again with the same Idempotency-Key gets the first answer, not a second write.

The API's part of engine/core/idempotency.py (which says how the key is claimed with the write): look up
the key before the route runs, replay a kept answer, else serve the request under a claim; keep the
answer once the write has committed. Pages do not use it: a form carries the row_version it was drawn
from, so a second submit of the same form is refused already.
"""
from __future__ import annotations

import hashlib
import logging

from flask import Blueprint, current_app, g, request

from engine.core import idempotency
from engine.core.errors import Conflict, InvalidInput, Unavailable

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

log = logging.getLogger(__name__)


def init_api(bp: Blueprint) -> None:
    """Install on the API's blueprint, after its authentication (the key is the user's)."""
    bp.before_request(_replay_or_claim)
    bp.after_request(_keep_answer)
    bp.teardown_request(_release)


def _replay_or_claim():
    given = request.headers.get(HEADER)
    actor = getattr(g, "actor", None)
    if given is None or request.method not in WRITES or actor is None:
        return None
    key = idempotency.checked_key(given)
    sent = idempotency.fingerprint(request.method, request.full_path, _body())
    ctx = current_app.extensions["engine"]
    earlier = idempotency.recorded(ctx, actor.username, key)
    if earlier is not None:
        if earlier.fingerprint != sent:
            raise InvalidInput("idempotency_key_reused")
        if earlier.status is None:  # written, but the answer was lost with its worker
            raise Conflict("request_already_applied")
        return current_app.response_class(earlier.body, earlier.status, mimetype="application/json",
                                          headers={REPLAYED: "true"})
    claim = idempotency.Claim(actor.username, key, sent, ctx.now())
    g.idempotency_claim, g.idempotency_token = claim, idempotency.serving(claim)
    return None


def _body() -> bytes:
    # A form with files is sent again with a new multipart boundary: compare its fields and files' contents,
    # in the order sent (a client sending again sends the same form).
    if request.mimetype != "multipart/form-data":
        return request.get_data(cache=True)
    parts = [f"{name}={value}" for name, value in request.form.items(multi=True)]
    for name, file in request.files.items(multi=True):
        parts.append(f"{name}:{file.filename}:{hashlib.file_digest(file.stream, 'sha256').hexdigest()}")
        file.stream.seek(0)
    return "\n".join(parts).encode()


def _keep_answer(response):
    claim = g.get("idempotency_claim")
    if claim is not None and claim.taken and response.status_code < 500:
        try:
            idempotency.answered(current_app.extensions["engine"], claim, response.status_code,
                                 response.get_data(as_text=True))
        except Unavailable:  # the write stands; sent again, the request gets 409 request_already_applied
            log.warning("the answer to an idempotent request was not kept", extra={
                "event": "idempotency_answer_lost", "request_id": g.get("request_id")})
    return response


def _release(_error=None):
    token = g.pop("idempotency_token", None)
    if token is not None:
        idempotency.served(token)
