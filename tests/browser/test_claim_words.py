"""Claims and update requests in a real browser (issue 13, item 13): the task page names who holds a
claimed task, giving it back is "Thôi nhận xử lý", and an update request without its note is refused."""
from __future__ import annotations

from datetime import date

from tests.browser.helpers import shot, sign_in
from tests.helpers import register_task


def test_a_claimed_task_names_its_holder_and_a_request_needs_its_note(page, live_app):
    base, ctx = live_app
    registered = register_task(ctx, issued_on=date(2025, 4, 18), content="Rà soát thủ tục hành chính cấp tỉnh")
    sign_in(page, base, "dm.sotuphap")
    page.click("text=Rà soát, tiếp nhận nhiệm vụ")
    page.wait_for_selector("text=Chưa ai nhận xử lý công việc này.")
    page.click("section.claim input[type=submit][value='Nhận xử lý']")
    page.wait_for_selector("section.claim[data-claimed-by='dm.sotuphap']")
    assert "Bạn đang xử lý công việc này" in page.inner_text("section.claim")
    assert page.get_attribute("section.claim input[type=submit]", "value") == "Thôi nhận xử lý"
    shot(page, "task-claimed-by-me")
    page.click("text=Đăng xuất")
    sign_in(page, base, "cv.hoa")
    page.goto(f"{base}/office/tasks/{registered.task_id}")
    page.click("button:has-text('Yêu cầu cập nhật đột xuất')")   # the browser itself stops an empty note
    assert page.evaluate("document.querySelector('input[name=note]').validity.valueMissing")
    page.evaluate("document.querySelector('input[name=note]').removeAttribute('required')")
    page.fill("input[name=note]", "   ")
    page.click("button:has-text('Yêu cầu cập nhật đột xuất')")
    page.wait_for_selector("text=Hãy ghi nội dung yêu cầu cập nhật")   # the server refuses it too
    shot(page, "update-request-needs-a-note")
    page.fill("input[name=note]", "Phục vụ họp UBND tỉnh ngày 25/4")
    page.click("button:has-text('Yêu cầu cập nhật đột xuất')")
    page.wait_for_selector("text=Đã gửi yêu cầu cập nhật đến đơn vị chủ trì.")
