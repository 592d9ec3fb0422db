"""Which failures belong to the infrastructure rather than to a diagram or a user, decided in one place.

A lost connection, a serialization failure, a deadlock, a lock timeout or SQLite's "database is
locked" says nothing about the instance being stepped: the unit of work rolls back and the caller may
try again (engine/core/db.py turns them into `Unavailable`). They can arrive wrapped: SpiffWorkflow
wraps an exception raised inside a diagram expression (`exception=`, `__context__`), SQLAlchemy wraps
the driver's (`orig`), so the whole chain of causes is searched.
"""
from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator

from sqlalchemy import exc

# PostgreSQL SQLSTATEs worth a retry even when the driver does not class them as operational.
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03", "25P03"}


def causes(error: BaseException) -> Iterator[BaseException]:
    """`error`, then everything it wraps: __cause__, __context__, SpiffWorkflow's `exception`,
    SQLAlchemy's `orig` (each once, so a cycle ends)."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen or not isinstance(current, BaseException):
            continue
        seen.add(id(current))
        yield current
        pending.extend([getattr(current, "orig", None), getattr(current, "exception", None),
                        current.__cause__, current.__context__])


def database_failure(error: BaseException) -> BaseException | None:
    """The database error somewhere in `error`'s chain of causes (the outermost one), else None."""
    return next((cause for cause in causes(error) if _is_database_error(cause)), None)


def is_transient(error: BaseException) -> bool:
    """True when `error`, or anything it wraps, is an infrastructure failure that may pass on a retry."""
    return any(_transient(cause) for cause in causes(error))


def _is_database_error(error: BaseException) -> bool:
    if isinstance(error, (exc.DBAPIError, exc.DisconnectionError, exc.TimeoutError, sqlite3.Error)):
        return True
    psycopg = sys.modules.get("psycopg")  # not loaded: no psycopg error can exist
    return psycopg is not None and isinstance(error, psycopg.Error)


def _transient(error: BaseException) -> bool:
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, (exc.DisconnectionError, exc.TimeoutError)):  # a dead pooled connection; pool exhausted
        return True
    if isinstance(error, sqlite3.OperationalError):
        return "is locked" in str(error)  # "database is locked", "database table is locked"
    psycopg = sys.modules.get("psycopg")
    if psycopg is None or not isinstance(error, psycopg.Error):
        return False
    # Connection lost or closed, admin shutdown, serialization failure, deadlock, lock timeout:
    # all OperationalError in psycopg (the SQLSTATEs cover the rest).
    return (isinstance(error, psycopg.OperationalError) or getattr(error, "sqlstate", None) in _TRANSIENT_SQLSTATES
            or (str(getattr(error, "sqlstate", "") or "").startswith("08")))
