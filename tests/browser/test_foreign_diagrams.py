"""Diagrams from other modelling tools (the OMG MIWG reference models, tests/bpmn/conformance) open in the
modeler and go through the check with no error page: each shows why it cannot run here, located on its
elements, which the analyst can click (issue 11, part 6). Screenshots: foreign-<file>.png."""
from __future__ import annotations

from pathlib import Path

from tests.browser.helpers import shot, sign_in

CONFORMANCE = Path(__file__).resolve().parents[1] / "bpmn" / "conformance" / "miwg-reference"
SHOWN = {"A.1.0.bpmn", "C.1.0.bpmn", "C.8.1.bpmn", "C.9.2.bpmn"}  # a sample kept as screenshots


def test_every_miwg_reference_model_opens_and_is_explained_on_its_elements(page, live_app):
    base, _ = live_app
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 1680, "height": 1050})
    sign_in(page, base, "pt.lan")
    page.goto(f"{base}/processes/task_followup/edit")
    page.wait_for_selector("#workbench[data-loaded=true]")
    files = sorted(CONFORMANCE.glob("*.bpmn"))
    assert len(files) == 21
    outcomes = {}
    for path in files:
        page.set_input_files("#wb-import", str(path))
        page.wait_for_function("name => document.querySelector('#wb-message').innerText.includes(name)"
                               " || document.querySelector('#wb-message').classList.contains('error')", arg=path.name)
        assert "wb-message" in page.get_attribute("#wb-message", "class") and "error" not in page.get_attribute(
            "#wb-message", "class"), (path.name, page.inner_text("#wb-message"))
        page.evaluate("() => { document.querySelector('#wb-message').textContent = ''; }")
        page.click("#wb-check")
        page.wait_for_function("() => /vấn đề|Không có vấn đề/.test(document.querySelector('#wb-message').innerText)")
        items = page.locator("#wb-problem-list li")
        errors_listed = page.locator("#wb-problem-list li.error").count()
        located = page.locator("#wb-problem-list li.error.located").count()
        outcomes[path.name] = (items.count(), errors_listed, located)
        # Every problem that names an element the modeler drew is clickable and marked on it (the process
        # itself, when it has no pool, is the canvas: selecting it opens its properties).
        root = page.evaluate("() => window.cddhWorkbench.get('canvas').getRootElement().id")
        for element_id in page.locator("#wb-problem-list li.located").evaluate_all(
                "items => items.map(i => i.dataset.element)"):
            if element_id == root:
                continue
            assert page.locator(f".djs-element[data-element-id='{element_id}'].wb-problem-error, "
                                f".djs-element[data-element-id='{element_id}'].wb-problem-warning").count() >= 1
        if path.name in SHOWN:
            shot(page, f"foreign-{path.stem}")
    # None of them can run here (the validator says why); each reason is located on an element drawn.
    assert {n: o for n, o in outcomes.items() if not (o[1] >= 1 and o[2] >= 1)} == {}
    # Clicking a reason selects its element.
    first = page.locator("#wb-problem-list li.error.located").first
    element_id = first.get_attribute("data-element")
    first.click()
    page.wait_for_function("id => window.cddhWorkbench.get('selection').get().map(e => e.id).includes(id)",
                           arg=element_id)
    assert errors == []
