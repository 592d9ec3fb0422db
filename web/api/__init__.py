"""The JSON API: the same use cases and the same access questions as the pages, with bearer tokens.

Errors always have one shape: {"error": {"code": ..., "message": ..., "fields": {...}?}}.
Routes live in the modules of this package by area; this module authenticates and shapes errors.
"""
from __future__ import annotations

import dataclasses
import enum
import importlib
import pkgutil
from datetime import date, datetime

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException, UnsupportedMediaType

from engine.bpmn import forms
from engine.bpmn.forms import FormInvalid
from engine.core import i18n
from engine.core.errors import EngineError, Forbidden, InvalidInput
from engine.regulation import access

from .. import idempotency
from ..errors import details_of, headers_of, http_error, note_fault, status_of

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.before_request
def _authenticate():
    if request.endpoint == "api.openapi":
        return None
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    g.actor = access.actor_for_token(current_app.extensions["engine"], token)
    if g.actor is None:
        return error(401, "unauthorized", i18n.text("error.token_required", language()))
    return None


idempotency.init_api(bp)  # after _authenticate: a key is the user's


def language() -> str:
    """The language of the API's messages: ?lang=en or vi (the default)."""
    return i18n.language(request.args.get("lang"))


@bp.get("/openapi.json", endpoint="openapi")
def openapi_document():
    """The OpenAPI 3.1 description of this API (the module `openapi` holds it and the bodies' schemas)."""
    from .openapi import document

    return jsonify(document())


@bp.errorhandler(FormInvalid)
def _form(failure: FormInvalid):
    return error(422, failure.code, failure.text(language()), fields=failure.messages(language()))


@bp.errorhandler(EngineError)
def _engine(failure: EngineError):
    note_fault(failure, status_of(failure))
    body, status = error(status_of(failure), failure.code, failure.text(language()), **details_of(failure))
    return body, status, headers_of(failure)


def init_app(app) -> None:
    """Register the routes; every error under /api/ is JSON of one shape, Flask's 404 and 405 included."""
    for module in area_modules():  # importing an area module registers its routes on bp
        importlib.import_module(module)

    app.register_blueprint(bp)

    @app.errorhandler(HTTPException)
    def _http(failure):
        return http_error(failure)


def area_modules() -> list[str]:
    """The modules of this package that hold routes (every one but the OpenAPI document), by name."""
    return [f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__) if m.name != "openapi"]


def ctx():
    """The engine context of this app."""
    return current_app.extensions["engine"]


def forbid_unless(allowed: bool, key: str) -> None:
    """Refuse (403, saying why: catalog key "error.<key>") when the access question said no."""
    if not allowed:
        raise Forbidden(key)


def body_matching(schema: dict, optional: bool = False) -> dict:
    """The request's JSON body, checked as it is against its schema in the OpenAPI document (openapi.py):
    415 when it is not JSON, 422 naming each field that does not fit; `optional`: no body at all is {}."""
    if optional and not request.get_data(cache=True):
        return {}
    if not request.is_json:
        raise UnsupportedMediaType()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("body_not_object")
    forms.check_json(schema, body, language())
    return body


def error(status: int, code: str, message: str, **extra):
    """The one error shape of the API."""
    return jsonify({"error": {"code": code, "message": message, **extra}}), status


def to_json(value):
    """Read models (dataclasses) as JSON: dates as ISO text, enums as their values."""
    if dataclasses.is_dataclass(value):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
