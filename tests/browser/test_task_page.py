"""The task page in a real browser (issue 13, items 4 and 5): Back to a finished step shows it read-only,
and the decision pages show what the steps before them produced."""
from __future__ import annotations

from datetime import date

from tests.browser.helpers import shot, sign_in
from tests.helpers import complete_step, ready_tasks, register_task


def _assign(ctx):
    # 301/QĐ-UBND for so-tu-phap, due 30 May 2025
    return register_task(ctx, issued_on=date(2025, 4, 18), content="Rà soát thủ tục hành chính cấp tỉnh")


def test_back_to_a_finished_step_shows_it_done_and_the_office_sees_the_result_it_confirms(page, live_app):
    base, ctx = live_app
    registered = _assign(ctx)
    sign_in(page, base, "dm.sotuphap")
    page.click("text=Rà soát, tiếp nhận nhiệm vụ")
    page.select_option("#f-decision", "accept")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Đã hoàn thành: Rà soát, tiếp nhận nhiệm vụ")
    page.go_back()  # Back to the step just finished: read-only, not a 409 page
    page.wait_for_selector(".step-done")
    assert "Đã hoàn thành" in page.inner_text("h1")
    assert "Huỳnh Thị Thu Trang" in page.inner_text(".step-done")
    assert "Tiếp nhận" in page.inner_text(".step-done dd[data-field=decision]")
    assert not page.query_selector("main form button[type=submit]")
    shot(page, "task-page-finished-step")
    page.goto(f"{base}/inbox")
    page.click("text=Thực hiện, báo cáo kết quả (có thời hạn)")
    assert "Rà soát, tiếp nhận nhiệm vụ" in page.inner_text(".earlier-steps")
    page.fill("#f-result", "Đã rà soát 152 thủ tục; đề xuất đơn giản hóa 12 thủ tục")
    page.fill("#f-report_document", "45/BC-STP")
    page.fill("#f-completed_on", "21/04/2025")  # the live app's today: a completion cannot be dated later
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Đã hoàn thành: Thực hiện, báo cáo kết quả")
    page.click("text=Đăng xuất")
    sign_in(page, base, "cv.hoa")
    confirm = ready_tasks(ctx, registered.instance_id)["confirm_completion"]
    page.goto(f"{base}/tasks/{registered.instance_id}/{confirm.task_id}")
    record = page.wait_for_selector(".step-record[data-step=report_completion]")
    text = record.inner_text()
    assert "Đã rà soát 152 thủ tục" in text and "45/BC-STP" in text and "21/04/2025" in text
    assert "Huỳnh Thị Thu Trang" in text
    shot(page, "task-page-confirm-sees-result")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "task-page-confirm-sees-result-phone")


def test_the_office_handling_a_returned_task_reads_the_reason(page, live_app):
    base, ctx = live_app
    registered = _assign(ctx)
    complete_step(ctx, registered.instance_id, "review_receipt",
                  {"decision": "return", "return_reason": "Nhiệm vụ thuộc thẩm quyền của Sở Nội vụ"},
                  actor="dm.sotuphap")
    sign_in(page, base, "cv.hoa")
    page.click("text=Xử lý nhiệm vụ bị trả lại")
    record = page.wait_for_selector(".step-record[data-step=review_receipt]")
    assert "Nhiệm vụ thuộc thẩm quyền của Sở Nội vụ" in record.inner_text()
    assert "Trả lại" in page.inner_text(".step-record[data-step=review_receipt] dd[data-field=decision]")
    shot(page, "task-page-return-reason")
