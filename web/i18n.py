"""The language of each request: Vietnamese by default, English on request (?lang=en, remembered in a
cookie); and what templates use to show text in it. The texts are in the one catalog of the product
(engine/core/messages, read by engine.core.i18n); nothing here holds a text of its own."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, g, request

from engine.core import i18n
from engine.core.errors import InvalidInput
from engine.worktime import periods

_ISO_SHAPE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")

LANGUAGES = i18n.LANGUAGES
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def parse_date(text: str | None, field: str) -> date:
    """A day typed as dd/mm/yyyy (as Vietnamese users write it) or yyyy-mm-dd (a date input)."""
    value = (text or "").strip()
    try:
        if "/" in value:
            day, month, year = value.split("/")
            return date(int(year), int(month), int(day))
        return date.fromisoformat(value)
    except (ValueError, OverflowError):  # OverflowError: a year no date holds (1/1/99999999999999999999)
        raise InvalidInput("date_invalid", field=field) from None


def parse_datetime(text: str | None, field: str) -> datetime:
    """An instant typed as "dd/mm/yyyy HH:MM" (the time may be left out: 00:00), or ISO (older links); naive,
    in Vietnam's time as people type it."""
    value = (text or "").strip()
    if "/" not in value:
        try:
            return datetime.fromisoformat(value).replace(tzinfo=None)
        except ValueError:
            raise InvalidInput("date_invalid", field=field) from None
    day, _, clock = value.partition(" ")
    try:
        hours, minutes = (int(part) for part in clock.strip().split(":")) if clock.strip() else (0, 0)
        return datetime.combine(parse_date(day, field), time(hours, minutes))
    except (ValueError, TypeError):
        raise InvalidInput("date_invalid", field=field) from None


def init_app(app: Flask) -> None:
    """Pick the language per request and give templates `_()`, the `label` filter and date filters."""

    @app.before_request
    def _pick_language():
        asked = request.args.get("lang")
        g.lang = asked if asked in LANGUAGES else request.cookies.get("lang", "vi")
        if g.lang not in LANGUAGES:
            g.lang = "vi"
        g.remember_lang = asked in LANGUAGES

    @app.after_request
    def _remember_language(response):
        if getattr(g, "remember_lang", False):
            response.set_cookie("lang", g.lang, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

    app.jinja_env.globals["_"] = translate
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["period_label"] = period_label
    app.jinja_env.filters["date"] = format_date
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["due"] = format_due
    app.jinja_env.filters["ddmmyyyy"] = format_iso_date


def current_language() -> str:
    """The request's language ("vi" or "en")."""
    return i18n.language(getattr(g, "lang", None))


def translate(key: str, **params) -> str:
    """The catalog's text `key` in the request's language, parameters filled in (the key itself if unknown)."""
    return i18n.text(key, current_language(), **params)


def error_text(error) -> str:
    """A domain error's message in the request's language."""
    return error.text(current_language())


def label(value, namespace: str | None = None) -> str:
    """A domain value's label in the request's language: an enum member's (its `label_key`), or for a
    plain code the catalog's "<namespace>.<code>"; a value with no label is shown as it is (e.g. a
    progress state stored before states were checked)."""
    if value is None:
        return ""
    if hasattr(value, "label_key"):
        return i18n.label(value, current_language())
    key = f"{namespace}.{value}"
    return i18n.text(key, current_language()) if namespace and i18n.has(key) else str(value)


def period_label(key: str) -> str:
    """A reporting period's label in the request's language, from its key ("2025-Q2": "Quý II/2025")."""
    try:
        return periods.period_from_key(str(key)).caption.text(current_language())
    except ValueError:
        return str(key)


def format_date(value: datetime | None) -> str:
    """dd/mm/yyyy in Vietnam's time zone."""
    return value.astimezone(TZ).strftime("%d/%m/%Y") if value else ""


def format_datetime(value: datetime | None) -> str:
    """dd/mm/yyyy HH:MM in Vietnam's time zone."""
    return value.astimezone(TZ).strftime("%d/%m/%Y %H:%M") if value else ""


def format_due(value: datetime | None) -> str:
    """A deadline as people say it: a deadline ending at 24:00 shows as that day, dd/mm/yyyy."""
    if not value:
        return ""
    local = value.astimezone(TZ)
    if local.hour == local.minute == 0:
        return (local - timedelta(minutes=1)).strftime("%d/%m/%Y")
    return local.strftime("%d/%m/%Y %H:%M")


def format_iso_date(value) -> str:
    """An ISO date from task data as dd/mm/yyyy; anything else as given (a user's own typing)."""
    try:
        return date.fromisoformat(str(value)).strftime("%d/%m/%Y")
    except (TypeError, ValueError):
        # A typed day that does not exist (31/02/2025) was turned to ISO shape before validation refused
        # it: give it back as it was typed, not as 2025-02-31.
        if value is not None and (m := _ISO_SHAPE.fullmatch(str(value))):
            return f"{m[3]}/{m[2]}/{m[1]}"
        return "" if value is None else str(value)
