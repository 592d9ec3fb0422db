"""Every database operation on the hot path of an instance, in one place, in SQLAlchemy Core.

A step (start, complete, cancel) reads one row and writes a handful; going through the ORM's
unit of work for that cost more than SpiffWorkflow itself (bench/engine.py). Optimistic
concurrency is the classic `UPDATE ... WHERE row_version = :seen`: zero rows means someone
else wrote first.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, insert, null, select, update
from sqlalchemy.orm import Session

from engine.bpmn.runtime import ArmedTimer, ReadyUserTask
from engine.core.errors import ConcurrentUpdate, DefinitionNotFound, InstanceNotFound
from engine.process import step_waits
from engine.process.tables import DefinitionVersion, InstanceStatus, ProcessInstance, ReadyTask, WaitingTimer

_I = ProcessInstance.__table__
_D = DefinitionVersion.__table__
_READY = ReadyTask.__table__
_TIMERS = WaitingTimer.__table__


@dataclass
class InstanceRow:
    """The columns of an instance that a step needs."""

    id: int
    definition_id: int
    process_id: str
    status: InstanceStatus
    state_json: str | None   # None when read without it (a cached workflow may make it unneeded)
    row_version: int
    error_message: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Snapshot:
    """What the query tables hold for an instance: its ready user tasks and armed timers."""

    ready: tuple[ReadyUserTask, ...] = ()
    timers: tuple[ArmedTimer, ...] = ()


EMPTY = Snapshot()


# Statements are built once, on first use, with bound parameters: building a statement object
# costs more than SQLite takes to run it (measured with cProfile on bench/engine.py).
@cache
def _load_stmt(with_state: bool):
    state = _I.c.state_json if with_state else null().label("state_json")
    return (select(_I.c.id, _I.c.definition_id, _I.c.process_id, _I.c.status, state,
                   _I.c.row_version, _I.c.error_message, _I.c.created_at, _I.c.updated_at)
            .where(_I.c.id == bindparam("instance_id")))


@cache
def _state_stmt():
    return select(_I.c.state_json).where(_I.c.id == bindparam("instance_id"))


@cache
def _update_stmt(columns: frozenset[str]):
    return (update(_I).where(_I.c.id == bindparam("_id"), _I.c.row_version == bindparam("_seen"))
            .values({name: bindparam(name) for name in columns}))


@cache
def _delete_row_stmt(table):
    return delete(table).where(table.c.instance_id == bindparam("instance_id"),
                               table.c.task_id == bindparam("task_id"))


@cache
def _delete_rows_stmt(table):
    return delete(table).where(table.c.instance_id == bindparam("instance_id"),
                               table.c.task_id.in_(bindparam("task_ids", expanding=True)))


def load(session: Session, instance_id: int, with_state: bool = True) -> InstanceRow:
    """Read an instance, or InstanceNotFound; without its state JSON when `with_state` is false."""
    row = session.connection().execute(_load_stmt(with_state), {"instance_id": instance_id}).first()
    if row is None:
        raise InstanceNotFound(instance_id)
    return InstanceRow(**row._mapping)


def state_json(session: Session, instance_id: int) -> str:
    """The saved workflow state of an instance."""
    return session.connection().execute(_state_stmt(), {"instance_id": instance_id}).scalar_one()


def claim(session: Session, instance_id: int) -> bool:
    """Lock an instance row for this transaction; False if another transaction holds it.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent timer workers split the work. SQLite
    serializes writers at BEGIN IMMEDIATE, so the claim always succeeds there.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return True
    stmt = select(_I.c.id).where(_I.c.id == instance_id).with_for_update(skip_locked=True)
    return connection.execute(stmt).scalar() is not None


def has_timer_due(session: Session, instance_id: int, at: datetime) -> bool:
    """Whether the query table holds a timer of this instance due by `at`."""
    stmt = select(_TIMERS.c.id).where(_TIMERS.c.instance_id == instance_id, _TIMERS.c.due_at < at).limit(1)
    return session.connection().execute(stmt).first() is not None


@cache
def _latest_definition_stmt():
    return (select(_D.c.id).where(_D.c.process_id == bindparam("process_id"))
            .order_by(_D.c.version.desc()).limit(1))


def latest_definition_id(session: Session, process_id: str) -> int:
    """The id of the newest deployed version of a process."""
    found = session.connection().execute(_latest_definition_stmt(), {"process_id": process_id}).scalar()
    if found is None:
        raise DefinitionNotFound(process_id)
    return found


def definition(session: Session, definition_id: int) -> tuple[int, str]:
    """(version, spec_json) of a deployed version by id."""
    row = session.connection().execute(
        select(_D.c.version, _D.c.spec_json).where(_D.c.id == definition_id)).one()
    return row.version, row.spec_json


def insert_instance(session: Session, *, definition_id: int, process_id: str, state_json: str,
                    status: InstanceStatus, actor: str, now: datetime, **links: Any) -> int:
    """Create an instance row; return its id. `links`: parent_id, schedule_id, business_key."""
    values = dict(definition_id=definition_id, process_id=process_id, status=status, state_json=state_json,
                  started_by=actor, created_at=now, updated_at=now,
                  ended_at=now if status is InstanceStatus.COMPLETED else None, row_version=1, **links)
    return session.connection().execute(_insert_instance_stmt(frozenset(values)), values).scalar_one()


@cache
def _insert_instance_stmt(columns: frozenset[str]):
    return insert(_I).values({name: bindparam(name) for name in columns}).returning(_I.c.id)


def update_instance(session: Session, row: InstanceRow, *, now: datetime, **values: Any) -> int:
    """Write new values if nobody changed the row since it was read; return the new row_version."""
    if values.get("status") in (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED):
        values.setdefault("ended_at", now)
    values.update(updated_at=now, row_version=row.row_version + 1)
    result = session.connection().execute(_update_stmt(frozenset(values)),
                                          dict(values, _id=row.id, _seen=row.row_version))
    if result.rowcount != 1:
        raise ConcurrentUpdate(row.id)
    return row.row_version + 1


def current_snapshot(session: Session, instance_id: int) -> Snapshot:
    """What the query tables hold for an instance now."""
    connection = session.connection()
    ready = connection.execute(_snapshot_stmt(_READY), {"instance_id": instance_id})
    timers = connection.execute(_snapshot_stmt(_TIMERS), {"instance_id": instance_id})
    return Snapshot(tuple(ReadyUserTask(r.task_id, r.bpmn_id, r.name, r.lane, r.assignee, r.due_at) for r in ready),
                    tuple(ArmedTimer(t.task_id, t.bpmn_id, t.due_at) for t in timers))


@cache
def _snapshot_stmt(table):
    return select(table).where(table.c.instance_id == bindparam("instance_id")).order_by(table.c.id)


def apply_snapshot(session: Session, instance_id: int, before: Snapshot, after: Snapshot,
                   now: datetime, process_id: str | None = None) -> None:
    """Bring the query tables from `before` to `after`, touching only the rows that changed; the tasks'
    waits (`step_waits`, for the heatmap) follow."""
    _apply(session, _READY, instance_id, before.ready, after.ready, {"created_at": now})
    _apply(session, _TIMERS, instance_id, before.timers, after.timers, {})
    if before.ready or after.ready:
        step_waits.follow(session, instance_id, process_id, before.ready, after.ready, now)


def clear_snapshot(session: Session, instance_id: int, now: datetime | None = None,
                   ended: str = step_waits.INTERRUPTED) -> None:
    """Remove every ready task and timer row of an instance (it ended or failed); its open waits end at
    `now` as `ended` (cancelled, or interrupted by a failure)."""
    connection = session.connection()
    if now is not None:
        step_waits.end_all(session, instance_id, now, ended)
    connection.execute(delete(_READY).where(_READY.c.instance_id == instance_id))
    connection.execute(delete(_TIMERS).where(_TIMERS.c.instance_id == instance_id))


def _apply(session: Session, table, instance_id: int, before, after, on_insert: dict) -> None:
    old = {item.task_id: item for item in before}
    new = {item.task_id: item for item in after}
    connection = session.connection()
    gone = [task_id for task_id in old if task_id not in new]
    # A step usually ends one task and readies one: the one-row forms of DELETE and INSERT skip
    # the expanding IN and executemany paths, which cost more than SQLite takes to run them.
    if len(gone) == 1:
        connection.execute(_delete_row_stmt(table), {"instance_id": instance_id, "task_id": gone[0]})
    elif gone:
        connection.execute(_delete_rows_stmt(table), {"instance_id": instance_id, "task_ids": gone})
    added = [dict(asdict(item), instance_id=instance_id, **on_insert)
             for task_id, item in new.items() if task_id not in old]
    if added:
        connection.execute(_insert_rows_stmt(table), added[0] if len(added) == 1 else added)
    for task_id, item in new.items():
        if task_id in old and old[task_id] != item:
            # A re-armed timer or a re-evaluated due date or assignee: update in place.
            connection.execute(update(table).where(table.c.instance_id == instance_id,
                                                   table.c.task_id == task_id).values(**asdict(item)))


@cache
def _insert_rows_stmt(table):
    # inline(): the new rows' ids are not needed, so PostgreSQL is not asked to return them.
    return insert(table).inline()
