"""The analyst's whole journey in a real browser (issue 11): task_followup gets an Office leader's approval
before the confirmation, with its own form and a due date from a named setting; the check marks the new
lane that names no role, the analyst fixes it; a dry run walks the new path; the draft is deployed with a
comment; the diff shows the step added; the running instances move to the new version; and the next
completion report a unit sends lands in the Office leader's inbox.

Shapes are placed with the modeler's own commands (what a drag from the palette does), everything else
through the page as an analyst clicks it.
"""
from __future__ import annotations

from engine.process import instances
from tests.browser.helpers import shot, sign_in
from tests.browser.test_modeler import click_element, engine_reads, panel_select, saved_xml
from tests.helpers import complete_step, register_task

APPROVAL_FORM = "task_followup.office_approval.schema.json"
APPROVAL_SCHEMA = """{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Lãnh đạo Văn phòng duyệt báo cáo hoàn thành",
  "type": "object",
  "properties": {
    "approval": {"type": "string", "title": "Ý kiến duyệt", "enum": ["agree", "revise"],
                 "x-enum-labels": {"agree": "Đồng ý", "revise": "Yêu cầu bổ sung"}},
    "approval_note": {"type": "string", "title": "Ghi chú", "x-widget": "textarea", "maxLength": 2000}
  },
  "required": ["approval"],
  "additionalProperties": false
}"""

# What a drag from the palette into a new lane at the bottom of the pool does, then the flows redrawn:
# completion_reported -> office_approval -> confirm_completion.
ADD_APPROVAL = """() => {
  const m = window.cddhWorkbench, registry = m.get('elementRegistry'), modeling = m.get('modeling');
  const focal = registry.get('Lane_focal_point');
  const lane = modeling.addLane(focal, 'bottom');
  modeling.updateProperties(lane, {name: 'Lãnh đạo Văn phòng'});
  const task = m.get('elementFactory').createShape({type: 'bpmn:UserTask'});
  const placed = modeling.createShape(task, {x: 1100, y: lane.y + lane.height / 2}, registry.get('Pool_task_followup'));
  modeling.updateProperties(placed, {id: 'office_approval', name: 'Lãnh đạo Văn phòng duyệt báo cáo hoàn thành'});
  modeling.removeConnection(registry.get('f_confirm_task'));
  modeling.connect(registry.get('completion_reported'), placed);
  modeling.connect(placed, registry.get('confirm_completion'));
  return lane.id;
}"""


def test_an_analyst_adds_an_approval_step_and_it_reaches_the_office_leader(page, live_app, browser):
    base, ctx = live_app
    waiting = register_task(ctx, number_symbol="501/QĐ-UBND", content="Rà soát quy hoạch sử dụng đất")
    working = register_task(ctx, number_symbol="502/QĐ-UBND", content="Báo cáo chuyển đổi số")
    complete_step(ctx, working.instance_id, "review_receipt", {"decision": "accept"}, actor="dm.sotuphap")

    sign_in(page, base, "pt.lan")
    page.set_viewport_size({"width": 1680, "height": 1050})
    page.goto(f"{base}/processes")
    page.click("a[href='/processes/task_followup/edit']")
    page.wait_for_selector("#workbench[data-loaded=true]")

    # The new step, in a new lane for the Office leader.
    lane_id = page.evaluate(ADD_APPROVAL)
    click_element(page, "office_approval")
    panel_select(page, "form").wait_for()
    page.wait_for_selector("#wb-form-new:not([hidden])")
    page.fill("#wb-form-name", APPROVAL_FORM)
    page.click("#wb-form-create")
    page.wait_for_selector("#wb-form-edit:not([hidden])")
    page.fill("#wb-form-schema", APPROVAL_SCHEMA)
    page.wait_for_selector("#wb-form-preview[data-state=ok] [data-field=approval] select")
    assert "Ý kiến duyệt" in page.inner_text("#wb-form-preview")
    # Its due date: three working days (the named setting of a receipt review) from the report.
    panel_select(page, "due-function").select_option("deadline")
    panel_select(page, "due-setting-0").wait_for()
    panel_select(page, "due-setting-0").select_option("task_review")
    page.wait_for_function("() => document.querySelector('#wb-properties').innerText.includes('Legal basis')"
                           " || document.querySelector('#wb-properties').innerText.includes('Căn cứ')")
    panel_select(page, "due-variable").select_option("assigned_at")
    assert engine_reads(saved_xml(page))["office_approval"] == {
        "role": None, "formJsonSchemaFilename": APPROVAL_FORM, "dueDate": 'deadline("task_review", assigned_at)'}
    # The reminder before the deadline keeps its named setting, chosen from the list.
    click_element(page, "remind_deadline")
    assert panel_select(page, "timer-setting-0").input_value() == "deadline_reminder"
    shot(page, "journey-1-step-added")

    # Check: the new lane names no role, marked on the diagram; choosing the role fixes it.
    page.click("#wb-check")
    problem = page.locator(f"#wb-problem-list li.error[data-element={lane_id}]")
    problem.wait_for()
    assert page.locator(f".djs-element.wb-problem-error[data-element-id={lane_id}]").count() == 1
    shot(page, "journey-2-problem-marked")
    problem.click()
    panel_select(page, "role").wait_for()
    panel_select(page, "role").select_option("office_leader")
    page.click("#wb-check")
    page.wait_for_selector("#wb-message.ok")  # no error left (modelling warnings may remain, listed)
    assert page.locator("#wb-problem-list li.error").count() == 0
    page.click("#wb-save")
    page.wait_for_selector("#wb-message.ok")
    shot(page, "journey-3-checked-and-saved")

    # Dry run of the draft: the unit accepts and reports; the approval is next, in the Office leader's lane.
    page.goto(f"{base}/processes/task_followup/dry-run")
    page.wait_for_selector("#dry-run-start")
    page.click("#dry-run-start button[type=submit]")
    page.wait_for_selector("#diagram[data-loaded=true] .dry-run-current[data-element-id=review_receipt]")
    page.select_option("#task-review_receipt #f-decision", "accept")
    page.click("#task-review_receipt button[type=submit]")
    page.wait_for_selector("#diagram[data-loaded=true] .dry-run-current[data-element-id=report_completion]")
    page.fill("#task-report_completion #f-result", "Đã hoàn thành rà soát")
    page.fill("#task-report_completion #f-report_document", "12/BC-STP")
    page.fill("#task-report_completion #f-completed_on", "21/04/2025")  # the run starts on the app's today
    page.click("#task-report_completion button[type=submit]")
    page.wait_for_selector("#diagram[data-loaded=true] .dry-run-current[data-element-id=office_approval]")
    assert "Lãnh đạo Văn phòng" in page.inner_text("#task-office_approval")
    shot(page, "journey-4-dry-run")
    page.click("text=Kết thúc chạy thử (xóa dữ liệu tạm)")

    # Deploy the draft with a comment.
    page.goto(f"{base}/processes/task_followup/edit")
    page.wait_for_selector("#workbench[data-loaded=true]")
    assert "office_approval" in saved_xml(page)  # the saved draft opens
    page.click("#wb-deploy")
    page.fill("#wb-deploy-comment", "Thêm bước Lãnh đạo Văn phòng duyệt trước khi xác nhận hoàn thành")
    page.click("#wb-deploy-confirm")
    page.wait_for_function("() => document.querySelector('#wb-status').innerText.includes('phiên bản 2')")
    assert "Chưa có bản nháp" in page.inner_text("#wb-status")  # the draft went with the deploy

    # The history and the diff: the step and its lane added.
    page.goto(f"{base}/processes/task_followup/versions")
    assert "Thêm bước Lãnh đạo Văn phòng duyệt" in page.inner_text("#version-history")
    page.click("#compare button[type=submit]")
    page.wait_for_selector("#diagram-new[data-loaded=true]")
    assert page.query_selector("#diagram-new .diff-added[data-element-id=office_approval]")
    shot(page, "journey-5-diff")

    # Migrate the running instances: both are before the change.
    page.goto(f"{base}/processes/task_followup/versions")
    page.click("#migrate-link")
    page.wait_for_selector("#migration-preview")
    for instance_id in (waiting.instance_id, working.instance_id):
        assert page.query_selector(f"tr[data-instance='{instance_id}'] input[type=checkbox]")
    shot(page, "journey-6-migration-preview")
    page.click("#migrate button[type=submit]")
    page.wait_for_selector("text=Đã chuyển 2 hồ sơ sang v2.")

    # The unit reports completion of the migrated task in its inbox...
    unit = browser.new_context(locale="vi-VN").new_page()
    sign_in(unit, base, "dm.sotuphap")
    step = next(t for t in instances.list_ready_tasks(ctx, instance_id=working.instance_id))
    unit.goto(f"{base}/tasks/{working.instance_id}/{step.task_id}")
    unit.fill("#f-result", "Đã hoàn thành báo cáo chuyển đổi số")
    unit.fill("#f-report_document", "15/BC-STP")
    unit.fill("#f-completed_on", "21/04/2025")
    unit.click("main form button[type=submit]")
    unit.wait_for_load_state()
    # ... and it lands in the Office leader's inbox, not the specialist's.
    leader = browser.new_context(locale="vi-VN").new_page()
    sign_in(leader, base, "ld.vanphong")
    leader.goto(f"{base}/inbox")
    assert "Lãnh đạo Văn phòng duyệt báo cáo hoàn thành" in leader.inner_text("main")
    shot(leader, "journey-7-office-leader-inbox")
    ready = {t.bpmn_id: t.lane for t in instances.list_ready_tasks(ctx, instance_id=working.instance_id)}
    assert ready == {"office_approval": "office_leader"}
