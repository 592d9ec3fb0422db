"""Tables of the process layer: deployed versions, instances, their query tables and schedules.

Every change goes through an Alembic migration in `migrations/`."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.core.tables import Base, UTCDateTime, enum_column


class InstanceStatus(str, enum.Enum):
    """Where a process instance stands."""

    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ERROR = "error"
    # Held by an admin (engine/process/suspension.py): its timers do not fire and its tasks cannot be
    # completed until it is resumed; its ready tasks and waiting timers stay listed.
    SUSPENDED = "suspended"

    @property
    def is_active(self) -> bool:
        """True while the instance can still advance."""
        return self is InstanceStatus.RUNNING

    @property
    def label_key(self) -> str:
        """Its label's key in the catalog."""
        return f"instance_status.{self.value}"


class DefinitionVersion(Base):
    """One deployed content of one process: immutable once written."""

    __tablename__ = "definition_versions"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(500))
    content_hash: Mapped[str] = mapped_column(String(64))
    source_file: Mapped[str] = mapped_column(String(500))
    bpmn_xml: Mapped[bytes] = mapped_column(LargeBinary)
    # The SpiffWorkflow spec, serialized once here instead of inside every instance.
    spec_json: Mapped[str] = mapped_column(Text)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deployed_by: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text, default="")  # why the analyst deployed it


class ProcessDraft(Base):
    """An analyst's unsaved work on one process: its diagram and forms, not yet a version.

    One draft per process, shared by the analysts (they see who saved it last); deploying or
    discarding it removes it. `base_version` is the version it started from, to warn of a newer one.
    """

    __tablename__ = "process_drafts"

    process_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    bpmn_xml: Mapped[bytes] = mapped_column(LargeBinary)
    forms: Mapped[dict] = mapped_column(JSON, default=dict)  # form file name -> JSON Schema text
    base_version: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[str] = mapped_column(String(200))


class ProcessInstance(Base):
    """A running or finished process; `state_json` holds the workflow without its spec."""

    __tablename__ = "process_instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[InstanceStatus] = mapped_column(enum_column(InstanceStatus, "instance_status"), index=True)
    state_json: Mapped[str] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    started_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optimistic concurrency: every UPDATE checks and bumps it (see __mapper_args__).
    row_version: Mapped[int] = mapped_column(Integer, nullable=False)
    # A cycle of a recurring schedule links to the instance it serves and names its period.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    # No foreign key: schedules already point at process_instances, and a cycle of foreign keys
    # makes table creation order ambiguous.
    schedule_id: Mapped[int | None] = mapped_column(Integer, index=True)
    business_key: Mapped[str | None] = mapped_column(String(100))

    __mapper_args__ = {"version_id_col": row_version}


class ReadyTask(Base):
    """Query table: a user task that someone can complete now (kept in step with the state)."""

    __tablename__ = "ready_tasks"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_id"),
        Index("ix_ready_tasks_due_at", "due_at"),
        Index("ix_ready_tasks_lane_assignee_due", "lane", "assignee", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(500))
    lane: Mapped[str | None] = mapped_column(String(200))
    assignee: Mapped[str | None] = mapped_column(String(200))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Who took the task on (claim); the workflow does not know, the inbox does.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WaitingTimer(Base):
    """Query table: a timer armed in an instance, for the scheduler to find by due time."""

    __tablename__ = "waiting_timers"
    __table_args__ = (UniqueConstraint("instance_id", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(36))
    bpmn_id: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Schedule(Base):
    """A recurring start of a short process, one instance per calendar period (docs/spiffworkflow.md, trap 7).

    A task updated monthly for years is not a loop inside one workflow, whose history would grow
    with every cycle: each period gets its own small instance, linked to the parent, and the
    periods already done are those instances' rows.
    """

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(200))
    cadence: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    next_period: Mapped[str] = mapped_column(String(20))
    next_run_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    grace_setting: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    cycles_started: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WorkerHeartbeat(Base):
    """The last pass of each timer worker, so that `/ready` can say whether timers are being fired.

    One row per worker process (`worker_id`: host and pid), written at the end of every pass; a row
    older than the readiness limit is a worker that died or hangs.
    """

    __tablename__ = "worker_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    passes: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)   # failed passes in a row at the last beat
