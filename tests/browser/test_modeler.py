"""The analyst's modeler in a real browser: task_followup opened, its lane's role shown by name, a label
changed, a form picked and made with a live preview, a timer's setting chosen from the list, a file
imported, a check whose problem is marked on the diagram and selects its element, save and discard."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from engine.core.config import ROOT
from tests.browser.helpers import shot, sign_in

SHIPPED = ROOT / "processes" / "task_followup.bpmn"
SPIFF = "{http://spiffworkflow.org/bpmn/schema/1.0/core}"


@pytest.fixture
def wide(browser):
    context = browser.new_context(locale="vi-VN", viewport={"width": 1680, "height": 1050})
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    yield page
    context.close()


def engine_reads(xml: str) -> dict:
    """What the engine reads from a diagram, by element id: roles and spiffworkflow:property values."""
    found = {}
    for element in ET.fromstring(xml.encode()).iter():
        role = element.get(f"{SPIFF}role")
        props = {p.get("name"): p.get("value") for p in element.iter(f"{SPIFF}property")}
        if element.get("id") and (role or props) and element.tag != f"{SPIFF}properties":
            found[element.get("id")] = {"role": role, **props}
    return found


def saved_xml(page) -> str:
    return page.evaluate("window.cddhWorkbench.saveXML({format: true}).then(r => r.xml)")


def click_element(page, element_id: str, dx: float = 0.5, dy: float = 0.5) -> None:
    box = page.locator(f".djs-element[data-element-id={element_id}] .djs-hit").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * dx, box["y"] + box["height"] * dy)
    page.wait_for_function(
        "id => window.cddhWorkbench.get('selection').get().map(e => e.id).includes(id)", arg=element_id)


def panel_select(page, entry: str):
    return page.locator(f"#wb-properties select[name={entry}]")


def test_an_analyst_edits_task_followup_in_the_modeler(wide, live_app, tmp_path):
    page = wide
    base, _ = live_app
    sign_in(page, base, "pt.lan")
    page.goto(f"{base}/processes")
    page.click("a[href='/processes/task_followup/edit']")
    page.wait_for_selector("#workbench[data-loaded=true]")
    shot(page, "modeler-opened")
    assert "Chưa có bản nháp" in page.inner_text("#wb-status")
    assert page.locator(".bjs-powered-by").is_visible()  # the bpmn.io watermark stays
    assert page.get_attribute(".djs-palette [data-action='create.task']", "aria-label") == "Tạo công việc"

    # Opening and saving the shipped diagram keeps everything the engine reads.
    assert engine_reads(saved_xml(page)) == engine_reads(SHIPPED.read_text(encoding="utf-8"))

    # The lane's role, shown by its Vietnamese name, chosen from the list.
    click_element(page, "Lane_focal_point", dx=0.01)
    role = panel_select(page, "role")
    role.wait_for()
    assert role.locator("option:checked").inner_text() == "Đầu mối đơn vị"
    assert 'spiffworkflow:role="unit_focal_point"' in page.inner_text("#wb-properties")
    options = role.locator("option").all_inner_texts()
    assert "Lãnh đạo Văn phòng UBND tỉnh" in options or any("Văn phòng" in o for o in options)
    page.fill("#wb-properties #bio-properties-panel-name", "Đầu mối của đơn vị")
    page.keyboard.press("Tab")
    page.wait_for_selector("#wb-status[data-dirty=true]")
    shot(page, "modeler-lane-role")
    xml = saved_xml(page)
    assert 'name="Đầu mối của đơn vị" spiffworkflow:role="unit_focal_point"' in xml

    # A timer's named setting, with its value and legal basis, chosen from the list.
    click_element(page, "remind_deadline")
    setting = panel_select(page, "timer-setting-0")
    setting.wait_for()
    assert setting.input_value() == "deadline_reminder"
    setting.select_option("update_grace")
    page.wait_for_function("() => document.querySelector('#wb-properties').innerText.includes('8.1.a')")
    assert 'before_date("update_grace", due_date)' in saved_xml(page)
    shot(page, "modeler-timer-setting")

    # The action of an event, with the data it needs.
    click_element(page, "completion_reported")
    assert panel_select(page, "action").input_value() == "completion_reported"

    # A user task's form: another form picked shows its preview; a new form made and edited live.
    click_element(page, "confirm_completion")
    page.wait_for_selector("#wb-form-preview[data-state=ok] [data-field=decision]")
    panel_select(page, "form").select_option("task_followup.handle_return.schema.json")
    page.wait_for_selector("#wb-form-preview[data-state=ok] [data-field=action]")
    panel_select(page, "form").select_option("")
    page.wait_for_selector("#wb-form-new:not([hidden])")
    page.fill("#wb-form-name", "task_followup.office_approval.schema.json")
    page.click("#wb-form-create")
    page.wait_for_selector("#wb-form-preview[data-state=ok] [data-field=note]")
    schema = page.input_value("#wb-form-schema").replace(
        '"properties": {', '"properties": {\n    "approved": {"type": "boolean", "title": "Đồng ý phát hành"},', 1)
    page.fill("#wb-form-schema", schema)
    page.wait_for_selector("#wb-form-preview[data-state=ok] [data-field=approved] input[type=checkbox]")
    assert "Đồng ý phát hành" in page.inner_text("#wb-form-preview")
    page.fill("#wb-form-schema", schema.replace('"type": "object"', '"type": "objekt"', 1))
    page.wait_for_selector("#wb-form-preview[data-state=error]")
    shot(page, "modeler-form-error")
    page.fill("#wb-form-schema", schema)
    page.wait_for_selector("#wb-form-preview[data-state=ok] [data-field=approved]")
    assert 'value="task_followup.office_approval.schema.json"' in saved_xml(page)
    shot(page, "modeler-form-preview")

    # Save: who saved shows; reopening gives the draft back, forms included.
    page.click("#wb-save")
    page.wait_for_selector("#wb-message.ok")
    page.wait_for_selector("#wb-status:not([data-dirty])")
    assert "pt.lan" in page.inner_text("#wb-status")
    page.reload()
    page.wait_for_selector("#workbench[data-loaded=true]")
    assert "pt.lan" in page.inner_text("#wb-status")
    assert 'name="Đầu mối của đơn vị"' in saved_xml(page)
    click_element(page, "confirm_completion")
    page.wait_for_selector("#wb-form-preview[data-state=ok] [data-field=approved]")

    # Import a broken file, check it: the problem is listed and marked; clicking it selects the element.
    broken = tmp_path / "broken.bpmn"
    broken.write_text(SHIPPED.read_text(encoding="utf-8").replace(
        'spiffworkflow:role="unit_focal_point"', 'spiffworkflow:role="nobody"'), encoding="utf-8")
    page.set_input_files("#wb-import", str(broken))
    page.wait_for_function("() => document.querySelector('#wb-message').innerText.includes('broken.bpmn')")
    assert 'role="nobody"' in saved_xml(page)
    page.click("#wb-check")
    item = page.locator("#wb-problem-list li.error[data-element=Lane_focal_point]")
    item.wait_for()
    assert "nobody" in item.inner_text()
    assert page.locator(".djs-element.wb-problem-error[data-element-id=Lane_focal_point]").count() == 1
    assert page.locator(".djs-overlay-wb-problem .wb-problem-badge").count() >= 1
    page.click("#wb-canvas", position={"x": 5, "y": 5})  # nothing selected
    item.click()
    page.wait_for_function(
        "() => window.cddhWorkbench.get('selection').get().map(e => e.id).includes('Lane_focal_point')")
    panel_select(page, "role").wait_for()
    assert "nobody" in panel_select(page, "role").locator("option:checked").inner_text()
    shot(page, "modeler-problem-selected")

    # Discard the draft: the latest version opens again.
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#wb-discard")
    page.wait_for_function("() => document.querySelector('#wb-status').innerText.includes('Chưa có bản nháp')")
    assert 'name="Đầu mối đơn vị"' in saved_xml(page) and 'role="nobody"' not in saved_xml(page)
    # Only the answers the page expects and shows (the preview of a broken schema: 422) reach the console.
    assert [e for e in page.console_errors if not e.startswith("Failed to load resource")] == []
    shot(page, "modeler-discarded")


def test_an_analyst_deploys_from_the_modeler_with_a_comment(wide, live_app):
    page = wide
    base, _ = live_app
    sign_in(page, base, "pt.lan")
    page.goto(f"{base}/processes/task_followup/edit")
    page.wait_for_selector("#workbench[data-loaded=true]")
    click_element(page, "Lane_focal_point", dx=0.01)
    panel_select(page, "role").select_option("")  # a lane with no role: deploy refuses it, naming the lane
    page.click("#wb-deploy")
    page.fill("#wb-deploy-comment", "Bỏ vai trò (thử)")
    page.click("#wb-deploy-confirm")
    page.locator("#wb-problem-list li.error[data-element=Lane_focal_point]").wait_for()
    assert page.locator(".djs-element.wb-problem-error[data-element-id=Lane_focal_point]").count() == 1
    shot(page, "modeler-deploy-refused")

    panel_select(page, "role").select_option("unit_focal_point")
    page.fill("#wb-properties #bio-properties-panel-name", "Đầu mối của đơn vị")
    page.keyboard.press("Tab")
    page.click("#wb-deploy")
    page.fill("#wb-deploy-comment", "Đổi tên làn đầu mối")
    page.click("#wb-deploy-confirm")
    page.wait_for_function("() => document.querySelector('#wb-status').innerText.includes('phiên bản 2')")
    assert "task_followup v2" in page.inner_text("#wb-message")
    assert 'name="Đầu mối của đơn vị" spiffworkflow:role="unit_focal_point"' in saved_xml(page)
    shot(page, "modeler-deployed")


def test_conditions_and_scripts_are_edited_and_leaving_with_changes_asks_first(wide, live_app):
    page = wide
    base, _ = live_app
    sign_in(page, base, "pt.lan")
    page.goto(f"{base}/processes/task_followup/edit")
    page.wait_for_selector("#workbench[data-loaded=true]")
    page.evaluate("id => window.cddhWorkbench.get('selection').select("
                  "window.cddhWorkbench.get('elementRegistry').get(id))", "f_return")
    condition = page.locator("#wb-properties textarea[name=condition]")
    condition.wait_for()
    assert condition.input_value() == 'decision == "return"'
    condition.fill('decision == "return" and bool(return_reason)')
    page.keyboard.press("Tab")
    page.wait_for_function("() => window.cddhWorkbench.saveXML().then(r => r.xml.includes('bool(return_reason)'))")
    click_element(page, "correct")
    script = page.locator("#wb-properties textarea[name=script]")
    script.wait_for()
    assert script.input_value().startswith("content = corrected_content\nassigned_at = now()")
    shot(page, "modeler-script")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.close(run_before_unload=True)
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]


def test_the_modeler_speaks_english_when_the_page_does(wide, live_app):
    page = wide
    base, _ = live_app
    sign_in(page, base, "pt.lan")
    page.goto(f"{base}/processes/task_followup/edit?lang=en")
    page.wait_for_selector("#workbench[data-loaded=true]")
    assert page.get_attribute(".djs-palette [data-action='create.task']", "aria-label") == "Create task"
    click_element(page, "Lane_focal_point", dx=0.01)
    panel_select(page, "role").wait_for()
    assert "Focal" in panel_select(page, "role").locator("option:checked").inner_text() or \
        panel_select(page, "role").input_value() == "unit_focal_point"
    shot(page, "modeler-english")


def test_a_department_user_cannot_open_the_modeler(wide, live_app):
    page = wide
    base, _ = live_app
    sign_in(page, base, "dm.sotuphap")
    response = page.goto(f"{base}/processes/task_followup/edit")
    assert response.status == 403
