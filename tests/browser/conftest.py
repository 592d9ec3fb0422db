"""Browser tests: the real app served on 127.0.0.1 by a WSGI server, driven by Playwright in
Debian's Chromium (no downloaded browser). Screenshots go to test-artifacts/ for a person to see.

Without Chromium these tests are skipped, and with REQUIRE_BROWSER=1 (set by .ci/run) a skip
fails the run, so CI can never pass without having driven a browser.
"""
from __future__ import annotations

import os
import shutil
import threading
from datetime import datetime
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from engine.app.bootstrap import open_context
from engine.core.clock import FixedClock
from engine.core.config import Config
from tests.browser.helpers import ARTIFACTS
from tests.helpers import TZ
from web import create_app

OPENED_AT = datetime(2025, 4, 21, 9, 0, tzinfo=TZ)  # a Monday: the live app's clock
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
_outcomes = {"passed": 0, "skipped": 0}


@pytest.fixture
def live_app(tmp_path, sqlite_templates):
    """The product on a fresh SQLite file (migrated, seeded and the shipped diagrams deployed on Monday
    21 Apr 2025, 09:00: a copy of the run's template), served by werkzeug in a thread; yields (base_url, ctx)."""
    url = sqlite_templates.copy("deployed", OPENED_AT, tmp_path / "browser.db")
    ctx = open_context(Config(database_url=url, deploy_on_start=False), FixedClock(OPENED_AT))
    app = create_app(ctx, {"SECRET_KEY": "browser-test"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", ctx
    server.shutdown()
    ctx.db.dispose()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium under Playwright, headless, with the flags this sandboxed network needs."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser context per test; a screenshot named after the test is kept at the end."""
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-final.png"), full_page=True)
    context.close()


def pytest_runtest_logreport(report):
    if report.nodeid.startswith("tests/browser") and report.when in ("setup", "call"):
        if report.skipped:
            _outcomes["skipped"] += 1
        elif report.when == "call" and report.passed:
            _outcomes["passed"] += 1


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("REQUIRE_BROWSER") == "1" and (_outcomes["skipped"] or not _outcomes["passed"]):
        print(f"\nREQUIRE_BROWSER=1 but browser tests passed={_outcomes['passed']} skipped={_outcomes['skipped']}")
        session.exitstatus = 1
