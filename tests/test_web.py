"""The health page and the plain overview, through Flask's test client."""
from __future__ import annotations

import pytest

from engine import instances
from web import create_app


@pytest.fixture
def client(ctx, deploy):
    deploy("three_step.bpmn")
    app = create_app(ctx, {"TESTING": True, "SECRET_KEY": "test"})
    return app.test_client()


def test_health_reports_database_and_deployed_processes(client, ctx):
    body = client.get("/health").get_json()
    assert body["status"] == "ok" and body["definitions"] == ["three_step"]
    assert body["database"] in ("sqlite", "postgresql")


def test_overview_lists_definitions_and_instances_in_vietnamese_by_default(client, ctx):
    started = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    page = client.get("/").get_data(as_text=True)
    assert "Quy trình đã triển khai" in page and "three_step" in page
    assert f"<td>{started.id}</td>" in page and "Đang xử lý" in page
    assert "25/04/2025" in page  # dd/mm/yyyy, Vietnam time


def test_english_is_one_click_away_and_remembered(client):
    assert "Deployed processes" in client.get("/?lang=en").get_data(as_text=True)
    assert "Deployed processes" in client.get("/").get_data(as_text=True)


def test_unknown_route_is_a_plain_404(client):
    assert client.get("/no-such-page").status_code == 404
