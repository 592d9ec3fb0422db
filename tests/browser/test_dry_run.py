"""Browser: an analyst dry-runs task_followup before deploying it: the path drawn, due dates on the real calendar."""
from __future__ import annotations

import dataclasses

from tests.browser.helpers import shot, sign_in


def test_an_analyst_dry_runs_the_task_procedure_and_sees_the_path_and_due_dates(page, live_app, tmp_path):
    base, ctx = live_app
    ctx.config = dataclasses.replace(ctx.config, dry_runs_dir=tmp_path / "dry-runs")
    sign_in(page, base, "pt.lan")
    page.goto(f"{base}/processes/task_followup/dry-run")
    page.wait_for_selector("text=Dữ liệu khởi tạo mẫu")
    page.fill("#start_at", "2025-08-29T09:00")  # a Friday before the National Day days off
    page.fill("#s-assigned_at", "2025-08-29T09:00:00+07:00")
    page.fill("#s-due_date", "2025-09-28")
    shot(page, "dry-run-start")
    page.click("#dry-run-start button[type=submit]")
    page.wait_for_selector("#diagram[data-loaded=true]")
    assert page.query_selector("#diagram .dry-run-current[data-element-id=review_receipt]")
    assert page.query_selector("#diagram .dry-run-passed[data-element-id=assigned]")
    assert "04/09/2025" in page.inner_text("#task-review_receipt .due")  # 2 working days: Wed 3 and Thu 4 Sep
    assert "Đầu mối đơn vị — Sở Tư pháp" in page.inner_text("#task-review_receipt")
    shot(page, "dry-run-review-due")

    page.select_option("#task-review_receipt #f-decision", "return")
    page.click("#task-review_receipt button[type=submit]")
    page.wait_for_selector(".field[data-field=return_reason] .error")  # the form's own rule
    page.select_option("#task-review_receipt #f-decision", "accept")
    page.click("#task-review_receipt button[type=submit]")
    page.wait_for_selector("#diagram[data-loaded=true] .dry-run-current[data-element-id=report_completion]")
    assert page.query_selector("#diagram .dry-run-passed[data-element-id=accepted]")
    assert page.query_selector("#diagram .dry-run-passed[data-element-id=f_accept]")  # the flow taken
    assert page.query_selector("#diagram .dry-run-waiting[data-element-id=remind_deadline]")
    shot(page, "dry-run-accepted-timers")

    page.fill("#clock-at", "2025-10-15T09:00")
    page.click("#clock button[value=at]")
    page.wait_for_selector("#diagram[data-loaded=true]")
    log = page.inner_text("#log")
    assert "Đến hạn hẹn giờ: Nhắc sắp đến hạn" in log and "Đến hạn hẹn giờ: Quá hạn cập nhật" in log
    assert "«Báo quá hạn» sẽ chạy (không chạy thật)" in log
    assert page.query_selector("#diagram .dry-run-passed[data-element-id=overdue_flagged]")
    shot(page, "dry-run-after-deadline")

    page.click("text=Kết thúc chạy thử (xóa dữ liệu tạm)")
    page.wait_for_selector("text=Dữ liệu khởi tạo mẫu")
    assert not any((tmp_path / "dry-runs").rglob("run.db"))
