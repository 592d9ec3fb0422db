"""The regulation's records: assigning documents, tasks, progress updates, feedback and what follows.

These tables are what reports count (tasks by unit, period and status category) without ever
deserializing a workflow; each tracked task points at the process instance that drives it.
"""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.core.search_text import fold
from engine.core.tables import Base, UTCDateTime, enum_column


class DocumentType(str, enum.Enum):
    """Kinds of assigning documents (Art. 3.2)."""

    DECISION = "quyet_dinh"          # Quyết định
    DIRECTIVE = "chi_thi"            # Chỉ thị
    REGULATION = "quy_che"           # Quy chế
    PLAN = "ke_hoach"                # Kế hoạch
    OFFICIAL_LETTER = "cong_van"     # Công văn
    DISPATCH = "cong_dien"           # Công điện
    CONCLUSION_NOTICE = "thong_bao_ket_luan"  # Thông báo kết luận
    OTHER = "khac"

    @property
    def label_key(self) -> str:
        """Its label's key in the catalog."""
        return f"document_type.{self.value}"


class TaskStatus(str, enum.Enum):
    """Status categories of the Government Office's statistics (docs/regulation.md)."""

    IN_PROGRESS = "in_progress"                  # not completed; within/nearly due/overdue is derived
    NO_DEADLINE = "no_deadline"                  # not completed, no deadline
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # chờ xác nhận
    RETURNED = "returned"                        # trả lại Văn phòng
    COMPLETED_ON_TIME = "completed_on_time"
    COMPLETED_LATE = "completed_late"
    COMPLETED_NO_DEADLINE = "completed_no_deadline"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        """True while the task still needs work."""
        return self in (TaskStatus.IN_PROGRESS, TaskStatus.NO_DEADLINE, TaskStatus.AWAITING_CONFIRMATION,
                        TaskStatus.RETURNED)

    @property
    def label_key(self) -> str:
        """Its label's key in the catalog (the status categories share one set of labels)."""
        return f"category.{self.value}"


class ProgressState(str, enum.Enum):
    """Where a task stands in a progress update (ProgressUpdate.state)."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    INPUT = "input"            # a coordinating unit's information (Art. 10.2.b), not the lead unit's report

    @property
    def label_key(self) -> str:
        """Its label's key in the catalog."""
        return f"progress_state.{self.value}"

    @classmethod
    def reported(cls) -> tuple[ProgressState, ...]:
        """The states a lead unit reports (a coordinating unit's input is recorded by the engine)."""
        return cls.NOT_STARTED, cls.IN_PROGRESS, cls.BLOCKED, cls.DONE


class FeedbackOutcome(str, enum.Enum):
    """What the Office did with a feedback (Feedback.outcome; Art. 15.5, 16.4)."""

    URGE = "urge"                      # an urging document was issued
    ASK_DIRECTION = "ask_direction"    # the PPC's direction was asked and notified
    UNFOUNDED = "unfounded"            # no basis: the provider is told why

    @property
    def label_key(self) -> str:
        """Its label's key in the catalog."""
        return f"feedback_outcome.{self.value}"


class Document(Base):
    """An assigning document (văn bản giao nhiệm vụ). Classified documents are never stored."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("number_symbol", "issued_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number_symbol: Mapped[str] = mapped_column(String(100))   # số, ký hiệu: 123/QĐ-UBND
    issued_on: Mapped[date] = mapped_column(Date)
    doc_type: Mapped[DocumentType] = mapped_column(enum_column(DocumentType, "document_type", 40))
    issuer: Mapped[str] = mapped_column(String(300))
    signer: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)                # trích yếu
    registered_by: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Number and summary folded for accent-insensitive search (engine/core/search_text.py); written
    # with the row, which is never edited afterwards.
    search_text: Mapped[str] = mapped_column(Text, default=lambda c: fold(
        f"{c.get_current_parameters()['number_symbol']} {c.get_current_parameters()['summary']}"))


class TrackedTask(Base):
    """A task assigned by a document to a lead unit; `instance_id` is the workflow following it."""

    __tablename__ = "tracked_tasks"
    # The counts (engine/regulation/statistics.py) read a data window: open tasks and those closed since its
    # start, found by completion time; the other columns make that an index-only read (issue 14, migration 0018).
    __table_args__ = (Index("ix_tracked_tasks_unit_status", "lead_unit_id", "status"),
                      Index("ix_tracked_tasks_window", "completed_at", "assigned_at", "lead_unit_id", "status",
                            "deadline", "urge_count"))

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    parent_task_id: Mapped[int | None] = mapped_column(ForeignKey("tracked_tasks.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    lead_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    deadline: Mapped[date | None] = mapped_column(Date, index=True)
    update_cadence: Mapped[str | None] = mapped_column(String(20))   # periods.Cadence when no deadline
    expected_output: Mapped[str] = mapped_column(Text)
    tracking_specialist_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    status: Mapped[TaskStatus] = mapped_column(enum_column(TaskStatus, "task_status", 40))
    urge_count: Mapped[int] = mapped_column(Integer, default=0)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The deadline the unit was last reminded of, and flagged overdue for: the timers that send these
    # hang on every step the unit holds (engine/regulation/deadline_actions.py), each notice goes out once.
    deadline_reminded_for: Mapped[date | None] = mapped_column(Date)
    overdue_flagged_for: Mapped[date | None] = mapped_column(Date)
    # The content folded for accent-insensitive search, as Document.search_text.
    search_text: Mapped[str] = mapped_column(Text, default=lambda c: fold(c.get_current_parameters()['content']))


class TaskCoordinator(Base):
    """A coordinating unit of a task (đơn vị phối hợp, Art. 10.2.b)."""

    __tablename__ = "task_coordinators"
    __table_args__ = (UniqueConstraint("task_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tracked_tasks.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))


class ProgressUpdate(Base):
    """An update of a task's progress (Art. 8, content per Art. 6.8)."""

    __tablename__ = "progress_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tracked_tasks.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    state: Mapped[str] = mapped_column(String(40))             # a ProgressState value
    work_done: Mapped[str] = mapped_column(Text)
    difficulties: Mapped[str] = mapped_column(Text, default="")
    proposals: Mapped[str] = mapped_column(Text, default="")
    report_document: Mapped[str] = mapped_column(String(200), default="")
    period_key: Mapped[str | None] = mapped_column(String(20))
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class Attachment(Base):
    """A file attached to a record; the bytes live on disk under a content-hash name."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(40))
    owner_id: Mapped[int] = mapped_column(Integer, index=True)
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Feedback(Base):
    """A district, agency or organisation reports a department late or off-requirement (Art. 16.4)."""

    __tablename__ = "feedbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tracked_tasks.id"), index=True)
    provider_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    content: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), index=True)
    outcome: Mapped[str | None] = mapped_column(String(30))   # a FeedbackOutcome value; None while open
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UrgingDocument(Base):
    """An urging document (văn bản đôn đốc), copied to the feedback providers."""

    __tablename__ = "urging_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tracked_tasks.id"), index=True)
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedbacks.id"))
    number_symbol: Mapped[str] = mapped_column(String(100))
    issued_on: Mapped[date] = mapped_column(Date)
    summary: Mapped[str] = mapped_column(Text)
    issued_by: Mapped[str] = mapped_column(String(100))


class Direction(Base):
    """The PPC leadership's direction and the Office's notice of it (Art. 15.5)."""

    __tablename__ = "directions"

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedbacks.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    notice_number: Mapped[str] = mapped_column(String(100), default="")   # the Office's notice, once issued
    given_at: Mapped[datetime] = mapped_column(UTCDateTime())              # when the system recorded it
    # Given in the system: the PPC leader answered the Office's request (given_by: their full name,
    # recorded_by: their username). Outside it: the Office leader recorded who gave it and on which day.
    given_by: Mapped[str] = mapped_column(String(200), default="")
    given_on: Mapped[date | None] = mapped_column(Date)
    outside_system: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by: Mapped[str | None] = mapped_column(String(100))


class PeriodicReport(Base):
    """A unit's self-inspection report for a period (Art. 17.1)."""

    __tablename__ = "periodic_reports"
    __table_args__ = (UniqueConstraint("unit_id", "period_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    period_key: Mapped[str] = mapped_column(String(20))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    figures: Mapped[dict] = mapped_column(JSON, default=dict)
    content: Mapped[str] = mapped_column(Text, default="")
    report_document: Mapped[str | None] = mapped_column(String(100))   # the unit's report number/symbol
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ReportingRound(Base):
    """One period's reporting round (Art. 17.1): who opened it, the units' deadline, the consolidation.

    Keyed by the period key ("2025-Q2"), so a period is opened once; its label and data window
    follow from the key (engine/worktime/periods.py).
    """

    __tablename__ = "reporting_rounds"

    period_key: Mapped[str] = mapped_column(String(20), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    consolidation_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"))
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    consolidated_by: Mapped[str | None] = mapped_column(String(200))
    consolidated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    summary: Mapped[str] = mapped_column(Text, default="")


class ReportingPlan(Base):
    """A cadence whose rounds the worker opens by itself once its data cut-off day is over."""

    __tablename__ = "reporting_plans"

    cadence: Mapped[str] = mapped_column(String(20), primary_key=True)   # periods.Cadence value
    changed_by: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Notification(Base):
    """An in-app notification to a user, or to the people acting in a role in a unit (access.notice_recipients)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_recipient", "unit_code", "role", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # By code, not id: a diagram's assignee is a unit code, and a notification must never be
    # lost because a code is unknown to the organisation table (e.g. a unit removed since).
    unit_code: Mapped[str | None] = mapped_column(String(60))
    role: Mapped[str | None] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text, default="")
    # The parameters of the kind's texts, to show them in each reader's language (None: show as stored).
    params: Mapped[dict | None] = mapped_column(JSON)
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tracked_tasks.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class NotificationRead(Base):
    """One person has read one notification: read state is each recipient's own."""

    __tablename__ = "notification_reads"

    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime())
