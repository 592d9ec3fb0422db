"""The declarative base and the column types every package's tables share."""
from __future__ import annotations

import enum
from datetime import UTC

from sqlalchemy import DateTime, Enum
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """An instant stored in UTC and always read back as an aware datetime.

    SQLite keeps no time zone and returns naive values; without this, comparing a stored due
    time with "now" would fail on SQLite and work on PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table."""


def enum_column(cls: type[enum.Enum], name: str, length: int = 20) -> Enum:
    """A portable enum column type storing the members' values."""
    # Store the value ("running"), not the member name, and as a plain string column so that
    # adding a status later needs no ALTER TYPE on PostgreSQL.
    return Enum(cls, name=name, native_enum=False, length=length,
                values_callable=lambda members: [m.value for m in members])
