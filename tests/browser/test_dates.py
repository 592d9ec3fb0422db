"""Dates on the registration form in a real browser (issue 13, item 11): typed dd/mm/yyyy in text inputs,
an impossible day refused in Vietnamese with the typing kept, a past deadline confirmed before registering."""
from __future__ import annotations

from datetime import date

from tests.browser.helpers import shot, sign_in
from tests.helpers import register_task


def test_the_office_types_dates_dd_mm_yyyy_and_confirms_a_past_deadline(page, live_app):
    base, ctx = live_app  # the live app's clock: 21/04/2025
    sign_in(page, base, "cv.hoa")
    page.click("header >> text=Đăng ký văn bản giao nhiệm vụ")
    assert page.get_attribute("#issued_on", "type") == "text"
    assert page.get_attribute("#issued_on", "placeholder") == "dd/mm/yyyy"
    page.fill("#number_symbol", "92/KH-UBND")
    page.fill("#issuer", "UBND tỉnh Bến Tre")
    page.fill("#signer", "Phó Chủ tịch")
    page.fill("#issued_on", "31/02/2025")
    page.fill("#summary", "Kế hoạch rà soát")
    page.fill("textarea[name=content_0]", "Rà soát hồ sơ")
    page.fill("input[name=lead_unit_0_name]", "Sở Tư pháp")
    page.fill("input[name=deadline_0]", "18/04/2025")
    page.click("main button[type=submit]")
    page.wait_for_selector("[role=alert]:has-text('Ngày ban hành: ngày không hợp lệ')")
    assert page.input_value("#issued_on") == "31/02/2025"  # as typed, not 2025-02-31
    page.fill("#issued_on", "15/04/2025")
    page.click("main button[type=submit]")
    page.wait_for_selector("#past-deadline:has-text('Thời hạn của nhiệm vụ 1 đã qua')")
    assert page.input_value("input[name=deadline_0]") == "18/04/2025"
    shot(page, "dates-past-deadline-asks")
    page.check("input[name=confirm_past_deadline]")
    page.click("main button[type=submit]")
    page.wait_for_url("**/office/tasks*")
    assert "Rà soát hồ sơ" in page.inner_text("main")


def test_a_district_delegates_with_a_deadline_typed_dd_mm_yyyy(page, live_app):
    base, ctx = live_app
    registered = register_task(ctx, lead_unit="huyen-ba-tri", number_symbol="816/QĐ-UBND",
                               content="Kiểm tra kênh thủy lợi", deadline=date(2025, 6, 30))
    sign_in(page, base, "dm.batri")
    page.goto(f"{base}/office/tasks/{registered.task_id}")
    assert page.get_attribute("#delegate ~ form input[name=deadline]", "placeholder") == "dd/mm/yyyy"
    page.click("#delegate-unit")
    page.keyboard.type("tan xuan")
    page.wait_for_selector("[role=option]:has-text('UBND xã Tân Xuân (huyện Ba Tri)')")
    page.keyboard.press("Enter")
    page.fill("#delegate ~ form input[name=content]", "Kiểm tra kênh xã Tân Xuân")
    page.fill("#delegate ~ form input[name=deadline]", "31/02/2025")
    page.click("#delegate ~ form button[type=submit]")
    page.wait_for_selector("[role=alert]:has-text('Thời hạn: ngày không hợp lệ')")
    assert page.input_value("#delegate ~ form input[name=deadline]") == "31/02/2025"
    page.fill("#delegate ~ form input[name=deadline]", "20/06/2025")
    page.click("#delegate ~ form button[type=submit]")
    page.wait_for_selector("tr:has-text('Kiểm tra kênh xã Tân Xuân')")
    assert "UBND xã Tân Xuân (huyện Ba Tri)" in page.inner_text("tr:has-text('Kiểm tra kênh xã Tân Xuân')")
    shot(page, "dates-delegated-part")
