"""Running instances of task_followup moved to a new version (tests/bpmn/versions_task_followup_v2.bpmn: an
Office leader's approval added before the confirmation, the confirmation renamed, the return-handling branch
removed): the preview says who can move and why not, applying moves those, they finish on the new version,
their timers are armed again and fire once, and every move is audited."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.core.audit import AuditEntry
from engine.core.errors import InvalidInput, NotFound
from engine.process import instance_migration, versions
from engine.process.tables import DefinitionVersion, InstanceStatus, ProcessInstance, WaitingTimer
from engine.process.timers import fire_due_timers
from engine.regulation.notifications import NotificationKind
from engine.regulation.records import Notification
from tests.helpers import BPMN, complete_step, ready_tasks

V2 = (BPMN / "versions_task_followup_v2.bpmn").read_bytes()
APPROVAL_FORM = json.dumps({"title": "Lãnh đạo Văn phòng duyệt", "x-title-en": "Office leader's approval",
                            "type": "object", "properties": {"approved": {"type": "boolean", "title": "Đồng ý"}},
                            "additionalProperties": False})
FORMS = {"task_followup.office_approval.schema.json": APPROVAL_FORM}


@pytest.fixture
def three(shipped, registered_task):
    """Three tasks on v1: one waiting for review, one accepted (work task and its two timers), one returned
    (waiting at handle_return, which v2 removes); then v2 deployed."""
    ctx = shipped
    waiting = registered_task(number_symbol="501/QĐ-UBND").instance_id
    working = registered_task(number_symbol="502/QĐ-UBND").instance_id
    complete_step(ctx, working, "review_receipt", {"decision": "accept"}, actor="dm.sotuphap")
    returned = registered_task(number_symbol="503/QĐ-UBND").instance_id
    complete_step(ctx, returned, "review_receipt", {"decision": "return", "return_reason": "Không đúng thẩm quyền"},
                  actor="dm.sotuphap")
    assert set(ready_tasks(ctx, returned)) == {"handle_return"}
    # Returned, then corrected by the Office: back at review_receipt, but its history names handle_return.
    corrected = registered_task(number_symbol="504/QĐ-UBND").instance_id
    complete_step(ctx, corrected, "review_receipt", {"decision": "return", "return_reason": "Sai nội dung"},
                  actor="dm.sotuphap")
    complete_step(ctx, corrected, "handle_return", {"action": "correct", "corrected_content": "Nội dung mới"},
                  actor="cv.hoa")
    assert set(ready_tasks(ctx, corrected)) == {"review_receipt"}
    v2 = versions.deploy_version(ctx, "task_followup", V2, FORMS, "Thêm bước Lãnh đạo Văn phòng duyệt", "pt.lan")
    assert v2.version == 2
    return ctx, waiting, working, returned, corrected


def _timers(ctx, instance_id):
    with ctx.unit_of_work(readonly=True) as session:
        return {t.bpmn_id: (t.task_id, t.due_at) for t in session.scalars(
            select(WaitingTimer).where(WaitingTimer.instance_id == instance_id))}


def _version_of(ctx, instance_id):
    with ctx.unit_of_work(readonly=True) as session:
        return session.scalar(select(DefinitionVersion.version).join(
            ProcessInstance, ProcessInstance.definition_id == DefinitionVersion.id)
            .where(ProcessInstance.id == instance_id))


def _audit(ctx, action):
    with ctx.unit_of_work(readonly=True) as session:
        return [(e.instance_id, e.actor, e.summary) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id))]


def test_the_preview_says_which_instances_can_move_and_names_the_removed_element(three):
    ctx, waiting, working, returned, corrected = three
    preview = {c.instance_id: c for c in instance_migration.migration_preview(ctx, "task_followup", 1, 2)}
    assert preview[waiting].can_move and preview[working].can_move
    assert set(preview) == {waiting, working, returned, corrected}
    assert [a.element_id for a in preview[working].at] == ["report_completion", "remind_deadline", "update_overdue"]
    stuck = preview[returned]
    assert not stuck.can_move
    assert [(o.element_id, o.reason) for o in stuck.obstacles] == [("handle_return", "removed")]
    assert "Xử lý nhiệm vụ bị trả lại" in instance_migration.reason_text(stuck.obstacles[0], "vi")
    assert "no longer has" in instance_migration.reason_text(stuck.obstacles[0], "en")
    assert {_version_of(ctx, i) for i in (waiting, working, returned)} == {1}  # the preview saved nothing


def test_applying_moves_those_that_can_and_they_finish_on_the_new_version(three):
    ctx, waiting, working, returned, corrected = three
    before = ready_tasks(ctx, waiting)["review_receipt"].task_id
    result = instance_migration.migrate(ctx, "task_followup", 1, 2, None, "pt.lan")
    assert result.moved == (waiting, working)
    assert [(c.instance_id, [o.element_id for o in c.obstacles]) for c in result.left] == [
        (returned, ["handle_return"]), (corrected, ["handle_return", "return_action", "correct", "corrected"])]
    assert (_version_of(ctx, waiting), _version_of(ctx, working), _version_of(ctx, returned)) == (2, 2, 1)
    assert ready_tasks(ctx, waiting)["review_receipt"].task_id == before  # same task: claims and links survive
    assert [(i, actor, s["from_version"], s["to_version"]) for i, actor, s in _audit(ctx, "instance_migrated")] == [
        (waiting, "pt.lan", 1, 2), (working, "pt.lan", 1, 2)]
    running = {v.version: v.running for v in versions.list_versions(ctx, "task_followup")}
    assert running == {2: 2, 1: 2}
    assert [r.id for r in instance_migration.running_instances(ctx, "task_followup", 1)] == [returned, corrected]

    # The moved instance reaches the step v2 added, then ends.
    complete_step(ctx, waiting, "review_receipt", {"decision": "accept"}, actor="dm.sotuphap")
    complete_step(ctx, waiting, "report_completion", {"result": "Xong", "report_document": "1/BC-STP",
                                                      "completed_on": "2025-04-25"}, actor="dm.sotuphap")
    assert set(ready_tasks(ctx, waiting)) == {"office_approval"}
    assert ready_tasks(ctx, waiting)["office_approval"].lane == "office_leader"
    complete_step(ctx, waiting, "office_approval", {"approved": True}, actor="ld.vanphong")
    assert ready_tasks(ctx, waiting)["confirm_completion"].name == "Kiểm tra, xác nhận kết quả hoàn thành"
    view = complete_step(ctx, waiting, "confirm_completion", {"decision": "confirm"}, actor="cv.hoa")
    assert view.status is InstanceStatus.COMPLETED

    # The one left behind still runs on v1.
    view = complete_step(ctx, returned, "handle_return", {"action": "cancel"}, actor="cv.hoa")
    assert view.status is InstanceStatus.COMPLETED


def test_a_moved_timer_is_armed_again_and_fires_once(three):
    ctx, _, working, *_ = three
    armed = _timers(ctx, working)
    assert set(armed) == {"remind_deadline", "update_overdue"}
    instance_migration.migrate(ctx, "task_followup", 1, 2, [working], "pt.lan")
    assert _timers(ctx, working) == armed  # same timers, due where their texts put them
    # A minute past the due time (at the very instant, fire_due_timers lists the timer without firing it:
    # SpiffWorkflow fires only strictly after its due time).
    # (The tasks still in review fire their own timers too: the deadline runs whatever the step.)
    ctx.clock.set(armed["remind_deadline"][1] + timedelta(minutes=1))
    assert [f for f in fire_due_timers(ctx).fired if f[0] == working] == [(working, "remind_deadline")]
    assert fire_due_timers(ctx).fired == []
    with ctx.unit_of_work(readonly=True) as session:
        reminders = session.scalars(select(Notification).where(
            Notification.kind == NotificationKind.DEADLINE_REMINDER, Notification.instance_id == working)).all()
    assert len(reminders) == 1
    ctx.clock.set(armed["update_overdue"][1] + timedelta(minutes=1))
    assert [f for f in fire_due_timers(ctx).fired if f[0] == working] == [(working, "update_overdue")]
    # The work task is still there, on v2: its report leads to the added approval.
    complete_step(ctx, working, "report_completion", {"result": "Xong", "report_document": "2/BC-STP",
                                                      "completed_on": "2025-06-02"}, actor="dm.sotuphap")
    assert set(ready_tasks(ctx, working)) == {"office_approval"}


def test_chosen_instances_only_and_refusals(three):
    ctx, waiting, working, returned, corrected = three
    result = instance_migration.migrate(ctx, "task_followup", 1, 2, [returned, waiting, 999_999], "pt.lan")
    assert result.moved == (waiting,)
    assert {c.instance_id: c.obstacles[0].reason for c in result.left} == {
        returned: "removed", 999_999: "not_on_version"}
    assert _version_of(ctx, working) == 1
    with pytest.raises(InvalidInput):
        instance_migration.migration_preview(ctx, "task_followup", 2, 2)
    with pytest.raises(NotFound):
        instance_migration.migration_preview(ctx, "task_followup", 1, 7)
    with pytest.raises(NotFound):
        instance_migration.migrate(ctx, "no_such_process", 1, 2, None, "pt.lan")
    # Back again: v1 has no office_approval, but an instance at review_receipt can go back.
    assert instance_migration.migrate(ctx, "task_followup", 2, 1, None, "pt.lan").moved == (waiting,)


def test_an_instance_that_went_through_a_removed_element_cannot_move(three):
    ctx, *_, corrected = three
    preview = {c.instance_id: c for c in instance_migration.migration_preview(ctx, "task_followup", 1, 2)}
    assert not preview[corrected].can_move
    assert {o.reason for o in preview[corrected].obstacles} == {"history_removed"}
    assert "handle_return" in {o.element_id for o in preview[corrected].obstacles}
    result = instance_migration.migrate(ctx, "task_followup", 1, 2, [corrected], "pt.lan")
    assert result.moved == () and _version_of(ctx, corrected) == 1
