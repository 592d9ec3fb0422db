"""Timer settings from the admin console: list, preview of the running work a value moves, change with a
reason applied to running instances or only to new ones, history; through the engine and the JSON API."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine.core.audit import AuditEntry
from engine.process import instances
from engine.process.tables import ReadyTask, WaitingTimer
from engine.regulation import api_tokens, working_time
from tests.helpers import TZ

RECEIVED = datetime(2025, 4, 25, 16, 0, tzinfo=TZ)  # Fri; Sat 26 Apr is a make-up day, 30/4-2/5 off
OFFICE = "Văn phòng UBND tỉnh"


def _local(year, month, day):
    return datetime(year, month, day, tzinfo=TZ)


@pytest.fixture
def feedback(shipped):
    shipped.clock.set(RECEIVED)
    started = instances.start_instance(shipped, "feedback_followup", {"received_at": RECEIVED.isoformat()})
    shipped.clock.set(datetime(2025, 4, 29, 9, 0, tzinfo=TZ))
    return started.id


@pytest.fixture
def api(app, shipped):
    tokens = {u: api_tokens.issue(shipped, u, "console", "admin").token for u in ("admin", "cv.hoa", "dm.sotuphap")}

    def call(method, path, user="admin", **kwargs):
        return app.test_client().open(path, method=method, headers={"Authorization": f"Bearer {tokens[user]}"},
                                      **kwargs)

    return call


def _due_dates(ctx, instance_id):
    with ctx.unit_of_work(readonly=True) as session:
        timers = {t.bpmn_id: t.due_at for t in session.scalars(
            select(WaitingTimer).where(WaitingTimer.instance_id == instance_id))}
        tasks = {t.bpmn_id: t.due_at for t in session.scalars(
            select(ReadyTask).where(ReadyTask.instance_id == instance_id))}
    return timers, tasks


BEFORE = ({"remind_office": _local(2025, 5, 7), "limit_exceeded": _local(2025, 5, 9)},
          {"check_feedback": _local(2025, 5, 9)})
AFTER_5 = ({"remind_office": _local(2025, 5, 5), "limit_exceeded": _local(2025, 5, 7)},
           {"check_feedback": _local(2025, 5, 7)})


def test_preview_lists_the_timers_and_the_ready_task_the_value_moves_with_the_unit_by_name(shipped, feedback):
    moves = working_time.preview_change(shipped, "feedback_office_action", 5)
    assert {(m.instance_id, m.kind, m.bpmn_id, m.unit, m.old_due, m.new_due, m.fires_at_once) for m in moves} == {
        (feedback, "task", "check_feedback", OFFICE, _local(2025, 5, 9), _local(2025, 5, 7), False),
        (feedback, "timer", "limit_exceeded", OFFICE, _local(2025, 5, 9), _local(2025, 5, 7), False),
        (feedback, "timer", "remind_office", OFFICE, _local(2025, 5, 7), _local(2025, 5, 5), False)}
    assert _due_dates(shipped, feedback) == BEFORE  # a preview changes nothing
    assert [s.value for s in working_time.list_settings(shipped) if s.name == "feedback_office_action"] == [7]


def test_a_setting_no_running_work_reads_previews_no_move(shipped, feedback):
    assert working_time.preview_change(shipped, "task_review", 9) == []


def test_apply_to_running_moves_timers_and_the_inbox_due_date_in_one_audited_change(shipped, feedback):
    changed = working_time.change(shipped, "feedback_office_action", 5, None, "Quyết định 12/2026", True, "admin")
    assert (changed.setting.value, changed.setting.updated_by) == (5, "admin")
    assert len(changed.moved) == 3
    assert _due_dates(shipped, feedback) == AFTER_5
    with shipped.unit_of_work(readonly=True) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "due_dates_moved")).one()
    assert entry.instance_id == feedback and entry.actor == "admin"
    assert entry.summary["setting"] == "feedback_office_action" and entry.summary["reason"] == "Quyết định 12/2026"
    assert {m["bpmn_id"] for m in entry.summary["moves"]} == {"check_feedback", "limit_exceeded", "remind_office"}


def test_only_new_work_follows_when_not_applied_to_running(shipped, feedback):
    changed = working_time.change(shipped, "feedback_office_action", 5, None, "chỉ việc mới", False, "admin")
    assert changed.moved == () and not changed.applied_to_running
    assert _due_dates(shipped, feedback) == BEFORE
    shipped.clock.set(RECEIVED)
    new = instances.start_instance(shipped, "feedback_followup", {"received_at": RECEIVED.isoformat()})
    assert _due_dates(shipped, new.id) == AFTER_5


def test_a_shorter_value_already_past_fires_the_timers_at_once(shipped, feedback):
    shipped.clock.set(datetime(2025, 5, 6, 9, 0, tzinfo=TZ))
    moves = working_time.preview_change(shipped, "feedback_office_action", 2)
    assert {m.bpmn_id for m in moves if m.fires_at_once} == {"remind_office", "limit_exceeded"}
    working_time.change(shipped, "feedback_office_action", 2, None, "rút ngắn", True, "admin")
    assert "handle_overdue" in _due_dates(shipped, feedback)[1]


def test_history_lists_each_change_newest_first_with_who_and_why(shipped):
    working_time.change(shipped, "update_grace", 2, None, "lần một", False, "admin")
    working_time.change(shipped, "update_grace", 3, None, "lần hai", False, "admin")
    changes = working_time.history(shipped, "update_grace")
    assert [(c.old_value, c.new_value, c.reason, c.changed_by) for c in changes] == [
        (2, 3, "lần hai", "admin"), (1, 2, "lần một", "admin")]


# --- the API ------------------------------------------------------------------------------------------------


def test_api_lists_the_settings_for_admins_and_the_office_but_not_a_department(api):
    listed = api("GET", "/api/settings").get_json()["items"]
    office = next(s for s in listed if s["name"] == "feedback_office_action")
    assert (office["value"], office["unit"]) == (7, "working_days") and "15.5" in office["legal_basis"]
    assert api("GET", "/api/settings", user="cv.hoa").status_code == 200
    assert api("GET", "/api/settings", user="dm.sotuphap").status_code == 403


def test_api_preview_then_apply(api, shipped, feedback):
    previewed = api("POST", "/api/settings/feedback_office_action/preview", json={"value": 5})
    assert previewed.status_code == 200
    moves = previewed.get_json()["moves"]
    assert {(m["bpmn_id"], m["unit"], m["old_due"][:10], m["new_due"][:10]) for m in moves} == {
        ("check_feedback", OFFICE, "2025-05-08", "2025-05-06"), ("limit_exceeded", OFFICE, "2025-05-08", "2025-05-06"),
        ("remind_office", OFFICE, "2025-05-06", "2025-05-04")}  # UTC: 00:00 in Vietnam is 17:00 the day before
    changed = api("PUT", "/api/settings/feedback_office_action",
                  json={"value": 5, "reason": "QĐ sửa đổi", "apply_to_running": True})
    assert changed.status_code == 200 and len(changed.get_json()["moved"]) == 3
    assert _due_dates(shipped, feedback) == AFTER_5
    history = api("GET", "/api/settings/feedback_office_action/history", user="cv.hoa").get_json()["items"]
    assert [(h["old_value"], h["new_value"], h["reason"]) for h in history] == [(7, 5, "QĐ sửa đổi")]


@pytest.mark.parametrize("body", [
    {"value": -1, "reason": "x", "apply_to_running": True},
    {"value": 10_001, "reason": "x", "apply_to_running": True},
    {"value": "5", "reason": "x", "apply_to_running": True},
    {"value": 5.5, "reason": "x", "apply_to_running": True},
    {"value": True, "reason": "x", "apply_to_running": True},
    {"value": 5, "reason": "   ", "apply_to_running": True},
    {"value": 5, "reason": "x"},
    {"value": 5, "reason": "x", "apply_to_running": True, "unit": "fortnights"},
])
def test_api_refuses_a_wrong_value_with_422_and_changes_nothing(api, shipped, feedback, body):
    answer = api("PUT", "/api/settings/feedback_office_action", json=body)
    assert answer.status_code == 422, answer.get_json()
    assert answer.get_json()["error"]["message"]
    assert working_time.history(shipped, "feedback_office_action") == []
    assert _due_dates(shipped, feedback) == BEFORE
    assert api("POST", "/api/settings/feedback_office_action/preview", json={"value": body["value"]}).status_code \
        == (422 if body["value"] in (-1, 10_001, "5", 5.5, True) else 200)


def test_api_unknown_setting_is_404(api):
    assert api("PUT", "/api/settings/no_such", json={"value": 5, "reason": "x", "apply_to_running": False}) \
        .status_code == 404
    assert api("POST", "/api/settings/no_such/preview", json={"value": 5}).status_code == 404
    assert api("GET", "/api/settings/no_such/history").status_code == 404


def test_api_office_reads_but_may_not_preview_or_change(api, shipped):
    assert api("POST", "/api/settings/feedback_office_action/preview", user="cv.hoa", json={"value": 5}) \
        .status_code == 403
    assert api("PUT", "/api/settings/feedback_office_action", user="cv.hoa",
               json={"value": 5, "reason": "x", "apply_to_running": True}).status_code == 403
    assert api("GET", "/api/settings/feedback_office_action/history", user="dm.sotuphap").status_code == 403
    assert working_time.history(shipped, "feedback_office_action") == []
