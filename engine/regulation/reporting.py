"""Procedure C: periodic self-inspection reports (Art. 17.1 of Decision 08/2023/QĐ-UBND).

A reporting round covers one period (monthly, quarterly, 6-month, 9-month, annual) and its data window
(chốt số liệu, Decree 09/2019 Art. 12; engine/worktime/periods.py). Opening it, in one transaction:
- one `periodic_report_consolidation` instance for the Office (business key = the period key);
- for each active unit of the chosen kinds, its task figures as of the cut-off (engine/regulation/statistics.py,
  in SQL), a `PeriodicReport` row (unique per unit and period) and a `periodic_report` instance with
  the figures prefilled and its self-inspection text drafted from them (`self_inspection_text`, which the
  unit completes), linked to the consolidation instance as its parent.
The actions below are what the two diagrams' end events run.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, or_, select
from sqlalchemy.exc import IntegrityError

from engine.core import audit
from engine.core.errors import Conflict, DiagramError, InvalidInput
from engine.core.i18n import Message
from engine.process.actions import ActionContext, reads
from engine.process.context import EngineContext
from engine.process.instances import start_in
from engine.regulation import access, notifications, statistics
from engine.regulation.notifications import NotificationKind as Kind
from engine.regulation.organisation import Role, Unit, UnitKind
from engine.regulation.records import PeriodicReport, ReportingRound
from engine.worktime import periods, timer_settings
from engine.worktime.calendar import TZ

REPORT_PROCESS = "periodic_report"
CONSOLIDATION_PROCESS = "periodic_report_consolidation"
DUE_SETTING = "report_internal_deadline"       # working days after the cut-off date (data_to)
NEARLY_DUE_SETTING = "deadline_reminder"       # also the "nearly due" threshold (docs/regulation.md)
DEFAULT_KINDS = (UnitKind.DEPARTMENT, UnitKind.DISTRICT, UnitKind.OTHER_AGENCY)
# The kinds of unit a round may address: the Office's own units and sub-units do not report upward.
REPORTING_KINDS = (UnitKind.DEPARTMENT, UnitKind.DISTRICT, UnitKind.OTHER_AGENCY, UnitKind.COMMUNE)


@dataclass(frozen=True)
class RoundOpened:
    """What opening a round created."""

    period_key: str
    period_label: str
    due_at: datetime                    # the units' internal deadline (end of its last day)
    consolidation_instance_id: int
    reports: dict[str, int]             # unit code -> its periodic_report instance id


def open_reporting_round(ctx: EngineContext, cadence: str, period_day: date,
                         unit_kinds: Iterable[UnitKind | str] = DEFAULT_KINDS,
                         actor: str = "system") -> RoundOpened:
    """Open the round of the `cadence` period containing `period_day`; once per period, else Conflict.

    Refused (InvalidInput) before the data cut-off day (data_to) has ended: the figures are a picture
    as of the cut-off and are never recomputed; and once the units' deadline (`report_internal_deadline`
    working days after data_to) has passed: every report would be flagged late the moment it opens.
    """
    try:
        period = periods.period_containing(cadence, period_day)
    except ValueError:
        raise InvalidInput("cadence_unknown", value=cadence,
                           allowed=", ".join(c.value for c in periods.Cadence)) from None
    kinds = [_unit_kind(kind) for kind in unit_kinds]
    if not kinds:
        raise InvalidInput("round_units_missing")
    if not set(kinds) <= set(REPORTING_KINDS):
        raise InvalidInput("unit_kinds_not_reporting",
                           kinds=", ".join(sorted(k.value for k in set(kinds) - set(REPORTING_KINDS))))
    try:
        with ctx.unit_of_work() as session:
            return open_round_in(ctx, session, period, kinds, actor)
    except IntegrityError as error:
        raise _already_open(period) from error


def _unit_kind(value) -> UnitKind:
    try:
        return UnitKind(value)
    except ValueError:
        raise InvalidInput("unit_kind_unknown", value=value,
                           allowed=", ".join(k.value for k in REPORTING_KINDS)) from None


def open_round_in(ctx: EngineContext, session, period: periods.Period, kinds: list[UnitKind],
                  actor: str) -> RoundOpened:
    """Open a round inside the caller's unit of work (as `start_in` does for one instance)."""
    now = ctx.now()
    _, cutoff_end = statistics.window_instants(period.data_from, period.data_to)
    if now < cutoff_end:
        raise InvalidInput("round_before_cutoff", period=period.caption, cutoff=f"{period.data_to:%d/%m/%Y}")
    _refuse_reopening(session, period)
    due_at = reports_due_at(ctx, period)
    if now >= due_at:
        raise InvalidInput("round_past_due", period=period.caption, due=f"{_day(due_at):%d/%m/%Y}",
                           setting=DUE_SETTING)
    units = list(session.scalars(select(Unit).where(Unit.active.is_(True), Unit.kind.in_(kinds)).order_by(Unit.code)))
    if not units:
        raise InvalidInput("no_units_of_kinds")
    figures = statistics.count_by_unit(
        session, [u.id for u in units], period.data_from, period.data_to, now, ctx.calendars.get(session),
        timer_settings.get(session, NEARLY_DUE_SETTING).value)
    base = {"period_key": period.key, "period_label": period.label,
            "data_from": period.data_from.isoformat(), "data_to": period.data_to.isoformat()}
    round_row = ReportingRound(period_key=period.key, due_at=due_at, opened_by=actor, opened_at=now, summary="")
    session.add(round_row)
    session.flush()  # the period key is the primary key: a concurrent opening stops here
    consolidation = start_in(ctx, session, CONSOLIDATION_PROCESS,
                             dict(base, reports_due_on=_day(due_at).isoformat(), unit_count=len(units)),
                             actor, business_key=period.key)
    round_row.consolidation_instance_id = consolidation.id
    reports = {}
    for unit in units:
        row = PeriodicReport(unit_id=unit.id, period_key=period.key, figures=figures[unit.id], content="",
                             due_at=due_at)
        session.add(row)
        session.flush()  # the unique (unit, period) constraint speaks here in a race
        view = start_in(ctx, session, REPORT_PROCESS,
                        dict(base, unit=unit.code, unit_name=unit.name, figures=form_figures(figures[unit.id]),
                             content=self_inspection_text(unit.name, period, figures[unit.id])),
                        actor, parent_id=consolidation.id, business_key=period.key)
        row.instance_id = reports[unit.code] = view.id
    audit.record(session, at=now, actor=actor, action="reporting_round_opened", instance_id=consolidation.id,
                 summary={"period_key": period.key, "units": len(units), "due_at": due_at.isoformat()})
    return RoundOpened(period.key, period.label, due_at, consolidation.id, reports)


def reports_due_at(ctx: EngineContext, period: periods.Period) -> datetime:
    """When the units' reports of a period are due (inside a unit of work: settings are read)."""
    # The same function and setting as the diagram's dueDate, so the row and the task agree.
    return datetime.fromisoformat(ctx.functions["after_date"](DUE_SETTING, period.data_to.isoformat()))


def form_figures(counts: dict) -> dict[str, int]:
    """The six figures of the submit_report form from the full categories, adding up to `total`.

    in_progress ("đang thực hiện trong hạn") is within_deadline + nearly_due, plus the tasks awaiting the
    Office's confirmation or returned to it, whatever their deadline (the form has no field for them);
    no_deadline is open and completed tasks without a deadline. The full categories and the on-time
    rate stay in PeriodicReport.figures.
    """
    return {"total": counts["total"], "completed_on_time": counts["completed_on_time"],
            "completed_late": counts["completed_late"],
            "in_progress": counts["within_deadline"] + counts["nearly_due"] + counts["awaiting_confirmation"]
            + counts["returned"],
            "overdue": counts["overdue"], "no_deadline": counts["no_deadline"] + counts["completed_no_deadline"]}


def self_inspection_text(unit_name: str, period: periods.Period, figures: dict) -> str:
    """The Art. 17.1 self-inspection draft of a unit from its figures (Vietnamese: it is filed as written);
    the unit completes it with its own assessment before sending."""
    rate = figures.get("on_time_rate")
    in_progress = form_figures(figures)["in_progress"]
    lines = [
        f"Kết quả tự kiểm tra việc thực hiện nhiệm vụ UBND tỉnh giao — {unit_name}, {period.label} "
        f"(số liệu từ {period.data_from:%d/%m/%Y} đến {period.data_to:%d/%m/%Y}).",
        f"Tổng số nhiệm vụ: {figures['total']}; đã hoàn thành đúng hạn: {figures['completed_on_time']}, "
        f"hoàn thành quá hạn: {figures['completed_late']}, hoàn thành (không thời hạn): "
        f"{figures['completed_no_deadline']}; đang thực hiện trong hạn: {in_progress}; quá hạn chưa hoàn thành: "
        f"{figures['overdue']}; không thời hạn đang thực hiện: {figures['no_deadline']}.",
        "Tỷ lệ hoàn thành đúng hạn: " + (f"{rate * 100:.1f}%".replace(".", ",") if rate is not None
                                         else "chưa có nhiệm vụ có thời hạn hoàn thành trong kỳ") + ".",
        "Nguyên nhân quá hạn, khó khăn, vướng mắc và đề xuất: (đơn vị bổ sung).",
    ]
    return "\n".join(lines)


def _day(end: datetime) -> date:
    # A deadline instant is 24:00 of its last day, stored as 00:00 of the next.
    return (end.astimezone(TZ) - timedelta(microseconds=1)).date()


def _refuse_reopening(session, period: periods.Period) -> None:
    if session.get(ReportingRound, period.key) is not None:
        raise _already_open(period)


def _already_open(period: periods.Period) -> Conflict:
    return Conflict("round_already_open", period=period.caption, key=period.key)


def _report(a: ActionContext) -> PeriodicReport:
    # By unit and period, not by instance id: a timer already due fires while the instance starts,
    # before the row knows its instance.
    row = a.session.scalar(select(PeriodicReport).join(Unit, Unit.id == PeriodicReport.unit_id).where(
        Unit.code == a.data.get("unit"), PeriodicReport.period_key == a.data.get("period_key")))
    if row is None:
        raise DiagramError(f"element '{a.bpmn_id}': no periodic report for this instance", a.bpmn_id)
    return row


def _notify(a: ActionContext, kind: Kind, params: dict, body: str = "", unit_code: str | None = None,
            role: Role = Role.TRACKING_SPECIALIST, title_key: str | None = None) -> None:
    # Without a unit, the notice is for the Office, which follows the rounds.
    notifications.notify(a.session, kind=kind, params=params, body=body, title_key=title_key, now=a.now,
                         unit_code=unit_code or access.office_unit(a.session), role=role.value,
                         instance_id=a.instance_id)


def _period(a: ActionContext) -> Message | str:
    # The period's label in each reader's language; as the diagram's data gives it if the key is not one.
    try:
        return periods.period_from_key(str(a.data.get("period_key"))).caption
    except ValueError:
        return str(a.data.get("period_label", ""))


@reads(unit="unit", unit_name="string", period_key="string", period_label="string", content="string",
       report_document="string")
def report_submitted(a: ActionContext) -> None:
    """The unit sent its report: record when and what; the figures stay the system's. The Office is told."""
    row = _report(a)
    row.content, row.submitted_at = str(a.data.get("content") or ""), a.now
    row.report_document = str(a.data.get("report_document") or "")[:100] or None
    late = Message("notification.report_submitted.late") if a.now > row.due_at else ""
    _notify(a, Kind.REPORT_SUBMITTED, {"unit": a.data.get("unit_name", a.data.get("unit")), "period": _period(a),
                                       "late": late}, str(a.data.get("report_document") or ""))


@reads(unit="unit", unit_name="string", period_key="string", period_label="string")
def report_late(a: ActionContext) -> None:
    """The internal deadline passed without the report: tell the unit and the Office (it may still send)."""
    row = _report(a)
    params = {"unit": a.data.get("unit_name", a.data.get("unit")), "period": _period(a),
              "due": f"{_day(row.due_at):%d/%m/%Y}"}
    _notify(a, Kind.REPORT_LATE, params, unit_code=a.data.get("unit"), role=Role.UNIT_FOCAL_POINT)
    _notify(a, Kind.REPORT_LATE, params, title_key="notification.report_late.title_office")


@reads(period_key="string", summary="string")
def reports_consolidated(a: ActionContext) -> None:
    """The Office consolidated the period: the Office leader gets the summary and who reported, late or not."""
    r = PeriodicReport
    total, sent, late = a.session.execute(
        select(func.count(), func.count(r.submitted_at),
               func.coalesce(func.sum(case((or_(r.submitted_at.is_(None), r.submitted_at > r.due_at), 1), else_=0)), 0))
        .where(r.period_key == a.data["period_key"])).one()
    summary = {"period_key": a.data["period_key"], "units": total, "submitted": sent, "late_or_missing": late}
    round_row = a.session.get(ReportingRound, a.data["period_key"])
    if round_row is None:
        raise DiagramError(f"element '{a.bpmn_id}': no reporting round {a.data['period_key']}", a.bpmn_id)
    round_row.consolidated_by, round_row.consolidated_at = a.actor, a.now
    round_row.summary = str(a.data.get("summary") or "")
    audit.record(a.session, at=a.now, actor=a.actor, action="reports_consolidated", instance_id=a.instance_id,
                 bpmn_id=a.bpmn_id, summary=summary)
    _notify(a, Kind.REPORTS_CONSOLIDATED, {"period": _period(a), "sent": sent, "total": total, "late": late},
            str(a.data.get("summary") or ""), role=Role.OFFICE_LEADER)


ACTIONS = {f.__name__: f for f in (report_submitted, report_late, reports_consolidated)}
