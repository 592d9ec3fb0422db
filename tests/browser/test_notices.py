"""Notifications in a real browser (issue 13, item 9): the header's count is readable, each notice says
which task and opens it, the list pages, and "mark all read" marks every page."""
from __future__ import annotations

from datetime import date, datetime

from engine.process.timers import fire_due_timers
from engine.regulation import notifications
from engine.regulation.notifications import NotificationKind
from tests.browser.helpers import shot, sign_in
from tests.helpers import TZ, register_task

CONTENT = "Rà soát thủ tục hành chính cấp tỉnh"


def test_a_focal_point_opens_a_task_from_its_notice_and_marks_every_page_read(page, live_app):
    base, ctx = live_app
    registered = register_task(ctx, issued_on=date(2025, 4, 18), content=CONTENT)
    with ctx.unit_of_work() as session:   # enough reminders for a second page
        for i in range(24):
            notifications.notify(session, kind=NotificationKind.DEADLINE_REMINDER, now=ctx.now(),
                                 params={"content": f"Việc {i}", "due_date": "30/05/2025"},
                                 unit_code="so-tu-phap", role="unit_focal_point")
    sign_in(page, base, "dm.sotuphap")
    badge = page.wait_for_selector("#unread-count.has-unread")
    assert badge.inner_text() == "25" and badge.get_attribute("title") == "25 thông báo chưa đọc"
    colours = badge.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    assert colours == ["rgb(29, 39, 51)", "rgb(255, 213, 79)"]   # dark on yellow, on the dark red header
    page.click("a[href='/notifications']")
    page.wait_for_selector("text=Trang 1/2")
    shot(page, "notices-first-page")
    page.click("a[rel=next]")
    title = page.wait_for_selector(f"a.notice-title:has-text('{CONTENT} (301/QĐ-UBND)')")
    assert "Rà soát, tiếp nhận nhiệm vụ" in title.inner_text()
    shot(page, "notices-second-page")
    title.click()
    page.wait_for_selector("#diagram[data-loaded=true]")
    assert page.url.endswith(f"/tasks/{registered.instance_id}/{registered.step.task_id}")
    page.click("a[href='/notifications']")
    page.click("text=Đánh dấu tất cả đã đọc")
    page.wait_for_selector("#unread-count:not(.has-unread)")
    assert page.inner_text("#unread-count") == "0"
    page.click("a[rel=next]")
    page.wait_for_selector("text=Trang 2/2")
    assert page.query_selector("tr.unread") is None   # the page not shown was marked too
    shot(page, "notices-all-read")


def test_the_office_is_told_a_unit_has_not_reviewed_a_task_in_time_and_opens_it(page, live_app):
    base, ctx = live_app
    registered = register_task(ctx, number_symbol="302/QĐ-UBND", issued_on=date(2025, 4, 18), content=CONTENT)
    ctx.clock.set(datetime(2025, 4, 24, 8, 0, tzinfo=TZ))   # the 2 working days to review ended with 23 Apr
    assert fire_due_timers(ctx).fired == [(registered.instance_id, "receipt_late")]
    sign_in(page, base, "cv.hoa")
    page.click("a[href='/notifications']")
    row = page.wait_for_selector("tr.unread:has-text('chưa rà soát, tiếp nhận nhiệm vụ đúng hạn')")
    text = row.inner_text()
    assert "Sở Tư pháp chưa rà soát, tiếp nhận nhiệm vụ đúng hạn" in text and CONTENT in text
    assert "Hạn rà soát, tiếp nhận: hết ngày 23/04/2025" in text and "Chậm rà soát, tiếp nhận" in text
    shot(page, "notices-receipt-late-office")
    row.query_selector("a.notice-title").click()
    page.wait_for_selector(f"text={CONTENT}")
    assert page.url.endswith(f"/office/tasks/{registered.task_id}")   # the tracked task: the review is the unit's
    shot(page, "notices-receipt-late-opened")
