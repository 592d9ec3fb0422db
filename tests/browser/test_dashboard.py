"""The dashboard in a real browser (issue 14): an Office leader opens the province's figures at 1366 px, the
charts drawn without script, follows a figure to the tasks behind it; a district sees its own."""
from __future__ import annotations

import importlib.util
import re

from tests.browser.conftest import OPENED_AT
from tests.browser.helpers import shot, sign_in
from tests.helpers import ROOT


def _fill(ctx, tasks: int) -> None:
    # The benchmark's generator (bench/dashboard_data.py): two years of tasks of the shipped units, by SQL.
    spec = importlib.util.spec_from_file_location("dashboard_data", ROOT / "bench" / "dashboard_data.py")
    data = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(data)
    data.fill(ctx, tasks, now=OPENED_AT)


def test_an_office_leader_reads_the_province_and_drills_down(page, live_app):
    base, ctx = live_app
    _fill(ctx, 1500)
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, base, "ld.vanphong")
    page.click("header >> text=Bảng số liệu")
    page.wait_for_selector("h1:has-text('Tình hình thực hiện nhiệm vụ: Toàn tỉnh')")
    text = page.inner_text("main")
    assert "Quý II/2025" in text and "15/03/2025" in text and "Tỷ lệ hoàn thành đúng hạn" in text
    assert "UBND huyện Ba Tri" in text and "Sở Tư pháp" in text and "huyen-ba-tri" not in text
    assert page.locator("svg[role=img] > title").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366  # nothing wider than the screen
    shot(page, "dashboard-province-1366")
    overdue = int(page.inner_text(".card.overdue .card-value a"))
    assert overdue > 0
    page.click(".card.overdue .card-value a")
    page.wait_for_selector("#drill-total")
    assert int(page.inner_text("#drill-total")) == overdue
    assert page.locator("table.drill tbody tr").count() == min(overdue, 50)
    assert set(re.findall(r"Quá hạn", page.inner_text("table.drill tbody"))) == {"Quá hạn"}
    shot(page, "dashboard-drill-down-overdue")
    page.emulate_media(media="print")
    page.goto(f"{base}/dashboard")
    assert not page.is_visible("header")  # the print layout drops the header and the filters
    shot(page, "dashboard-province-print")


def test_a_district_sees_its_own_units_and_follows_one(page, live_app):
    base, ctx = live_app
    _fill(ctx, 1500)
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, base, "ld.batri")
    page.goto(f"{base}/dashboard")
    page.wait_for_selector("h1:has-text('UBND huyện Ba Tri')")
    units = page.inner_text("table.by-unit tbody")
    assert "UBND thị trấn Ba Tri (huyện Ba Tri)" in units and "Sở Tư pháp" not in units
    page.select_option("select[name=period]", label="Năm 2024")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("text=Năm 2024: số liệu từ 15/12/2023 đến 14/12/2024")
    shot(page, "dashboard-district-year")
    assert page.goto(f"{base}/dashboard?unit=ubnd-tinh").status == 403
