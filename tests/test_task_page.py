"""The task page and its API twin (issue 13, items 4 and 5): a finished step is shown read-only with who
finished it and when, a stale submission is still refused, and each step shows what the steps before it produced."""
from __future__ import annotations

import re

import pytest

from engine.process import instances
from engine.regulation import api_tokens, tracking
from tests.helpers import complete_step, ready_tasks, sign_in
from tests.helpers import csrf_token as _csrf

LONG_RESULT = "Đã rà soát 152 thủ tục hành chính cấp tỉnh; " + "đề xuất đơn giản hóa 12 thủ tục. " * 12


@pytest.fixture
def assigned(registered_task):
    task = registered_task()  # 301/QĐ-UBND: "Rà soát thủ tục hành chính" for so-tu-phap, due 30 May 2025
    return task.instance_id, task.step


def _accept_on_the_page(client, instance, task, ctx):
    url = f"/tasks/{instance}/{task.task_id}"
    version = instances.get_instance(ctx, instance).row_version
    token = _csrf(client, url)
    assert client.post(url, data={"decision": "accept", "csrf_token": token, "row_version": version}).status_code == 303
    return url, token, version


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_finished_step_is_shown_read_only_with_who_finished_it_and_when(client, ctx, assigned):
    instance, task = assigned
    sign_in(client, "dm.sotuphap")
    url, token, version = _accept_on_the_page(client, instance, task, ctx)
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = _text(html)
    assert "Đã hoàn thành" in text and "Huỳnh Thị Thu Trang" in text  # marked done, by the person's name
    assert re.search(r"hoàn thành lúc \d\d/\d\d/\d{4} \d\d:\d\d", text)  # when, dd/mm/yyyy
    assert "Tiếp nhận" in text and "accept" not in text  # the decision as a label, not its code
    assert "<form method=\"post\" novalidate>" not in html and 'name="decision"' not in html  # nothing to submit
    english = _text(client.get(url + "?lang=en").get_data(as_text=True))
    assert "This step was completed by Huỳnh Thị Thu Trang" in english


def test_submitting_a_finished_step_again_is_refused_in_vietnamese_and_changes_nothing(client, ctx, assigned):
    instance, task = assigned
    sign_in(client, "dm.sotuphap")
    url, token, version = _accept_on_the_page(client, instance, task, ctx)
    again = client.post(url, data={"decision": "return", "return_reason": "Không thuộc thẩm quyền của Sở",
                                   "csrf_token": token, "row_version": version + 1})
    assert again.status_code == 409
    text = _text(again.get_data(as_text=True))
    assert "đã được Huỳnh Thị Thu Trang hoàn thành lúc" in text and "không gửi lại được" in text
    assert "no longer waiting" not in text  # no English state in the Vietnamese message
    assert instances.get_instance(ctx, instance).row_version == version + 1
    assert "report_completion" in ready_tasks(ctx, instance)  # still accepted, not returned


def test_another_unit_cannot_see_a_finished_step(client, app, ctx, assigned):
    instance, task = assigned
    sign_in(client, "dm.sotuphap")
    url, _, _ = _accept_on_the_page(client, instance, task, ctx)
    other = app.test_client()
    sign_in(other, "dm.sotaichinh")
    assert other.get(url).status_code == 404


def test_the_office_confirming_completion_sees_the_units_result_report_number_and_date(client, ctx, assigned):
    instance, _ = assigned
    complete_step(ctx, instance, "review_receipt", {"decision": "accept"}, actor="dm.sotuphap")
    complete_step(ctx, instance, "report_completion", {"result": LONG_RESULT, "report_document": "45/BC-STP",
                                                        "completed_on": "2025-04-24"}, actor="dm.sotuphap")
    confirm = ready_tasks(ctx, instance)["confirm_completion"]
    sign_in(client, "cv.hoa")
    html = client.get(f"/tasks/{instance}/{confirm.task_id}").get_data(as_text=True)
    text = _text(html)
    assert "Kết quả các bước trước" in text
    assert _text(LONG_RESULT).strip() in text  # whole, though the audit summary cuts it at 200 characters
    assert "45/BC-STP" in text and "24/04/2025" in text and "Huỳnh Thị Thu Trang" in text
    assert text.index("Kết quả các bước trước") < text.index("Kết quả kiểm tra")  # read before deciding


def test_handling_a_returned_task_shows_the_return_reason(client, ctx, assigned):
    instance, _ = assigned
    complete_step(ctx, instance, "review_receipt", {"decision": "return",
                                                     "return_reason": "Nhiệm vụ thuộc thẩm quyền của Sở Nội vụ"},
                  actor="dm.sotuphap")
    handle = ready_tasks(ctx, instance)["handle_return"]
    sign_in(client, "cv.hoa")
    text = _text(client.get(f"/tasks/{instance}/{handle.task_id}").get_data(as_text=True))
    assert "Nhiệm vụ thuộc thẩm quyền của Sở Nội vụ" in text and "Trả lại" in text and "Lý do trả lại" in text


def _feedback_instance(ctx, registered) -> int:
    tracking.file_feedback(ctx, registered.task_id, "huyen-ba-tri", "Sở Tư pháp chậm rà soát", actor="dm.batri")
    return next(t.instance_id for t in instances.list_ready_tasks(ctx) if t.bpmn_id == "check_feedback")


def test_the_office_leader_sees_the_assessment_and_the_specialist_sees_the_direction(client, app, ctx,
                                                                                      registered_task):
    feedback = _feedback_instance(ctx, registered_task())
    complete_step(ctx, feedback, "check_feedback", {"decision": "ask_direction",
                                                     "assessment": "Phản ánh có cơ sở, Sở chậm 20 ngày"},
                  actor="cv.minh")
    ask = ready_tasks(ctx, feedback)["ask_direction"]
    sign_in(client, "ld.vanphong")
    text = _text(client.get(f"/tasks/{feedback}/{ask.task_id}").get_data(as_text=True))
    assert "Phản ánh có cơ sở, Sở chậm 20 ngày" in text and "Trần Quang Minh" in text
    complete_step(ctx, feedback, "ask_direction", {"report_number": "88/BC-VPUBND", "direction_route": "given_outside",
                                                    "direction": "Giao Sở Tư pháp hoàn thành trước 15/5",
                                                    "directed_by": "Chủ tịch UBND tỉnh", "directed_on": "18/04/2025"},
                  actor="ld.vanphong")
    notify = ready_tasks(ctx, feedback)["notify_direction"]
    specialist = app.test_client()
    sign_in(specialist, "cv.minh")
    text = _text(specialist.get(f"/tasks/{feedback}/{notify.task_id}").get_data(as_text=True))
    assert "Giao Sở Tư pháp hoàn thành trước 15/5" in text and "88/BC-VPUBND" in text
    assert text.index("Báo cáo UBND tỉnh, xin ý kiến chỉ đạo") < text.index("Kiểm tra thông tin phản hồi, đề xuất")


def test_the_first_step_has_no_earlier_steps_section_and_the_next_one_has(client, ctx, assigned):
    instance, task = assigned
    sign_in(client, "dm.sotuphap")
    assert "Kết quả các bước trước" not in client.get(f"/tasks/{instance}/{task.task_id}").get_data(as_text=True)
    _accept_on_the_page(client, instance, task, ctx)
    following = ready_tasks(ctx, instance)["report_completion"]
    text = _text(client.get(f"/tasks/{instance}/{following.task_id}").get_data(as_text=True))
    assert "Kết quả các bước trước" in text and "Rà soát, tiếp nhận nhiệm vụ" in text and "Tiếp nhận" in text


@pytest.fixture
def api(ctx, app):
    client = app.test_client()
    tokens = {u: api_tokens.issue(ctx, u, "test", "admin").token for u in ("dm.sotuphap", "dm.sotaichinh", "cv.hoa")}

    def call(method, path, user, **kwargs):
        return client.open(path, method=method, headers={"Authorization": f"Bearer {tokens[user]}"}, **kwargs)
    return call


def test_the_api_answers_a_finished_step_with_who_when_and_its_data(api, ctx, assigned):
    instance, task = assigned
    url = f"/api/tasks/{instance}/{task.task_id}"
    before = api("GET", url, "dm.sotuphap").get_json()
    assert before["state"] == "ready" and before["completed"] is None and before["earlier_steps"] == []
    done = api("POST", url + "/complete", "dm.sotuphap",
               json={"data": {"decision": "accept"}, "row_version": before["row_version"]})
    assert done.status_code == 200
    response = api("GET", url, "dm.sotuphap")
    assert response.status_code == 200
    body = response.get_json()
    assert body["state"] == "completed" and body["task"]["bpmn_id"] == "review_receipt"
    completed = body["completed"]
    assert completed["by"] == "dm.sotuphap" and completed["by_name"] == "Huỳnh Thị Thu Trang"
    assert completed["data"] == {"decision": "accept"} and completed["at"].startswith("20")
    assert api("GET", url, "dm.sotaichinh").status_code == 404
    again = api("POST", url + "/complete", "dm.sotuphap",
                json={"data": {"decision": "accept"}, "row_version": done.get_json()["row_version"]})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    assert "Huỳnh Thị Thu Trang" in again.get_json()["error"]["message"]
    following = done.get_json()["next_tasks"][0]
    nxt = api("GET", f"/api/tasks/{instance}/{following['task_id']}", "dm.sotuphap").get_json()
    assert [s["bpmn_id"] for s in nxt["earlier_steps"]] == ["review_receipt"]
    assert nxt["earlier_steps"][0]["data"] == {"decision": "accept"}


def test_the_api_still_refuses_a_step_that_was_cancelled_not_finished(api, ctx, assigned):
    instance, task = assigned
    instances.cancel_instance(ctx, instance, actor="cv.hoa", reason="Văn bản bị thu hồi")
    response = api("GET", f"/api/tasks/{instance}/{task.task_id}", "dm.sotuphap")
    assert response.status_code == 409  # nobody finished it: there is nothing done to show
    assert "không còn chờ xử lý" in response.get_json()["error"]["message"]


def test_whoever_finished_a_step_still_sees_it_after_moving_to_another_unit(ctx, assigned):
    from dataclasses import replace

    from engine.core.errors import NotFound
    from engine.read import inbox as inbox_queries
    from engine.regulation import access

    instance, task = assigned
    complete_step(ctx, instance, "review_receipt", {"decision": "accept"}, actor="dm.sotuphap")
    moved = replace(access.actor_named(ctx, "dm.sotuphap"), unit_codes=frozenset({"so-tai-chinh"}))
    assert inbox_queries.task_for(ctx, moved, instance, task.task_id).completed.by == "dm.sotuphap"
    colleague = replace(access.actor_named(ctx, "dm.sotaichinh"), unit_codes=frozenset({"so-tai-chinh"}))
    with pytest.raises(NotFound):  # the unit the step was not for still does not see it
        inbox_queries.task_for(ctx, colleague, instance, task.task_id)
