"""An admin merges two communes from the browser: the preview lists the ready step, the tracked task and the
people that move; after applying, the task is in the new commune focal point's inbox."""
from __future__ import annotations

from tests.browser.helpers import shot, sign_in
from tests.helpers import register_task


def test_an_admin_merges_two_communes_and_the_task_moves_to_the_new_communes_inbox(page, live_app, browser):
    base, ctx = live_app
    registered = register_task(ctx, lead_unit="xa-tan-xuan-ba-tri", number_symbol="801/QĐ-UBND",
                               content="Rà soát hộ nghèo xã Tân Xuân")

    sign_in(page, base, "admin")
    page.goto(f"{base}/admin/units")
    row = page.inner_text("#unit-tree tr[data-unit='xa-tan-xuan-ba-tri']")
    assert "UBND xã Tân Xuân (huyện Ba Tri)" in row
    shot(page, "units-tree")
    page.select_option("#hand-over-action", "merge")
    page.select_option("#hand-over-unit", "xa-tan-xuan-ba-tri")
    page.select_option("#hand-over-into", "tt-ba-tri")
    page.click("#hand-over button[type=submit]")
    page.wait_for_selector("#preview-steps")
    steps = page.inner_text("#preview-steps")
    assert "Rà soát, tiếp nhận nhiệm vụ" in steps and "UBND thị trấn Ba Tri (huyện Ba Tri)" in steps
    assert "Rà soát hộ nghèo xã Tân Xuân" in page.inner_text("#preview-tasks")
    assert "Trần Thị Ngọc Hân" in page.inner_text("#preview-users")
    shot(page, "units-merge-preview")
    page.fill("#apply-reason", "Sáp nhập xã Tân Xuân vào thị trấn Ba Tri")
    page.click("#apply-change button[type=submit]")
    page.wait_for_selector("#unit-tree")
    assert "Đã chuyển 1 việc chờ xử lý" in page.inner_text("main")
    merged = page.inner_text("#unit-tree tr[data-unit='xa-tan-xuan-ba-tri']")
    assert "Đã chuyển về UBND thị trấn Ba Tri (huyện Ba Tri)" in merged
    shot(page, "units-merged")

    focal = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900}).new_page()
    sign_in(focal, base, "dm.ttbatri")
    focal.goto(f"{base}/inbox")
    focal.wait_for_selector("text=Rà soát, tiếp nhận nhiệm vụ")
    assert f"/tasks/{registered.instance_id}/" in focal.content()
    shot(focal, "units-merged-inbox")
    focal.context.close()
