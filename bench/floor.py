"""The least any persistent engine must add to raw SpiffWorkflow, measured on this machine.

Per persisted step: serialize the workflow state (spec-free, as the engine does) and write it,
with one audit row, in one durable transaction through the bare driver, with no read at all.
On PostgreSQL the writes and the COMMIT go in one pipeline: one round trip plus the WAL flush.
No query tables, no notifications, no version check, no ORM: a lower bound, not an engine.
bench/engine.py prints it beside the engine's figures so that a ratio target can be judged
against what the hardware allows.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

STATE_TABLE = "bench_floor_state"
AUDIT_TABLE = "bench_floor_audit"


class SqliteFloor:
    """Durable step writes on a SQLite file, with the engine's own pragmas (WAL, NORMAL)."""

    def __init__(self, folder: str):
        self.db = sqlite3.connect(str(Path(folder) / "floor.db"), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(f"CREATE TABLE {STATE_TABLE} (id INTEGER PRIMARY KEY, version INTEGER, state TEXT)")
        self.db.execute(f"CREATE TABLE {AUDIT_TABLE} (id INTEGER PRIMARY KEY, action TEXT, summary TEXT)")
        self.db.execute(f"INSERT INTO {STATE_TABLE} VALUES (1, 0, '')")

    def write(self, state: str) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute(f"UPDATE {STATE_TABLE} SET state = ?, version = version + 1 WHERE id = 1", (state,))
        self.db.execute(f"INSERT INTO {AUDIT_TABLE} (action, summary) VALUES (?, ?)", ("step", "{}"))
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()


class PostgresFloor:
    """Durable step writes on PostgreSQL: UPDATE, INSERT and COMMIT pipelined in one round trip."""

    def __init__(self, sqlalchemy_url: str):
        import psycopg

        url = make_url(sqlalchemy_url).set(drivername="postgresql")
        self.db = psycopg.connect(url.render_as_string(hide_password=False))
        self.db.execute(f"DROP TABLE IF EXISTS {STATE_TABLE}, {AUDIT_TABLE}")
        self.db.execute(f"CREATE TABLE {STATE_TABLE} (id INTEGER PRIMARY KEY, version INTEGER, state TEXT)")
        self.db.execute(f"CREATE TABLE {AUDIT_TABLE} (id SERIAL PRIMARY KEY, action TEXT, summary TEXT)")
        self.db.execute(f"INSERT INTO {STATE_TABLE} VALUES (1, 0, '')")
        self.db.commit()

    def write(self, state: str) -> None:
        with self.db.pipeline():
            self.db.execute(f"UPDATE {STATE_TABLE} SET state = %s, version = version + 1 WHERE id = 1", (state,))
            self.db.execute(f"INSERT INTO {AUDIT_TABLE} (action, summary) VALUES (%s, %s)", ("step", "{}"))
            self.db.commit()

    def close(self) -> None:
        self.db.execute(f"DROP TABLE {STATE_TABLE}, {AUDIT_TABLE}")
        self.db.commit()
        self.db.close()
