"""The analyst's workbench through the JSON API and the page's session twins: drafts, checks, the catalog,
form previews, and who may use them."""
from __future__ import annotations

import pytest

from engine.core.config import ROOT
from engine.regulation import api_tokens
from tests.helpers import csrf_token, sign_in

PROCESS = "task_followup"
SHIPPED = (ROOT / "processes" / "task_followup.bpmn").read_text(encoding="utf-8")
FORM = {"title": "Ý kiến của Lãnh đạo Văn phòng", "x-title-en": "Office leader's opinion", "type": "object",
        "properties": {"approved": {"type": "boolean", "title": "Đồng ý", "x-title-en": "Approved"},
                       "note": {"type": "string", "title": "Ghi chú", "x-title-en": "Note"}},
        "required": ["approved"], "additionalProperties": False}


@pytest.fixture
def api(ctx, app):
    client = app.test_client()
    tokens = {u: api_tokens.issue(ctx, u, "test", "admin").token for u in ("pt.lan", "admin", "dm.sotuphap")}

    def call(method, path, user="pt.lan", **kwargs):
        return client.open(path, method=method, headers={"Authorization": f"Bearer {tokens[user]}"}, **kwargs)

    return call


def _draft(api):
    response = api("GET", f"/api/processes/{PROCESS}/draft")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_draft_opens_as_the_latest_version_until_one_is_saved(api):
    draft = _draft(api)
    assert draft["saved"] is False and draft["base_version"] == draft["latest_version"] == 1
    assert 'spiffworkflow:role="unit_focal_point"' in draft["bpmn"]
    assert draft["forms"]["task_followup.review_receipt.schema.json"]["type"] == "object"


def test_a_draft_saved_comes_back_and_is_discarded(api):
    edited = SHIPPED.replace('name="Đầu mối đơn vị"', 'name="Đầu mối của đơn vị"')
    forms = {**_draft(api)["forms"], "task_followup.office_approval.schema.json": FORM}
    saved = api("PUT", f"/api/processes/{PROCESS}/draft", json={"bpmn": edited, "forms": forms})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["saved"] is True and saved.get_json()["updated_by"] == "pt.lan"

    reopened = api("GET", f"/api/processes/{PROCESS}/draft", user="admin").get_json()  # one draft, shared
    assert 'name="Đầu mối của đơn vị"' in reopened["bpmn"] and reopened["updated_by"] == "pt.lan"
    assert reopened["forms"]["task_followup.office_approval.schema.json"] == FORM
    assert reopened["base_version"] == 1 and reopened["updated_at"]

    assert api("DELETE", f"/api/processes/{PROCESS}/draft", user="admin").get_json() == {"discarded": True}
    after = _draft(api)
    assert after["saved"] is False and 'name="Đầu mối đơn vị"' in after["bpmn"]
    assert api("DELETE", f"/api/processes/{PROCESS}/draft").get_json() == {"discarded": False}  # none left


def test_an_invalid_diagram_is_saved_all_the_same(api):
    broken = SHIPPED.replace('spiffworkflow:role="unit_focal_point"', 'spiffworkflow:role="nobody"')
    assert api("PUT", f"/api/processes/{PROCESS}/draft", json={"bpmn": broken, "forms": {}}).status_code == 200
    assert 'role="nobody"' in _draft(api)["bpmn"]


def test_a_check_locates_the_problems_of_a_broken_diagram(api):
    forms = _draft(api)["forms"]
    errors_of_shipped = [p for p in api("POST", f"/api/processes/{PROCESS}/draft/check", json={
        "bpmn": SHIPPED, "forms": forms}).get_json()["problems"] if p["severity"] == "error"]
    assert errors_of_shipped == []

    broken = SHIPPED.replace('spiffworkflow:role="unit_focal_point"', 'spiffworkflow:role="nobody"')
    problems = api("POST", f"/api/processes/{PROCESS}/draft/check", json={"bpmn": broken, "forms": forms}).get_json()
    lane = [p for p in problems["problems"] if p["element_id"] == "Lane_focal_point"]
    line = next(n for n, text in enumerate(SHIPPED.splitlines(), 1) if 'id="Lane_focal_point"' in text)
    assert lane and lane[0]["severity"] == "error" and lane[0]["line"] == line and "nobody" in lane[0]["message"]
    english = api("POST", f"/api/processes/{PROCESS}/draft/check?lang=en", json={"bpmn": broken, "forms": forms})
    in_english = next(p["message"] for p in english.get_json()["problems"] if p["element_id"] == "Lane_focal_point")
    assert in_english != lane[0]["message"] and "nobody" in in_english  # the analyst's language, vi by default

    without_form = {k: v for k, v in forms.items() if k != "task_followup.confirm_completion.schema.json"}
    problems = api("POST", f"/api/processes/{PROCESS}/draft/check", json={"bpmn": SHIPPED, "forms": without_form})
    assert any(p["element_id"] == "confirm_completion" and p["severity"] == "error"
               for p in problems.get_json()["problems"])


def test_a_check_of_text_that_is_not_xml_is_a_located_problem_not_an_error(api):
    response = api("POST", f"/api/processes/{PROCESS}/draft/check", json={"bpmn": "<bpmn:definitions", "forms": {}})
    assert response.status_code == 200
    assert response.get_json()["problems"][0]["severity"] == "error"


def test_the_catalog_lists_what_the_panel_chooses_from(api):
    catalog = api("GET", "/api/workbench/catalog?lang=vi").get_json()
    roles = {r["value"]: r["label"] for r in catalog["roles"]}
    assert roles["unit_focal_point"] == "Đầu mối đơn vị"
    grace = next(s for s in catalog["settings"] if s["name"] == "update_grace")
    assert grace["value"] == 1 and "8.1.a" in grace["legal_basis"]
    assert "task_followup.review_receipt.schema.json" in catalog["forms"]
    assert {"after_date", "before_date", "deadline"} <= {f["name"] for f in catalog["functions"]}
    assert any(a["name"] == "completion_reported" for a in catalog["actions"])
    english = api("GET", "/api/workbench/catalog?lang=en").get_json()
    assert {r["value"]: r["label"] for r in english["roles"]}["unit_focal_point"] != roles["unit_focal_point"]


def test_a_form_preview_is_drawn_by_the_task_pages_renderer(api):
    response = api("POST", "/api/workbench/form-preview", json={"schema": FORM})
    assert response.status_code == 200
    html = response.get_json()["html"]
    assert 'data-field="approved"' in html and 'type="checkbox"' in html and "Đồng ý *" in html
    assert 'data-field="note"' in html and "Ý kiến của Lãnh đạo Văn phòng" in html
    english = api("POST", "/api/workbench/form-preview?lang=en", json={"schema": FORM}).get_json()["html"]
    assert "Approved *" in english


def test_a_form_preview_of_a_bad_schema_says_what_is_wrong(api):
    response = api("POST", "/api/workbench/form-preview", json={"schema": {"type": "object", "properties": {
        "x": {"type": "no-such-type"}}}})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_input" and "properties/x" in error["message"]
    assert api("POST", "/api/workbench/form-preview", json={"schema": "not an object"}).status_code == 422
    assert api("POST", "/api/workbench/form-preview", data="{", content_type="application/json").status_code == 422


def test_bad_input_is_422_and_loses_nothing(api):
    url = f"/api/processes/{PROCESS}/draft"
    assert api("PUT", url, json={"bpmn": SHIPPED}).status_code == 422                            # no forms
    assert api("PUT", url, json={"bpmn": SHIPPED, "forms": {"../etc.json": {}}}).status_code == 422  # a path
    assert api("PUT", url, json={"bpmn": SHIPPED, "forms": {"a.json": "text"}}).status_code == 422   # not a schema
    entity = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>'
    refused = api("PUT", url, json={"bpmn": entity, "forms": {}})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "invalid_input"
    assert api("PUT", "/api/processes/Bad-Id/draft", json={"bpmn": SHIPPED, "forms": {}}).status_code == 422
    assert _draft(api)["saved"] is False  # none of these kept anything


def test_an_unknown_process_is_404(api):
    assert api("GET", "/api/processes/no_such_process/draft").status_code == 404
    assert api("DELETE", "/api/processes/no_such_process/draft").status_code == 404


def test_a_department_user_is_refused(api):
    for method, path, body in (("GET", f"/api/processes/{PROCESS}/draft", None),
                               ("PUT", f"/api/processes/{PROCESS}/draft", {"bpmn": SHIPPED, "forms": {}}),
                               ("DELETE", f"/api/processes/{PROCESS}/draft", None),
                               ("POST", f"/api/processes/{PROCESS}/draft/check", {"bpmn": SHIPPED, "forms": {}}),
                               ("GET", "/api/workbench/catalog", None),
                               ("POST", "/api/workbench/form-preview", {"schema": FORM})):
        response = api(method, path, user="dm.sotuphap", json=body)
        assert response.status_code == 403, (method, path)
        assert response.get_json()["error"]["code"] == "forbidden"


def test_the_page_and_its_session_twins(app):
    analyst, unit = app.test_client(), app.test_client()
    sign_in(analyst, "pt.lan")
    sign_in(unit, "dm.sotuphap")
    page = analyst.get(f"/processes/{PROCESS}/edit")
    assert page.status_code == 200 and b"vendor/modeler/modeler.js" in page.data and b'id="wb-form-schema"' in page.data
    assert unit.get(f"/processes/{PROCESS}/edit").status_code == 403
    assert analyst.get("/processes/no_such_process/edit").status_code == 404
    assert b"/processes/task_followup/edit" in analyst.get("/processes").data  # linked from the list

    token = csrf_token(analyst, f"/processes/{PROCESS}/edit")
    headers = {"X-CSRF-Token": token, "Accept": "application/json"}
    draft = analyst.get(f"/processes/{PROCESS}/edit/draft").get_json()
    saved = analyst.put(f"/processes/{PROCESS}/edit/draft", headers=headers,
                        json={"bpmn": draft["bpmn"], "forms": draft["forms"]})
    assert saved.status_code == 200 and saved.get_json()["updated_by"] == "pt.lan"
    no_csrf = analyst.put(f"/processes/{PROCESS}/edit/draft", json={"bpmn": "x", "forms": {}})
    assert no_csrf.status_code == 400
    checked = analyst.post(f"/processes/{PROCESS}/edit/check", headers=headers,
                           json={"bpmn": draft["bpmn"], "forms": draft["forms"]}).get_json()
    assert [p for p in checked["problems"] if p["severity"] == "error"] == []
    preview = analyst.post("/workbench/form-preview", headers=headers, json={"schema": FORM})
    assert 'data-field="approved"' in preview.get_json()["html"]
    assert analyst.get("/workbench/catalog").get_json()["roles"]
    assert analyst.delete(f"/processes/{PROCESS}/edit/draft", headers=headers).get_json() == {"discarded": True}


def test_deploy_from_the_page_refuses_a_broken_diagram_with_located_problems(app):
    analyst = app.test_client()
    sign_in(analyst, "pt.lan")
    headers = {"X-CSRF-Token": csrf_token(analyst, f"/processes/{PROCESS}/edit"), "Accept": "application/json"}
    draft = analyst.get(f"/processes/{PROCESS}/edit/draft").get_json()
    broken = draft["bpmn"].replace('spiffworkflow:role="unit_focal_point"', 'spiffworkflow:role="nobody"')
    refused = analyst.post(f"/processes/{PROCESS}/edit/deploy", headers=headers,
                           json={"bpmn": broken, "forms": draft["forms"], "comment": "thử"})
    assert refused.status_code == 422
    assert any(p["element_id"] == "Lane_focal_point" for p in refused.get_json()["error"]["problems"])
    renamed = draft["bpmn"].replace('name="Đầu mối đơn vị"', 'name="Đầu mối của đơn vị"')
    deployed = analyst.post(f"/processes/{PROCESS}/edit/deploy", headers=headers,
                            json={"bpmn": renamed, "forms": draft["forms"], "comment": "Đổi tên làn"})
    assert deployed.status_code == 201, deployed.get_json()
    assert deployed.get_json() == {"process_id": PROCESS, "version": 2, "comment": "Đổi tên làn"}
    again = analyst.post(f"/processes/{PROCESS}/edit/deploy", headers=headers,
                         json={"bpmn": renamed, "forms": draft["forms"], "comment": "lần nữa"})
    assert again.status_code == 409  # the same content is no new version
    no_comment = analyst.post(f"/processes/{PROCESS}/edit/deploy", headers=headers,
                              json={"bpmn": renamed, "forms": draft["forms"], "comment": ""})
    assert no_comment.status_code == 422
    assert analyst.get(f"/processes/{PROCESS}/edit/draft").get_json()["latest_version"] == 2
