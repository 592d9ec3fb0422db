"""A progress update in a real browser (issue 13, item 12): a refused attachment stores nothing and the
form comes back with what was typed and the file named; the update sent again shows every field it holds."""
from __future__ import annotations

import dataclasses
from datetime import date

from tests.browser.helpers import shot, sign_in
from tests.helpers import register_task

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_refused_attachment_keeps_the_typed_update_and_nothing_is_saved(page, live_app, tmp_path):
    base, ctx = live_app
    ctx.config = dataclasses.replace(ctx.config, attachments_dir=tmp_path / "files")
    registered = register_task(ctx, number_symbol="417/QĐ-UBND", content="Rà soát quy hoạch đất đai",
                               deadline=date(2025, 6, 30))
    sign_in(page, base, "dm.sotuphap")
    page.goto(f"{base}/office/tasks/{registered.task_id}")
    page.select_option("#state", "blocked")
    page.fill("#work_done", "Đã rà soát 40 thủ tục")
    page.fill("#difficulties", "Thiếu biên chế")
    page.fill("#proposals", "Bổ sung 2 công chức")
    page.fill("#report_document", "15/BC-STP")
    page.set_input_files("#files", [
        {"name": "báo cáo.pdf", "mimeType": "application/pdf", "buffer": PDF},
        {"name": "virus.pdf", "mimeType": "application/pdf", "buffer": b"MZ\x90\x00binary"}])
    page.click("#progress-form button[type=submit]")
    page.wait_for_selector("#progress-error:has-text('“virus.pdf”')")
    assert "chọn lại các tệp" in page.inner_text("#progress-error")
    assert page.input_value("#work_done") == "Đã rà soát 40 thủ tục"
    assert page.input_value("#difficulties") == "Thiếu biên chế"
    assert page.input_value("#proposals") == "Bổ sung 2 công chức"
    assert page.input_value("#report_document") == "15/BC-STP"
    assert page.input_value("#state") == "blocked"
    assert page.locator("table.updates").count() == 0  # nothing was saved
    shot(page, "progress-update-refused-file-keeps-text")

    page.set_input_files("#files", [{"name": "báo cáo.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.click("#progress-form button[type=submit]")
    page.wait_for_selector("table.updates")
    row = page.inner_text("table.updates tbody tr")
    for value in ("Đã rà soát 40 thủ tục", "Thiếu biên chế", "Bổ sung 2 công chức", "15/BC-STP", "báo cáo.pdf",
                  "Sở Tư pháp", "Cập nhật khi có kết quả (ngoài kỳ)"):
        assert value in row, value
    assert "dm.sotuphap" not in row and "blocked" not in row
    assert page.input_value("#work_done") == ""  # saved: the form is empty again
    shot(page, "progress-update-every-field")
