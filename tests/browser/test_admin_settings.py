"""An admin changes the Office's feedback limit from 7 to 5 working days from the browser: the preview lists
the Office's feedback task and its timers with old and new due dates, applied to running work the Office's
inbox shows the new due date; a day off added inside the window (with its own preview) moves it back one
working day; the calendar year shows the holidays, the announced days off and the make-up days."""
from __future__ import annotations

from engine.process import instances
from tests.browser.conftest import OPENED_AT
from tests.browser.helpers import shot, sign_in


def _inbox_due(browser, base):
    office = browser.new_page()
    sign_in(office, base, "cv.hoa")
    office.goto(f"{base}/inbox?process=feedback_followup")
    due = office.inner_text("tr[data-task=check_feedback] td.due")
    return office, due


def test_an_admin_shortens_the_feedback_limit_then_adds_a_day_off(page, browser, live_app):
    base, ctx = live_app
    # Received Mon 21 Apr 2025, 09:00: 7 working days end on Tue 29 Apr (Sat 26 Apr is a make-up day).
    instances.start_instance(ctx, "feedback_followup", {"received_at": OPENED_AT.isoformat()})
    office, due = _inbox_due(browser, base)
    assert due.startswith("29/04/2025")
    office.close()

    sign_in(page, base, "admin")
    page.goto(f"{base}/admin/settings")
    assert "Văn phòng xử lý thông tin phản hồi" in page.inner_text("#setting-feedback_office_action")
    shot(page, "admin-settings-list")
    page.click("#setting-feedback_office_action a")
    page.fill("input[name=value]", "5")
    page.fill("input[name=reason]", "Quyết định sửa đổi Quy chế: rút thời hạn xử lý phản hồi còn 5 ngày")
    page.click("#preview-setting")
    page.wait_for_selector("#preview")
    preview = page.inner_text("#preview")
    assert "Kiểm tra thông tin phản hồi" in preview and "Văn phòng UBND tỉnh" in preview
    assert "29/04/2025" in preview and "26/04/2025" in preview  # the task: old due, new due
    shot(page, "admin-settings-preview")
    page.click("#save-setting")
    page.wait_for_selector("text=đã dời hạn 3 mục")
    assert "5 ngày làm việc" in page.inner_text("#current-value")
    assert "rút thời hạn xử lý phản hồi" in page.inner_text(".admin-history")
    shot(page, "admin-settings-saved")

    office, due = _inbox_due(browser, base)
    assert due.startswith("26/04/2025")
    shot(office, "admin-settings-office-inbox")
    office.close()

    # A day off on Thu 24 Apr 2025, inside the window: the limit ends one working day later, Mon 28 Apr.
    page.goto(f"{base}/admin/calendar?year=2025")
    page.fill("#add-override input[name=day]", "24/04/2025")  # typed dd/mm/yyyy (issue 13, item 11)
    page.select_option("#add-override select[name=kind]", "day_off")
    page.fill("#add-override input[name=reason]", "Nghỉ đột xuất (thử nghiệm)")
    page.fill("#add-override input[name=source]", "Thông báo số 01/TB-UBND")
    page.click("#preview-override")
    page.wait_for_selector("#preview")
    preview = page.inner_text("#preview")
    assert "26/04/2025" in preview and "28/04/2025" in preview
    shot(page, "admin-calendar-preview")
    page.click("#confirm-override")
    page.wait_for_selector("text=Đã ghi nhận điều chỉnh ngày 24/04/2025")
    assert "Nghỉ đột xuất" in page.inner_text("#day-2025-04-24")
    assert "day_off" in page.get_attribute("td[data-day='2025-04-24']", "class")
    office, due = _inbox_due(browser, base)
    assert due.startswith("28/04/2025")
    office.close()

    page.goto(f"{base}/admin/calendar?year=2026&since=13/02/2026 16:00&n=3")  # typed dd/mm/yyyy HH:MM
    assert "25/02/2026" in page.inner_text("#tester-result")
    assert "holiday" in page.get_attribute("td[data-day='2026-09-02']", "class")
    assert "makeup" in page.get_attribute("td[data-day='2026-01-10']", "class")
    shot(page, "admin-calendar-year")
