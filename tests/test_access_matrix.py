"""Every page route against every kind of user: roles and unit scope are enforced everywhere."""
from __future__ import annotations

from datetime import date

import pytest

from engine.app.bootstrap import default_bpmn_files
from engine.process import instances
from engine.process.definitions import deploy_files
from engine.regulation import tracking
from engine.regulation.tracking import DocumentInput, TaskInput
from tests.test_web import sign_in
from web import create_app

USERS = ["anonymous", "cv.hoa", "dm.sotuphap", "dm.sotaichinh", "dm.batri", "dm.ttbatri", "pt.lan"]
# route -> expected status per user, in USERS order (302: sent to sign in; 404: not theirs to know)
MATRIX = {
    "/inbox":                  [302, 200, 200, 200, 200, 200, 200],
    "/notifications":          [302, 200, 200, 200, 200, 200, 200],
    "/office/tasks":           [302, 200, 200, 200, 200, 200, 200],
    "/office/documents/new":   [302, 200, 403, 403, 403, 403, 403],
    "/feedback/new":           [302, 403, 403, 403, 200, 200, 403],
    "/processes":              [302, 200, 403, 403, 403, 403, 200],
    "/office/feedback":        [302, 200, 403, 403, 403, 403, 403],
    "/office/reports":         [302, 200, 403, 403, 403, 403, 403],
    "/office/reports/2025-Q2": [302, 404, 403, 403, 403, 403, 403],
    "/office/tasks/{task}":    [302, 200, 200, 404, 404, 404, 200],
    "/tasks/{instance}/{step}": [302, 404, 200, 404, 404, 404, 404],
    "/tasks/{instance}/{step}/diagram.xml": [302, 404, 200, 404, 404, 404, 404],
}


@pytest.fixture
def world(ctx):
    deploy_files(ctx, default_bpmn_files(ctx.config))
    registered = tracking.register_document(ctx, DocumentInput(
        number_symbol="44/QĐ-UBND", issued_on=date(2025, 4, 20), doc_type="quyet_dinh", issuer="UBND tỉnh",
        signer="Chủ tịch", summary="Ma trận quyền"), [TaskInput(
            content="Việc của Sở Tư pháp", lead_unit="so-tu-phap", expected_output="Báo cáo", deadline=date(2025, 6, 1))],
        actor="cv.hoa")
    instance = registered.instance_ids[0]
    step = instances.list_ready_tasks(ctx, instance_id=instance)[0].task_id
    app = create_app(ctx, {"TESTING": True, "SECRET_KEY": "matrix"})
    clients = {}
    for user in USERS:
        client = app.test_client()
        if user != "anonymous":
            assert sign_in(client, user).status_code == 302, user
        clients[user] = client
    return clients, {"task": registered.task_ids[0], "instance": instance, "step": step}


def test_every_route_answers_each_user_as_their_role_and_unit_allow(world):
    clients, ids = world
    got, want = {}, {}
    for route, expected in MATRIX.items():
        path = route.format(**ids)
        for user, status in zip(USERS, expected):
            got[(route, user)] = clients[user].get(path).status_code
            want[(route, user)] = status
    assert got == want


def test_the_api_refuses_cookies_without_a_token(world):
    clients, _ = world
    assert clients["cv.hoa"].get("/api/tasks").status_code == 401  # a session cookie is no API credential
