"""A progress update and its attachments are one (issue 13, item 12): a refused file, the second of two
too, stores nothing (no update, no attachment row, no audit entry); the page keeps what was typed; the
API answers the same; the task page shows every field an update holds."""
from __future__ import annotations

import dataclasses
import io
import re

import pytest
from sqlalchemy import func, select

from engine.core.audit import AuditEntry
from engine.core.errors import FieldErrors
from engine.regulation import tracking
from engine.regulation.attachments import MAX_FILES, AttachmentRefused
from engine.regulation.records import Attachment, ProgressUpdate, TrackedTask
from tests.helpers import csrf_token, sign_in

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00binary"
TEXT = {"state": "blocked", "work_done": "Đã rà soát 40 thủ tục", "difficulties": "Thiếu biên chế",
        "proposals": "Bổ sung 2 công chức", "report_document": "15/BC-STP"}


@pytest.fixture
def task_id(ctx, registered_task, tmp_path):
    """A task of so-tu-phap, attachments in this test's own folder."""
    ctx.config = dataclasses.replace(ctx.config, attachments_dir=tmp_path / "files")
    registered_task()
    with ctx.unit_of_work(readonly=True) as session:
        return session.scalar(select(TrackedTask.id))


def _stored(ctx) -> tuple[int, int, int]:
    with ctx.unit_of_work(readonly=True) as session:
        def count(model, *where):
            return session.scalar(select(func.count()).select_from(model).where(*where))
        return (count(ProgressUpdate), count(Attachment),
                count(AuditEntry, AuditEntry.action == "attachment_added"))


def _files(*pairs):
    return [(name, io.BytesIO(data)) for name, data in pairs]


def test_the_second_of_two_files_refused_stores_nothing(ctx, task_id):
    with pytest.raises(AttachmentRefused) as refused:
        tracking.record_progress(ctx, task_id, "so-tu-phap", TEXT, "dm.sotuphap",
                                 _files(("báo cáo.pdf", PDF), ("virus.pdf", EXE)))
    assert "“virus.pdf”" in refused.value.text("vi")
    assert _stored(ctx) == (0, 0, 0)


def test_a_file_of_a_type_not_allowed_is_named(ctx, task_id):
    with pytest.raises(AttachmentRefused) as refused:
        tracking.record_progress(ctx, task_id, "so-tu-phap", TEXT, "dm.sotuphap",
                                 _files(("báo cáo.pdf", PDF), ("chạy.exe", EXE)))
    assert refused.value.text("vi").startswith("Tệp “chạy.exe”") and _stored(ctx) == (0, 0, 0)


def test_too_many_files_store_nothing(ctx, task_id):
    with pytest.raises(AttachmentRefused) as refused:
        tracking.record_progress(ctx, task_id, "so-tu-phap", TEXT, "dm.sotuphap",
                                 _files(*[(f"{i}.pdf", PDF) for i in range(MAX_FILES + 1)]))
    assert refused.value.reason == "too_many" and _stored(ctx) == (0, 0, 0)


def test_the_text_is_checked_before_the_files_and_named_by_its_label(ctx, task_id):
    with pytest.raises(FieldErrors) as refused:
        tracking.record_progress(ctx, task_id, "so-tu-phap", {**TEXT, "work_done": " ", "report_document": "x" * 201},
                                 "dm.sotuphap", _files(("báo cáo.pdf", PDF)))
    assert refused.value.text("vi") == ("Công việc đã thực hiện, kết quả: bắt buộc; "
                                        "Văn bản báo cáo: dài quá 200 ký tự")
    assert _stored(ctx) == (0, 0, 0)


def test_an_accepted_update_and_its_files_are_stored_together(ctx, task_id):
    update_id = tracking.record_progress(ctx, task_id, "so-tu-phap", TEXT, "dm.sotuphap",
                                         _files(("báo cáo.pdf", PDF), ("phụ lục.txt", "Danh sách".encode())))
    assert _stored(ctx) == (1, 2, 2)
    with ctx.unit_of_work(readonly=True) as session:
        assert set(session.scalars(select(Attachment.owner_id))) == {update_id}


def test_the_page_keeps_the_typed_update_and_names_the_refused_file(client, ctx, task_id):
    sign_in(client, "dm.sotuphap")
    url = f"/office/tasks/{task_id}"
    response = client.post(f"{url}/progress", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, url), **TEXT,
        "files": [(io.BytesIO(PDF), "báo cáo.pdf"), (io.BytesIO(EXE), "virus.pdf")]})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "“virus.pdf”" in page and "chọn lại các tệp" in page
    for name in ("work_done", "difficulties", "proposals"):
        assert f">{TEXT[name]}</textarea>" in page
    assert 'value="15/BC-STP"' in page and re.search(r'<option value="blocked"\s+selected', page)
    assert _stored(ctx) == (0, 0, 0)


def test_the_page_shows_every_field_of_an_update(client, ctx, task_id):
    tracking.record_progress(ctx, task_id, "so-tu-phap", TEXT, "dm.sotuphap", _files(("báo cáo.pdf", PDF)))
    sign_in(client, "cv.hoa")
    page = client.get(f"/office/tasks/{task_id}").get_data(as_text=True)
    for value in (*list(TEXT.values())[1:], "báo cáo.pdf", "Sở Tư pháp", "Cập nhật khi có kết quả (ngoài kỳ)"):
        assert value in page, value
    assert "dm.sotuphap" not in page and "so-tu-phap" not in page.split("<h2>")[-1]
    link = re.search(r'href="(/attachments/\d+)">báo cáo.pdf', page).group(1)
    assert client.get(link).data == PDF


def test_the_api_takes_files_as_multipart_and_refuses_the_whole_update(app, ctx, task_id):
    from engine.regulation import api_tokens

    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_tokens.issue(ctx, 'dm.sotuphap', 'test', 'admin').token}"}
    url = f"/api/tracked-tasks/{task_id}/progress"
    refused = client.post(url, headers=headers, content_type="multipart/form-data", data={
        **TEXT, "files": [(io.BytesIO(PDF), "báo cáo.pdf"), (io.BytesIO(EXE), "virus.pdf")]})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "attachment_refused"
    assert "virus.pdf" in refused.get_json()["error"]["message"] and _stored(ctx) == (0, 0, 0)
    accepted = client.post(url, headers=headers, content_type="multipart/form-data", data={
        **TEXT, "files": [(io.BytesIO(PDF), "báo cáo.pdf")]})
    assert accepted.status_code == 201 and _stored(ctx) == (1, 1, 1)
    detail = client.get(f"/api/tracked-tasks/{task_id}", headers=headers).get_json()
    update = detail["updates"][0]
    assert update["proposals"] == TEXT["proposals"] and update["submitted_by_name"]
    assert [f["filename"] for f in update["attachments"]] == ["báo cáo.pdf"]
