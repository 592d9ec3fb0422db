"""What a request's input must be before any view reads it, in one place for pages and the API alike.

- Ids: a route names an id as `<id:name>`, a positive integer that fits the databases' integer
  columns (PostgreSQL's `integer` is the narrower: 2^31-1); anything else matches no route (404).
  An id typed in a form or sent in a JSON body goes through `parse_id` (InvalidInput when it is none).
- Numbers in a query string (paging, limits): `int_arg`, kept within range instead of failing.
- NUL characters: PostgreSQL cannot store or compare text holding them, so a request that carries one
  anywhere (path, query string, form field or file name, JSON body) is refused (422) before any view.
"""
from __future__ import annotations

import re

from flask import Flask, jsonify, render_template, request
from werkzeug.routing import IntegerConverter

from engine.core import i18n
from engine.core.errors import InvalidInput

from .i18n import current_language

ID_MAX = 2**31 - 1  # the largest id an `integer` column holds on PostgreSQL (SQLite's hold more)
_DIGITS = re.compile(r"[0-9]{1,40}")  # ASCII digits only: int() also takes "١", str.isdigit() "²"
_INTEGER = re.compile(r"-?[0-9]{1,40}")


class IdConverter(IntegerConverter):
    """`<id:name>`: a record's id, 1 .. ID_MAX; any other number matches no route (404, not a 500)."""

    def __init__(self, url_map) -> None:
        super().__init__(url_map, min=1, max=ID_MAX)


def parse_id(value, field: str) -> int:
    """An id given in a form (text) or a JSON body (an integer): 1 .. ID_MAX, else InvalidInput naming the field."""
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ID_MAX:
        raise InvalidInput("id_invalid", field=field)
    return value


def parse_int(value, field: str) -> int | None:
    """An integer typed in a form (e.g. a hidden row_version): None when empty, InvalidInput when not a number."""
    text = (value or "").strip()
    if not text:
        return None
    if not _INTEGER.fullmatch(text):
        raise InvalidInput("integer_invalid", field=field)
    return int(text)


def int_arg(name: str, default: int, low: int = 1, high: int = ID_MAX) -> int:
    """A query-string integer (a page number, a page size, a limit): the default when it is not a
    number, else kept within [low, high] (a page far past the end is simply empty)."""
    text = request.args.get(name, "").strip()
    if not _INTEGER.fullmatch(text):
        return default
    return min(max(int(text), low), high)


def ids_in(values) -> list[int]:
    """The ids among form values (the notification ticks); anything else is ignored."""
    return [int(v) for v in values if _DIGITS.fullmatch(v) and 1 <= int(v) <= ID_MAX]


def init_app(app: Flask) -> None:
    """Register `<id:...>` and refuse requests that carry a NUL character."""
    app.url_map.converters["id"] = IdConverter

    @app.before_request
    def _refuse_nul():
        if not _carries_nul():
            return None
        message = i18n.text("error.text_has_nul", _language())
        if request.path.startswith("/api/"):
            return jsonify({"error": {"code": InvalidInput.code, "message": message}}), 422
        return render_template("error.html", code=InvalidInput.code, message=message), 422


def _language() -> str:
    return i18n.language(request.args.get("lang")) if request.path.startswith("/api/") else current_language()


def _carries_nul() -> bool:
    if "\x00" in request.path or any(_has_nul(k) or _has_nul(v) for k, v in request.args.items(multi=True)):
        return True
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        if request.is_json:
            return _has_nul(request.get_json(silent=True))
        texts = [*request.form.keys(), *(v for _, v in request.form.items(multi=True))]
        texts += [f.filename or "" for _, f in request.files.items(multi=True)]
        return any("\x00" in (text or "") for text in texts)  # a multipart part may have no name (None)
    return False


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False
