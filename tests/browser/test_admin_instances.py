"""An admin handles incidents from the browser: the list shows the instance in error first with its message;
opened, it shows where it failed on its diagram and what the unit had submitted; after the fix it is retried.
Another instance is suspended with a reason (its tasks marked, its timers held) and resumed."""
from __future__ import annotations

from datetime import date

import pytest

from engine.core.errors import DiagramError
from tests.browser.helpers import shot, sign_in
from tests.helpers import complete_step, failing_after_date, register_task


def test_an_admin_retries_an_instance_in_error_then_suspends_and_resumes_another(page, live_app):
    base, ctx = live_app
    bug = failing_after_date(ctx, lambda: ValueError("không đọc được lịch làm việc năm 2025"), times=1)
    failed = register_task(ctx, number_symbol="901/QĐ-UBND", content="Báo cáo tình hình giải ngân vốn đầu tư công",
                           lead_unit="so-tai-chinh")
    bug["on"] = True
    with pytest.raises(DiagramError):
        complete_step(ctx, failed.instance_id, "review_receipt", {"decision": "accept"}, actor="dm.sotaichinh")
    other = register_task(ctx, number_symbol="902/QĐ-UBND", content="Rà soát thủ tục hành chính cấp tỉnh",
                          deadline=date(2025, 6, 30))
    complete_step(ctx, other.instance_id, "review_receipt", {"decision": "accept"}, actor="dm.sotuphap")
    register_task(ctx, number_symbol="903/QĐ-UBND", content="Kiểm tra công tác phòng chống thiên tai")

    sign_in(page, base, "admin")
    page.goto(f"{base}/admin/instances")
    first = page.locator("#instances tbody tr").first
    assert first.get_attribute("data-instance") == str(failed.instance_id)
    assert "không đọc được lịch làm việc năm 2025" in first.inner_text() and "Lỗi" in first.inner_text()
    assert "Sở Tài chính" in first.inner_text()
    assert "Lỗi: 1" in page.inner_text(".status-counts")
    shot(page, "admin-instances-list")

    first.locator("a").first.click()
    page.wait_for_selector("#diagram[data-loaded=true]")
    assert "không đọc được lịch làm việc năm 2025" in page.inner_text("#incident")
    assert page.query_selector("#diagram .instance-current[data-element-id=review_receipt]")  # where it waited
    assert page.query_selector("#diagram .instance-failed[data-element-id=update_overdue]")  # the timer that failed
    shot(page, "admin-instances-error")

    bug["on"] = False  # the fix is deployed
    page.fill("#retry-reason", "Đã bổ sung lịch làm việc năm 2025")
    page.click("#retry-form button[type=submit]")
    page.wait_for_selector(f"text=Đã xử lý lại hồ sơ #{failed.instance_id}.")
    assert page.inner_text("#instance-status") == "Đang xử lý" and not page.query_selector("#incident")
    assert "Đã bổ sung lịch làm việc năm 2025" in page.inner_text("#history tr.history-retry")
    page.wait_for_selector("#diagram[data-loaded=true]")
    shot(page, "admin-instances-retried")

    page.goto(f"{base}/admin/instances/{other.instance_id}")
    page.wait_for_selector("#diagram[data-loaded=true]")
    assert page.query_selector("#diagram .instance-passed[data-element-id=review_receipt]")
    assert page.query_selector("#diagram .instance-waiting")  # the deadline timers
    assert "Sở Tư pháp" in page.inner_text("#data")  # the lead unit by name, not its code
    page.fill("#suspend-reason", "Chờ UBND tỉnh điều chỉnh thời hạn theo văn bản mới")
    page.click("#suspend-form button[type=submit]")
    page.wait_for_selector(f"text=Đã tạm dừng hồ sơ #{other.instance_id}.")
    page.wait_for_selector("#diagram[data-loaded=true]")
    assert "Chờ UBND tỉnh điều chỉnh thời hạn" in page.inner_text("#hold")
    assert "Tạm dừng" in page.inner_text("#ready")
    assert page.query_selector("#diagram .instance-held")
    shot(page, "admin-instances-suspended")

    page.click("#resume-form button[type=submit]")
    page.wait_for_selector(f"text=Hồ sơ #{other.instance_id} tiếp tục xử lý.")
    assert page.inner_text("#instance-status") == "Đang xử lý" and not page.query_selector("#hold")
    page.goto(f"{base}/admin/instances?status=suspended")
    assert page.query_selector("#no-instances")
    page.goto(f"{base}/admin/instances")
    shot(page, "admin-instances-after")
