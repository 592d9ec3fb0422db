"""Accessibility of the main pages (issue 13, item 14): axe-core (npm, pinned; copied to
web/static/vendor/axe-core by `make assets`) finds no serious or critical violation on each page, at a
1366 px desktop and on a 390 px phone, and a screenshot of each is kept for a person to look at."""
from __future__ import annotations

from datetime import date

import pytest

from tests.browser.helpers import shot, sign_in
from tests.helpers import register_task

AXE = "/static/vendor/axe-core/axe.min.js"   # same origin, so the strict CSP lets it load
SCREENS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def _serious_violations(page) -> list[str]:
    """Run axe-core on the page as it is now; one line per serious or critical violation and node."""
    page.add_script_tag(url=AXE)
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {node['target']} - {node['failureSummary']}"
            for v in results["violations"] if v["impact"] in ("serious", "critical")
            for node in v["nodes"]]


def _pages(live_app):
    """(name, username, path, selector the page shows when it is ready) of the main pages."""
    base, ctx = live_app
    registered = register_task(ctx, issued_on=date(2025, 4, 18), content="Rà soát thủ tục hành chính cấp tỉnh")
    task_page = f"/tasks/{registered.instance_id}/{registered.step.task_id}"
    return base, [
        ("inbox", "dm.sotuphap", "/inbox", "main"),
        ("task-page", "dm.sotuphap", task_page, "#diagram[data-loaded=true]"),
        ("notifications", "dm.sotuphap", "/notifications", "main"),
        ("task-list", "cv.hoa", "/office/tasks", "main"),
        ("register-form", "cv.hoa", "/office/documents/new", "main form"),
        ("admin-settings", "admin", "/admin/settings", "main"),
        ("modeler", "pt.lan", "/processes/task_followup/edit", "#workbench[data-loaded=true]"),
    ]


@pytest.mark.parametrize("screen", SCREENS)
def test_the_main_pages_have_no_serious_accessibility_violation(browser, live_app, screen):
    base, pages = _pages(live_app)
    found = {}
    for name, username, path, ready in pages:
        context = browser.new_context(locale="vi-VN", viewport=SCREENS[screen])
        page = context.new_page()
        sign_in(page, base, username)
        page.wait_for_selector("main")
        page.goto(base + path)
        page.wait_for_selector(ready)
        shot(page, f"a11y-{name}-{screen}")
        violations = _serious_violations(page)
        if violations:
            found[name] = violations
        if screen == "phone":   # nothing may push the page wider than the phone's screen
            width = page.evaluate("() => document.documentElement.scrollWidth")
            if width > SCREENS[screen]["width"]:
                found.setdefault(name, []).append(f"page is {width} px wide on a {SCREENS[screen]['width']} px screen")
        context.close()
    assert not found, "\n".join(f"{name}: {line}" for name, lines in found.items() for line in lines)
