"""Never a 500: out-of-range ids, NUL characters, a document registered twice, malformed API bodies, a
non-ASCII CSRF token and a `row_version` that is not a number are each answered as the user's mistake
(4xx, with the form kept where there is one), on SQLite and PostgreSQL alike."""
from __future__ import annotations

import pytest

from engine.process import instances
from engine.regulation import api_tokens
from tests.helpers import csrf_token, sign_in

HUGE = (2**31, 2**63, 10**30)  # above PostgreSQL's integer, above SQLite's, above both
DOCUMENT = {"number_symbol": "77/KH-UBND", "issued_on": "2025-04-21", "doc_type": "ke_hoach", "issuer": "UBND tỉnh",
            "signer": "Chủ tịch", "summary": "Kế hoạch", "tasks": [{"content": "Việc A", "lead_unit": "so-y-te",
                                                                   "deadline": "2025-06-30"}]}


@pytest.fixture
def api(ctx, app):
    """Call the API as a demo user with a bearer token: api("POST", path, "cv.hoa", json=...)."""
    client, tokens = app.test_client(), {}

    def call(method, path, user="cv.hoa", **kwargs):
        if user not in tokens:
            tokens[user] = api_tokens.issue(ctx, user, "test", "admin").token
        return client.open(path, method=method, headers={"Authorization": f"Bearer {tokens[user]}"}, **kwargs)

    return call


def _page(client, user: str):
    sign_in(client, user)
    return client


def _error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    body = response.get_json()
    assert set(body) == {"error"} and (code is None or body["error"]["code"] == code), body
    return body["error"]


@pytest.mark.parametrize("number", HUGE)
def test_ids_out_of_range_in_paths_are_404(client, api, number):
    _page(client, "dm.sotuphap")
    for path in (f"/tasks/{number}/x", f"/tasks/{number}/x/diagram.xml", f"/office/tasks/{number}",
                 f"/attachments/{number}"):
        assert client.get(path).status_code == 404, path
    token = csrf_token(client, "/inbox")
    for path in (f"/tasks/{number}/x/claim", f"/office/tasks/{number}/progress"):
        assert client.post(path, data={"csrf_token": token}).status_code == 404, path
    for path in (f"/api/tasks/{number}/x", f"/api/tasks/{number}/x/history", f"/api/tracked-tasks/{number}"):
        _error(api("GET", path, "dm.sotuphap"), 404)
    _error(api("POST", f"/api/tasks/{number}/x/complete", "dm.sotuphap", json={"data": {}}), 404)
    _error(api("POST", f"/api/tracked-tasks/{number}/progress", "dm.sotuphap", json={}), 404)


@pytest.mark.parametrize("number", HUGE)
def test_ids_out_of_range_in_forms_and_bodies_are_refused(client, api, ctx, number, registered_task):
    registered = registered_task()
    _error(api("POST", "/api/feedback", "dm.batri", json={"task_id": number, "content": "Chậm"}), 422)
    _error(api("POST", "/api/notifications/read", "dm.sotuphap", json={"ids": [number]}), 422)
    url = f"/api/tasks/{registered.instance_id}/{registered.step.task_id}/complete"
    _error(api("POST", url, "dm.sotuphap", json={"data": {"decision": "accept"}, "row_version": number}), 409)
    _page(client, "dm.batri")
    refused = client.post("/feedback/new", data={"csrf_token": csrf_token(client, "/feedback/new"),
                                                 "task_id": str(number), "content": "Chậm"})
    assert refused.status_code == 422 and "Chậm" in refused.get_data(as_text=True)
    _page(client, "dm.sotuphap")
    token = csrf_token(client, "/notifications")
    assert client.post("/notifications/read", data={"csrf_token": token, "id": str(number)}).status_code == 303
    page = f"/tasks/{registered.instance_id}/{registered.step.task_id}"
    answer = client.post(page, data={"csrf_token": token, "decision": "accept", "row_version": str(number)})
    assert answer.status_code == 303  # a version that is not the instance's: the stale-form message
    waiting = instances.list_ready_tasks(ctx, instance_id=registered.instance_id)
    assert waiting[0].task_id == registered.step.task_id  # the task is still waiting


@pytest.mark.parametrize("number", HUGE)
def test_paging_out_of_range_gives_an_empty_page(client, api, number):
    for path in (f"/api/tasks?page={number}", f"/api/tasks?per_page={number}", f"/api/tracked-tasks?page={number}",
                 f"/api/tracked-tasks?per_page={number}&page={number}", f"/api/notifications?limit={number}"):
        assert api("GET", path).status_code == 200, path
    _page(client, "cv.hoa")
    for path in (f"/inbox?page={number}", f"/office/tasks?page={number}", f"/inbox?page=-{number}"):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("period", ["9999-12", "9999-Q4", "0001-01", "1-Q1", "0-Q1", "99999999999999999999-01"])
def test_a_due_period_at_the_ends_of_the_calendar_filters_nothing(client, api, period):
    assert api("GET", f"/api/tasks?period={period}").status_code == 200
    _page(client, "cv.hoa")
    assert client.get(f"/inbox?period={period}").status_code == 200


NUL = "a\x00b"


def test_nul_characters_in_queries_and_texts_are_refused_not_a_500(client, api, registered_task):
    registered = registered_task()
    for path in ("/api/tasks?q=a%00b", "/api/tracked-tasks?q=%00", "/api/tasks?unit=%00", "/api/tasks?process=%00",
                 "/api/reporting-rounds/2025%00", f"/api/tasks/{registered.instance_id}/a%00b"):
        assert api("GET", path).status_code in (404, 422), path
    _error(api("POST", "/api/documents", json={**DOCUMENT, "summary": NUL}), 422)
    _error(api("POST", f"/api/tracked-tasks/{registered.task_id}/progress", "dm.sotuphap",
               json={"state": "in_progress", "work_done": NUL}), 422)
    _error(api("POST", "/api/feedback", "dm.batri", json={"task_id": registered.task_id, "content": NUL}), 422)
    _error(api("POST", "/api/documents", json={**DOCUMENT, NUL: "x"}), 422)
    _page(client, "cv.hoa")
    for path in ("/inbox?q=a%00b", "/office/tasks?q=%00", "/office/tasks?unit=%00", "/office/reports/%00"):
        assert client.get(path).status_code in (404, 422), path
    form = {"csrf_token": csrf_token(client, "/office/documents/new"), "number_symbol": "78/KH-UBND",
            "issued_on": "2025-04-21", "doc_type": "ke_hoach", "issuer": "UBND", "signer": "Chủ tịch",
            "summary": NUL, "content_0": "Việc", "lead_unit_0": "so-y-te", "deadline_0": "2025-06-30"}
    refused = client.post("/office/documents/new", data=form)  # refused whole, with the reason
    assert refused.status_code == 422 and "NUL" in refused.get_data(as_text=True)


def test_a_document_registered_twice_is_a_conflict_with_the_form_kept(client, api):
    assert api("POST", "/api/documents", json=DOCUMENT).status_code == 201
    _error(api("POST", "/api/documents", json=DOCUMENT), 409, "conflict")
    _page(client, "cv.hoa")
    form = {"csrf_token": csrf_token(client, "/office/documents/new"), "number_symbol": "77/KH-UBND",
            "issued_on": "2025-04-21", "doc_type": "ke_hoach", "issuer": "UBND tỉnh", "signer": "Chủ tịch",
            "summary": "Tóm tắt giữ lại", "content_0": "Việc B", "lead_unit_0": "so-y-te",
            "deadline_0": "2025-06-30"}
    again = client.post("/office/documents/new", data=form)  # as pressing Back and sending it again would
    text = again.get_data(as_text=True)
    assert again.status_code == 409 and "Tóm tắt giữ lại" in text and "77/KH-UBND" in text


def test_a_document_registered_twice_in_a_race_is_a_conflict(ctx, shipped, monkeypatch):
    """The check before the insert can miss a colleague's insert: the unique constraint is the judge."""
    from datetime import date

    from engine.core.errors import Conflict
    from engine.regulation import tracking

    document = tracking.DocumentInput(number_symbol="5/KH-UBND", issued_on=date(2025, 4, 21), doc_type="ke_hoach",
                                      issuer="UBND", signer="Chủ tịch", summary="Đua")
    tasks = [tracking.TaskInput(content="Việc", lead_unit="so-y-te", expected_output="Báo cáo",
                                deadline=date(2025, 6, 30))]
    tracking.register_document(shipped, document, tasks, "cv.hoa")
    monkeypatch.setattr(tracking, "_registered_already", lambda session, document: False)  # the race lost
    with pytest.raises(Conflict) as raised:
        tracking.register_document(shipped, document, tasks, "cv.minh")
    assert "5/KH-UBND" in str(raised.value)


@pytest.mark.parametrize("body", ["[1, 2]", '"release"', "3", "null"])
def test_a_claim_body_that_is_not_an_object_is_422(api, registered_task, body):
    registered = registered_task()
    url = f"/api/tasks/{registered.instance_id}/{registered.step.task_id}/claim"
    answer = api("POST", url, "dm.sotuphap", data=body, content_type="application/json")
    _error(answer, 422, "invalid_input")
    _error(api("POST", url, "dm.sotuphap", json={"release": "yes"}), 422)
    assert api("POST", url, "dm.sotuphap").status_code == 200  # no body at all: claim


@pytest.mark.parametrize("cadence", [["monthly"], {"monthly": 1}, 12, True])
def test_update_cadence_that_is_not_a_text_is_422(api, cadence):
    task = {"content": "Việc không hạn", "lead_unit": "so-y-te", "update_cadence": cadence}
    _error(api("POST", "/api/documents", json={**DOCUMENT, "tasks": [task]}), 422)


@pytest.mark.parametrize("field, value", [
    ("coordinators", "so-tu-phap"), ("coordinators", [5]), ("coordinators", {"a": 1}), ("tasks", {"a": 1}),
    ("tasks", [1]), ("issuer", 5), ("summary", ["x"]), ("doc_type", 1), ("issued_on", 20250421),
    ("deadline", 5), ("lead_unit", 7), ("content", None), ("number_symbol", None)])
def test_every_document_field_of_the_wrong_type_is_422(api, field, value):
    task = dict(DOCUMENT["tasks"][0])
    body = dict(DOCUMENT)
    if field in ("coordinators", "deadline", "lead_unit", "content"):
        task[field] = value
        body["tasks"] = [task]
    else:
        body[field] = value
    _error(api("POST", "/api/documents", json=body), 422)


@pytest.mark.parametrize("token", ["é", "\u0111" * 43])
def test_a_non_ascii_csrf_token_is_a_400_even_signed_out(client, token):
    answer = client.post("/login", data={"username": "x", "password": "y", "csrf_token": token})
    assert answer.status_code == 400
    answer = client.post("/login", data={"username": "x", "password": "y"}, headers={"X-CSRF-Token": "ü"})
    assert answer.status_code == 400


@pytest.mark.parametrize("version", ["3", "abc", 1.5, True, [1], {"v": 1}])
def test_a_row_version_that_is_not_an_integer_is_422_not_409(api, registered_task, version):
    registered = registered_task()
    url = f"/api/tasks/{registered.instance_id}/{registered.step.task_id}/complete"
    _error(api("POST", url, "dm.sotuphap", json={"data": {"decision": "accept"}, "row_version": version}), 422)


@pytest.mark.parametrize("version", ["abc", "1.5", "0x10"])
def test_a_page_form_with_a_row_version_that_is_not_an_integer_is_422(client, ctx, registered_task, version):
    registered = registered_task()
    _page(client, "dm.sotuphap")
    url = f"/tasks/{registered.instance_id}/{registered.step.task_id}"
    answer = client.post(url, data={"csrf_token": csrf_token(client, url), "decision": "accept",
                                    "row_version": version})
    assert answer.status_code == 422
    assert instances.list_ready_tasks(ctx, instance_id=registered.instance_id)[0].bpmn_id == "review_receipt"


@pytest.mark.parametrize("path, form", [
    ("/office/reports", {"cadence": ["monthly"], "period_day": "2025-04-01"}),
    ("/office/reports", {"cadence": "monthly", "period_day": "2025-04-01", "kinds": "nonsense"}),
    ("/office/reports/plan", {"auto": "hourly"}),
    ("/office/reports", {"cadence": "monthly", "period_day": "1/1/99999999999999999999"}),
    ("/office/documents/new", {"number_symbol": "1/QĐ", "issued_on": "2025-13-45", "doc_type": "x"}),
    ("/office/documents/new", {"number_symbol": "1/QĐ", "issued_on": "2025-04-01", "doc_type": "khac",
                               "issuer": "a", "signer": "b", "summary": "c", "content_0": "d",
                               "lead_unit_0": "so-y-te", "cadence_0": "hourly"}),
])
def test_page_forms_refuse_bad_fields_as_the_api_does(client, path, form):
    _page(client, "cv.hoa")
    answer = client.post(path, data={"csrf_token": csrf_token(client, "/inbox"), **form})
    assert answer.status_code == 422, answer.get_data(as_text=True)[:500]
