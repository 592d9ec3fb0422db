"""The JSON API: bearer tokens, the same scoping as the pages, one error shape, an OpenAPI document."""
from __future__ import annotations

import pytest

from engine.regulation import api_tokens


@pytest.fixture
def api(ctx, app, registered_task):
    client = app.test_client()
    tokens = {u: api_tokens.issue(ctx, u, "test", "admin").token for u in ("dm.sotuphap", "dm.sotaichinh")}

    def call(method, path, user=None, **kwargs):
        headers = {"Authorization": f"Bearer {tokens[user]}"} if user else {}
        return client.open(path, method=method, headers=headers, **kwargs)

    registered = registered_task(number_symbol="9/QĐ-UBND", issuer="UBND tỉnh", signer="Chủ tịch", summary="Thử API",
                                 content="Rà soát văn bản")  # for so-tu-phap, due 30 May 2025
    call.instance = registered.instance_id
    call.app = app
    return call


def _error_shape(response, status, code=None):
    body = response.get_json()
    assert response.status_code == status and set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code
    return body["error"]


def test_no_or_bad_token_is_401_in_the_error_shape(api):
    _error_shape(api("GET", "/api/tasks"), 401, "unauthorized")
    response = api.app.test_client().get("/api/tasks", headers={"Authorization": "Bearer cddh_forged"})
    _error_shape(response, 401)


def test_a_unit_lists_only_its_tasks(api):
    mine = api("GET", "/api/tasks", "dm.sotuphap").get_json()
    assert mine["total"] == 1 and mine["items"][0]["bpmn_id"] == "review_receipt"
    assert api("GET", "/api/tasks", "dm.sotaichinh").get_json()["total"] == 0


def test_completing_validates_the_form_and_refuses_stale_versions(api):
    task = api("GET", "/api/tasks", "dm.sotuphap").get_json()["items"][0]
    url = f"/api/tasks/{task['instance_id']}/{task['task_id']}"
    details = api("GET", url, "dm.sotuphap").get_json()
    assert details["form"]["properties"]["decision"]["enum"] == ["accept", "return"]
    error = _error_shape(api("POST", url + "/complete", "dm.sotuphap", json={
        "data": {"decision": "maybe"}, "row_version": details["row_version"]}), 422)
    assert "decision" in error["fields"]
    _error_shape(api("POST", url + "/complete", "dm.sotuphap", json={"data": {"decision": "accept"},
                                                                     "row_version": details["row_version"] + 5}), 409)
    done = api("POST", url + "/complete", "dm.sotuphap", json={"data": {"decision": "accept"},
                                                                "row_version": details["row_version"]})
    assert done.status_code == 200 and done.get_json()["next_tasks"][0]["bpmn_id"] == "report_completion"
    _error_shape(api("POST", url + "/complete", "dm.sotuphap", json={"data": {"decision": "accept"}}), 409)


@pytest.mark.parametrize("path, method, body, status", [
    ("/api/tasks/999999/x", "GET", None, 404),
    ("/api/no-such-route", "GET", None, 404),
    ("/api/tasks", "DELETE", None, 405),
])
def test_unknown_ids_and_routes_get_the_error_shape(api, path, method, body, status):
    _error_shape(api(method, path, "dm.sotuphap"), status)


def test_another_units_task_is_not_found_through_the_api(api):
    task = api("GET", "/api/tasks", "dm.sotuphap").get_json()["items"][0]
    url = f"/api/tasks/{task['instance_id']}/{task['task_id']}"
    _error_shape(api("GET", url, "dm.sotaichinh"), 404)
    _error_shape(api("POST", url + "/complete", "dm.sotaichinh", json={"data": {"decision": "accept"}}), 404)


def test_a_body_that_is_not_an_object_is_422(api):
    task = api("GET", "/api/tasks", "dm.sotuphap").get_json()["items"][0]
    url = f"/api/tasks/{task['instance_id']}/{task['task_id']}/complete"
    _error_shape(api("POST", url, "dm.sotuphap", data="[1,2]", content_type="application/json"), 422)


def test_the_openapi_document_describes_every_api_route(api):
    spec = api.app.test_client().get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    routes = {r.rule.replace("<id:", "{").replace("<", "{").replace(">", "}") for r in api.app.url_map.iter_rules()
              if r.rule.startswith("/api/")}
    assert routes == set(spec["paths"])


def test_a_revoked_token_stops_working(api, ctx):
    issued = api_tokens.issue(ctx, "dm.sotuphap", "short-lived", "admin")
    client = api.app.test_client()
    assert client.get("/api/tasks", headers={"Authorization": f"Bearer {issued.token}"}).status_code == 200
    api_tokens.revoke(ctx, issued.id, "admin")
    _error_shape(client.get("/api/tasks", headers={"Authorization": f"Bearer {issued.token}"}), 401)


def test_the_office_registers_through_the_api_and_classified_is_refused(api, ctx):
    token = api_tokens.issue(ctx, "cv.hoa", "office system", "admin").token
    client = api.app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    body = {"number_symbol": "12/KH-UBND", "issued_on": "2025-04-21", "doc_type": "ke_hoach", "issuer": "UBND tỉnh",
            "signer": "Chủ tịch", "summary": "Kế hoạch", "tasks": [{"content": "Việc A", "lead_unit": "so-y-te",
                                                                   "deadline": "2025-06-30"}]}
    created = client.post("/api/documents", json=body, headers=headers)
    assert created.status_code == 201 and len(created.get_json()["task_ids"]) == 1
    _error_shape(client.post("/api/documents", json=dict(body, classification="Mật", number_symbol="13/KH-UBND"),
                             headers=headers), 422, "classified_refused")
    _error_shape(api("POST", "/api/documents", "dm.sotuphap", json=body), 403)
    assert any(t["content"] == "Việc A" for t in client.get("/api/tracked-tasks", headers=headers).get_json()["items"])


def test_a_district_files_feedback_and_the_lead_unit_records_progress_through_the_api(api, ctx):
    task_id = api("GET", "/api/tracked-tasks", "dm.sotuphap").get_json()["items"][0]["id"]
    district = api_tokens.issue(ctx, "dm.batri", "district system", "admin").token
    client = api.app.test_client()
    filed = client.post("/api/feedback", json={"task_id": task_id, "content": "Chậm"},
                        headers={"Authorization": f"Bearer {district}"})
    assert filed.status_code == 201
    _error_shape(api("POST", "/api/feedback", "dm.sotuphap", json={"task_id": task_id, "content": "x"}), 403)
    recorded = api("POST", f"/api/tracked-tasks/{task_id}/progress", "dm.sotuphap",
                   json={"state": "in_progress", "work_done": "Đã làm một nửa"})
    assert recorded.status_code == 201
    # Another department's task is not even shown to it: 404, as on the task's page.
    other = api("POST", f"/api/tracked-tasks/{task_id}/progress", "dm.sotaichinh", json={"work_done": "x"})
    _error_shape(other, 404)


def test_claim_and_release_through_the_api(api):
    task = api("GET", "/api/tasks", "dm.sotuphap").get_json()["items"][0]
    url = f"/api/tasks/{task['instance_id']}/{task['task_id']}/claim"
    assert api("POST", url, "dm.sotuphap", json={}).status_code == 200
    assert api("GET", "/api/tasks?mine=1", "dm.sotuphap").get_json()["total"] == 1
    assert api("POST", url, "dm.sotuphap", json={"release": True}).status_code == 200
    _error_shape(api("POST", url, "dm.sotaichinh", json={}), 404)
