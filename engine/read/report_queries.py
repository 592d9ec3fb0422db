"""What the Office sees of the reporting rounds (Art. 17.1): each period's round, each unit's report.

Read from the report rows in SQL; no workflow is loaded. A report is late when it came in after
the units' deadline, or when it has not come in and the deadline has passed.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from engine.core.errors import NotFound
from engine.process.context import EngineContext
from engine.regulation.organisation import Unit
from engine.regulation.records import PeriodicReport, ReportingRound
from engine.worktime.periods import period_from_key


class ReportState(str, enum.Enum):
    """Where one unit's report stands."""

    SUBMITTED = "submitted"            # in by the deadline
    SUBMITTED_LATE = "submitted_late"
    OVERDUE = "overdue"                # not in, deadline passed (the unit may still send it)
    PENDING = "pending"                # not in, deadline still ahead

    @property
    def label_key(self) -> str:
        """Its label's key in the catalog."""
        return f"report_state.{self.value}"


@dataclass(frozen=True)
class RoundView:
    """One period's round with its counts as of now."""

    period_key: str
    label: str
    data_from: date
    data_to: date
    due_at: datetime
    opened_by: str
    opened_at: datetime
    units: int
    submitted: int
    late: int
    consolidated_by: str | None
    consolidated_at: datetime | None
    summary: str
    consolidation_instance_id: int | None


@dataclass(frozen=True)
class UnitReportView:
    """One unit's report in a round."""

    unit_code: str
    unit_name: str
    state: ReportState
    submitted_at: datetime | None
    report_document: str | None
    content: str
    figures: dict[str, Any]
    instance_id: int | None


def list_rounds(ctx: EngineContext, limit: int = 60) -> list[RoundView]:
    """The rounds opened, most recently opened first."""
    with ctx.unit_of_work(readonly=True) as session:
        rows = session.execute(_rounds_stmt(ctx.now()).order_by(ReportingRound.opened_at.desc(),
                                                                  ReportingRound.period_key.desc()).limit(limit))
        return [_round_view(*row) for row in rows]


def round_reports(ctx: EngineContext, period_key: str) -> tuple[RoundView, list[UnitReportView]]:
    """A round and its units' reports (by unit name); NotFound for a period never opened."""
    now = ctx.now()
    with ctx.unit_of_work(readonly=True) as session:
        row = session.execute(_rounds_stmt(now, period_key)).first()
        if row is None:
            raise NotFound("round_not_open", key=period_key)
        reports = session.execute(
            select(PeriodicReport, Unit.code, Unit.name).join(Unit, Unit.id == PeriodicReport.unit_id)
            .where(PeriodicReport.period_key == period_key).order_by(Unit.name))
        return _round_view(*row), [
            UnitReportView(code, name, _state(report, now), report.submitted_at, report.report_document,
                           report.content, dict(report.figures or {}), report.instance_id)
            for report, code, name in reports]


def _rounds_stmt(now: datetime, period_key: str | None = None):
    """Rounds with their counts; only one round's reports are counted when `period_key` is given."""
    r = PeriodicReport
    late = or_(r.submitted_at > r.due_at, and_(r.submitted_at.is_(None), r.due_at <= now))
    counts = (select(r.period_key, func.count().label("units"), func.count(r.submitted_at).label("submitted"),
                     func.coalesce(func.sum(case((late, 1), else_=0)), 0).label("late"))
              .group_by(r.period_key))
    rounds = select(ReportingRound)
    if period_key is not None:
        counts = counts.where(r.period_key == period_key)
        rounds = rounds.where(ReportingRound.period_key == period_key)
    counts = counts.subquery()
    return (rounds.add_columns(func.coalesce(counts.c.units, 0), func.coalesce(counts.c.submitted, 0),
                               func.coalesce(counts.c.late, 0))
            .outerjoin(counts, counts.c.period_key == ReportingRound.period_key))


def _round_view(row: ReportingRound, units: int, submitted: int, late: int) -> RoundView:
    period = period_from_key(row.period_key)
    return RoundView(row.period_key, period.label, period.data_from, period.data_to, row.due_at, row.opened_by,
                     row.opened_at, units, submitted, late, row.consolidated_by, row.consolidated_at, row.summary,
                     row.consolidation_instance_id)


def _state(report: PeriodicReport, now: datetime) -> ReportState:
    if report.submitted_at is not None:
        return ReportState.SUBMITTED if report.submitted_at <= report.due_at else ReportState.SUBMITTED_LATE
    return ReportState.OVERDUE if report.due_at <= now else ReportState.PENDING
