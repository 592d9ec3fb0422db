"""Issue 13, items 3 and 7 in a real browser: the inbox names each task, and search ignores accents in the
inbox and the task list; the task list's status filter has "Quá hạn"; the process filter picks by name."""
from __future__ import annotations

from datetime import date

from tests.browser.helpers import shot, sign_in
from tests.helpers import register_task


def _two_tasks(ctx):
    register_task(ctx, number_symbol="12/QĐ-UBND", issued_on=date(2025, 4, 18), summary="Quản lý đất đai",
                  content="Rà soát hồ sơ đất đai ven sông Hàm Luông")
    register_task(ctx, number_symbol="7/KH-UBND", issued_on=date(2025, 2, 10), summary="Cải cách hành chính",
                  content="Rà soát thủ tục hành chính cấp tỉnh", deadline=date(2025, 3, 3))  # overdue


def test_a_focal_point_sees_which_task_each_row_is_and_finds_one_typed_without_accents(page, live_app):
    base, ctx = live_app
    _two_tasks(ctx)
    sign_in(page, base, "dm.sotuphap")
    page.wait_for_selector("text=Việc cần xử lý")
    rows = page.locator("main table tbody tr")
    assert rows.count() == 2
    text = page.inner_text("main table")
    assert "Rà soát hồ sơ đất đai ven sông Hàm Luông" in text and "12/QĐ-UBND" in text
    assert "Đơn vị chủ trì: Sở Tư pháp" in text and "so-tu-phap" not in text
    shot(page, "inbox-rows-name-their-task")
    page.fill("input[name=q]", "dat dai")
    page.select_option("select[name=process]", label="Theo dõi, đôn đốc thực hiện nhiệm vụ được giao")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/inbox?*")
    assert rows.count() == 1 and "Rà soát hồ sơ đất đai" in page.inner_text("main table")
    assert page.input_value("input[name=q]") == "dat dai"  # the search stays in the form
    shot(page, "inbox-search-without-accents")


def test_the_office_filters_the_task_list_by_overdue_and_by_a_number_typed_without_accents(page, live_app):
    base, ctx = live_app
    _two_tasks(ctx)
    sign_in(page, base, "cv.hoa")
    page.click("text=Danh sách nhiệm vụ")
    page.select_option("select[name=status]", label="Quá hạn")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/office/tasks?*")
    table = page.inner_text("main table tbody")
    assert "Rà soát thủ tục hành chính cấp tỉnh" in table and "đất đai" not in table
    shot(page, "task-list-overdue")
    page.select_option("select[name=status]", value="")
    page.fill("input[name=q]", "12/qd-ubnd")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("main table tbody tr")
    table = page.inner_text("main table tbody")
    assert "Rà soát hồ sơ đất đai ven sông Hàm Luông" in table and "thủ tục" not in table
    shot(page, "task-list-search-number")
