"""Procedure C (Art. 17.1): the Q2 2025 self-inspection reporting round, end to end on real dates.

Tasks are registered and driven through task_followup like in test_tracking; the round is opened after
the Decree 09/2019 cut-off (14 Jun 2025); assertions read the report rows, the ready tasks and their
data, the notifications and the audit log.
"""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from engine.bpmn import runtime
from engine.bpmn.forms import FormInvalid
from engine.core.audit import AuditEntry
from engine.core.errors import Conflict, InvalidInput
from engine.process import instance_store, instances
from engine.process.tables import ProcessInstance, WaitingTimer
from engine.process.timers import fire_due_timers
from engine.regulation import reporting, tracking
from engine.regulation.organisation import Unit
from engine.regulation.records import Notification, PeriodicReport, TaskStatus, TrackedTask
from engine.regulation.tracking import DocumentInput, TaskInput
from tests.helpers import TZ
from tests.helpers import complete_step as _do
from tests.helpers import count_rows as _count
from tests.helpers import ready_tasks as _ready

GT, XD = "so-giao-thong-van-tai", "so-xay-dung"
EMPTY = {"within_deadline": 0, "nearly_due": 0, "overdue": 0, "no_deadline": 0, "awaiting_confirmation": 0,
         "returned": 0, "completed_on_time": 0, "completed_late": 0, "completed_no_deadline": 0, "cancelled": 0}


@pytest.fixture
def province(ctx, shipped):
    ctx.actions.update(reporting.ACTIONS)  # engine/app/bootstrap.py registers them in the application
    return ctx


def _at(ctx, *args):
    ctx.clock.set(datetime(*args, tzinfo=TZ))


def _doc(number, issued):
    return DocumentInput(number_symbol=number, issued_on=issued, doc_type="ke_hoach", issuer="UBND tỉnh Bến Tre",
                         signer="Phó Chủ tịch UBND tỉnh", summary="Kế hoạch thực hiện nhiệm vụ trọng tâm năm 2025")


def _task(content, unit, deadline=None):
    return TaskInput(content=content, lead_unit=unit, expected_output="Báo cáo kết quả", deadline=deadline,
                     update_cadence=None if deadline else "monthly")


def _complete(ctx, instance_id, done_on, confirm_at):
    done = date.fromisoformat(done_on)
    if ctx.now().astimezone(TZ).date() < done:  # the unit reports the day it is done, never before
        _at(ctx, done.year, done.month, done.day, 16)
    _do(ctx, instance_id, "report_completion", {"result": "Đã hoàn thành", "report_document": "12/BC-SXD",
                                                "completed_on": done_on})
    _at(ctx, *confirm_at)
    _do(ctx, instance_id, "confirm_completion", {"decision": "confirm"}, actor="cv.hoa")


def _notes(ctx, kind):
    with ctx.unit_of_work(readonly=True) as session:
        return [(n.unit_code, n.role, n.title) for n in session.scalars(
            select(Notification).where(Notification.kind == kind).order_by(Notification.id))]


def _reports(ctx):
    with ctx.unit_of_work(readonly=True) as session:
        return {code: row for row, code in session.execute(
            select(PeriodicReport, Unit.code).join(Unit, Unit.id == PeriodicReport.unit_id))}


def _task_data(ctx, instance_id, task_id):
    with ctx.unit_of_work(readonly=True) as session:
        _, workflow = instances.load_workflow(ctx, session, instance_store.load(session, instance_id))
        return dict(runtime.find_task(workflow, task_id).data)


def _build_quarter(ctx):
    """Tasks of two departments around the Q2 2025 window (15 Mar - 14 Jun 2025); returns their ids."""
    _at(ctx, 2025, 3, 3, 9)  # Monday, before the window
    first = tracking.register_document(ctx, _doc("101/KH-UBND", date(2025, 2, 28)), [
        _task("Rà soát tuyến đường tỉnh 885", GT, date(2025, 3, 12)),          # done on time before the window
        _task("Lập quy hoạch chung đô thị Ba Tri", XD, date(2025, 3, 31)),      # done late in the window
        _task("Kiểm tra chất lượng công trình trường học", XD, date(2025, 5, 30))], actor="cv.hoa")  # on time
    for instance in first.instance_ids:
        _do(ctx, instance, "review_receipt", {"decision": "accept"})
    _complete(ctx, first.instance_ids[0], "2025-03-10", (2025, 3, 11, 9))
    _at(ctx, 2025, 4, 1, 9)
    second = tracking.register_document(ctx, _doc("150/KH-UBND", date(2025, 3, 31)), [
        _task("Sửa chữa cầu Hàm Luông (hạng mục lan can)", GT, date(2025, 6, 10)),   # overdue at the cut-off
        _task("Lắp đặt biển báo tuyến ĐT.887", GT, date(2025, 6, 17)),               # nearly due (weekend)
        _task("Báo cáo an toàn giao thông 6 tháng", GT, date(2025, 6, 20)),          # within deadline
        _task("Theo dõi quản lý trật tự xây dựng", XD),                                 # no deadline
        _task("Thẩm định thiết kế nhà văn hóa huyện", XD, date(2025, 6, 30)),        # done after the cut-off
        _task("Khảo sát nhà ở xã hội", XD, date(2025, 5, 15))], actor="cv.hoa")      # returned to the Office
    for instance in second.instance_ids[:5]:  # a task without a deadline is reviewed in review_receipt_open
        _do(ctx, instance, next(iter(_ready(ctx, instance))), {"decision": "accept"})
    _do(ctx, second.instance_ids[5], "review_receipt",
        {"decision": "return", "return_reason": "Không thuộc chức năng của Sở Xây dựng"})
    _at(ctx, 2025, 4, 3, 9)
    _complete(ctx, first.instance_ids[1], "2025-04-02", (2025, 4, 3, 10))
    _at(ctx, 2025, 5, 29, 9)
    _complete(ctx, first.instance_ids[2], "2025-05-28", (2025, 5, 29, 10))
    _at(ctx, 2025, 6, 16, 8)  # Monday after the cut-off
    _complete(ctx, second.instance_ids[4], "2025-06-16", (2025, 6, 16, 8, 30))
    tracking.register_document(ctx, _doc("170/KH-UBND", date(2025, 6, 16)), [
        _task("Chuẩn bị phương án phòng chống thiên tai", GT, date(2025, 7, 30))], actor="cv.hoa")  # after the window
    return first.task_ids + second.task_ids


@pytest.fixture
def quarter(province):
    task_ids = _build_quarter(province)
    _at(province, 2025, 6, 16, 9)
    opened = reporting.open_reporting_round(province, "quarterly", date(2025, 5, 20), actor="cv.hoa")
    return province, opened, task_ids


def test_the_round_is_refused_before_the_cut_off_day_has_ended(province):
    _at(province, 2025, 6, 14, 20)  # Saturday 14 Jun 2025: the Q2 data are cut off at its end
    with pytest.raises(InvalidInput, match="14/06/2025"):
        reporting.open_reporting_round(province, "quarterly", date(2025, 6, 14))
    with pytest.raises(InvalidInput):
        reporting.open_reporting_round(province, "fortnightly", date(2025, 6, 14))
    assert (_count(province, PeriodicReport), _count(province, ProcessInstance)) == (0, 0)


def test_art_17_1_figures_are_prefilled_per_unit_as_of_the_cut_off(quarter):
    ctx, opened, task_ids = quarter
    with ctx.unit_of_work(readonly=True) as session:
        statuses = [session.get(TrackedTask, i).status for i in task_ids]
    assert statuses.count(TaskStatus.RETURNED) == 1 and statuses.count(TaskStatus.COMPLETED_ON_TIME) == 3
    assert (opened.period_key, opened.period_label) == ("2025-Q2", "Quý II/2025")
    reports = _reports(ctx)
    assert len(reports) == len(opened.reports) == 28  # 17 departments, 9 districts, 2 other agencies
    assert reports[GT].figures == dict(EMPTY, overdue=1, nearly_due=1, within_deadline=1, total=3, on_time_rate=None)
    # The 30 Jun task was confirmed on 16 Jun, after the cut-off: it counts as open, within its deadline.
    assert reports[XD].figures == dict(EMPTY, completed_on_time=1, completed_late=1, no_deadline=1, within_deadline=1,
                                       returned=1, total=5, on_time_rate=0.5)
    assert reports["so-tu-phap"].figures == dict(EMPTY, total=0, on_time_rate=None)
    task = _ready(ctx, opened.reports[XD])["submit_report"]
    assert _task_data(ctx, opened.reports[XD], task.task_id)["figures"] == {
        "total": 5, "completed_on_time": 1, "completed_late": 1, "in_progress": 2, "overdue": 0, "no_deadline": 1}


def test_units_report_to_their_focal_point_by_the_internal_deadline(quarter):
    ctx, opened, _ = quarter
    # Cut-off Sat 14 Jun -> Mon 16 Jun (Art. 148.5); 3 working days after: 17, 18, 19 Jun.
    assert opened.due_at == datetime(2025, 6, 20, tzinfo=TZ)
    task = _ready(ctx, opened.reports[GT])["submit_report"]
    assert (task.lane, task.assignee, task.due_at) == ("unit_focal_point", GT, datetime(2025, 6, 20, tzinfo=TZ))
    assert _reports(ctx)[GT].due_at == task.due_at and _reports(ctx)[GT].instance_id == opened.reports[GT]
    assert (GT, "unit_focal_point", task.name) in _notes(ctx, "task_ready")
    with ctx.unit_of_work(readonly=True) as session:
        row = session.get(ProcessInstance, opened.reports[GT])
        assert (row.business_key, row.parent_id) == ("2025-Q2", opened.consolidation_instance_id)
        timer = session.scalar(select(WaitingTimer).where(WaitingTimer.instance_id == opened.reports[GT]))
        assert (timer.bpmn_id, timer.due_at) == ("report_overdue", datetime(2025, 6, 20, tzinfo=TZ))
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "reporting_round_opened"))
        assert entry.actor == "cv.hoa" and entry.summary["units"] == 28


def test_a_second_round_for_the_same_period_is_refused_and_changes_nothing(quarter):
    ctx, opened, _ = quarter
    before = (_count(ctx, PeriodicReport), _count(ctx, ProcessInstance), _count(ctx, Notification))
    with pytest.raises(Conflict, match="2025-Q2"):
        reporting.open_reporting_round(ctx, "quarterly", date(2025, 4, 1), unit_kinds=("district",))
    assert (_count(ctx, PeriodicReport), _count(ctx, ProcessInstance), _count(ctx, Notification)) == before


def test_a_unit_submits_with_the_form_and_the_figures_stay_the_systems(quarter):
    ctx, opened, _ = quarter
    _at(ctx, 2025, 6, 18, 10)
    with pytest.raises(FormInvalid) as refused:
        _do(ctx, opened.reports[GT], "submit_report", {"report_document": "45/BC-SGTVT"})
    assert "content" in refused.value.errors
    forged = {"total": 3, "completed_on_time": 3, "completed_late": 0, "in_progress": 0, "overdue": 0, "no_deadline": 0}
    view = _do(ctx, opened.reports[GT], "submit_report", {
        "content": "Đã tự kiểm tra 3 nhiệm vụ; 1 nhiệm vụ quá hạn do vướng mặt bằng", "report_document": "45/BC-SGTVT",
        "figures": forged}, actor="dm.sogtvt")
    assert view.status.value == "completed"
    report = _reports(ctx)[GT]
    assert report.submitted_at == datetime(2025, 6, 18, 10, tzinfo=TZ)
    assert report.content.startswith("Đã tự kiểm tra") and report.figures["completed_on_time"] == 0
    assert _notes(ctx, "report_submitted") == [
        ("vp-ubnd", "tracking_specialist", "Sở Giao thông vận tải đã gửi báo cáo Quý II/2025")]
    with ctx.unit_of_work(readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(WaitingTimer)
                              .where(WaitingTimer.instance_id == opened.reports[GT])) == 0


def test_a_late_report_is_flagged_by_the_timer_and_may_still_be_sent(quarter):
    ctx, opened, _ = quarter
    _at(ctx, 2025, 6, 18, 10)
    _do(ctx, opened.reports[GT], "submit_report", {"content": "Kết quả tự kiểm tra", "report_document": "45/BC-SGTVT"})
    _at(ctx, 2025, 6, 19, 23, 0)
    assert not [b for i, b in fire_due_timers(ctx).fired if b == "report_overdue"]
    _at(ctx, 2025, 6, 20, 8, 0)  # Friday: the deadline ended with Thursday 19 Jun
    fired = [(i, b) for i, b in fire_due_timers(ctx).fired if b == "report_overdue"]
    assert len(fired) == 27 and (opened.reports[XD], "report_overdue") in fired
    assert (opened.reports[GT], "report_overdue") not in fired
    late = _notes(ctx, "report_late")
    assert (XD, "unit_focal_point", "Quá hạn gửi báo cáo Quý II/2025") in late
    assert ("vp-ubnd", "tracking_specialist", "Sở Xây dựng chưa gửi báo cáo Quý II/2025") in late
    assert not [n for n in late if n[0] == GT or GT.replace("-", " ") in n[2]]
    assert "submit_report" in _ready(ctx, opened.reports[XD])  # non-interrupting: the unit can still report
    _at(ctx, 2025, 6, 20, 10)
    _do(ctx, opened.reports[XD], "submit_report", {"content": "Kết quả tự kiểm tra", "report_document": "31/BC-SXD"})
    report = _reports(ctx)[XD]
    assert report.submitted_at > report.due_at
    assert _notes(ctx, "report_submitted")[-1][2] == "Sở Xây dựng đã gửi báo cáo Quý II/2025 (chậm hạn)"
    with ctx.unit_of_work(readonly=True) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "timer_fired",
                                                           AuditEntry.instance_id == opened.reports[XD]))
        assert [e.summary["timers"] for e in entries] == [["report_overdue"]]


def test_the_office_consolidates_the_period(quarter):
    ctx, opened, _ = quarter
    task = _ready(ctx, opened.consolidation_instance_id)["consolidate"]
    # Units' deadline ends with Thu 19 Jun; 2 working days after: 20 and 23 Jun, before the 25th.
    assert (task.lane, task.assignee, task.due_at) == ("tracking_specialist", None, datetime(2025, 6, 24, tzinfo=TZ))
    assert ("vp-ubnd", "tracking_specialist", task.name) in _notes(ctx, "task_ready")
    _at(ctx, 2025, 6, 18, 10)
    _do(ctx, opened.reports[GT], "submit_report", {"content": "Kết quả tự kiểm tra", "report_document": "45/BC-SGTVT"})
    _at(ctx, 2025, 6, 23, 15)
    view = _do(ctx, opened.consolidation_instance_id, "consolidate",
               {"summary": "Tổng hợp kết quả tự kiểm tra Quý II/2025 của các sở, ngành, địa phương"}, actor="cv.hoa")
    assert view.status.value == "completed"
    with ctx.unit_of_work(readonly=True) as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "reports_consolidated"))
    assert entry.summary == {"period_key": "2025-Q2", "units": 28, "submitted": 1, "late_or_missing": 27}
    assert _notes(ctx, "reports_consolidated") == [
        ("vp-ubnd", "office_leader", "Đã tổng hợp báo cáo Quý II/2025: 1/28 đơn vị đã gửi, 27 chậm hoặc chưa gửi")]


def test_a_round_may_cover_some_kinds_of_unit_only(province):
    _at(province, 2025, 6, 16, 9)  # the May-June window was cut off at the end of 14 Jun
    opened = reporting.open_reporting_round(province, "monthly", date(2025, 6, 1), unit_kinds=("district",))
    assert opened.period_key == "2025-M06" and len(opened.reports) == 9
    assert all(code.startswith(("huyen-", "tp-")) for code in opened.reports)


def test_a_round_is_refused_once_the_units_deadline_has_passed(province):
    _at(province, 2025, 6, 20, 0, 0)  # the units' deadline ended with Thu 19 Jun
    with pytest.raises(InvalidInput, match="19/06/2025"):
        reporting.open_reporting_round(province, "quarterly", date(2025, 6, 1))
    assert (_count(province, PeriodicReport), _count(province, ProcessInstance)) == (0, 0)


def test_the_office_follows_the_round_unit_by_unit(quarter):
    from engine.core.errors import NotFound
    from engine.read import report_queries
    from engine.read.report_queries import ReportState

    ctx, opened, _ = quarter
    [round_view] = report_queries.list_rounds(ctx)
    assert (round_view.period_key, round_view.label, round_view.units, round_view.submitted, round_view.late) == (
        "2025-Q2", "Quý II/2025", 28, 0, 0)
    assert (round_view.data_from, round_view.data_to) == (date(2025, 3, 15), date(2025, 6, 14))
    assert (round_view.opened_by, round_view.due_at) == ("cv.hoa", opened.due_at)
    assert round_view.consolidation_instance_id == opened.consolidation_instance_id
    _at(ctx, 2025, 6, 18, 10)
    _do(ctx, opened.reports[GT], "submit_report", {"content": "Kết quả tự kiểm tra", "report_document": "45/BC-SGTVT"})
    _at(ctx, 2025, 6, 20, 10)   # the deadline ended with Thu 19 Jun
    _do(ctx, opened.reports[XD], "submit_report", {"content": "Muộn", "report_document": "31/BC-SXD"})
    round_view, reports = report_queries.round_reports(ctx, "2025-Q2")
    assert (round_view.units, round_view.submitted, round_view.late) == (28, 2, 27)
    by_unit = {r.unit_code: r for r in reports}
    assert (by_unit[GT].state, by_unit[GT].report_document) == (ReportState.SUBMITTED, "45/BC-SGTVT")
    assert (by_unit[XD].state, by_unit[XD].content) == (ReportState.SUBMITTED_LATE, "Muộn")
    assert {r.state for code, r in by_unit.items() if code not in (GT, XD)} == {ReportState.OVERDUE}
    assert by_unit[GT].figures["overdue"] == 1 and by_unit[GT].instance_id == opened.reports[GT]
    _at(ctx, 2025, 6, 19, 9)     # the same round seen before the deadline: the missing ones are pending
    assert {r.state for r in report_queries.round_reports(ctx, "2025-Q2")[1]} >= {ReportState.PENDING}
    _at(ctx, 2025, 6, 23, 15)
    _do(ctx, opened.consolidation_instance_id, "consolidate", {"summary": "Tổng hợp Quý II"}, actor="cv.hoa")
    [round_view] = report_queries.list_rounds(ctx)
    assert (round_view.consolidated_by, round_view.consolidated_at, round_view.summary) == (
        "cv.hoa", datetime(2025, 6, 23, 15, tzinfo=TZ), "Tổng hợp Quý II")
    with pytest.raises(NotFound):
        report_queries.round_reports(ctx, "2025-Q3")


def test_the_worker_opens_the_rounds_of_the_chosen_cadences_once_after_the_cut_off(province):
    from engine.regulation import reporting_plan
    from engine.worktime.periods import Cadence

    _at(province, 2025, 6, 16, 9)
    assert reporting_plan.open_due_rounds(province) == []               # nothing chosen: nothing opens
    with pytest.raises(InvalidInput):
        reporting_plan.set_automatic_cadences(province, ["weekly"], actor="cv.hoa")
    reporting_plan.set_automatic_cadences(province, ["quarterly", "monthly"], actor="cv.hoa")
    assert reporting_plan.automatic_cadences(province) == {Cadence.MONTHLY, Cadence.QUARTERLY}
    opened = reporting_plan.open_due_rounds(province)
    assert sorted(r.period_key for r in opened) == ["2025-M06", "2025-Q2"]
    assert reporting_plan.open_due_rounds(province) == []               # once
    _at(province, 2025, 6, 25, 9)    # past June's deadline (19 Jun): the open rounds stay as they are
    assert reporting_plan.open_due_rounds(province) == []
    _at(province, 2025, 7, 15, 9)    # July's cut-off is over: July opens; Q3's cut-off is 14 Sep
    assert [r.period_key for r in reporting_plan.open_due_rounds(province)] == ["2025-M07"]
    with province.unit_of_work(readonly=True) as session:
        changes = session.scalars(select(AuditEntry).where(AuditEntry.action == "reporting_plan_changed")).all()
    assert [c.summary for c in changes] == [{"before": [], "after": ["monthly", "quarterly"]}]


def test_a_round_the_worker_could_not_open_in_time_is_left_to_the_office(province, caplog):
    from sqlalchemy import event

    from engine.regulation import reporting_plan

    reporting_plan.set_automatic_cadences(province, ["quarterly", "half_yearly"], actor="cv.hoa")
    _at(province, 2025, 6, 25, 9)    # the worker was down from the cut-off past the units' deadline
    statements = []
    listener = lambda conn, cursor, statement, *rest: statements.append(statement.strip().upper())  # noqa: E731
    event.listen(province.db.engine, "before_cursor_execute", listener)
    try:
        for _ in range(3):            # pass after pass: it only reads, and says nothing
            assert reporting_plan.open_due_rounds(province) == []
    finally:
        event.remove(province.db.engine, "before_cursor_execute", listener)
    assert statements and not [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE"))]
    assert not [r for r in caplog.records if "not opened" in r.getMessage()]
    assert _count(province, PeriodicReport) == 0
