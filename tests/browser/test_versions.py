"""An analyst ships a new version of task_followup from the browser: an upload refused with its problems
listed, then deployed with a comment; the history; the diff coloured on both diagrams; the running
instances that can move moved, the one waiting at a removed step left with the reason; a roll back."""
from __future__ import annotations

from tests.browser.helpers import shot, sign_in
from tests.helpers import BPMN, complete_step, register_task

V2 = (BPMN / "versions_task_followup_v2.bpmn").read_text(encoding="utf-8")
# The same change with the added approval using a form version 1 already has, so an upload can deploy it.
V2_KNOWN_FORM = V2.replace("task_followup.office_approval.schema.json", "task_followup.confirm_completion.schema.json")


def test_an_analyst_deploys_compares_migrates_and_rolls_back(page, live_app, tmp_path):
    base, ctx = live_app
    waiting = register_task(ctx, number_symbol="701/QĐ-UBND", content="Rà soát quy hoạch").instance_id
    returned = register_task(ctx, number_symbol="702/QĐ-UBND", content="Khảo sát chợ nông thôn").instance_id
    complete_step(ctx, returned, "review_receipt", {"decision": "return", "return_reason": "Không thuộc thẩm quyền Sở"},
                  actor="dm.sotuphap")
    refused, good = tmp_path / "task_followup_v2.bpmn", tmp_path / "task_followup_v2b.bpmn"
    refused.write_text(V2, encoding="utf-8")
    good.write_text(V2_KNOWN_FORM, encoding="utf-8")

    sign_in(page, base, "pt.lan")
    page.goto(f"{base}/processes/task_followup/versions")
    page.set_input_files("#bpmn", str(refused))
    page.fill("#comment", "Thêm bước Lãnh đạo Văn phòng duyệt trước khi xác nhận")
    page.click("#deploy button[type=submit]")
    page.wait_for_selector("#version-problems")
    assert "office_approval" in page.inner_text("#version-problems")
    assert page.input_value("#comment") == "Thêm bước Lãnh đạo Văn phòng duyệt trước khi xác nhận"  # kept
    shot(page, "versions-deploy-refused")
    page.set_input_files("#bpmn", str(good))
    page.click("#deploy button[type=submit]")
    page.wait_for_selector("text=Đã triển khai phiên bản v2.")
    row = page.inner_text("#version-history tr[data-version='2']")
    assert "Cao Thị Lan" in row and "Thêm bước Lãnh đạo Văn phòng duyệt" in row
    assert page.inner_text("#version-history tr[data-version='1'] td.running") == "2"
    shot(page, "versions-history")

    page.click("#compare button[type=submit]")
    page.wait_for_selector("#diagram-new[data-loaded=true]")
    page.wait_for_selector("#diagram-old[data-loaded=true]")
    assert page.query_selector("#diagram-new .diff-added[data-element-id=office_approval]")
    assert page.query_selector("#diagram-new .diff-changed[data-element-id=confirm_completion]")
    assert page.query_selector("#diagram-old .diff-removed[data-element-id=handle_return]")
    assert page.query_selector("#diagram-old .diff-removed[data-element-id=f_cancel]")
    assert "Xử lý nhiệm vụ bị trả lại" in page.inner_text("#diff-removed")
    shot(page, "versions-diff")

    page.goto(f"{base}/processes/task_followup/versions")
    page.click("#migrate-link")
    page.wait_for_selector("#migration-preview")
    assert "can-move" in page.get_attribute(f"tr[data-instance='{waiting}']", "class")
    stuck = page.inner_text(f"tr[data-instance='{returned}']")
    assert "Không chuyển được" in stuck and "Xử lý nhiệm vụ bị trả lại" in stuck
    assert not page.query_selector(f"tr[data-instance='{returned}'] input[type=checkbox]")
    shot(page, "versions-migrate-preview")
    page.click("#migrate button[type=submit]")
    page.wait_for_selector("text=Đã chuyển 1 hồ sơ sang v2.")
    page.wait_for_load_state()  # the notice is parsed before the table below it
    assert page.query_selector(f"tr[data-instance='{returned}']")  # still on v1, still said why
    assert not page.query_selector(f"tr[data-instance='{waiting}']")
    shot(page, "versions-migrated")

    page.goto(f"{base}/processes/task_followup/versions")
    page.fill("#version-history tr[data-version='1'] input[name=comment]", "Bước duyệt chưa được ban hành")
    page.click("#version-history tr[data-version='1'] button")
    page.wait_for_selector("text=Đã quay lại: hồ sơ mới chạy theo phiên bản v1.")
    assert "Quay lại phiên bản v1" in page.inner_text("#version-history tr[data-version='3']")
    shot(page, "versions-rolled-back")
