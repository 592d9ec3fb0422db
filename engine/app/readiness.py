"""Is this installation ready to serve? The three things `/ready` reports (docs/operations.md).

- the database answers;
- its schema is at the newest migration this code ships (after an upgrade of the code, until
  `python -m engine migrate` has run, the pages would fail on missing columns);
- a timer worker finished a pass recently (without one, nobody is reminded and no deadline is flagged).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from alembic.runtime.migration import MigrationContext
from sqlalchemy import text as sql

from engine.app.migrations import head_revision
from engine.core.errors import Unavailable
from engine.process import heartbeats
from engine.process.context import EngineContext


@dataclass(frozen=True)
class Readiness:
    """Each check's outcome, and what it saw."""

    database: bool
    schema_revision: str | None
    code_revision: str
    workers: int
    last_beat: str | None

    @property
    def migrations_current(self) -> bool:
        return self.schema_revision == self.code_revision

    @property
    def ready(self) -> bool:
        return self.database and self.migrations_current and self.workers > 0

    def as_dict(self) -> dict:
        return {"ready": self.ready, "database": self.database, "migrations_current": self.migrations_current,
                "schema_revision": self.schema_revision, "code_revision": self.code_revision,
                "timer_workers": self.workers, "last_heartbeat": self.last_beat}


def check(ctx: EngineContext) -> Readiness:
    """Run the three checks; a database that does not answer fails them all without raising."""
    code = head_revision()
    try:
        with ctx.db.engine.connect() as connection:
            connection.execute(sql("SELECT 1"))
            schema = MigrationContext.configure(connection).get_current_revision()
        beats = heartbeats.read(ctx, ctx.now() - timedelta(seconds=ctx.config.worker_stale_seconds))
    except (Unavailable, Exception):  # noqa: BLE001 - any failure to read means "not ready", said in the reply
        return Readiness(database=False, schema_revision=None, code_revision=code, workers=0, last_beat=None)
    return Readiness(database=True, schema_revision=schema, code_revision=code, workers=beats.fresh_workers,
                     last_beat=beats.latest.isoformat() if beats.latest else None)
