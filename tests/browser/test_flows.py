"""What people do, in a real browser: a unit handles its task, a district files feedback."""
from __future__ import annotations

from datetime import date, datetime

from tests.browser.helpers import shot, sign_in
from tests.helpers import TZ, register_task


def _assign(ctx):
    # 301/QĐ-UBND for so-tu-phap, due 30 May 2025
    return register_task(ctx, issued_on=date(2025, 4, 18), content="Rà soát thủ tục hành chính cấp tỉnh")


def test_a_focal_point_corrects_an_invalid_form_and_the_office_sees_the_result(page, live_app):
    base, ctx = live_app
    _assign(ctx)
    sign_in(page, base, "dm.sotuphap")
    page.wait_for_selector("text=Việc cần xử lý")
    page.click("text=Rà soát, tiếp nhận nhiệm vụ")
    page.wait_for_selector("#diagram[data-loaded=true]")  # bpmn-js drew the diagram
    assert page.query_selector("#diagram .current-task[data-element-id=review_receipt]")
    shot(page, "unit-task-with-diagram")
    page.select_option("#f-decision", "accept")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Đã hoàn thành: Rà soát, tiếp nhận nhiệm vụ")
    page.click("text=Thực hiện, báo cáo kết quả (có thời hạn)")
    page.fill("#f-result", "Đã rà soát 152 thủ tục")
    page.click("main button[type=submit]")  # report document and date missing
    page.wait_for_selector(".field[data-field=report_document] .error")
    assert "bắt buộc" in page.inner_text(".field[data-field=report_document] .error")
    assert page.input_value("#f-result") == "Đã rà soát 152 thủ tục"  # nothing typed is lost
    shot(page, "unit-form-errors")
    page.fill("#f-report_document", "45/BC-STP")
    page.fill("#f-completed_on", "28/04/2025")  # a day that has not come yet (the live app's today: 21/04/2025)
    page.click("main button[type=submit]")
    page.wait_for_selector(".field[data-field=completed_on] .error")
    assert page.inner_text(".field[data-field=completed_on] .error") == (
        "Ngày hoàn thành không được sau ngày hôm nay (21/04/2025).")
    assert page.input_value("#f-result") == "Đã rà soát 152 thủ tục"
    assert page.input_value("#f-completed_on") == "28/04/2025"  # as typed
    shot(page, "unit-completion-date-in-the-future-refused")
    page.fill("#f-completed_on", "21/04/2025")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Đã hoàn thành: Thực hiện, báo cáo kết quả")
    page.wait_for_selector("text=Không có công việc nào.")  # the unit's inbox is empty now
    shot(page, "unit-inbox-after")
    page.click("text=Đăng xuất")
    sign_in(page, base, "cv.hoa")
    page.wait_for_selector("text=Kiểm tra, xác nhận hoàn thành")
    page.click("text=Danh sách nhiệm vụ")
    page.wait_for_selector("td span.badge:has-text(\"Chờ xác nhận\")")
    shot(page, "office-sees-update")


def test_feedback_round_trip_from_a_district_to_the_office_and_back(page, live_app):
    base, ctx = live_app
    registered = _assign(ctx)
    sign_in(page, base, "dm.batri")
    page.click("text=Phản hồi thông tin về việc thực hiện nhiệm vụ")
    page.fill("#q", "ra soat thu tuc")  # the task found by its content, typed without accents
    page.click("form[role=search] button[type=submit]")
    page.check(f"input[name=task_id][value='{registered.task_id}']")
    page.fill("#content", "Sở Tư pháp chậm rà soát, ảnh hưởng việc giải quyết thủ tục tại huyện")
    shot(page, "district-feedback-picks-task")
    page.click("main form[method=post] button[type=submit]")
    page.wait_for_selector("text=Đã gửi phản hồi")
    assert "Đang xử lý" in page.inner_text("#my-feedback")  # the district's own feedback, still open
    page.click("text=Đăng xuất")
    sign_in(page, base, "cv.minh")
    page.click("text=Kiểm tra thông tin phản hồi, đề xuất hướng xử lý")
    page.select_option("#f-decision", "urge")
    page.fill("#f-assessment", "Phản ánh có cơ sở")
    page.click("main button[type=submit]")
    page.click("text=Ban hành văn bản đôn đốc")
    page.fill("#f-number_symbol", "1520/VP-UBND")
    page.fill("#f-issued_on", "22/04/2025")
    page.fill("#f-summary", "Đôn đốc Sở Tư pháp hoàn thành rà soát")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Đã hoàn thành: Ban hành văn bản đôn đốc")
    shot(page, "office-urged")
    page.click("text=Đăng xuất")
    sign_in(page, base, "dm.batri")
    page.click("a[href='/notifications']")
    page.wait_for_selector("text=Văn bản đôn đốc 1520/VP-UBND")
    shot(page, "district-copied")
    page.goto(f"{base}/feedback/new")
    row = page.inner_text("#my-feedback tbody tr")
    assert "Đã đôn đốc" in row and "1520/VP-UBND" in row  # what the Office did about it
    shot(page, "district-feedback-outcome")


def test_the_office_opens_a_reporting_round_and_sees_a_unit_report_come_in(page, live_app):
    base, ctx = live_app
    ctx.clock.set(datetime(2025, 6, 16, 9, 0, tzinfo=TZ))   # the Monday after the Q2 data cut-off
    sign_in(page, base, "cv.hoa")
    page.click("header >> text=Kỳ báo cáo tự kiểm tra")
    page.select_option("#cadence", "quarterly")
    page.fill("#period_day", "2025-05-20")
    page.click("main button[type=submit]")
    page.wait_for_selector("h1:has-text('Kỳ báo cáo Quý II/2025')")
    assert page.query_selector("tr[data-unit=so-tu-phap][data-state=pending]")
    shot(page, "office-round-opened")
    page.click("text=Đăng xuất")
    sign_in(page, base, "dm.sotuphap")
    page.click("text=Gửi báo cáo kết quả tự kiểm tra trong kỳ")
    page.fill("#f-content", "Đã tự kiểm tra 4 nhiệm vụ; 1 nhiệm vụ quá hạn")
    page.fill("#f-report_document", "52/BC-STP")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Đã hoàn thành: Gửi báo cáo kết quả tự kiểm tra")
    page.click("text=Đăng xuất")
    sign_in(page, base, "cv.hoa")
    page.goto(f"{base}/office/reports/2025-Q2")
    row = page.wait_for_selector("tr[data-unit=so-tu-phap][data-state=submitted]")
    assert "52/BC-STP" in row.inner_text() and "Đã gửi đúng hạn" in row.inner_text()
    shot(page, "office-round-report-in")
