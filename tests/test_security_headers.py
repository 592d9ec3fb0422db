"""Every response carries the security headers; a diagram's XML is never rendered by a browser."""
from __future__ import annotations

import re
from datetime import date

import pytest

from engine.process import instances
from engine.process.definitions import deploy_bytes
from engine.regulation import tracking
from engine.regulation.tracking import DocumentInput, TaskInput

SCRIPT = ('<bpmn:documentation><html:script xmlns:html="http://www.w3.org/1999/xhtml">'
          "document.title = 'owned'</html:script></bpmn:documentation>")


def _sign_in(client, username):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"username": username, "password": "demo123", "csrf_token": token})


@pytest.fixture
def task_with_script_in_its_diagram(app, ctx):
    """A task of a task_followup version whose documentation holds an HTML script element."""
    xml = (ctx.config.processes_dir / "task_followup.bpmn").read_text(encoding="utf-8")
    start = xml.index("<bpmn:process ")
    end = xml.index(">", start) + 1
    deploy_bytes(ctx, (xml[:end] + SCRIPT + xml[end:]).encode(), "task_followup.bpmn", "pt.lan")
    registered = tracking.register_document(ctx, DocumentInput(
        number_symbol="7/QĐ-UBND", issued_on=date(2025, 4, 20), doc_type="quyet_dinh", issuer="UBND tỉnh",
        signer="Chủ tịch", summary="Tài liệu có mã"), [TaskInput(
            content="Việc của Sở Tư pháp", lead_unit="so-tu-phap", expected_output="Báo cáo",
            deadline=date(2025, 6, 1))], actor="cv.hoa")
    instance = registered.instance_ids[0]
    return instance, instances.list_ready_tasks(ctx, instance_id=instance)[0].task_id


def test_every_page_forbids_inline_script_framing_and_sniffing(client):
    for path in ("/login", "/health", "/no-such-page", "/api/openapi.json"):
        headers = client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"


def test_pages_have_no_inline_script_or_style_element(client):
    _sign_in(client, "dm.sotuphap")
    for path in ("/login", "/inbox", "/office/tasks", "/notifications"):
        page = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert "<style" not in page, path


def test_a_diagram_with_a_script_is_served_as_sandboxed_plain_text(client, task_with_script_in_its_diagram):
    instance, task = task_with_script_in_its_diagram
    _sign_in(client, "dm.sotuphap")
    response = client.get(f"/tasks/{instance}/{task}/diagram.xml")
    assert response.status_code == 200 and b"<html:script" in response.data  # the viewer still gets it all
    assert response.mimetype == "text/plain"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
