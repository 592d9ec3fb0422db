"""An admin adds a user from the browser and hands them a one-time set-password link; the new user opens it,
sets a password and signs in; the link does not work twice; the admin then reads the audit log filtered by
that person and by an action, with names, not codes. Screenshots admin-users-*.png, admin-audit-*.png."""
from __future__ import annotations

from tests.browser.helpers import shot, sign_in


def test_an_admin_adds_a_user_who_sets_a_password_through_a_link_and_the_audit_log_shows_it(page, live_app, browser):
    base, _ = live_app
    sign_in(page, base, "admin")
    page.goto(f"{base}/admin/users")
    assert page.inner_text("#users tr[data-username='dm.sotuphap']")  # the seeded users, by full name
    page.fill("#new-username", "nv.thu")
    page.fill("#new-full-name", "Nguyễn Thị Thu")
    page.fill("#new-email", "thu@sotuphap.bentre.gov.vn")
    page.select_option("#new-unit", label="Sở Tư pháp")  # the unit by its name
    page.check("#create-user input[value=unit_focal_point]")
    shot(page, "admin-users-create")
    page.click("#create-user button[type=submit]")
    page.wait_for_selector("text=Đã thêm người dùng Nguyễn Thị Thu.")
    facts = page.inner_text("dl.facts")
    assert "Sở Tư pháp" in facts and "Đầu mối đơn vị" in facts  # names, not codes
    page.click("#make-link button[type=submit]")
    link = page.input_value("#password-link-url")
    assert "/password-link/" in link
    shot(page, "admin-users-link-shown-once")
    page.goto(f"{base}/admin/users/nv.thu")  # opened again, the page no longer shows the link
    assert page.query_selector("#password-link-url") is None

    newcomer = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900}).new_page()
    newcomer.goto(link)
    assert "nv.thu" in newcomer.inner_text("#link-for")
    newcomer.fill("#password", "Thu@SoTuPhap2025")
    newcomer.fill("#again", "Thu@SoTuPhap2025")
    shot(newcomer, "admin-users-set-own-password")
    newcomer.click("#set-own-password button[type=submit]")
    newcomer.wait_for_selector("text=Đã đặt mật khẩu. Hãy đăng nhập.")
    sign_in(newcomer, base, "nv.thu", "Thu@SoTuPhap2025")
    newcomer.wait_for_selector("header >> text=Nguyễn Thị Thu")
    shot(newcomer, "admin-users-new-user-signed-in")
    newcomer.goto(link)
    assert "đã dùng hoặc đã hết hạn" in newcomer.inner_text("#link-error")
    newcomer.context.close()

    page.goto(f"{base}/admin/audit")
    page.select_option("#audit-filters select[name=actor]", value="nv.thu")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_selector("#audit tr[data-action=password_set_by_link]")
    table = page.inner_text("#audit")
    assert "Tự đặt mật khẩu qua liên kết" in table and "Đăng nhập" in table and "Nguyễn Thị Thu" in table
    assert "password_set_by_link" not in table
    shot(page, "admin-audit-by-person")
    page.goto(f"{base}/admin/audit")
    page.select_option("#audit-filters select[name=action]", label="Tạo liên kết đặt mật khẩu")
    page.select_option("#audit-filters select[name=unit]", label="Văn phòng UBND tỉnh")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_selector("#audit tr[data-action=password_link_created]")
    rows = page.query_selector_all("#audit tbody tr")
    assert len(rows) == 1 and "Tạ Quốc Khánh" in rows[0].inner_text()
    assert "action=password_link_created" in page.get_attribute("#audit-export", "href")
    shot(page, "admin-audit-by-action-and-unit")
