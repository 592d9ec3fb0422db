"""The start data of a dry run: fields from the process's declared start data, prefilled with samples.

Each process declares the data it is started with, field -> type (`ctx.contract.start_data`, from
engine/regulation/process_inputs.py). The start page offers one input per declared field, prefilled
with a plausible value (a real unit of the province for a unit, the run's date for dates), and a JSON
box for anything else; `start_data_from_form` turns what was posted back into typed data, naming each
field that does not parse.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from engine.core.errors import FieldErrors
from engine.core.i18n import Message
from engine.regulation.organisation import Unit, UnitKind
from engine.worktime.calendar import TZ

EXTRA = "extra_json"  # the name of the JSON box for data no declared field holds
_SAMPLES = {"document": "01/QĐ-UBND (chạy thử)", "content": "Nhiệm vụ chạy thử quy trình",
            "tracked_task_id": 1, "feedback_id": 1, "has_deadline": True}


@dataclass(frozen=True)
class StartField:
    """One input of the start form: the field, its declared type, the text it is prefilled with, and
    for a unit the (code, name) choices."""

    name: str
    kind: str
    value: str
    options: tuple[tuple[str, str], ...] | None = None


def declared(ctx, process_id: str) -> dict[str, str]:
    """The process's declared start data, field -> type (empty when it declares none)."""
    contract = getattr(ctx, "contract", None)
    return dict(getattr(contract, "start_data", {}).get(process_id, {}))


def start_fields(ctx, process_id: str, at: datetime) -> list[StartField]:
    """The start form's inputs, prefilled for a run whose clock starts `at` (units read from the real database)."""
    fields = declared(ctx, process_id)
    known = units(ctx) if "unit" in fields.values() else []
    sample = sample_start_data(fields, at, known)
    choices = tuple((code, name) for code, name, _ in known)
    return [StartField(name, kind, _as_text(kind, sample.get(name)), choices if kind == "unit" else None)
            for name, kind in fields.items()]


def sample_start_data(fields: Mapping[str, str], at: datetime,
                      units: list[tuple[str, str, UnitKind]]) -> dict[str, Any]:
    """A plausible value for each declared field (`units`: the province's (code, name, kind))."""
    local = at.astimezone(TZ)
    department = next((code for code, _, kind in units if kind is UnitKind.DEPARTMENT), None)
    office = next((code for code, _, kind in units if kind is UnitKind.PROVINCIAL_OFFICE), None)
    values: dict[str, Any] = {}
    for name, kind in fields.items():
        if name in _SAMPLES:
            values[name] = _SAMPLES[name]
        elif kind == "unit":
            values[name] = (office if name.startswith("follower") else department) or (units[0][0] if units else "")
        elif kind == "date":
            values[name] = (local.date() + timedelta(days=30)).isoformat()
        elif kind == "datetime":
            values[name] = local.isoformat()
        elif kind in ("integer", "number"):
            values[name] = 1
        elif kind == "boolean":
            values[name] = True
        elif kind == "array":
            values[name] = []
        elif kind == "object":
            values[name] = {}
        else:
            values[name] = ""
    return values


def start_data_from_form(ctx, process_id: str, raw: Mapping[str, str]) -> dict[str, Any]:
    """Typed start data from the start form (strings), or FieldErrors naming each field that does not parse."""
    data: dict[str, Any] = {}
    errors: dict[str, Message] = {}
    for name, kind in declared(ctx, process_id).items():
        text = str(raw.get(name) or "").strip()
        try:
            value = _parse(kind, text)
        except (ValueError, TypeError):
            errors[name] = Message("error.dry_run_value", {"type": kind})
            continue
        if value is not None:
            data[name] = value
    extra = str(raw.get(EXTRA) or "").strip()
    if extra:
        try:
            more = json.loads(extra)
            if not isinstance(more, dict):
                raise ValueError
            data.update(more)
        except ValueError:
            errors[EXTRA] = Message("error.dry_run_json_object")
    if errors:
        raise FieldErrors(errors)
    return data


def _parse(kind: str, text: str) -> Any:
    if kind == "boolean":
        return text.lower() in ("on", "true", "1", "yes")
    if not text:
        return None
    if kind == "integer":
        return int(text)
    if kind == "number":
        return float(text.replace(",", "."))
    if kind == "date":
        if "/" in text:
            day, month, year = text.split("/")
            return date(int(year), int(month), int(day)).isoformat()
        return date.fromisoformat(text).isoformat()
    if kind == "datetime":
        moment = datetime.fromisoformat(text)
        return (moment if moment.tzinfo else moment.replace(tzinfo=TZ)).isoformat()
    if kind in ("array", "object"):
        value = json.loads(text)
        if not isinstance(value, list if kind == "array" else dict):
            raise ValueError(kind)
        return value
    return text


def _as_text(kind: str, value: Any) -> str:
    if kind in ("array", "object"):
        return json.dumps(value if value is not None else ([] if kind == "array" else {}), ensure_ascii=False)
    if kind == "boolean":
        return "true" if value else ""
    return "" if value is None else str(value)


def units(ctx) -> list[tuple[str, str, UnitKind]]:
    """The province's active units (code, name, kind), read from the real database without writing."""
    with ctx.unit_of_work(readonly=True) as session:
        return [tuple(row) for row in session.execute(
            select(Unit.code, Unit.name, Unit.kind).where(Unit.active.is_(True)).order_by(Unit.id))]
