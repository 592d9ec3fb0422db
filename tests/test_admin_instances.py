"""The admin console's instances and incidents: the filtered list, one instance in words, and the actions
(retry after a fix, suspend, resume, cancel) through the JSON API and the pages, audited with the reason."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from engine.core import audit
from engine.core.errors import Conflict, DiagramError, InvalidInput
from engine.process import instances
from engine.process.tables import InstanceStatus
from engine.process.timers import fire_due_timers
from engine.read import instance_detail, instance_queries
from engine.regulation import api_tokens
from engine.regulation.records import TaskStatus, TrackedTask
from tests.helpers import complete_step, csrf_token, failing_after_date, ready_tasks, register_task, sign_in


@pytest.fixture
def api(app, shipped):
    """Call the API as a user: api("admin").get(path) etc. with a bearer token."""
    tokens = {}

    def as_user(username: str):
        if username not in tokens:
            tokens[username] = api_tokens.issue(shipped, username, "tests", "admin").token
        client = app.test_client()
        headers = {"Authorization": f"Bearer {tokens[username]}"}

        class Caller:
            def get(self, path):
                return client.get(path, headers=headers)

            def post(self, path, body=None):
                return client.post(path, json=body, headers=headers) if body is not None else \
                    client.post(path, headers=headers)
        return Caller()

    return as_user


@pytest.fixture
def in_error(shipped):
    """A task_followup instance put in error when its acceptance armed a timer whose expression failed
    (after_date raising); `bug["on"] = False` is the fix. Returns (instance id, bug switch, tracked task id)."""
    bug = failing_after_date(shipped, lambda: ValueError("lịch không đọc được"), times=1)  # the acceptance
    registered = register_task(shipped, number_symbol="81/QĐ-UBND", lead_unit="so-tai-chinh")
    bug["on"] = True
    with pytest.raises(DiagramError, match="lịch không đọc được"):
        complete_step(shipped, registered.instance_id, registered.step.bpmn_id, {"decision": "accept"},
                      actor="dm.sotaichinh")
    return registered.instance_id, bug, registered.task_id


@pytest.fixture
def timer_waiting(shipped, deploy):
    """A three_step instance at 'handle', whose 2-hour 'late' timer is waiting."""
    deploy("three_step.bpmn")
    started = instances.start_instance(shipped, "three_step", {"unit": "so-tu-phap"}, actor="cv.hoa")
    complete_step(shipped, started.id, "receive", {})
    assert list(ready_tasks(shipped, started.id)) == ["handle"]
    return started.id


def _actions(ctx, instance_id):
    with ctx.unit_of_work(readonly=True) as session:
        return [(e.action, (e.summary or {}).get("reason")) for e in audit.entries_for(session, instance_id)]


# --- the list ------------------------------------------------------------------------------------------

def test_the_list_puts_instances_in_error_first_with_their_message_and_counts_each_status(shipped, in_error):
    failed, _, _ = in_error
    running = register_task(shipped, number_symbol="82/QĐ-UBND").instance_id
    found = instance_queries.list_instances(shipped)
    assert found.items[0].id == failed and found.items[0].status is InstanceStatus.ERROR
    assert "lịch không đọc được" in found.items[0].error_message
    assert found.counts == {"error": 1, "running": 1} and found.total == 2
    first = found.items[0]
    assert first.process_name and first.unit_name == "Sở Tài chính" and first.started_by_name != first.started_by
    other = next(i for i in found.items if i.id == running)
    assert other.unit_name == "Sở Tư pháp" and other.waiting_on  # the ready task's name
    assert [i.id for i in instance_queries.list_instances(shipped, status="error").items] == [failed]
    # the counts are the list's without its status filter, so each status's number stays visible
    assert instance_queries.list_instances(shipped, status="error").counts == found.counts


def test_the_list_filters_by_procedure_version_and_unit(shipped, in_error, deploy):
    failed, _, _ = in_error
    running = register_task(shipped, number_symbol="83/QĐ-UBND").instance_id
    deploy("three_step.bpmn")
    other = instances.start_instance(shipped, "three_step", {"unit": "so-tu-phap"}).id
    ids = lambda **f: {i.id for i in instance_queries.list_instances(shipped, **f).items}  # noqa: E731
    assert ids(process_id="task_followup") == {failed, running}
    assert ids(process_id="three_step", version=1) == {other}
    assert ids(process_id="three_step", version=2) == set()
    # the unit: the tracked task's lead unit (also for an instance in error, whose ready tasks are gone) ...
    assert ids(unit="so-tai-chinh") == {failed}
    # ... or the unit a ready task waits on (three_step follows no tracked task)
    assert ids(unit="so-tu-phap") == {running, other}
    assert ids(unit="so-xay-dung") == set()
    paged = instance_queries.list_instances(shipped, per_page=2, page=2)
    assert paged.total == 3 and len(paged.items) == 1
    with pytest.raises(InvalidInput, match="no status 'broken'|không có trạng thái 'broken'"):
        instance_queries.list_instances(shipped, status="broken")
    names = {p.process_id: p for p in instance_queries.process_choices(shipped)}
    assert names["three_step"].name == "Ba bước" and names["three_step"].versions == (1,)


def test_the_list_through_the_api_for_admins_and_the_office_only(api, in_error):
    failed, _, _ = in_error
    for user in ("admin", "cv.hoa", "ld.vanphong"):
        answer = api(user).get("/api/instances?status=error")
        assert answer.status_code == 200, user
        body = answer.get_json()
        assert [i["id"] for i in body["items"]] == [failed] and body["counts"]["error"] == 1
    assert api("dm.sotaichinh").get("/api/instances").status_code == 403
    assert api("pt.lan").get("/api/instances").status_code == 403
    assert api("admin").get("/api/instances?status=nope").status_code == 422
    assert api("admin").get("/api/instances?version=abc").status_code == 422
    assert api("admin").get("/api/instances?unit=so-tai-chinh").get_json()["total"] == 1


# --- one instance ---------------------------------------------------------------------------------------

def test_one_instance_in_words_path_ready_tasks_timers_data_and_history(shipped, api):
    registered = register_task(shipped, number_symbol="84/QĐ-UBND", deadline=date(2025, 6, 30))
    complete_step(shipped, registered.instance_id, registered.step.bpmn_id, {"decision": "accept"},
                  actor="dm.sotuphap")
    found = instance_detail.instance_detail(shipped, registered.instance_id)
    assert found.status is InstanceStatus.RUNNING and found.process_name
    assert found.tracked.lead_unit_name == "Sở Tư pháp" and found.tracked.id == registered.task_id
    assert found.ready and all(t.assignee_name == "Sở Tư pháp" for t in found.ready)
    assert found.timers and all(t.due_at and not t.overdue for t in found.timers)
    assert registered.step.bpmn_id in [s.bpmn_id for s in found.path]  # the accepted step is on the path
    assert all(s.name for s in found.path if s.bpmn_id == registered.step.bpmn_id)
    lead = next(d for d in found.data if d.name == "lead_unit")
    assert lead.value == "so-tu-phap" and lead.shown == "Sở Tư pháp"
    actions = [h.action for h in found.history]
    assert actions[:1] == ["start"] and "complete_task" in actions
    done = next(h for h in found.history if h.action == "complete_task")
    assert done.actor_name and done.actor_name != "dm.sotuphap" and done.element_name
    body = api("cv.hoa").get(f"/api/instances/{registered.instance_id}").get_json()
    assert body["status"] == "running" and body["tracked"]["lead_unit_name"] == "Sở Tư pháp"
    assert {t["bpmn_id"] for t in body["timers"]} == {t.bpmn_id for t in found.timers}
    assert api("admin").get("/api/instances/999999").status_code == 404
    assert api("dm.sotuphap").get(f"/api/instances/{registered.instance_id}").status_code == 403


# --- retry after a fix -----------------------------------------------------------------------------------

def test_an_instance_in_error_is_retried_after_the_fix_with_the_reason_audited(shipped, api, in_error):
    failed, bug, _ = in_error
    detail = api("admin").get(f"/api/instances/{failed}").get_json()
    assert detail["status"] == "error" and "lịch không đọc được" in detail["error_message"]
    assert detail["failed_data"]["decision"] == "accept"  # what the unit submitted is kept
    assert api("cv.hoa").post(f"/api/instances/{failed}/retry", {}).status_code == 403  # the Office only sees
    bug["on"] = False  # the fix
    answer = api("admin").post(f"/api/instances/{failed}/retry", {"reason": "đã sửa hàm after_date"})
    assert answer.status_code == 200 and answer.get_json()["status"] == "running"
    assert ("retry", "đã sửa hàm after_date") in _actions(shipped, failed)
    # the acceptance the unit could not submit now goes through, and its timers are armed
    complete_step(shipped, failed, "review_receipt", {"decision": "accept"}, actor="dm.sotaichinh")
    assert instance_detail.instance_detail(shipped, failed).timers
    again = api("admin").post(f"/api/instances/{failed}/retry", {})
    assert again.status_code == 409 and "không ở trạng thái lỗi" in again.get_json()["error"]["message"]
    assert api("admin").post("/api/instances/999999/retry").status_code == 404


def test_a_retry_that_fails_again_keeps_the_instance_in_error_and_the_page_says_so(shipped, client, deploy):
    deploy("timer_then_script.bpmn")  # its script divides by zero once its timer fires
    failed = instances.start_instance(shipped, "timer_then_script", {"divisor": 0}).id
    shipped.clock.advance(timedelta(hours=1, minutes=1))
    assert [i for i, _ in fire_due_timers(shipped).failed] == [failed]
    sign_in(client, "admin")
    page = client.post(f"/admin/instances/{failed}/retry",
                       data={"reason": "thử lại", "csrf_token": csrf_token(client, "/admin/instances")})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "ZeroDivisionError" in text and "Xử lý lại không thành công" in text
    assert instances.get_instance(shipped, failed).status is InstanceStatus.ERROR
    assert [a for a, _ in _actions(shipped, failed)][-1] == "retry_failed"


# --- suspend and resume ----------------------------------------------------------------------------------

def test_a_suspended_instance_fires_no_timer_and_refuses_completion_until_resumed(shipped, api, timer_waiting):
    instance = timer_waiting
    admin = api("admin")
    assert admin.post(f"/api/instances/{instance}/suspend", {}).status_code == 422  # no reason
    blank = admin.post(f"/api/instances/{instance}/suspend", {"reason": "   "})
    assert blank.status_code == 422 and "lý do" in blank.get_json()["error"]["message"]
    answer = admin.post(f"/api/instances/{instance}/suspend", {"reason": "chờ xác minh dữ liệu"})
    assert answer.status_code == 200 and answer.get_json()["status"] == "suspended"
    twice = admin.post(f"/api/instances/{instance}/suspend", {"reason": "lần nữa"})
    assert twice.status_code == 409 and "suspended" in twice.get_json()["error"]["message"]

    shipped.clock.advance(timedelta(hours=3))  # the 2-hour timer falls due while suspended
    assert fire_due_timers(shipped).fired == []
    detail = admin.get(f"/api/instances/{instance}").get_json()
    assert detail["status"] == "suspended" and detail["hold"]["reason"] == "chờ xác minh dữ liệu"
    assert [t["bpmn_id"] for t in detail["ready"]] == ["handle"]  # still listed
    assert [(t["bpmn_id"], t["overdue"]) for t in detail["timers"]] == [("late", True)]
    with pytest.raises(Conflict) as refused:
        complete_step(shipped, instance, "handle", {"approved": True})
    assert refused.value.key == "instance_suspended"

    assert api("cv.hoa").post(f"/api/instances/{instance}/resume").status_code == 403
    resumed = admin.post(f"/api/instances/{instance}/resume")  # no body: the reason is optional
    assert resumed.status_code == 200 and resumed.get_json()["status"] == "running"
    assert admin.post(f"/api/instances/{instance}/resume").status_code == 409
    assert fire_due_timers(shipped).fired == [(instance, "late")]  # the overdue timer fires, once
    assert fire_due_timers(shipped).fired == []
    assert instances.get_instance(shipped, instance).status is InstanceStatus.COMPLETED  # end_late
    assert [a for a in _actions(shipped, instance) if a[0] in ("suspend", "resume", "timer_fired")] == [
        ("suspend", "chờ xác minh dữ liệu"), ("resume", None), ("timer_fired", None)]


def test_a_unit_sees_the_task_of_a_suspended_instance_but_completing_it_is_409(shipped, api, app):
    registered = register_task(shipped, number_symbol="86/QĐ-UBND")
    api("admin").post(f"/api/instances/{registered.instance_id}/suspend", {"reason": "chờ"})
    unit = api("dm.sotuphap")
    assert [t["task_id"] for t in unit.get("/api/tasks").get_json()["items"]] == [registered.step.task_id]
    refused = unit.post(f"/api/tasks/{registered.instance_id}/{registered.step.task_id}/complete",
                        {"data": {"decision": "accept"}})
    assert refused.status_code == 409 and "đang tạm dừng" in refused.get_json()["error"]["message"]
    page = app.test_client()
    sign_in(page, "dm.sotuphap")
    sent = page.post(f"/tasks/{registered.instance_id}/{registered.step.task_id}",
                     data={"decision": "accept", "csrf_token": csrf_token(page, "/inbox")}, follow_redirects=True)
    assert "đang tạm dừng" in sent.get_data(as_text=True)
    assert ready_tasks(shipped, registered.instance_id)  # nothing moved


def test_suspend_and_resume_from_the_pages(shipped, client, timer_waiting):
    instance = timer_waiting
    sign_in(client, "admin")
    token = csrf_token(client, f"/admin/instances/{instance}")
    refused = client.post(f"/admin/instances/{instance}/suspend", data={"reason": "", "csrf_token": token})
    assert refused.status_code == 422 and "cần ghi lý do" in refused.get_data(as_text=True)
    done = client.post(f"/admin/instances/{instance}/suspend", data={"reason": "kiểm tra", "csrf_token": token})
    assert done.status_code == 303
    page = client.get(f"/admin/instances/{instance}").get_data(as_text=True)
    assert 'id="hold"' in page and "kiểm tra" in page and 'id="resume-form"' in page and 'id="suspend-form"' not in page
    assert client.post(f"/admin/instances/{instance}/resume", data={"csrf_token": token}).status_code == 303
    wrong = client.post(f"/admin/instances/{instance}/resume", data={"csrf_token": token})
    assert wrong.status_code == 409 and "chỉ cho tiếp tục được hồ sơ đang tạm dừng" in wrong.get_data(as_text=True)


# --- cancel ----------------------------------------------------------------------------------------------

def test_cancel_with_a_reason_cancels_the_tracked_task_too(shipped, api):
    registered = register_task(shipped, number_symbol="85/QĐ-UBND")
    path = f"/api/instances/{registered.instance_id}/cancel"
    assert api("admin").post(path, {}).status_code == 422
    assert api("admin").post(path, {"reason": ""}).status_code == 422
    assert api("cv.hoa").post(path, {"reason": "x"}).status_code == 403
    answer = api("admin").post(path, {"reason": "giao nhầm đơn vị, văn bản đã thu hồi"})
    assert answer.status_code == 200 and answer.get_json()["status"] == "cancelled"
    with shipped.unit_of_work(readonly=True) as session:
        task = session.get(TrackedTask, registered.task_id)
        assert task.status is TaskStatus.CANCELLED and task.completed_at is not None
        entry = [e for e in audit.entries_for(session, registered.instance_id) if e.action == "cancel"][-1]
        assert entry.summary == {"reason": "giao nhầm đơn vị, văn bản đã thu hồi",
                                 "tracked_task_id": registered.task_id}
    assert ready_tasks(shipped, registered.instance_id) == {}
    again = api("admin").post(path, {"reason": "lần nữa"})
    assert again.status_code == 409 and "cancelled" in again.get_json()["error"]["message"]
    assert api("admin").post("/api/instances/999999/cancel", {"reason": "x"}).status_code == 404


def test_an_instance_in_error_or_suspended_can_be_cancelled(shipped, api, in_error, timer_waiting):
    failed, _, tracked = in_error
    assert api("admin").post(f"/api/instances/{failed}/cancel", {"reason": "bỏ"}).status_code == 200
    with shipped.unit_of_work(readonly=True) as session:
        assert session.get(TrackedTask, tracked).status is TaskStatus.CANCELLED
    api("admin").post(f"/api/instances/{timer_waiting}/suspend", {"reason": "giữ"})
    assert api("admin").post(f"/api/instances/{timer_waiting}/cancel", {"reason": "bỏ"}).status_code == 200
    assert instances.get_instance(shipped, timer_waiting).status is InstanceStatus.CANCELLED


# --- pages and who sees them -------------------------------------------------------------------------------

def test_the_office_sees_the_pages_without_actions_and_units_see_nothing(shipped, app, in_error):
    failed, _, _ = in_error
    office = app.test_client()
    sign_in(office, "cv.hoa")
    listing = office.get("/admin/instances").get_data(as_text=True)
    assert f'data-instance="{failed}"' in listing and "lịch không đọc được" in listing
    assert listing.index(f'data-instance="{failed}"') < listing.index("</tbody>")
    page = office.get(f"/admin/instances/{failed}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="incident"' in text and 'id="retry-form"' not in text
    assert 'id="actions"' not in text
    token = csrf_token(office, "/admin/instances")
    assert office.post(f"/admin/instances/{failed}/retry", data={"csrf_token": token}).status_code == 403
    assert office.get(f"/admin/instances/{failed}/diagram.xml").status_code == 200
    unit = app.test_client()
    sign_in(unit, "dm.sotaichinh")
    assert unit.get("/admin/instances").status_code == 403
    assert unit.get(f"/admin/instances/{failed}").status_code == 403
    admin = app.test_client()
    sign_in(admin, "admin")
    text = admin.get(f"/admin/instances/{failed}").get_data(as_text=True)
    assert 'id="retry-form"' in text and 'id="cancel-form"' in text
    assert admin.get("/admin/instances/999999").status_code == 404
    assert admin.get("/admin/instances?status=nope").status_code == 422
