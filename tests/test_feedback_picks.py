"""Districts pick the task they report on and see their feedback (issue 13, item 8): the tasks offered are
the open ones other units lead, found by content or document number typed without accents; a task that is
not one of them is refused in Vietnamese with the text kept; the unit's own feedback is listed with its
outcome. The page and the API give the same answers."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine.read import feedback_choices
from engine.regulation import access, api_tokens
from engine.regulation.records import Feedback, FeedbackOutcome, TaskStatus, TrackedTask
from tests.helpers import csrf_token, register_task, sign_in


def _world(ctx):
    late = register_task(ctx, number_symbol="301/QĐ-UBND", content="Rà soát thủ tục hành chính đất đai")
    other = register_task(ctx, number_symbol="302/KH-UBND", content="Kiểm tra an toàn thực phẩm", lead_unit="so-y-te")
    own = register_task(ctx, number_symbol="303/QĐ-UBND", content="Sửa chữa tuyến đường huyện",
                        lead_unit="huyen-ba-tri", deadline=date(2025, 6, 30))
    closed = register_task(ctx, number_symbol="304/QĐ-UBND", content="Rà soát đã xong")
    with ctx.unit_of_work() as session:
        session.get(TrackedTask, closed.task_id).status = TaskStatus.COMPLETED_ON_TIME
    return late.task_id, other.task_id, own.task_id, closed.task_id


def test_a_district_is_offered_the_open_tasks_of_other_units_found_without_accents(shipped):
    late, other, own, closed = _world(shipped)
    district = access.actor_named(shipped, "dm.batri")
    assert [t.id for t in feedback_choices.reportable_tasks(shipped, district)] == [other, late]
    assert [t.id for t in feedback_choices.reportable_tasks(shipped, district, "dat dai")] == [late]
    assert [t.id for t in feedback_choices.reportable_tasks(shipped, district, "302/kh")] == [other]
    assert [t.id for t in feedback_choices.reportable_tasks(shipped, district, "RA SOAT")] == [late]  # not closed
    commune = access.actor_named(shipped, "dm.ttbatri")  # its district's task is another unit's
    assert own in [t.id for t in feedback_choices.reportable_tasks(shipped, commune)]
    assert feedback_choices.reportable_tasks(shipped, access.actor_named(shipped, "dm.sotuphap")) == []


def test_the_page_files_feedback_on_a_picked_task_and_lists_it_with_its_outcome(client, shipped):
    late, other, own, closed = _world(shipped)
    sign_in(client, "dm.batri")
    found = client.get("/feedback/new?q=an+toan+thuc+pham").get_data(as_text=True)
    assert f'value="{other}"' in found and f'value="{late}"' not in found and "302/KH-UBND" in found
    assert "Sở Y tế" in found
    token = csrf_token(client, "/feedback/new")
    for refused_id in (own, closed, 999999):
        refused = client.post("/feedback/new", data={"csrf_token": token, "task_id": str(refused_id), "q": "duong",
                                                     "content": "Chậm triển khai"})
        page = refused.get_data(as_text=True)
        assert refused.status_code == 422 and "Hãy chọn một nhiệm vụ trong danh sách" in page
        assert "Chậm triển khai" in page and 'value="duong"' in page
    none = client.post("/feedback/new", data={"csrf_token": token, "q": "", "content": "Chậm triển khai"})
    assert none.status_code == 422 and "Chậm triển khai" in none.get_data(as_text=True)
    sent = client.post("/feedback/new", data={"csrf_token": token, "task_id": str(late), "content": "Sở chậm rà soát"})
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/feedback/new")
    mine = client.get("/feedback/new").get_data(as_text=True).split('id="my-feedback"')[1]
    assert "Rà soát thủ tục hành chính đất đai" in mine and "Sở chậm rà soát" in mine and "Đang xử lý" in mine
    with shipped.unit_of_work() as session:  # the Office's answer, as its urging step records it
        row = session.scalar(select(Feedback))
        row.outcome, row.closed_at = FeedbackOutcome.URGE, row.received_at
    assert "Đã đôn đốc" in client.get("/feedback/new").get_data(as_text=True).split('id="my-feedback"')[1]
    preset = client.get(f"/feedback/new?task_id={other}&q=khong+co+gi").get_data(as_text=True)
    assert f'value="{other}" checked' in preset  # a task chosen by a link stays chosen whatever the search


def test_the_api_answers_as_the_page(app, shipped):
    late, other, own, closed = _world(shipped)
    token = api_tokens.issue(shipped, "dm.batri", "test", "admin").token
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    tasks = api.get("/api/feedback/tasks?q=dat+dai", headers=headers).get_json()["items"]
    assert [(t["id"], t["document"], t["lead_unit_name"]) for t in tasks] == [(late, "301/QĐ-UBND", "Sở Tư pháp")]
    refused = api.post("/api/feedback", json={"task_id": own, "content": "x"}, headers=headers)
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "invalid_input"
    assert api.post("/api/feedback", json={"task_id": late, "content": "Chậm"}, headers=headers).status_code == 201
    mine = api.get("/api/feedback/mine", headers=headers).get_json()["items"]
    assert [(f["task_id"], f["content"], f["outcome"]) for f in mine] == [(late, "Chậm", None)]
    office = api_tokens.issue(shipped, "cv.hoa", "test", "admin").token
    assert api.get("/api/feedback/mine", headers={"Authorization": f"Bearer {office}"}).status_code == 403
