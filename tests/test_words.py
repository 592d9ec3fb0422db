"""Item 10 of issue 13: the Vietnamese UI shows names, not codes (the task page's header and history), and
its error pages (403, 404, 409, 413, 500) are Vietnamese and keep the way back."""
from __future__ import annotations

import pytest

from engine.core.errors import FieldErrors
from engine.core.i18n import Message
from engine.process import instances
from tests.helpers import complete_step, csrf_token, ready_tasks, sign_in


@pytest.fixture
def reviewed(registered_task, ctx):
    """A task whose first step was completed by the demo simulation: the next step waits for the unit."""
    task = registered_task()
    complete_step(ctx, task.instance_id, "review_receipt", {"decision": "accept"}, actor="demo")
    step = next(iter(ready_tasks(ctx, task.instance_id).values()))
    return task.instance_id, step


@pytest.fixture
def assigned_step(registered_task):
    """A registered task's first step, waiting for Sở Tư pháp."""
    task = registered_task()
    return task.instance_id, task.step


def test_the_task_page_names_the_process_the_unit_the_people_and_the_steps(client, reviewed):
    instance, step = reviewed
    sign_in(client, "dm.sotuphap")
    page = client.get(f"/tasks/{instance}/{step.task_id}").get_data(as_text=True)
    header = page.split('<div id="diagram"')[0]
    assert "Quy trình: Theo dõi, đôn đốc thực hiện nhiệm vụ được giao" in header
    assert "Đơn vị: Sở Tư pháp" in header
    assert "task_followup" not in header and "so-tu-phap" not in header
    history = page.split("<table><thead>")[-1]
    assert "Mô phỏng dữ liệu mẫu" in history and "Hoàn thành công việc" in history
    assert "Rà soát, tiếp nhận nhiệm vụ" in history
    assert ">demo<" not in history and "review_receipt" not in history and "complete_task" not in history


def test_the_history_gives_people_full_names(client, ctx, registered_task):
    task = registered_task()
    complete_step(ctx, task.instance_id, "review_receipt", {"decision": "accept"}, actor="dm.sotuphap")
    step = next(iter(ready_tasks(ctx, task.instance_id).values()))
    sign_in(client, "dm.sotuphap")
    page = client.get(f"/tasks/{task.instance_id}/{step.task_id}").get_data(as_text=True)
    history = page.split("<table><thead>")[-1]
    assert "<td>Huỳnh Thị Thu Trang</td>" in history and "dm.sotuphap" not in history


def test_the_english_page_names_the_demo_actor_in_english(client, reviewed):
    instance, step = reviewed
    sign_in(client, "dm.sotuphap")
    page = client.get(f"/tasks/{instance}/{step.task_id}?lang=en").get_data(as_text=True)
    assert "Demo simulation" in page and "Task completed" in page


def test_a_404_page_is_vietnamese_and_leads_back(client):
    sign_in(client, "dm.sotuphap")
    response = client.get("/tasks/999999/nope", headers={"Referer": "http://localhost/inbox?page=2"})
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "Không tìm thấy" in page
    assert 'href="http://localhost/inbox?page=2"' in page and "Quay lại trang trước" in page
    assert 'href="/inbox"' in page and "Về danh sách việc cần xử lý" in page


def test_the_way_back_never_leads_off_site(client):
    sign_in(client, "dm.sotuphap")
    page = client.get("/no-such-page", headers={"Referer": "https://evil.example/x"}).get_data(as_text=True)
    assert "evil.example" not in page and "Quay lại trang trước" not in page and 'href="/inbox"' in page


def test_a_403_page_is_vietnamese_and_leads_back(client):
    sign_in(client, "dm.sotuphap")
    response = client.get("/admin/settings")
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and "Không có quyền" in page and 'href="/inbox"' in page


def test_a_409_page_is_vietnamese_and_leads_back(client, ctx, assigned_step):
    instance, step = assigned_step
    sign_in(client, "dm.sotuphap")
    url = f"/tasks/{instance}/{step.task_id}"
    token, version = csrf_token(client, url), instances.get_instance(ctx, instance).row_version
    client.post(url, data={"decision": "accept", "csrf_token": token, "row_version": version})
    again = client.post(url, data={"decision": "accept", "csrf_token": token, "row_version": version},
                        headers={"Referer": f"http://localhost{url}"})
    page = again.get_data(as_text=True)
    assert again.status_code == 409 and "Xung đột dữ liệu" in page
    assert f'href="http://localhost{url}"' in page and 'href="/inbox"' in page


def test_a_413_page_is_vietnamese_and_leads_back(client, app):
    sign_in(client, "dm.sotuphap")
    token = csrf_token(client, "/inbox")
    too_big = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/inbox", data={"csrf_token": token, "f": too_big},
                           headers={"Referer": "http://localhost/inbox"})
    page = response.get_data(as_text=True)
    assert response.status_code == 413 and "vượt quá dung lượng" in page
    assert "Quay lại trang trước" in page and 'href="/inbox"' in page


def test_an_unexpected_failure_gets_a_vietnamese_500_page_that_leads_back(client, app):
    sign_in(client, "dm.sotuphap")

    def broken():  # a bug in a view, as an unexpected failure would be
        raise RuntimeError("boom")

    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the failure is answered, not raised
    app.view_functions["notices.index"] = broken
    response = client.get("/notifications")
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and "Lỗi hệ thống" in page and "chưa được lưu" in page
    assert 'href="/inbox"' in page and "boom" not in page


def test_a_refused_registration_names_fields_by_their_labels(client):
    sign_in(client, "cv.hoa")
    response = client.post("/office/documents/new", data={
        "csrf_token": csrf_token(client, "/office/documents/new"), "number_symbol": "not a number",
        "issued_on": "20/04/2025", "doc_type": "quyet_dinh", "issuer": "UBND tỉnh", "signer": "Chủ tịch",
        "summary": "Cải cách", "content_0": "Việc không thời hạn", "lead_unit_0": "so-tu-phap"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Số, ký hiệu: " in page and "Nhiệm vụ 1 - Kỳ cập nhật: " in page
    assert "number_symbol:" not in page and "tasks[0]" not in page


def test_field_errors_name_fields_by_label_in_both_languages_and_keep_unlabelled_names():
    refused = FieldErrors({"issued_on": Message("error.date_invalid", {"field": "issued_on"}),
                           "tasks[1].deadline": Message("error.deadline_before_issue"),
                           "mapping": Message("error.tasks_missing"), "mapping[0]": Message("error.required")})
    assert refused.text("vi").startswith("Ngày ban hành: ngày không hợp lệ (dd/mm/yyyy); Nhiệm vụ 2 - Thời hạn: ")
    assert refused.text("en").startswith("Issued on: not a valid date (dd/mm/yyyy); Task 2 - Deadline: ")
    assert "; mapping: " in refused.text("vi") and "; mapping[0]: " in refused.text("vi")  # no label: kept
