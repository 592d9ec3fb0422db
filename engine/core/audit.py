"""The append-only audit log: who did what, when, to which instance and task."""
from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.core.tables import Base, UTCDateTime

_MAX_VALUE_CHARS = 200


class AuditEntry(Base):
    """Append-only record of who did what to which instance and task."""

    __tablename__ = "audit_log"
    # The audit page reads newest first by key (at, id), whole or for one person or action
    # (engine/read/audit_queries.py); (at, id) also serves what an index on `at` alone did.
    __table_args__ = (Index("ix_audit_log_at_id", "at", "id"), Index("ix_audit_log_actor_at_id", "actor", "at", "id"),
                      Index("ix_audit_log_action_at_id", "action", "at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    bpmn_id: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[dict] = mapped_column(JSON, default=dict)


def record(session: Session, *, at: datetime, actor: str, action: str, instance_id: int | None = None,
           task_id: str | None = None, bpmn_id: str | None = None,
           summary: dict[str, Any] | None = None) -> None:
    """Append one entry to the audit log (in the caller's transaction)."""
    session.connection().execute(_insert(), {
        "at": at, "actor": actor, "action": action, "instance_id": instance_id, "task_id": task_id,
        "bpmn_id": bpmn_id, "summary": summary or {}})


@cache
def _insert():
    # Built once: the audit entry is written on every step (see bench/engine.py).
    return insert(AuditEntry.__table__)


def summarize(data: dict[str, Any]) -> dict[str, Any]:
    """A short, JSON-safe picture of submitted data: long values are cut, not dropped."""
    return {str(key): _short(value) for key, value in data.items()}


def entries_for(session: Session, instance_id: int) -> list[AuditEntry]:
    """The audit entries of one instance, oldest first."""
    stmt = select(AuditEntry).where(AuditEntry.instance_id == instance_id).order_by(AuditEntry.id)
    return list(session.scalars(stmt))


def _short(value: Any) -> Any:
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[:_MAX_VALUE_CHARS] + "…"
