"""The web app through Flask's test client: health, sign-in, CSRF, scoping, inbox and task forms."""
from __future__ import annotations

import re

import pytest

from engine.process import instances
from engine.regulation import tracking
from tests.helpers import csrf_token as _csrf  # tests/test_access_matrix.py imports both from here
from tests.helpers import sign_in


@pytest.fixture
def assigned(registered_task):
    task = registered_task()  # 301/QĐ-UBND: "Rà soát thủ tục hành chính" for so-tu-phap, due 30 May 2025
    return task.instance_id, task.step


def test_health_reports_database_and_deployed_processes(client):
    body = client.get("/health").get_json()
    assert body["status"] == "ok" and "task_followup" in body["definitions"]
    assert body["database"] in ("sqlite", "postgresql")


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get("/").headers["Location"].endswith("/login")
    assert "/login" in client.get("/inbox").headers["Location"]


def test_sign_in_page_is_vietnamese_with_an_english_switch(client):
    assert "Đăng nhập" in client.get("/login").get_data(as_text=True)
    assert "Sign in" in client.get("/login?lang=en").get_data(as_text=True)


def test_wrong_password_is_refused_then_rate_limited(client):
    for _ in range(5):
        assert sign_in(client, "dm.sotuphap", "wrong").status_code == 401
    response = sign_in(client, "dm.sotuphap")  # even the right password, for a while
    assert response.status_code == 429 and "quá nhiều lần" in response.get_data(as_text=True)


def test_a_post_without_the_csrf_token_is_refused(client):
    response = client.post("/login", data={"username": "dm.sotuphap", "password": "demo123"})
    assert response.status_code == 400


def test_sign_in_never_redirects_off_site(client):
    token = _csrf(client)
    response = client.post("/login?next=//evil.example/x", data={"username": "dm.sotuphap", "password": "demo123",
                                                                  "csrf_token": token})
    assert response.headers["Location"] == "/inbox"


def test_the_unit_sees_its_task_in_the_inbox_and_another_unit_does_not(client, app, assigned):
    instance, task = assigned
    sign_in(client, "dm.sotuphap")
    page = client.get("/inbox").get_data(as_text=True)
    assert "Rà soát, tiếp nhận nhiệm vụ" in page and f"/tasks/{instance}/{task.task_id}" in page
    other = app.test_client()
    sign_in(other, "dm.sotaichinh")
    assert f"/tasks/{instance}/{task.task_id}" not in other.get("/inbox").get_data(as_text=True)
    assert other.get(f"/tasks/{instance}/{task.task_id}").status_code == 404


def test_an_invalid_form_shows_the_field_error_in_vietnamese_and_changes_nothing(client, ctx, assigned):
    instance, task = assigned
    sign_in(client, "dm.sotuphap")
    url = f"/tasks/{instance}/{task.task_id}"
    version = instances.get_instance(ctx, instance).row_version
    response = client.post(url, data={"decision": "return", "csrf_token": _csrf(client, url), "row_version": version})
    assert response.status_code == 422
    assert "Cần ít nhất 10 ký tự" in response.get_data(as_text=True) or "bắt buộc" in response.get_data(as_text=True)
    assert instances.get_instance(ctx, instance).row_version == version


def test_a_valid_form_completes_the_task_and_it_leaves_the_inbox(client, ctx, assigned):
    instance, task = assigned
    sign_in(client, "dm.sotuphap")
    url = f"/tasks/{instance}/{task.task_id}"
    version = instances.get_instance(ctx, instance).row_version
    response = client.post(url, data={"decision": "accept", "csrf_token": _csrf(client, url), "row_version": version})
    assert response.status_code == 303
    page = client.get("/inbox").get_data(as_text=True)
    assert "Đã hoàn thành: Rà soát, tiếp nhận nhiệm vụ" in page and task.task_id not in page
    assert "Thực hiện, báo cáo kết quả" in page


def test_a_double_submit_gets_a_clear_message_not_an_error(client, ctx, assigned):
    instance, task = assigned
    sign_in(client, "dm.sotuphap")
    url = f"/tasks/{instance}/{task.task_id}"
    token, version = _csrf(client, url), instances.get_instance(ctx, instance).row_version
    client.post(url, data={"decision": "accept", "csrf_token": token, "row_version": version})
    again = client.post(url, data={"decision": "accept", "csrf_token": token, "row_version": version})
    assert again.status_code == 409  # the task is no longer waiting: a clear conflict page, not a 500
    assert "Xung đột dữ liệu" in again.get_data(as_text=True)
    assert instances.get_instance(ctx, instance).row_version == version + 1  # applied exactly once


def test_the_process_overview_is_for_office_and_analysts_only(client, app):
    sign_in(client, "dm.sotuphap")
    assert client.get("/processes").status_code == 403
    office = app.test_client()
    sign_in(office, "pt.lan")
    assert "task_followup" in office.get("/processes").get_data(as_text=True)


def test_unknown_route_is_a_plain_404(client):
    assert client.get("/no-such-page").status_code == 404


def test_notifications_show_with_an_unread_count_and_can_be_marked_read(client, assigned):
    sign_in(client, "dm.sotuphap")
    page = client.get("/inbox").get_data(as_text=True)
    assert re.search(r'id="unread-count">1<', page)
    listing = client.get("/notifications").get_data(as_text=True)
    assert "Rà soát, tiếp nhận nhiệm vụ" in listing
    client.post("/notifications/read", data={"all": "1", "csrf_token": _csrf(client, "/notifications")})
    assert re.search(r'id="unread-count">0<', client.get("/inbox").get_data(as_text=True))


def test_the_office_registers_a_document_and_the_task_reaches_the_unit(client, app, ctx):
    sign_in(client, "cv.hoa")
    response = client.post("/office/documents/new", data={
        "csrf_token": _csrf(client, "/office/documents/new"), "number_symbol": "77/KH-UBND", "issued_on": "2025-04-21",
        "doc_type": "ke_hoach", "issuer": "UBND tỉnh Bến Tre", "signer": "Phó Chủ tịch",
        "summary": "Kế hoạch chuyển đổi số", "content_0": "Xây dựng cơ sở dữ liệu đất đai",
        "lead_unit_0": "so-tai-nguyen-moi-truong", "deadline_0": "2025-06-30"})
    assert response.status_code == 303
    listing = client.get("/office/tasks").get_data(as_text=True)
    assert "Xây dựng cơ sở dữ liệu đất đai" in listing and "77/KH-UBND" in listing
    unit = app.test_client()
    sign_in(unit, "dm.sotnmt")
    assert "Rà soát, tiếp nhận nhiệm vụ" in unit.get("/inbox").get_data(as_text=True)


def test_a_classified_document_is_refused_on_the_page_and_nothing_is_echoed(client, ctx):
    sign_in(client, "cv.hoa")
    response = client.post("/office/documents/new", data={
        "csrf_token": _csrf(client, "/office/documents/new"), "classification": "Mật", "number_symbol": "5/QĐ-UBND",
        "issued_on": "2025-04-21", "doc_type": "quyet_dinh", "issuer": "UBND tỉnh", "signer": "Chủ tịch",
        "summary": "NỘI DUNG MẬT KHÔNG ĐƯỢC LƯU", "content_0": "x", "lead_unit_0": "so-tu-phap",
        "deadline_0": "2025-06-30"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "độ mật" in page and "NỘI DUNG MẬT" not in page
    assert "5/QĐ-UBND" not in client.get("/office/tasks").get_data(as_text=True)


def test_units_see_only_their_own_tasks_in_the_task_list(client, app, assigned):
    sign_in(client, "dm.sotaichinh")
    assert "Rà soát thủ tục hành chính" not in client.get("/office/tasks").get_data(as_text=True)
    own = app.test_client()
    sign_in(own, "dm.sotuphap")
    assert "Rà soát thủ tục hành chính" in own.get("/office/tasks").get_data(as_text=True)


def test_a_district_files_feedback_and_the_office_gets_the_check_task(client, app, ctx, assigned):
    from sqlalchemy import select

    from engine.regulation.records import TrackedTask

    with ctx.unit_of_work(readonly=True) as session:
        task_id = session.scalar(select(TrackedTask.id))
    sign_in(client, "dm.batri")
    bad = client.post("/feedback/new", data={"csrf_token": _csrf(client, "/feedback/new"), "task_id": "999999",
                                             "content": "x"})
    assert bad.status_code == 422
    ok = client.post("/feedback/new", data={"csrf_token": _csrf(client, "/feedback/new"), "task_id": str(task_id),
                                            "content": "Sở Tư pháp chậm rà soát"})
    assert ok.status_code == 303
    office = app.test_client()
    sign_in(office, "cv.minh")
    assert "Kiểm tra thông tin phản hồi" in office.get("/inbox").get_data(as_text=True)
    department = app.test_client()
    sign_in(department, "dm.sotuphap")
    assert department.get("/feedback/new").status_code == 403


def test_claim_and_release_show_who_handles_a_task(client, app, assigned):
    instance, task = assigned
    sign_in(client, "dm.sotuphap")
    url = f"/tasks/{instance}/{task.task_id}/claim"
    client.post(url, data={"csrf_token": _csrf(client, "/inbox")})
    assert task.task_id in client.get("/inbox?mine=1").get_data(as_text=True)
    colleague = app.test_client()
    sign_in(colleague, "ld.sotuphap")  # a unit leader does not act on focal-point tasks: not visible
    assert colleague.post(url, data={"csrf_token": _csrf(colleague, "/inbox")}).status_code == 404
    client.post(url, data={"csrf_token": _csrf(client, "/inbox"), "release": "1"})
    assert task.task_id not in client.get("/inbox?mine=1").get_data(as_text=True)


def _task_id(ctx):
    from sqlalchemy import select

    from engine.regulation.records import TrackedTask

    with ctx.unit_of_work(readonly=True) as session:
        return session.scalar(select(TrackedTask.id))


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_the_lead_unit_updates_progress_with_an_attachment_and_a_bad_file_is_refused(client, ctx, assigned):
    import io

    task_id = _task_id(ctx)
    sign_in(client, "dm.sotuphap")
    page_url = f"/office/tasks/{task_id}"
    response = client.post(f"{page_url}/progress", content_type="multipart/form-data", data={
        "csrf_token": _csrf(client, page_url), "state": "in_progress", "work_done": "Đã rà soát 40 thủ tục",
        "files": [(io.BytesIO(PDF), "báo cáo.pdf"), (io.BytesIO(b"MZ\x90\x00binary"), "virus.pdf")]})
    refused = response.get_data(as_text=True)  # nothing stored, the text comes back, the file is named
    assert response.status_code == 422 and "“virus.pdf”" in refused and ">Đã rà soát 40 thủ tục</textarea>" in refused
    assert "/attachments/" not in refused
    response = client.post(f"{page_url}/progress", content_type="multipart/form-data", data={
        "csrf_token": _csrf(client, page_url), "state": "in_progress", "work_done": "Đã rà soát 40 thủ tục",
        "files": [(io.BytesIO(PDF), "báo cáo.pdf")]})
    assert response.status_code == 303
    page = client.get(page_url).get_data(as_text=True)
    assert "Đã rà soát 40 thủ tục" in page and "báo cáo.pdf" in page
    link = re.search(r'href="(/attachments/\d+)"', page).group(1)
    download = client.get(link)
    assert download.data == PDF and download.headers["X-Content-Type-Options"] == "nosniff"


def test_another_unit_cannot_see_or_update_the_task_or_its_files(client, app, ctx, assigned):
    task_id = _task_id(ctx)
    sign_in(client, "dm.sotaichinh")
    assert client.get(f"/office/tasks/{task_id}").status_code == 404
    token = _csrf(client, "/inbox")
    progress = {"csrf_token": token, "work_done": "x"}
    assert client.post(f"/office/tasks/{task_id}/progress", data=progress).status_code == 404


def test_the_office_requests_an_update_and_the_unit_gets_a_task(client, app, ctx, assigned):
    task_id = _task_id(ctx)
    sign_in(client, "cv.hoa")
    url = f"/office/tasks/{task_id}"
    request = {"csrf_token": _csrf(client, url), "note": "Phục vụ họp"}
    assert client.post(f"{url}/request-update", data=request).status_code == 303
    unit = app.test_client()
    sign_in(unit, "dm.sotuphap")
    assert "Cập nhật tiến độ, kết quả thực hiện trong kỳ" in unit.get("/inbox").get_data(as_text=True)
    assert unit.post(f"{url}/request-update", data={"csrf_token": _csrf(unit, url)}).status_code == 403


def test_the_feedback_register_shows_the_urging_issued(client, app, ctx, assigned):
    from tests.helpers import complete_step as _do

    task_id = _task_id(ctx)
    feedback_id = tracking.file_feedback(ctx, task_id, "huyen-ba-tri", "Chậm rà soát", actor="dm.batri")
    from engine.regulation.records import Feedback

    with ctx.unit_of_work(readonly=True) as session:
        instance = session.get(Feedback, feedback_id).instance_id
    _do(ctx, instance, "check_feedback", {"decision": "urge", "assessment": "Đúng"})
    _do(ctx, instance, "issue_urging", {"number_symbol": "88/VP-UBND", "issued_on": "2025-04-28", "summary": "Đôn đốc"})
    sign_in(client, "ld.vanphong")
    page = client.get("/office/feedback").get_data(as_text=True)
    assert "Chậm rà soát" in page and "88/VP-UBND" in page and "Đã đôn đốc" in page


def test_the_inbox_filters_by_the_period_tasks_are_due_in(client, assigned):
    instance, task = assigned  # review due end of Wed 23 Apr 2025
    sign_in(client, "dm.sotuphap")
    assert task.task_id in client.get("/inbox?period=2025-04").get_data(as_text=True)
    assert task.task_id in client.get("/inbox?period=2025-Q2").get_data(as_text=True)
    assert task.task_id not in client.get("/inbox?period=2025-05").get_data(as_text=True)
    assert client.get("/inbox?period=nonsense").status_code == 200


def test_unknown_ids_on_pages_are_404_pages_not_errors(client):
    sign_in(client, "dm.sotuphap")
    for path in ("/tasks/999999/abc", "/office/tasks/999999", "/attachments/999999", "/tasks/abc/def"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Traceback" not in response.get_data(as_text=True)


def test_an_oversize_upload_is_refused_with_a_message_and_the_text_kept(client, app, ctx, assigned):
    import io

    ctx.config = ctx.config.__class__(**{**ctx.config.__dict__, "max_attachment_bytes": 1000})
    task_id = _task_id(ctx)
    sign_in(client, "dm.sotuphap")
    url = f"/office/tasks/{task_id}"
    response = client.post(f"{url}/progress", content_type="multipart/form-data", data={
        "csrf_token": _csrf(client, url), "state": "in_progress", "work_done": "Đã họp triển khai",
        "files": [(io.BytesIO(b"%PDF-" + b"x" * 5000), "lớn.pdf")]})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ">Đã họp triển khai</textarea>" in page and "“lớn.pdf”" in page and "MB" in page
    assert "Đã họp triển khai" not in client.get(url).get_data(as_text=True)  # nothing was saved


def test_a_stale_form_is_refused_with_a_message_and_the_task_stays(client, ctx, assigned):
    instance, task = assigned
    sign_in(client, "dm.sotuphap")
    url = f"/tasks/{instance}/{task.task_id}"
    version = instances.get_instance(ctx, instance).row_version
    response = client.post(url, data={"decision": "accept", "csrf_token": _csrf(client, url),
                                      "row_version": version - 1})  # the form was built before a change
    assert response.status_code == 303
    page = client.get("/inbox").get_data(as_text=True)
    assert "người khác" in page and task.task_id in page
    assert instances.get_instance(ctx, instance).row_version == version
