"""The deadline runs from the assigning document whatever step the task is in (issue 13, item 1; Art. 8.1.a,
8.2.a): the reminder and the overdue notice reach a unit that never reviews the task, the Office is told when a
review passes its limit, nothing is sent twice for the same deadline, nothing while the task is back with the
Office, and a task without a deadline has no deadline timers. On the 2025 calendar through the fixed clock.
"""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from engine.process import instance_migration, rearm
from engine.process.definitions import deploy_bytes
from engine.process.tables import WaitingTimer
from engine.process.timers import fire_due_timers
from engine.regulation import calendar_admin, notifications, tracking, working_time
from engine.regulation.organisation import unit_by_code
from engine.regulation.records import Notification, TrackedTask
from engine.regulation.statistics import count_by_unit
from engine.regulation.tracking import DocumentInput, TaskInput
from tests.helpers import ROOT, TZ
from tests.helpers import complete_step as _do
from tests.helpers import notice_recipients as _notes
from tests.helpers import ready_tasks as _ready

DOC = DocumentInput(number_symbol="216/QĐ-UBND", issued_on=date(2025, 4, 18), doc_type="quyet_dinh",
                    issuer="UBND tỉnh Bến Tre", signer="Phó Chủ tịch UBND tỉnh", summary="Giao thông nông thôn")
LEAD = "so-giao-thong-van-tai"
# Deadline Wed 30 Apr 2025, a holiday: it ends with Mon 5 May. Reminder from 00:00 Mon 28 Apr (3 working days
# left: 28, 29 Apr, 5 May); overdue after the end of Tue 6 May (update_grace). Registered Mon 21 Apr 09:00:
# the review is due by the end of Wed 23 Apr (task_review, 2 working days).
WITH_DEADLINE = TaskInput(content="Khảo sát tuyến đường ĐX.07", lead_unit=LEAD, expected_output="Báo cáo khảo sát",
                          deadline=date(2025, 4, 30))
NO_DEADLINE = TaskInput(content="Theo dõi giải ngân vốn giao thông", lead_unit=LEAD, expected_output="Báo cáo",
                        update_cadence="monthly")
UNIT, OFFICE = (LEAD, "unit_focal_point"), ("vp-ubnd", "tracking_specialist")
SHIPPED = ROOT / "processes" / "task_followup.bpmn"
REPORT = {"result": "Đã khảo sát xong", "report_document": "95/BC-SGTVT", "completed_on": "2025-04-21"}


@pytest.fixture
def province(ctx, shipped):
    ctx.clock.set(datetime(2025, 4, 21, 9, 0, tzinfo=TZ))  # Monday
    return ctx


def _register(ctx, task=WITH_DEADLINE, number=DOC.number_symbol):
    document = DocumentInput(**{**DOC.__dict__, "number_symbol": number})
    registered = tracking.register_document(ctx, document, [task], actor="cv.hoa")
    return registered.instance_ids[0], registered.task_ids[0]


def _at(ctx, month, day, hour=8):
    ctx.clock.set(datetime(2025, month, day, hour, 0, tzinfo=TZ))


def _fired(ctx, instance):
    return [bpmn for fired_in, bpmn in fire_due_timers(ctx).fired if fired_in == instance]


def _timers(ctx, instance):
    with ctx.unit_of_work(readonly=True) as session:
        return {t.bpmn_id: t.due_at for t in session.scalars(
            select(WaitingTimer).where(WaitingTimer.instance_id == instance))}


def _overdue_count(ctx, at):
    with ctx.unit_of_work(readonly=True) as session:
        unit = unit_by_code(session, LEAD)
        return count_by_unit(session, [unit.id], date(2025, 4, 1), date(2025, 5, 31), at,
                             ctx.calendars.get(session), 3)[unit.id]["overdue"]


def test_a_task_never_reviewed_is_reminded_flagged_overdue_and_the_office_told_its_review_is_late(province):
    instance, task_id = _register(province)
    assert set(_timers(province, instance)) == {"review_remind_deadline", "review_overdue", "receipt_late"}
    _at(province, 4, 24)
    assert _fired(province, instance) == ["receipt_late"]
    assert _notes(province, "receipt_late") == [OFFICE]
    with province.unit_of_work(readonly=True) as session:
        late = session.scalars(select(Notification).where(Notification.kind == "receipt_late")).one()
        assert (late.task_id, late.instance_id) == (task_id, instance)   # the notice links to the task
        params = late.params
    title, body = notifications.rendered("receipt_late", late.title, late.body, params, "vi")
    assert title == "Sở Giao thông vận tải chưa rà soát, tiếp nhận nhiệm vụ đúng hạn: Khảo sát tuyến đường ĐX.07"
    assert body == "Hạn rà soát, tiếp nhận: hết ngày 23/04/2025"
    assert notifications.rendered("receipt_late", late.title, late.body, params, "en")[0] == (
        "Sở Giao thông vận tải has not reviewed the task in time: Khảo sát tuyến đường ĐX.07")
    _at(province, 4, 28)
    assert _fired(province, instance) == ["review_remind_deadline"]
    assert _notes(province, "deadline_reminder") == [UNIT]
    assert _overdue_count(province, province.now()) == 0
    _at(province, 5, 7)
    assert _fired(province, instance) == ["review_overdue"]
    assert _notes(province, "overdue") == [UNIT, OFFICE]
    assert _overdue_count(province, province.now()) == 1   # Quá hạn, still waiting for its review
    assert set(_ready(province, instance)) == {"review_receipt"}
    assert fire_due_timers(province).fired == []
    assert _notes(province, "receipt_late") == [OFFICE]   # once
    with province.unit_of_work(readonly=True) as session:
        row = session.get(TrackedTask, task_id)
        assert (row.deadline_reminded_for, row.overdue_flagged_for) == (date(2025, 4, 30), date(2025, 4, 30))


def test_a_task_accepted_after_the_reminder_instant_is_not_reminded_twice(province):
    instance, _ = _register(province)
    _at(province, 4, 28)
    assert sorted(_fired(province, instance)) == ["receipt_late", "review_remind_deadline"]
    # Accepted now: the work step's reminder, already past, fires within the acceptance and sends nothing.
    _do(province, instance, "review_receipt", {"decision": "accept"}, actor="dm.sogtvt")
    assert "remind_deadline" not in _timers(province, instance)
    assert _notes(province, "deadline_reminder") == [UNIT]
    _at(province, 5, 7)
    assert _fired(province, instance) == ["update_overdue"]
    assert _notes(province, "overdue") == [UNIT, OFFICE]
    assert fire_due_timers(province).fired == []


def test_a_task_returned_is_not_reminded_nor_flagged_while_the_office_holds_it(province):
    instance, _ = _register(province)
    _do(province, instance, "review_receipt", {"decision": "return", "return_reason": "Không thuộc chức năng"})
    assert set(_ready(province, instance)) == {"handle_return"} and _timers(province, instance) == {}
    _at(province, 5, 7)
    assert _fired(province, instance) == []
    assert (_notes(province, "deadline_reminder"), _notes(province, "overdue"), _notes(province, "receipt_late")) \
        == ([], [], [])
    # Given back, corrected: the deadline has passed, so it is flagged at once (no "deadline near" after
    # it); its review limit counts from now, 2 working days: Thu 8 and Fri 9 May.
    _do(province, instance, "handle_return", {"action": "correct", "corrected_content": "Khảo sát tuyến ĐX.07"},
        actor="cv.hoa")
    review = _ready(province, instance)["review_receipt"]
    assert review.due_at == datetime(2025, 5, 10, tzinfo=TZ)
    assert _timers(province, instance) == {"receipt_late": datetime(2025, 5, 10, tzinfo=TZ)}
    assert (_notes(province, "deadline_reminder"), _notes(province, "overdue")) == ([], [UNIT, OFFICE])
    _at(province, 5, 12)
    assert _fired(province, instance) == ["receipt_late"]
    assert _notes(province, "receipt_late") == [OFFICE]


def test_a_report_sent_back_after_the_deadline_is_flagged_overdue_once(province):
    instance, _ = _register(province)
    _do(province, instance, "review_receipt", {"decision": "accept"})
    _at(province, 4, 22)  # reported the day it was done (a completion date after today is refused)
    _do(province, instance, "report_completion", REPORT)
    _at(province, 5, 7)   # past the deadline while the Office confirms: the unit reported, nothing is flagged
    assert _fired(province, instance) == [] and _timers(province, instance) == {}
    assert _notes(province, "overdue") == []
    _do(province, instance, "confirm_completion", {"decision": "send_back", "reason": "Thiếu số liệu"})
    assert _notes(province, "overdue") == [UNIT, OFFICE]
    assert _notes(province, "deadline_reminder") == []   # no "deadline near" after the deadline
    _do(province, instance, "report_completion", dict(REPORT, completed_on="2025-05-07"))
    _do(province, instance, "confirm_completion", {"decision": "send_back", "reason": "Vẫn thiếu"})
    assert fire_due_timers(province).fired == []
    assert _notes(province, "overdue") == [UNIT, OFFICE]   # once for this deadline


def test_a_task_without_a_deadline_has_no_deadline_timers(province):
    instance, _ = _register(province, NO_DEADLINE)
    assert set(_ready(province, instance)) == {"review_receipt_open"}
    assert set(_timers(province, instance)) == {"receipt_late_open"}   # only its review limit
    _at(province, 4, 24)
    assert _fired(province, instance) == ["receipt_late_open"]
    assert _notes(province, "receipt_late") == [OFFICE]
    _do(province, instance, "review_receipt_open", {"decision": "accept"})
    assert set(_ready(province, instance)) == {"report_completion_open"} and _timers(province, instance) == {}
    _at(province, 12, 31)
    assert _fired(province, instance) == []
    assert (_notes(province, "deadline_reminder"), _notes(province, "overdue")) == ([], [])


def test_a_changed_setting_moves_the_review_timers_of_running_tasks(province):
    instance, _ = _register(province)
    moves = {(m.kind, m.bpmn_id): (m.old_due, m.new_due) for m in working_time.preview_change(
        province, "deadline_reminder", 4)}
    # 4 working days left from 00:00 Sat 26 Apr, a make-up working day (26, 28, 29 Apr and 5 May).
    assert moves == {("timer", "review_remind_deadline"): (datetime(2025, 4, 28, tzinfo=TZ),
                                                           datetime(2025, 4, 26, tzinfo=TZ))}
    assert [i.bpmn_id for i in rearm.preview(province, "deadline_reminder")] == ["review_remind_deadline"]
    working_time.change(province, "task_review", 3, None, "Quy chế sửa đổi", True, "admin")
    assert _timers(province, instance)["receipt_late"] == datetime(2025, 4, 25, tzinfo=TZ)
    assert _ready(province, instance)["review_receipt"].due_at == datetime(2025, 4, 25, tzinfo=TZ)


def test_a_calendar_change_moves_the_review_limit_and_its_timer(province):
    instance, _ = _register(province)
    calendar_admin.add(province, date(2025, 4, 22), "day_off", "Nghỉ bù", "QĐ 1/2025", True, "admin")
    # Tue 22 Apr off: the 2 working days are Wed 23 and Thu 24 Apr.
    assert _timers(province, instance)["receipt_late"] == datetime(2025, 4, 25, tzinfo=TZ)
    assert _ready(province, instance)["review_receipt"].due_at == datetime(2025, 4, 25, tzinfo=TZ)


@pytest.fixture
def two_versions(ctx, deploy):
    """task_followup as shipped before this change (v1), tasks started on it, then the shipped diagram (v2)."""
    ctx.clock.set(datetime(2025, 4, 21, 9, 0, tzinfo=TZ))
    assert deploy("task_followup_before_issue13.bpmn")[0].version == 1
    started = {name: _register(ctx, task, f"{number}/QĐ-UBND") for name, task, number in (
        ("waiting", WITH_DEADLINE, 301), ("open", NO_DEADLINE, 302), ("working", WITH_DEADLINE, 303))}
    _do(ctx, started["working"][0], "review_receipt", {"decision": "accept"})
    assert deploy_bytes(ctx, SHIPPED.read_bytes(), SHIPPED.name, "pt.lan")[0].version == 2
    return ctx, {name: instance for name, (instance, _) in started.items()}


def test_tasks_on_the_version_before_keep_working_and_are_told_once(two_versions):
    ctx, started = two_versions
    _at(ctx, 5, 7)   # past every instant: the old version times only its work step
    fired = fire_due_timers(ctx).fired
    assert sorted(fired) == sorted([(started["working"], "remind_deadline"), (started["working"], "update_overdue")])
    assert (_notes(ctx, "deadline_reminder"), _notes(ctx, "overdue")) == ([], [UNIT, OFFICE])  # "near" too late
    _do(ctx, started["working"], "report_completion", dict(REPORT, completed_on="2025-05-07"))
    _do(ctx, started["working"], "confirm_completion", {"decision": "send_back", "reason": "Thiếu số liệu"})
    _do(ctx, started["waiting"], "review_receipt", {"decision": "accept"})   # flagged at once, on v1
    assert _notes(ctx, "overdue") == [UNIT, OFFICE, UNIT, OFFICE]
    _do(ctx, started["open"], "review_receipt", {"decision": "accept"})
    assert set(_ready(ctx, started["open"])) == {"report_completion_open"}


def test_a_task_waiting_for_a_step_that_gained_timers_cannot_be_moved_to_the_new_version(two_versions):
    # SpiffWorkflow enters a step with boundary events through a split: a task that waited without them
    # would fail when completed on the new version, so the preview refuses it, naming the new timers.
    ctx, started = two_versions
    preview = {c.instance_id: c for c in instance_migration.migration_preview(ctx, "task_followup", 1, 2)}
    assert preview[started["working"]].can_move   # its work step kept its two timers
    waiting = preview[started["waiting"]]
    assert not waiting.can_move
    assert [(o.element_id, o.reason, o.detail) for o in waiting.obstacles] == [
        ("review_receipt", "boundary_changed", "receipt_late, review_overdue, review_remind_deadline")]
    assert "có sự kiện biên khác trong phiên bản đích" in instance_migration.reason_text(waiting.obstacles[0], "vi")
    moved = instance_migration.migrate(ctx, "task_followup", 1, 2, [started["waiting"], started["working"]], "pt.lan")
    assert moved.moved == (started["working"],)
    _at(ctx, 5, 7)
    assert sorted(b for _, b in fire_due_timers(ctx).fired) == ["remind_deadline", "update_overdue"]
    _do(ctx, started["waiting"], "review_receipt", {"decision": "accept"})   # still on v1: it goes on there
    assert _notes(ctx, "overdue") == [UNIT, OFFICE, UNIT, OFFICE]   # once for each task
