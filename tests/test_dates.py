"""Dates on the registration form (issue 13, item 11): typed dd/mm/yyyy in text inputs (no browser date
picker showing mm/dd/yyyy), an impossible day refused in Vietnamese and shown back as it was typed, and a
deadline already past asks for a confirmation before anything is registered."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from engine.regulation.records import TrackedTask
from tests.helpers import TZ, csrf_token, register_task, sign_in

DOCUMENT = {"number_symbol": "89/KH-UBND", "issued_on": "21/04/2025", "doc_type": "ke_hoach", "issuer": "UBND tỉnh",
            "signer": "Phó Chủ tịch", "summary": "Kế hoạch số hoá", "content_0": "Số hoá hồ sơ đất đai",
            "lead_unit_0": "so-tai-nguyen-moi-truong", "deadline_0": "30/06/2025"}


def _register(client, **fields):
    return client.post("/office/documents/new", data={
        "csrf_token": csrf_token(client, "/office/documents/new"), **DOCUMENT, **fields})


def _count(ctx) -> int:
    with ctx.unit_of_work(readonly=True) as session:
        return session.scalar(select(func.count()).select_from(TrackedTask))


def test_the_form_asks_for_dd_mm_yyyy_in_text_inputs(client, ctx):
    sign_in(client, "cv.hoa")
    page = client.get("/office/documents/new").get_data(as_text=True)
    assert 'type="date"' not in page
    assert 'id="issued_on" name="issued_on" value="" placeholder="dd/mm/yyyy"' in page
    assert 'name="deadline_0" value="" placeholder="dd/mm/yyyy"' in page


def test_dates_typed_dd_mm_yyyy_are_registered(client, ctx):
    sign_in(client, "cv.hoa")
    assert _register(client).status_code == 303
    with ctx.unit_of_work(readonly=True) as session:
        assert str(session.scalar(select(TrackedTask.deadline))) == "2025-06-30"


def test_an_impossible_day_is_refused_in_vietnamese_and_shown_as_typed(client, ctx):
    sign_in(client, "cv.hoa")
    sent = _register(client, issued_on="31/02/2026")
    page = sent.get_data(as_text=True)
    assert sent.status_code == 422
    assert "Ngày ban hành: ngày không hợp lệ" in page
    assert 'value="31/02/2026"' in page and "2026-02-31" not in page
    assert "issued_on:" not in page
    sent = _register(client, deadline_0="30/02/2026")
    assert sent.status_code == 422 and "Thời hạn 1: ngày không hợp lệ" in sent.get_data(as_text=True)
    assert _count(ctx) == 0


def test_a_deadline_already_past_asks_for_confirmation_first(client, ctx):
    sign_in(client, "cv.hoa")  # the clock is 25/04/2025
    asked = _register(client, deadline_0="24/04/2025", content_1="Việc thứ hai", lead_unit_1="so-y-te",
                      deadline_1="30/06/2025", content_2="Việc thứ ba", lead_unit_2="so-y-te", deadline_2="1/4/2025")
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "nhiệm vụ 1, 3 đã qua" in page and 'name="confirm_past_deadline"' in page
    assert 'value="24/04/2025"' in page and "Việc thứ hai" in page  # the form as it was sent
    assert _count(ctx) == 0
    assert _register(client, deadline_0="25/04/2025").status_code == 303  # today is not past
    assert _register(client, number_symbol="90/KH-UBND", deadline_0="24/04/2025",
                     confirm_past_deadline="1").status_code == 303
    assert _count(ctx) == 2



def test_the_delegate_form_takes_dd_mm_yyyy_and_refuses_an_impossible_day(client, shipped):
    registered = register_task(shipped, lead_unit="huyen-ba-tri", number_symbol="813/QĐ-UBND",
                               content="Kiểm tra đê bao", deadline=date(2025, 6, 30))
    sign_in(client, "dm.batri")
    page = client.get(f"/office/tasks/{registered.task_id}").get_data(as_text=True)
    assert 'name="deadline" value="" placeholder="dd/mm/yyyy"' in page and 'type="date"' not in page
    url = f"/office/tasks/{registered.task_id}/delegate"
    token = csrf_token(client, f"/office/tasks/{registered.task_id}")
    part = {"csrf_token": token, "unit": "xa-tan-xuan-ba-tri", "content": "Phần đê xã"}
    refused = client.post(url, data={**part, "deadline": "31/02/2025"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Thời hạn: ngày không hợp lệ" in text
    assert 'value="31/02/2025"' in text and "deadline:" not in text
    assert client.post(url, data={**part, "deadline": "20/06/2025"}).status_code == 303
    with shipped.unit_of_work(readonly=True) as session:
        part_deadline = session.scalar(select(TrackedTask.deadline)
                                       .where(TrackedTask.parent_task_id == registered.task_id))
    assert str(part_deadline) == "2025-06-20"


def test_the_reporting_round_s_day_is_typed_dd_mm_yyyy(client, ctx):
    ctx.clock.set(datetime(2025, 6, 16, 9, tzinfo=TZ))  # after the Q2 cut-off: its round may open
    sign_in(client, "cv.hoa")
    page = client.get("/office/reports").get_data(as_text=True)
    assert 'placeholder="dd/mm/yyyy"' in page and 'type="date"' not in page
    token = csrf_token(client, "/office/reports")
    refused = client.post("/office/reports", data={"csrf_token": token, "cadence": "quarterly",
                                                   "period_day": "31/02/2025", "kinds": ["department"]})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and ": ngày không hợp lệ" in text and "period_day:" not in text
    assert 'value="31/02/2025"' in text
    opened = client.post("/office/reports", data={"csrf_token": token, "cadence": "quarterly",
                                                  "period_day": "20/05/2025", "kinds": ["department"]})
    assert opened.status_code == 303
