"""The dump file of a whole database (docs/operations.md): its layout, version and value encoding.

A dump is a zip archive:

    manifest.json          format name and version, Alembic revision, tables in foreign-key order with
                           their columns, kinds and row counts, the attachment files
    tables/<table>.jsonl   one JSON array per row, values in the manifest's column order, rows by primary key
    attachments/<sha256>   the bytes of each attached file (they live on disk, not in the database)

The tables and their columns come from the SQLAlchemy metadata (engine/app/schema.py), so a table added
by a later migration is dumped without touching this code. Values are JSON; the kinds that JSON lacks are
written as text and read back by the manifest's kind of the column.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Enum, LargeBinary, Table, Text, cast, null
from sqlalchemy.types import TypeDecorator

FORMAT = "engine-dump"
# Raise it when the layout or an encoding changes; an importer refuses a version it does not know.
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
BATCH = 1000  # rows per INSERT and per fetch: memory stays flat whatever the size of the database
CHUNK = 1024 * 1024  # bytes of an attached file copied at a time


class DumpRefused(Exception):
    """The dump cannot be imported here (wrong target, other revision, damaged file); nothing was written."""


@dataclass
class DumpReport:
    """What an export wrote or an import restored: rows per table, attached files, files missing on disk."""

    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    missing_files: list[str] = field(default_factory=list)


def table_file(name: str) -> str:
    """The archive member holding a table's rows."""
    return f"tables/{name}.jsonl"


def attachment_file(digest: str) -> str:
    """The archive member holding an attachment's bytes."""
    return f"attachments/{digest}"


def column_kind(column) -> str:
    """How a column's values are written: datetime, date, bytes, json, enum, bool or plain."""
    kind = column.type
    if isinstance(kind, TypeDecorator):  # UTCDateTime, by what it stores
        kind = kind.impl_instance
    for sql_type, name in ((DateTime, "datetime"), (Date, "date"), (LargeBinary, "bytes"), (JSON, "json"),
                           (Enum, "enum"), (Boolean, "bool")):
        if isinstance(kind, sql_type):
            return name
    return "plain"


def selected(table: Table) -> list:
    """What an export selects of a table: its columns, JSON ones as their stored text.

    Read through the JSON type, a SQL NULL and a JSON null both come back as None; the text tells them apart.
    """
    return [cast(column, Text).label(column.name) if column_kind(column) == "json" else column
            for column in table.columns]


def encoders(table: Table) -> list:
    """One function per column turning a value read by `selected` (never None) into a JSON value."""
    return [_ENCODE[column_kind(column)] for column in table.columns]


def decoders(table: Table) -> list:
    """One function per column turning a dumped JSON value back into what SQLAlchemy binds."""
    result = []
    for column in table.columns:
        kind = column_kind(column)
        if kind == "json":
            result.append(_decode_json)
        elif kind == "enum" and column.type.enum_class is not None:
            result.append(_or_none(column.type.enum_class))
        else:
            result.append(_or_none(_DECODE[kind]))
    return result


def encode_row(row, functions: list) -> bytes:
    """A row as one JSON line."""
    values = [None if value is None else encode(value) for value, encode in zip(row, functions, strict=True)]
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def decode_row(line: bytes, names: list[str], functions: list) -> dict[str, Any]:
    """A JSON line back into a row to insert; DumpRefused if it is not one."""
    try:
        values = json.loads(line)
    except ValueError as error:
        raise DumpRefused(f"damaged row (not JSON): {error}") from None
    if not isinstance(values, list) or len(values) != len(names):
        raise DumpRefused(f"damaged row: expected {len(names)} values")
    try:
        return {name: decode(value) for name, value, decode in zip(names, values, functions, strict=True)}
    except (ValueError, TypeError, IndexError) as error:
        raise DumpRefused(f"damaged value: {error}") from None


def _or_none(decode):
    return lambda value: None if value is None else decode(value)


def _decode_json(value):
    # SQL NULL is null; a JSON value v is [v], so a JSON null is [null] (JSON.NULL binds it as such).
    if value is None:
        return null()
    if not isinstance(value, list) or len(value) != 1:
        raise ValueError("a JSON column's value is not a one-element array")
    return JSON.NULL if value[0] is None else value[0]


def _same(value):
    return value


def _encode_instant(value: datetime) -> str:
    return value.isoformat()


_ENCODE = {"datetime": _encode_instant, "date": date.isoformat,
           "bytes": lambda value: base64.b64encode(value).decode("ascii"),
           "json": lambda text: [json.loads(text)], "enum": lambda value: getattr(value, "value", value),
           "bool": bool, "plain": _same}
_DECODE = {"datetime": datetime.fromisoformat, "date": date.fromisoformat,
           "bytes": lambda text: base64.b64decode(text, validate=True), "enum": _same, "bool": bool, "plain": _same}
