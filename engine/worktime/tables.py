"""Tables of working time: named timer durations with their history, and calendar overrides.

Every change goes through an Alembic migration in `migrations/`."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.core.tables import Base, UTCDateTime


class TimerSettingRow(Base):
    """A named duration that diagrams' timers read; admins change it without touching a diagram."""

    __tablename__ = "timer_settings"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TimerSettingChange(Base):
    """One change of a timer setting: the history admins and auditors read."""

    __tablename__ = "timer_setting_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(ForeignKey("timer_settings.name"), index=True)
    old_value: Mapped[int] = mapped_column(Integer)
    old_unit: Mapped[str] = mapped_column(String(20))
    new_value: Mapped[int] = mapped_column(Integer)
    new_unit: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CalendarOverrideRow(Base):
    """An announced extra day off or make-up working day, with the document that announced it."""

    __tablename__ = "calendar_overrides"
    # Ids never reused, so (count, max id) identifies a state of the table (CalendarCache).
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
