"""A step's due date says why it is not the task's deadline, in the inbox and on the task page (issue 13,
item 11), as a person sees them."""
from __future__ import annotations

from datetime import date

from tests.browser.helpers import shot, sign_in
from tests.helpers import complete_step, register_task


def test_the_unit_sees_why_its_report_is_due_a_working_day_after_the_deadline(page, live_app):
    base, ctx = live_app
    registered = register_task(ctx, number_symbol="512/QĐ-UBND", content="Rà soát bến thủy nội địa",
                               deadline=date(2025, 5, 30))
    complete_step(ctx, registered.instance_id, "review_receipt", {"decision": "accept"}, actor="dm.sotuphap")
    sign_in(page, base, "dm.sotuphap")
    page.goto(f"{base}/inbox")
    row = page.locator("tr:has-text('Rà soát bến thủy nội địa')")
    assert "Thời hạn của nhiệm vụ cộng 1 ngày làm việc" in row.inner_text()
    shot(page, "due-reason-inbox")
    row.locator("a").first.click()
    page.wait_for_selector(".due-reason")
    assert "02/06/2025" in page.inner_text("main > p") and "Điều 8.1.a" in page.inner_text(".due-reason")
    shot(page, "due-reason-task-page")
