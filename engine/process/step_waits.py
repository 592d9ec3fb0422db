"""How long each user task waited at its step: the history the process heatmap reads (docs/reports.md).

The audit log records who completed a task and when (`complete_task`), but not when the task became ready,
whom it was for nor its due date; `ready_tasks` knows those only while the task waits. So the step that
readies a task writes a row here (ready_at, assignee, due_at) and the step that ends it stamps `done_at`,
in the same transaction as `ready_tasks` (convention 3 of docs/architecture.md), from the same snapshots.

`ended` says how the wait ended: done (completed, or left by a boundary event or the instance's end),
cancelled (the instance was cancelled) or interrupted (the instance failed; a retry readies it again as a
new row). Rows are never deleted; a re-evaluated due date or assignee updates the open row.
"""
from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import BigInteger, Index, Integer, String, bindparam, insert, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.core.tables import Base, UTCDateTime

DONE, CANCELLED, INTERRUPTED = "done", "cancelled", "interrupted"


def epoch(at: datetime | None) -> int | None:
    """An instant as whole seconds since 1970-01-01 00:00 UTC."""
    return None if at is None else int(at.timestamp())


class StepWait(Base):
    """One user task's wait at its step: ready, for whom, due when, ended when and how."""

    __tablename__ = "step_waits"
    # The heatmap reads a process's waits ended in a window, or still open, by (process_id, done_at);
    # a step ends its task's open row by (instance_id, task_id).
    # ... and counts them from this index alone (it holds every column the counting reads), so a quarter's
    # 75,000 waits at 200,000 tasks are read without visiting the table (bench/dashboard.py).
    __table_args__ = (Index("ix_step_waits_process_done", "process_id", "done_at", "ended", "bpmn_id", "assignee",
                            "ready_epoch", "done_epoch", "due_at"),
                      Index("ix_step_waits_instance_task", "instance_id", "task_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(Integer)
    process_id: Mapped[str] = mapped_column(String(200))
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(200))
    assignee: Mapped[str | None] = mapped_column(String(200))
    ready_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended: Mapped[str | None] = mapped_column(String(20))
    # The same two instants as whole seconds since 1970 (UTC), so the database counts days and hours with
    # integer arithmetic, alike on SQLite and PostgreSQL and without a date function per row.
    ready_epoch: Mapped[int] = mapped_column(BigInteger, default=lambda c: epoch(
        c.get_current_parameters()["ready_at"]))
    done_epoch: Mapped[int | None] = mapped_column(BigInteger, default=lambda c: epoch(
        c.get_current_parameters().get("done_at")))


_W = StepWait.__table__


def follow(session: Session, instance_id: int, process_id: str | None, before, after, now: datetime) -> None:
    """Open a row for each task `after` readies, end the rows of the tasks `before` had and `after` has not,
    and carry a changed due date or assignee to the open row (`before`/`after`: ReadyUserTask tuples)."""
    old = {task.task_id: task for task in before}
    new = {task.task_id: task for task in after}
    connection = session.connection()
    for task_id in old.keys() - new.keys():
        connection.execute(_end_stmt(), {"i": instance_id, "t": task_id, "at": now, "s": epoch(now), "how": DONE})
    added = [{"instance_id": instance_id, "process_id": process_id or "", "task_id": t.task_id, "bpmn_id": t.bpmn_id,
              "assignee": t.assignee, "ready_at": now, "ready_epoch": epoch(now), "due_at": t.due_at}
             for t in after if t.task_id not in old]
    if added:
        connection.execute(_insert_stmt(), added[0] if len(added) == 1 else added)
    for task_id, task in new.items():
        if task_id in old and (old[task_id].due_at, old[task_id].assignee) != (task.due_at, task.assignee):
            connection.execute(update(_W).where(_W.c.instance_id == instance_id, _W.c.task_id == task_id,
                                                _W.c.done_at.is_(None)).values(due_at=task.due_at,
                                                                               assignee=task.assignee))


def end_all(session: Session, instance_id: int, now: datetime, how: str) -> None:
    """End every open wait of an instance (it was cancelled or failed)."""
    session.connection().execute(update(_W).where(_W.c.instance_id == instance_id, _W.c.done_at.is_(None))
                                 .values(done_at=now, done_epoch=epoch(now), ended=how))


@cache
def _end_stmt():
    return (update(_W).where(_W.c.instance_id == bindparam("i"), _W.c.task_id == bindparam("t"),
                             _W.c.done_at.is_(None)).values(done_at=bindparam("at"), done_epoch=bindparam("s"),
                                                            ended=bindparam("how")))


@cache
def _insert_stmt():
    return insert(_W).inline()
