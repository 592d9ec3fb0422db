"""The periodic report on screen and printed, and the process heatmap with a step clicked, in a real browser
(issue 14), as the Office's leader reads them: units by name, dates dd/mm/yyyy, figures written out."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from tests.browser.helpers import shot, sign_in
from tests.helpers import TZ, complete_step, register_task


@pytest.fixture
def worked(live_app):
    """Four tasks registered on Mon 21/04/2025, three received after 1-3 days, then the clock at 06/05/2025."""
    base, ctx = live_app
    tasks = [register_task(ctx, number_symbol=f"{n}/QĐ-UBND", lead_unit=unit, content=content, deadline=deadline)
             for n, unit, content, deadline in [
                 (411, "so-tu-phap", "Rà soát văn bản quy phạm pháp luật về đất đai", date(2025, 4, 25)),
                 (412, "so-tu-phap", "Tổ chức tuyên truyền Luật Hòa giải ở cơ sở", date(2025, 6, 30)),
                 (413, "stp-phong-xd-ktvb", "Thẩm định dự thảo quyết định về giá đất", date(2025, 4, 29)),
                 (414, "huyen-ba-tri", "Kiểm tra kênh thủy lợi xã Tân Xuân", date(2025, 5, 30))]]
    for task, received in zip(tasks[:3], (datetime(2025, 4, 22, 10, tzinfo=TZ), datetime(2025, 4, 24, 15, tzinfo=TZ),
                                          datetime(2025, 4, 25, 9, tzinfo=TZ)), strict=True):
        ctx.clock.set(received)
        complete_step(ctx, task.instance_id, "review_receipt", {"decision": "accept"}, actor="dm.sotuphap")
    ctx.clock.set(datetime(2025, 5, 6, 9, tzinfo=TZ))
    return base, ctx


def test_the_office_leader_reads_a_units_report_on_screen_and_printed(page, worked):
    base, _ = worked
    sign_in(page, base, "ld.vanphong")
    page.click("header a:text-is('Báo cáo')")
    page.select_option("#period", "2025-Q2")
    page.click("#unit-filter")
    page.keyboard.type("so tu phap")
    page.click("[role=option]:text-is('Sở Tư pháp')")
    page.click("main form button[type=submit]")
    page.wait_for_selector("#report-table")
    text = page.inner_text("main")
    assert "Quý II/2025 (số liệu từ ngày 15/03/2025 đến ngày 14/06/2025)" in text
    assert "Phòng Xây dựng và Kiểm tra văn bản quy phạm pháp luật - Sở Tư pháp" in text
    assert "so-tu-phap" not in text and "Kết quả tự kiểm tra (Điều 17 khoản 1)" in text
    own = page.locator("#report-table tr[data-unit=so-tu-phap]")
    assert own.locator("[data-col=total]").inner_text() == "2" and own.locator("[data-col=overdue]").inner_text() == "1"
    assert page.locator("#totals [data-col=total]").inner_text() == "3"
    shot(page, "reports-unit-period-report")
    page.emulate_media(media="print")
    assert not page.is_visible("header") and not page.is_visible("main form.filters")
    shot(page, "reports-unit-period-report-print")
    page.emulate_media(media="screen")
    with page.expect_download() as download:
        page.click("#xlsx")
    assert download.value.suggested_filename == "bao-cao-2025-Q2-so-tu-phap.xlsx"


def test_the_heatmap_colours_the_steps_and_lists_a_steps_tasks(page, worked):
    base, _ = worked
    sign_in(page, base, "ld.vanphong")
    page.goto(f"{base}/reports/heatmap?process=task_followup&period=2025-Q2")
    page.wait_for_selector("#diagram[data-loaded=true]")
    assert page.locator(".heat-label").count() >= 3
    review = page.locator("#heatmap-table tr[data-step=review_receipt]")
    assert "3" in review.locator("td").nth(1).inner_text()
    assert "ngày làm việc" in review.locator("td").nth(2).inner_text()
    page.click("g[data-element-id=review_receipt]", position={"x": 6, "y": 6})  # its top corner: labels lie below
    page.wait_for_selector("#step-task-table")
    listed = page.inner_text("#step-tasks")
    assert "Các việc tại bước «Rà soát, tiếp nhận nhiệm vụ»" in listed
    assert "Rà soát văn bản quy phạm pháp luật về đất đai" in listed and "21/04/2025 09:00" in listed
    completion = page.locator("#heatmap-table tr[data-step=report_completion]")
    assert completion.locator("td").nth(7).inner_text() == "2"  # two of the three waiting are past due
    shot(page, "reports-heatmap-step-clicked")
    page.click("#step-task-table a >> nth=0")
    page.wait_for_url("**/office/tasks/*")
