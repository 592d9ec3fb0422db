"""Database connections and the transaction scope every use case runs in."""
from __future__ import annotations

import contextlib
import contextvars
import functools
import random
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from engine.core import idempotency
from engine.core.errors import Unavailable
from engine.core.transient import is_transient


class Database:
    """One database: its engine and the sessions for writing and for reading."""

    def __init__(self, url: str):
        self.url = url
        self.engine = _connect(url)
        # expire_on_commit=False: read models are built from rows after the commit.
        self._write = sessionmaker(self.engine, expire_on_commit=False)
        self._read = sessionmaker(self.engine.execution_options(readonly=True), expire_on_commit=False)

    @contextlib.contextmanager
    def transaction(self, readonly: bool = False) -> Iterator[Session]:
        """One unit of work: commit when the block succeeds, roll back on any exception.

        A failure of the infrastructure (engine/core/transient.py), even one wrapped by a diagram
        expression, comes out as `Unavailable`: nothing of the block was saved, unless the commit
        itself failed (then `safe_to_retry` is False).
        """
        session = (self._read if readonly else self._write)()
        claim = None if readonly else idempotency.pending()
        committing = False
        try:
            with session.begin():
                if claim is not None:  # the write of a request sent with an Idempotency-Key
                    idempotency.take(session, claim)
                yield session
                committing = True
            _commits.set(_commits.get() + 1)
            if claim is not None:
                claim.taken = True
            for callback in session.info.pop(_AFTER_COMMIT, ()):
                callback()
        except Unavailable:
            raise
        except Exception as error:
            if not is_transient(error):
                raise
            raise Unavailable(safe_to_retry=readonly or not committing) from error
        finally:
            session.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


_AFTER_COMMIT = "after_commit"
_commits: contextvars.ContextVar[int] = contextvars.ContextVar("commits", default=0)

# Pauses before the second and the third attempt of a use case (each stretched by a random 50-150 %).
RETRY_PAUSES = (0.05, 0.3)


def retried(use_case):
    """Run a use case again from scratch when the database failed for a moment, at most twice more.

    Only when that is safe: the failure left nothing committed (not even an earlier transaction of
    the same call) and did not hit a commit. Otherwise, or on the last attempt, `Unavailable` goes up.
    """

    @functools.wraps(use_case)
    def run(*args, **kwargs):
        pauses = iter(RETRY_PAUSES)
        while True:
            committed = _commits.get()
            try:
                return use_case(*args, **kwargs)
            except Unavailable as error:
                pause = next(pauses, None)
                if pause is None or not error.safe_to_retry or _commits.get() != committed:
                    raise
            time.sleep(pause * random.uniform(0.5, 1.5))

    return run


def after_commit(session: Session, callback) -> None:
    """Run `callback` once the session's transaction has committed; never if it rolls back."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def ensure_sqlite_folder(url: str) -> None:
    """Create the folder of a SQLite file database (a fresh clone has no var/ yet)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def _connect(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url)
        event.listen(engine, "checkout", _ping_if_idle)
        event.listen(engine, "checkin", _note_use)
        return engine
    ensure_sqlite_folder(url)
    engine = create_engine(url, connect_args={"timeout": 30})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


# A pooled connection is checked before use only when it sat idle for a while: a server restart
# or an idle-session timeout shows up there, while a connection used a moment ago is alive. This
# spares one round trip per transaction that pool_pre_ping would spend (bench/engine.py).
IDLE_PING_SECONDS = 10.0


def _ping_if_idle(dbapi_connection, record, _proxy) -> None:
    if time.monotonic() - record.info.get("last_used", 0.0) < IDLE_PING_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
    except Exception as error:  # noqa: BLE001 - any failure means this connection is gone
        # The pool discards the connection and checks out a fresh one (it retries this event).
        raise exc.DisconnectionError(str(error)) from error
    if getattr(dbapi_connection, "info", None) is not None and dbapi_connection.info.transaction_status:
        dbapi_connection.rollback()  # the ping opened a transaction (the driver is not in autocommit)


def _note_use(_dbapi_connection, record) -> None:
    record.info["last_used"] = time.monotonic()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin); WAL lets readers work while a
    # writer commits; foreign keys are off by default in SQLite.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A deferred transaction that reads and then writes cannot wait for another writer: it
    # fails with "database is locked". Writers take the lock at BEGIN and queue on the busy
    # timeout instead; readers stay deferred so they never wait.
    readonly = conn.get_execution_options().get("readonly", False)
    conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")
