"""The PPC leader's part (issue 13, item 2) in a real browser: the Office leader asks for direction, the PPC
leader finds the request in the inbox by its subject, reads what is decided and answers; the specialist
notifying the direction sees it, who gave it and that it was given in the system."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from engine.regulation import tracking
from engine.regulation.records import Feedback
from tests.browser.helpers import shot, sign_in
from tests.helpers import complete_step, register_task

REQUEST = "Sở Tư pháp chậm rà soát dù đã được đôn đốc; kính đề nghị đồng chí Chủ tịch cho ý kiến chỉ đạo"
ANSWER = "Giao Sở Tư pháp hoàn thành rà soát trước ngày 15/5/2025 và báo cáo kết quả về UBND tỉnh"


def _feedback_checked(ctx) -> None:
    """Ba Tri reports a Sở Tư pháp task late; the specialist proposes asking the PPC for direction."""
    registered = register_task(ctx, issued_on=date(2025, 4, 18), content="Rà soát thủ tục hành chính cấp tỉnh")
    feedback_id = tracking.file_feedback(ctx, registered.task_id, "huyen-ba-tri",
                                         "Sở Tư pháp chậm rà soát, ảnh hưởng tiến độ của huyện", actor="dm.batri")
    with ctx.unit_of_work(readonly=True) as session:
        instance = session.scalar(select(Feedback.instance_id).where(Feedback.id == feedback_id))
    complete_step(ctx, instance, "check_feedback", {"decision": "ask_direction",
                                                    "assessment": "Phản ánh đúng; đề xuất xin ý kiến Chủ tịch"},
                  actor="cv.hoa")


def _specialist_opens_the_notice(page, base) -> str:
    """Sign out, sign in as the specialist, open the notice step from the inbox: the direction block's text."""
    page.click("text=Đăng xuất")
    sign_in(page, base, "cv.hoa")
    page.goto(f"{base}/inbox")
    page.click("tr[data-task=notify_direction] >> text=Thông báo ý kiến chỉ đạo, gửi người phản hồi để biết")
    return page.wait_for_selector(".direction").inner_text()


def test_the_office_leader_asks_the_ppc_leader_answers_and_the_specialist_sees_the_direction(page, live_app):
    base, ctx = live_app
    _feedback_checked(ctx)
    sign_in(page, base, "ld.vanphong")
    page.click("text=Báo cáo UBND tỉnh, xin ý kiến chỉ đạo")
    page.select_option("#f-direction_route", "ask_ppc")
    page.fill("#f-report_number", "45/BC-VPUBND")
    page.fill("#f-request", REQUEST)
    shot(page, "ppc-direction-1-office-leader-asks")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Đã hoàn thành: Báo cáo UBND tỉnh, xin ý kiến chỉ đạo")
    page.click("text=Đăng xuất")

    sign_in(page, base, "ld.ubndtinh")
    page.goto(f"{base}/inbox")
    row = page.wait_for_selector("tr[data-task=give_direction]")
    text = row.inner_text()
    assert "Rà soát thủ tục hành chính cấp tỉnh" in text and "UBND huyện Ba Tri" in text and "301/QĐ-UBND" in text
    assert "Cho ý kiến chỉ đạo" in text
    shot(page, "ppc-direction-2-ppc-leader-inbox")
    row.query_selector("text=Cho ý kiến chỉ đạo").click()
    context = page.wait_for_selector(".feedback-context").inner_text()
    for shown in ("UBND huyện Ba Tri", "Sở Tư pháp", "Rà soát thủ tục hành chính cấp tỉnh", "301/QĐ-UBND",
                  "Sở Tư pháp chậm rà soát, ảnh hưởng tiến độ của huyện"):
        assert shown in context, shown
    earlier = page.inner_text(".earlier-steps")
    assert "Phản ánh đúng; đề xuất xin ý kiến Chủ tịch" in earlier and REQUEST in earlier
    assert "ask_ppc" not in page.inner_text("main") and "huyen-ba-tri" not in page.inner_text("main")
    shot(page, "ppc-direction-3-ppc-leader-decides")
    page.fill("#f-direction", ANSWER)
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Đã hoàn thành: Cho ý kiến chỉ đạo")
    direction = _specialist_opens_the_notice(page, base)
    assert ANSWER in direction and "Võ Văn Thành" in direction and "Cho ý kiến trên hệ thống lúc" in direction
    shot(page, "ppc-direction-4-specialist-sees-direction")


def test_a_direction_given_outside_the_system_is_recorded_and_shown_as_such(page, live_app):
    base, ctx = live_app
    _feedback_checked(ctx)
    sign_in(page, base, "ld.vanphong")
    page.click("text=Báo cáo UBND tỉnh, xin ý kiến chỉ đạo")
    page.select_option("#f-direction_route", "given_outside")
    page.fill("#f-direction", ANSWER)
    page.fill("#f-directed_on", "31/02/2025")
    page.click("main button[type=submit]")
    errors = page.wait_for_selector(".flash.errors")
    assert "Người cho ý kiến chỉ đạo" in errors.inner_text() or page.query_selector("[data-field=directed_by] .error")
    assert page.input_value("#f-direction") == ANSWER and page.input_value("#f-directed_on") == "31/02/2025"
    page.fill("#f-directed_by", "Chủ tịch UBND tỉnh (họp giao ban ngày 18/4)")
    page.fill("#f-directed_on", "18/04/2025")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Đã hoàn thành: Báo cáo UBND tỉnh, xin ý kiến chỉ đạo")
    direction = _specialist_opens_the_notice(page, base)
    assert "Chủ tịch UBND tỉnh (họp giao ban ngày 18/4)" in direction
    assert "Cho ý kiến ngoài hệ thống ngày 18/04/2025; Lê Thị Ngọc Mai ghi nhận" in direction
    shot(page, "ppc-direction-5-specialist-sees-outside-direction")
