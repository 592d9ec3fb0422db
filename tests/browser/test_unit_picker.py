"""Units picked by name in a real browser (issue 13, item 6): the Office types part of a name, without
accents, and picks the unit from the suggestions; a name that fits no unit comes back with a Vietnamese
message and the form as it was; a district delegates to a commune picked the same way."""
from __future__ import annotations

from datetime import date

from tests.browser.helpers import shot, sign_in
from tests.helpers import register_task


def _pick(page, field: str, typed: str, name: str) -> None:
    page.click(f"input[name={field}_name]")
    page.keyboard.press("End")  # a click puts the caret where it lands
    page.keyboard.type(typed)
    page.wait_for_selector(f"[data-unit-picker]:has(input[name={field}_name]) [role=option]:text-is('{name}')")
    page.click(f"[data-unit-picker]:has(input[name={field}_name]) [role=option]:text-is('{name}')")


def test_the_office_picks_units_by_name_as_it_types(page, live_app):
    base, ctx = live_app
    sign_in(page, base, "cv.hoa")
    page.click("header >> text=Đăng ký văn bản giao nhiệm vụ")
    page.fill("#number_symbol", "91/KH-UBND")
    page.fill("#issuer", "UBND tỉnh Bến Tre")
    page.fill("#signer", "Phó Chủ tịch")
    page.fill("#issued_on", "2025-04-21")
    page.fill("#summary", "Kế hoạch số hoá hồ sơ đất đai")
    page.fill("textarea[name=content_0]", "Số hoá hồ sơ địa chính")
    page.fill("input[name=deadline_0]", "2025-06-30")
    page.click("input[name=lead_unit_0_name]")
    page.keyboard.type("tai nguyen")  # no accents
    options = page.locator("[data-unit-picker]:has(input[name=lead_unit_0_name]) [role=option]")
    options.first.wait_for()
    assert options.all_inner_texts() == ["Sở Tài nguyên và Môi trường"]
    shot(page, "units-picker-suggestions")
    page.keyboard.press("Enter")  # picks the suggestion, does not send the form
    assert page.input_value("input[name=lead_unit_0_name]") == "Sở Tài nguyên và Môi trường"
    assert page.input_value("input[name=lead_unit_0]") == "so-tai-nguyen-moi-truong"
    _pick(page, "coordinators_0", "tu phap", "Sở Tư pháp")
    _pick(page, "coordinators_0", "huyen ba tri", "UBND huyện Ba Tri")
    assert page.input_value("input[name=coordinators_0]") == "so-tu-phap,huyen-ba-tri"
    page.fill("textarea[name=content_1]", "Việc thứ hai")
    page.fill("input[name=deadline_1]", "2025-06-30")
    page.fill("input[name=lead_unit_1_name]", "Sở Ma")  # a name that is no unit
    page.click("main button[type=submit]")
    page.wait_for_selector("[role=alert]:has-text('Sở Ma')")
    assert "danh sách gợi ý" in page.inner_text("[role=alert]")
    assert page.input_value("textarea[name=content_0]") == "Số hoá hồ sơ địa chính"  # nothing lost
    assert page.input_value("input[name=lead_unit_0_name]") == "Sở Tài nguyên và Môi trường"
    assert page.input_value("input[name=coordinators_0_name]").startswith("Sở Tư pháp; UBND huyện Ba Tri")
    shot(page, "units-picker-unknown-name")
    page.fill("input[name=lead_unit_1_name]", "")
    _pick(page, "lead_unit_1", "y te", "Sở Y tế")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Đã đăng ký")
    row = page.inner_text("tr:has-text('Số hoá hồ sơ địa chính')")
    assert "Sở Tài nguyên và Môi trường" in row
    _pick(page, "unit", "y te", "Sở Y tế")
    page.click("main button[type=submit]")
    page.wait_for_selector("tr:has-text('Việc thứ hai')")
    assert not page.query_selector("tr:has-text('Số hoá hồ sơ địa chính')")
    shot(page, "units-task-list-by-unit-name")


def test_a_district_delegates_to_a_commune_picked_by_name(page, live_app):
    base, ctx = live_app
    registered = register_task(ctx, lead_unit="huyen-ba-tri", number_symbol="815/QĐ-UBND",
                               content="Kiểm tra đê bao ven sông", deadline=date(2025, 6, 30))
    sign_in(page, base, "dm.batri")
    page.goto(f"{base}/office/tasks/{registered.task_id}")
    page.click("#delegate-unit")
    page.keyboard.type("tan xuan")
    page.wait_for_selector("[role=option]:has-text('UBND xã Tân Xuân (huyện Ba Tri)')")
    shot(page, "units-delegate-picker")
    page.keyboard.press("Enter")
    page.fill("#delegate ~ form input[name=content]", "Kiểm tra đoạn đê xã Tân Xuân")
    page.fill("#delegate ~ form input[name=deadline]", "2025-06-20")
    page.click("#delegate ~ form button[type=submit]")
    page.wait_for_selector("text=Kiểm tra đoạn đê xã Tân Xuân")
    assert "UBND xã Tân Xuân (huyện Ba Tri)" in page.inner_text("tr:has-text('Kiểm tra đoạn đê xã Tân Xuân')")
    shot(page, "units-delegated")
    page.goto(f"{base}/inbox")
    page.click("#unit-filter")
    page.keyboard.type("tan xuan")
    page.wait_for_selector("[role=option]:text-is('UBND xã Tân Xuân (huyện Ba Tri)')")
    page.keyboard.press("Enter")
    page.click("main form.filters button[type=submit]")
    page.wait_for_selector("text=Kiểm tra đoạn đê xã Tân Xuân")
    assert "Kiểm tra đê bao ven sông" not in page.inner_text("main table")  # the district's own step: not shown
    shot(page, "units-inbox-by-unit-name")
