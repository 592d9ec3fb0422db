"""The regulation's procedures end to end, one test per clause, on real dates through the clock.

Everything goes through the use cases (register a document, complete tasks with their forms,
fire timers and schedules); assertions read the records, the ready tasks, the notifications
and the audit log.
"""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from engine.bpmn.forms import FormInvalid
from engine.core.audit import AuditEntry
from engine.process import instances
from engine.process.schedules import fire_due_schedules
from engine.process.tables import ProcessInstance, Schedule
from engine.process.timers import fire_due_timers
from engine.regulation import tracking
from engine.regulation.records import (
    Direction,
    Document,
    Feedback,
    ProgressUpdate,
    TaskStatus,
    TrackedTask,
    UrgingDocument,
)
from engine.regulation.tracking import ClassifiedDocumentRefused, DocumentInput, TaskInput
from tests.helpers import TZ
from tests.helpers import complete_step as _do
from tests.helpers import count_rows as _count
from tests.helpers import notice_recipients as _notes
from tests.helpers import ready_tasks as _ready

DOC = DocumentInput(number_symbol="215/QĐ-UBND", issued_on=date(2025, 4, 18), doc_type="quyet_dinh",
                    issuer="UBND tỉnh Bến Tre", signer="Phó Chủ tịch UBND tỉnh",
                    summary="Triển khai dự án cải tạo hạ tầng giao thông nông thôn")


@pytest.fixture
def province(ctx, shipped):
    ctx.clock.set(datetime(2025, 4, 21, 9, 0, tzinfo=TZ))  # Monday
    return ctx


def _register(ctx, *tasks, document=DOC):
    return tracking.register_document(ctx, document, list(tasks), actor="cv.hoa")


def _task(ctx, task_id):
    with ctx.unit_of_work(readonly=True) as session:
        return session.get(TrackedTask, task_id)


def _audit(ctx, instance_id):
    with ctx.unit_of_work(readonly=True) as session:
        return [(e.action, e.bpmn_id, e.actor) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.instance_id == instance_id).order_by(AuditEntry.id))]


WITH_DEADLINE = TaskInput(content="Hoàn thành khảo sát tuyến đường ĐX.05", lead_unit="so-giao-thong-van-tai",
                          expected_output="Báo cáo khảo sát", deadline=date(2025, 4, 30),
                          coordinators=("so-tai-chinh",))
NO_DEADLINE = TaskInput(content="Theo dõi tiến độ giải ngân vốn đầu tư công", lead_unit="so-ke-hoach-dau-tu",
                        expected_output="Báo cáo định kỳ", update_cadence="monthly")


def test_a_classified_document_is_refused_and_nothing_of_it_is_stored(province):
    secret = DocumentInput(**{**DOC.__dict__, "classification": "Mật"})
    with pytest.raises(ClassifiedDocumentRefused, match="độ mật"):
        _register(province, WITH_DEADLINE, document=secret)
    assert (_count(province, Document), _count(province, TrackedTask), _count(province, ProcessInstance)) == (0, 0, 0)


def test_registering_assigns_each_task_to_its_lead_unit_with_a_review_deadline(province):
    registered = _register(province, WITH_DEADLINE, NO_DEADLINE)
    assert len(registered.task_ids) == 2
    review = _ready(province, registered.instance_ids[0])["review_receipt"]
    assert review.assignee == "so-giao-thong-van-tai" and review.lane == "unit_focal_point"
    assert review.due_at == datetime(2025, 4, 24, tzinfo=TZ)  # 2 working days: Tue 22, Wed 23 Apr
    assert ("so-giao-thong-van-tai", "unit_focal_point") in _notes(province, "task_ready")
    assert _task(province, registered.task_ids[1]).status is TaskStatus.NO_DEADLINE


@pytest.mark.parametrize("bad, field", [
    ({"number_symbol": "215"}, "Số, ký hiệu: "), ({"doc_type": "nghi_quyet"}, "Loại văn bản: "),
    ({"summary": " "}, "Trích yếu: ")])  # named by its label, as the person filling the form knows it
def test_a_malformed_document_is_refused_naming_the_field(province, bad, field):
    with pytest.raises(Exception, match=field):
        _register(province, WITH_DEADLINE, document=DocumentInput(**{**DOC.__dict__, **bad}))
    assert _count(province, Document) == 0


def test_art_8_2_a_return_needs_a_reason_and_the_office_reroutes(province):
    registered = _register(province, WITH_DEADLINE)
    instance = registered.instance_ids[0]
    with pytest.raises(FormInvalid) as refused:
        _do(province, instance, "review_receipt", {"decision": "return"})
    assert "return_reason" in refused.value.errors
    assert _task(province, registered.task_ids[0]).status is TaskStatus.IN_PROGRESS
    _do(province, instance, "review_receipt", {"decision": "return", "return_reason": "Không thuộc chức năng của Sở"})
    assert _task(province, registered.task_ids[0]).status is TaskStatus.RETURNED
    assert ("vp-ubnd", "tracking_specialist") in _notes(province, "task_returned")
    _do(province, instance, "handle_return", {"action": "reroute", "new_lead_unit": "so-xay-dung"}, actor="cv.hoa")
    assert ("complete_task", "handle_return", "cv.hoa") in _audit(province, instance)
    review = _ready(province, instance)["review_receipt"]
    assert review.assignee == "so-xay-dung"
    task = _task(province, registered.task_ids[0])
    assert task.status is TaskStatus.IN_PROGRESS
    with province.unit_of_work(readonly=True) as session:
        from engine.regulation.organisation import Unit
        assert session.get(Unit, task.lead_unit_id).code == "so-xay-dung"


def test_art_8_2_a_the_office_may_cancel_a_returned_task(province):
    registered = _register(province, WITH_DEADLINE)
    instance = registered.instance_ids[0]
    _do(province, instance, "review_receipt", {"decision": "return", "return_reason": "Trùng với nhiệm vụ đã giao"})
    _do(province, instance, "handle_return", {"action": "cancel"})
    assert _task(province, registered.task_ids[0]).status is TaskStatus.CANCELLED
    assert instances.get_instance(province, instance).status.value == "completed"


def test_art_8_1_a_reminder_overdue_and_a_late_completion(province):
    registered = _register(province, WITH_DEADLINE)
    instance, task_id = registered.instance_ids[0], registered.task_ids[0]
    _do(province, instance, "review_receipt", {"decision": "accept"})
    work = _ready(province, instance)["report_completion"]
    # Deadline Wed 30 Apr 2025 is a holiday: it ends with Mon 5 May; 1 working day later is Tue 6 May.
    assert work.due_at == datetime(2025, 5, 7, tzinfo=TZ)
    province.clock.set(datetime(2025, 4, 28, 8, 0, tzinfo=TZ))  # 3 working days left: 28, 29 Apr, 5 May
    assert [b for _, b in fire_due_timers(province).fired] == ["remind_deadline"]
    assert ("so-giao-thong-van-tai", "unit_focal_point") in _notes(province, "deadline_reminder")
    province.clock.set(datetime(2025, 5, 7, 8, 0, tzinfo=TZ))
    assert [b for _, b in fire_due_timers(province).fired] == ["update_overdue"]
    assert _notes(province, "overdue") == [("so-giao-thong-van-tai", "unit_focal_point"),
                                           ("vp-ubnd", "tracking_specialist")]
    _do(province, instance, "report_completion",
        {"result": "Đã hoàn thành khảo sát", "report_document": "88/BC-SGTVT", "completed_on": "2025-05-07"})
    assert _task(province, task_id).status is TaskStatus.AWAITING_CONFIRMATION
    _do(province, instance, "confirm_completion", {"decision": "confirm"}, actor="cv.hoa")
    assert _task(province, task_id).status is TaskStatus.COMPLETED_LATE
    assert _count(province, ProgressUpdate) == 1
    assert [(a, b) for a, b, _ in _audit(province, instance)] == [
        ("start", None), ("complete_task", "review_receipt"), ("timer_fired", None), ("timer_fired", None),
        ("complete_task", "report_completion"), ("complete_task", "confirm_completion")]
    assert _audit(province, instance)[-1][2] == "cv.hoa"


def test_completion_on_time_after_a_send_back(province):
    registered = _register(province, WITH_DEADLINE)
    instance, task_id = registered.instance_ids[0], registered.task_ids[0]
    _do(province, instance, "review_receipt", {"decision": "accept"})
    report = {"result": "Xong", "report_document": "80/BC-SGTVT", "completed_on": "2025-04-25"}
    province.clock.set(datetime(2025, 4, 25, 16, 0, tzinfo=TZ))  # reported on the day it was done, not before
    _do(province, instance, "report_completion", report)
    _do(province, instance, "confirm_completion", {"decision": "send_back", "reason": "Thiếu phụ lục số liệu"})
    assert _task(province, task_id).status is TaskStatus.IN_PROGRESS
    assert ("so-giao-thong-van-tai", "unit_focal_point") in _notes(province, "sent_back")
    province.clock.set(datetime(2025, 4, 29, 16, 0, tzinfo=TZ))
    _do(province, instance, "report_completion", dict(report, completed_on="2025-04-29"))
    _do(province, instance, "confirm_completion", {"decision": "confirm"})
    assert _task(province, task_id).status is TaskStatus.COMPLETED_ON_TIME


def test_a_send_back_after_the_deadline_does_not_repeat_the_reminder_or_the_overdue_notice(province):
    registered = _register(province, WITH_DEADLINE)
    instance = registered.instance_ids[0]
    _do(province, instance, "review_receipt", {"decision": "accept"})
    province.clock.set(datetime(2025, 5, 7, 8, 0, tzinfo=TZ))   # past the reminder and the overdue time
    assert sorted(b for _, b in fire_due_timers(province).fired) == ["remind_deadline", "update_overdue"]
    sent = (_notes(province, "deadline_reminder"), _notes(province, "overdue"))
    _do(province, instance, "report_completion", {"result": "Xong", "report_document": "90/BC-SGTVT",
                                                  "completed_on": "2025-05-07"})
    _do(province, instance, "confirm_completion", {"decision": "send_back", "reason": "Thiếu số liệu"})
    # Back at work, both timers are armed again, already past, and fire within the send-back
    # step; the unit and the Office were told once about this deadline and are not told again.
    fire_due_timers(province)
    assert (_notes(province, "deadline_reminder"), _notes(province, "overdue")) == sent
    assert "report_completion" in _ready(province, instance)


def test_a_report_sent_back_after_the_deadline_gets_no_late_reminder(province):
    registered = _register(province, WITH_DEADLINE)
    instance = registered.instance_ids[0]
    _do(province, instance, "review_receipt", {"decision": "accept"})
    province.clock.set(datetime(2025, 4, 22, 16, 0, tzinfo=TZ))
    _do(province, instance, "report_completion", {"result": "Xong", "report_document": "91/BC-SGTVT",
                                                  "completed_on": "2025-04-22"})   # before any reminder
    province.clock.set(datetime(2025, 5, 6, 9, 0, tzinfo=TZ))   # the deadline (30 Apr, a holiday) ended with 5 May
    _do(province, instance, "confirm_completion", {"decision": "send_back", "reason": "Thiếu số liệu"})
    fire_due_timers(province)
    assert _notes(province, "deadline_reminder") == []
    assert "report_completion" in _ready(province, instance)


def test_art_10_2_b_coordinating_units_supply_information_to_the_lead_unit(province):
    registered = _register(province, WITH_DEADLINE)
    _do(province, registered.instance_ids[0], "review_receipt", {"decision": "accept"})
    with province.unit_of_work(readonly=True) as session:
        child = session.scalar(select(ProcessInstance.id).where(ProcessInstance.process_id == "coordinator_input"))
    ask = _ready(province, child)["provide_input"]
    # 5 working days from Mon 21 Apr: 22, 23, 24, 25 and the make-up Saturday 26 Apr.
    assert ask.assignee == "so-tai-chinh" and ask.due_at == datetime(2025, 4, 27, tzinfo=TZ)
    _do(province, child, "provide_input", {"content": "Nguồn vốn đã bố trí 12 tỷ đồng"})
    assert ("so-giao-thong-van-tai", "unit_focal_point") in _notes(province, "coordinator_input")
    with province.unit_of_work(readonly=True) as session:
        assert session.scalar(select(ProgressUpdate.state)) == "input"
    assert [(a, b) for a, b, _ in _audit(province, child)] == [("start", None), ("complete_task", "provide_input")]


def test_art_8_1_b_a_task_without_deadline_is_updated_monthly_and_on_request(province):
    registered = _register(province, NO_DEADLINE)
    instance, task_id = registered.instance_ids[0], registered.task_ids[0]
    _do(province, instance, "review_receipt_open", {"decision": "accept"})
    started = fire_due_schedules(province)  # April's period has begun
    assert [v.next_tasks[0].bpmn_id for _, v in started] == ["update_progress"]
    april = started[0][1]
    # April 2025 ends Wed 30 Apr (holiday) -> end of Mon 5 May, + 1 working day (update_grace).
    assert april.next_tasks[0].due_at == datetime(2025, 5, 7, tzinfo=TZ)
    _do(province, april.id, "update_progress", {"state": "in_progress", "work_done": "Giải ngân 40%"})
    province.clock.set(datetime(2025, 5, 1, 8, 0, tzinfo=TZ))
    assert len(fire_due_schedules(province)) == 1  # May
    adhoc = tracking.request_update(province, task_id, "Báo cáo gấp phục vụ họp UBND", actor="cv.hoa")
    # 3 working days from Thu 1 May (2-4 May off): 5, 6 and 7 May.
    assert _ready(province, adhoc)["update_progress"].due_at == datetime(2025, 5, 8, tzinfo=TZ)
    _do(province, adhoc, "update_progress", {"state": "blocked", "work_done": "Chậm", "difficulties": "Thiếu vốn"})
    with province.unit_of_work(readonly=True) as session:
        keys = list(session.scalars(select(ProgressUpdate.period_key).order_by(ProgressUpdate.id)))
    assert keys == ["2025-M04", None]
    province.clock.set(datetime(2025, 5, 5, 9, 0, tzinfo=TZ))  # reported after the holidays, done on 2 May
    _do(province, instance, "report_completion_open", {"result": "Đã giải ngân", "report_document": "1/BC-SKHDT",
                                                       "completed_on": "2025-05-02"})
    _do(province, instance, "confirm_completion", {"decision": "confirm"})
    assert _task(province, task_id).status is TaskStatus.COMPLETED_NO_DEADLINE
    with province.unit_of_work(readonly=True) as session:
        assert session.scalar(select(Schedule.active)) is False
    assert [b for a, b, _ in _audit(province, april.id) if a == "complete_task"] == ["update_progress"]
    assert _audit(province, adhoc)[0][2] == "cv.hoa"  # the Office's request is on record


def _feedback(province):
    registered = _register(province, WITH_DEADLINE)
    _do(province, registered.instance_ids[0], "review_receipt", {"decision": "accept"})
    province.clock.set(datetime(2025, 4, 25, 16, 0, tzinfo=TZ))
    feedback_id = tracking.file_feedback(province, registered.task_ids[0], "huyen-ba-tri",
                                         "Sở chậm khảo sát, ảnh hưởng tiến độ của huyện", actor="dm.batri")
    with province.unit_of_work(readonly=True) as session:
        instance = session.get(Feedback, feedback_id).instance_id
    return registered.task_ids[0], feedback_id, instance


def test_art_15_5_urging_within_seven_working_days_copies_the_provider(province):
    task_id, feedback_id, instance = _feedback(province)
    check = _ready(province, instance)["check_feedback"]
    assert check.due_at == datetime(2025, 5, 9, tzinfo=TZ) and check.lane == "tracking_specialist"
    _do(province, instance, "check_feedback", {"decision": "urge", "assessment": "Phản ánh đúng"})
    with pytest.raises(FormInvalid) as refused:
        _do(province, instance, "issue_urging", {"number_symbol": "đôn đốc", "issued_on": "2025-04-28", "summary": "x"})
    assert "number_symbol" in refused.value.errors
    _do(province, instance, "issue_urging", {"number_symbol": "1520/VP-UBND", "issued_on": "28/04/2025",
                                             "summary": "Đôn đốc Sở GTVT hoàn thành khảo sát"})
    with province.unit_of_work(readonly=True) as session:
        urging = session.scalar(select(UrgingDocument))
        feedback = session.get(Feedback, feedback_id)
    assert (urging.number_symbol, urging.issued_on) == ("1520/VP-UBND", date(2025, 4, 28))
    assert feedback.outcome == "urge" and feedback.closed_at is not None
    assert _task(province, task_id).urge_count == 1
    assert _notes(province, "urging") == [("so-giao-thong-van-tai", "unit_focal_point")]
    assert _notes(province, "urging_copy") == [("huyen-ba-tri", "unit_focal_point")]
    steps = [b for a, b, _ in _audit(province, instance) if a == "complete_task"]
    assert steps == ["check_feedback", "issue_urging"]  # the refused form left no trace


def test_art_15_5_asking_the_leadership_then_notifying_the_direction(province):
    _, feedback_id, instance = _feedback(province)
    _do(province, instance, "check_feedback", {"decision": "ask_direction", "assessment": "Cần ý kiến lãnh đạo"})
    ask = _ready(province, instance)["ask_direction"]
    assert ask.lane == "office_leader"
    _do(province, instance, "ask_direction", {"direction_route": "ask_ppc", "request": "Báo cáo, xin ý kiến"},
        actor="ld.vanphong")
    assert _ready(province, instance)["give_direction"].lane == "ppc_leader"  # tests/test_ppc_direction.py
    _do(province, instance, "give_direction", {"direction": "Giao Sở GTVT hoàn thành trước 15/5/2025"},
        actor="ld.ubndtinh")
    _do(province, instance, "notify_direction", {"notice_number": "210/TB-VPUBND", "issued_on": "2025-04-30"})
    with province.unit_of_work(readonly=True) as session:
        direction = session.scalar(select(Direction))
    assert direction.notice_number == "210/TB-VPUBND" and "15/5/2025" in direction.content
    assert (direction.given_by, direction.outside_system) == ("Võ Văn Thành", False)
    assert _notes(province, "direction_copy") == [("huyen-ba-tri", "unit_focal_point")]


def test_art_16_4_unfounded_feedback_is_answered_to_the_provider(province):
    task_id, feedback_id, instance = _feedback(province)
    _do(province, instance, "check_feedback", {"decision": "unfounded", "assessment": "Sở đang đúng tiến độ"})
    _do(province, instance, "answer_unfounded", {"answer": "Sở GTVT đang thực hiện đúng thời hạn"})
    assert _notes(province, "feedback_answer") == [("huyen-ba-tri", "unit_focal_point")]
    assert _task(province, task_id).urge_count == 0
    assert [b for a, b, _ in _audit(province, instance) if a == "complete_task"] == [
        "check_feedback", "answer_unfounded"]


def test_the_office_limit_passing_escalates_to_the_office_leader(province):
    _, _, instance = _feedback(province)
    province.clock.set(datetime(2025, 5, 9, 8, 0, tzinfo=TZ))
    fired = sorted(b for i, b in fire_due_timers(province).fired if i == instance)
    assert fired == ["limit_exceeded", "remind_office"]
    assert _notes(province, "feedback_overdue") == [("vp-ubnd", "office_leader")]
    assert _notes(province, "feedback_reminder") == [("vp-ubnd", "tracking_specialist")]
    assert set(_ready(province, instance)) == {"check_feedback", "handle_overdue"}
    with province.unit_of_work(readonly=True) as session:
        fired_here = select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "timer_fired", AuditEntry.instance_id == instance)
        assert session.scalar(fired_here) == 1  # both due timers fired in one step


def test_a_district_delegates_parts_to_its_communes_and_follows_them(province):
    from engine.regulation import access, notifications, organisation
    from engine.regulation.tracking import DelegatedPart

    district_task = TaskInput(content="Rà soát hộ nghèo năm 2025", lead_unit="huyen-ba-tri",
                              expected_output="Danh sách hộ nghèo", deadline=date(2025, 6, 30))
    registered = _register(province, district_task)
    task_id, instance = registered.task_ids[0], registered.instance_ids[0]
    _do(province, instance, "review_receipt", {"decision": "accept"})
    with pytest.raises(Exception, match="không trực thuộc"):
        tracking.delegate(province, task_id, "huyen-ba-tri",
                          [DelegatedPart("phuong-7-tp-ben-tre", "x", date(2025, 6, 1))], "dm.batri")
    with pytest.raises(Exception, match="thời hạn"):
        tracking.delegate(province, task_id, "huyen-ba-tri", [DelegatedPart("tt-ba-tri", "x", date(2025, 7, 15))],
                          "dm.batri")
    with pytest.raises(Exception, match="chủ trì"):
        tracking.delegate(province, task_id, "so-tu-phap", [DelegatedPart("tt-ba-tri", "x", date(2025, 6, 1))],
                          "dm.sotuphap")
    children = tracking.delegate(province, task_id, "huyen-ba-tri", [
        DelegatedPart("tt-ba-tri", "Rà soát tại thị trấn", date(2025, 6, 15)),
        DelegatedPart("xa-tan-xuan-ba-tri", "Rà soát tại xã Tân Xuân", date(2025, 6, 15))], "dm.batri")
    child_instance = _task(province, children[0]).instance_id
    with province.unit_of_work(readonly=True) as session:
        assert session.get(ProcessInstance, child_instance).parent_id == instance
        commune = organisation.user_by_username(session, "dm.ttbatri")
        district = organisation.user_by_username(session, "dm.batri")
    assert _ready(province, child_instance)["review_receipt"].assignee == "tt-ba-tri"
    mine = notifications.for_actor(province, access.actor_named(province, commune.username))
    assert [n.kind for n in mine] == ["task_ready"]
    _do(province, child_instance, "review_receipt", {"decision": "accept"})
    province.clock.set(datetime(2025, 6, 10, 16, 0, tzinfo=TZ))
    _do(province, child_instance, "report_completion",
        {"result": "Đã rà soát 120 hộ", "report_document": "15/BC-UBND", "completed_on": "2025-06-10"})
    confirm = _ready(province, child_instance)["confirm_completion"]
    assert confirm.assignee == "huyen-ba-tri"  # the district follows its commune's part, not the Office
    district_roles = organisation.effective_roles(district)
    assert "tracking_specialist" in district_roles
    district_actor = access.actor_named(province, district.username)
    unread = notifications.unread_count(province, district_actor)
    assert unread >= 1
    _do(province, child_instance, "confirm_completion", {"decision": "confirm"})
    assert tracking.rollup(province, task_id) == {"completed_on_time": 1, "in_progress": 1}
    ids = [n.id for n in notifications.for_actor(province, district_actor)]
    assert notifications.mark_read(province, district_actor, ids + [10**6]) == len(ids)
    assert notifications.unread_count(province, district_actor) == 0
    with province.unit_of_work(readonly=True) as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.instance_id == instance)))
    assert "task_delegated" in actions
