"""The organisation in the admin console: pages and JSON API (web/admin_units.py, web/api/admin_units.py)
call the same use cases (engine/regulation/reorganisation.py, organisation_import.py)."""
from __future__ import annotations

import io
import json
from pathlib import Path

from engine.process import instances
from engine.read.inbox import inbox
from engine.regulation import access, api_tokens
from tests.helpers import complete_step, csrf_token, ready_tasks, register_task, sign_in

REFORM = Path(__file__).resolve().parents[1] / "processes" / "org" / "reform-2025-vinh-long.json"


def _api(app, ctx, user="admin"):
    token = api_tokens.issue(ctx, user, "org", "admin").token
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def call(method, path, body=None):
        return client.open(path, method=method, json=body, headers=headers)
    return call


def test_the_api_lists_creates_renames_and_moves_units(app, shipped):
    api = _api(app, shipped)
    units = api("GET", "/api/units").get_json()["items"]
    batri = next(u for u in units if u["code"] == "tt-ba-tri")
    assert (batri["name"], batri["parent"], batri["active"], batri["users"]) == (
        "UBND thị trấn Ba Tri (huyện Ba Tri)", "huyen-ba-tri", True, 2)
    made = api("POST", "/api/units", {"code": "xa-ba-tri", "name": "UBND xã Ba Tri", "kind": "commune",
                                      "parent": "ubnd-tinh"})
    assert made.status_code == 201 and made.get_json()["code"] == "xa-ba-tri"
    assert api("POST", "/api/units", {"code": "xa-ba-tri", "name": "x", "kind": "commune"}).status_code == 409
    renamed = api("PATCH", "/api/units/xa-ba-tri", {"name": "UBND xã Ba Tri (mới)", "parent": "huyen-ba-tri"})
    assert renamed.status_code == 200
    assert (renamed.get_json()["name"], renamed.get_json()["parent_code"]) == ("UBND xã Ba Tri (mới)", "huyen-ba-tri")
    loop = api("PATCH", "/api/units/huyen-ba-tri", {"parent": "tt-ba-tri"})   # a cycle when moving
    assert loop.status_code == 409 and loop.get_json()["error"]["code"] == "conflict"
    assert api("PATCH", "/api/units/no-such-unit", {"name": "X"}).status_code == 404
    assert api("PATCH", "/api/units/tt-ba-tri", {}).status_code == 422


def test_the_api_previews_then_merges_and_the_task_reaches_the_new_communes_inbox(app, shipped):
    ctx, api = shipped, _api(app, shipped)
    registered = register_task(ctx, lead_unit="xa-tan-xuan-ba-tri")
    preview = api("POST", "/api/units/xa-tan-xuan-ba-tri/merge-preview", {"into": "tt-ba-tri"})
    assert preview.status_code == 200
    body = preview.get_json()
    assert body["applied"] is False
    assert [(s["instance_id"], s["new_assignee"]) for s in body["steps"]] == [(registered.instance_id, "tt-ba-tri")]
    assert ready_tasks(ctx, registered.instance_id)["review_receipt"].assignee == "xa-tan-xuan-ba-tri"
    assert api("POST", "/api/units/xa-tan-xuan-ba-tri/merge", {"into": "tt-ba-tri"}).status_code == 422  # no reason
    merged = api("POST", "/api/units/xa-tan-xuan-ba-tri/merge", {"into": "tt-ba-tri", "reason": "Sáp nhập xã"})
    assert merged.status_code == 200 and merged.get_json()["applied"] is True
    focal = access.actor_named(ctx, "dm.ttbatri")
    assert [i.instance_id for i in inbox(ctx, focal).items] == [registered.instance_id]
    complete_step(ctx, registered.instance_id, "review_receipt", {"decision": "accept"}, actor="dm.ttbatri")
    assert instances.get_instance(ctx, registered.instance_id).status.value == "running"
    tree = {u["code"]: u for u in api("GET", "/api/units").get_json()["items"]}
    assert (tree["xa-tan-xuan-ba-tri"]["active"], tree["xa-tan-xuan-ba-tri"]["merged_into"]) == (False, "tt-ba-tri")


def test_bad_merges_through_the_api(app, shipped):
    api = _api(app, shipped)
    itself = api("POST", "/api/units/tt-ba-tri/merge-preview", {"into": "tt-ba-tri"})
    assert itself.status_code == 422 and "chính nó" in itself.get_json()["error"]["message"]
    assert api("POST", "/api/units/no-such-unit/merge-preview", {"into": "tt-ba-tri"}).status_code == 404
    assert api("POST", "/api/units/tt-ba-tri/merge-preview", {"into": "no-such-unit"}).status_code == 422
    api("POST", "/api/units/xa-tan-xuan-ba-tri/retire", {"work_to": "tt-ba-tri", "reason": "x"})
    retired = api("POST", "/api/units/phuong-7-tp-ben-tre/merge-preview?lang=en", {"into": "xa-tan-xuan-ba-tri"})
    assert retired.status_code == 409 and "inactive" in retired.get_json()["error"]["message"]


def test_the_api_imports_the_reform_file_after_a_preview(app, shipped):
    ctx, api = shipped, _api(app, shipped)
    registered = register_task(ctx, lead_unit="huyen-ba-tri")
    raw = json.loads(REFORM.read_text(encoding="utf-8"))
    preview = api("POST", "/api/organisation/import-preview", {"file": raw}).get_json()
    assert ("retired", "huyen-ba-tri") in {(u["action"], u["code"]) for u in preview["units"]}
    assert api("GET", "/api/units").get_json()["items"][0]["code"] == "ubnd-tinh"   # nothing applied
    bad = api("POST", "/api/organisation/import-preview", {"file": {"format": "org-change/1", "mapping": [{}]}})
    assert bad.status_code == 422 and "mapping[0]" in bad.get_json()["error"]["message"]
    done = api("POST", "/api/organisation/import", {"file": raw, "reason": "Nghị quyết 202/2025/QH15"})
    assert done.status_code == 200
    assert ready_tasks(ctx, registered.instance_id)["review_receipt"].assignee == "xa-ba-tri"


def test_only_admins_change_and_the_office_sees_read_only(app, shipped):
    office = app.test_client()
    sign_in(office, "cv.hoa")
    page = office.get("/admin/units").get_data(as_text=True)
    assert "UBND thị trấn Ba Tri (huyện Ba Tri)" in page and 'id="read-only"' in page and 'id="hand-over"' not in page
    token = csrf_token(office, "/admin/units")
    assert office.post("/admin/units/hand-over", data={"unit": "tt-ba-tri", "into": "xa-tan-xuan-ba-tri",
                                                        "csrf_token": token}).status_code == 403
    api = _api(app, shipped, "cv.hoa")
    assert api("GET", "/api/units").status_code == 200
    assert api("POST", "/api/units/tt-ba-tri/merge", {"into": "xa-tan-xuan-ba-tri", "reason": "x"}).status_code == 403
    commune = _api(app, shipped, "dm.ttbatri")
    assert commune("GET", "/api/units").status_code == 403


def test_the_pages_preview_and_apply_a_merge_and_an_import(app, shipped):
    ctx = shipped
    registered = register_task(ctx, lead_unit="xa-tan-xuan-ba-tri")
    admin = app.test_client()
    sign_in(admin, "admin")
    token = csrf_token(admin, "/admin/units")
    form = {"action": "merge", "unit": "xa-tan-xuan-ba-tri", "into": "tt-ba-tri", "csrf_token": token}
    page = admin.post("/admin/units/hand-over-preview", data=form).get_data(as_text=True)
    assert 'id="preview-steps"' in page and "UBND thị trấn Ba Tri (huyện Ba Tri)" in page and "dm.tanxuan" in page
    refused = admin.post("/admin/units/hand-over-preview", data=dict(form, into="xa-tan-xuan-ba-tri"))
    assert refused.status_code == 422 and "chính nó" in refused.get_data(as_text=True)
    upload = {"file": (io.BytesIO(REFORM.read_bytes()), "reform.json"), "csrf_token": token}
    preview = admin.post("/admin/units/import-preview", data=upload, content_type="multipart/form-data")
    assert preview.status_code == 200 and "UBND xã Ba Tri" in preview.get_data(as_text=True)
    assert admin.post("/admin/units/import-preview", data={"content": "{", "csrf_token": token}).status_code == 422
    done = admin.post("/admin/units/hand-over", data=dict(form, reason="Sáp nhập"))
    assert done.status_code == 303
    assert ready_tasks(ctx, registered.instance_id)["review_receipt"].assignee == "tt-ba-tri"
    # The reform file merges the commune merged above: refused whole, saying why.
    upload = {"file": (io.BytesIO(REFORM.read_bytes()), "reform.json"), "csrf_token": token}
    refused = admin.post("/admin/units/import-preview", data=upload, content_type="multipart/form-data")
    assert refused.status_code == 409 and "xa-tan-xuan-ba-tri" in refused.get_data(as_text=True)
