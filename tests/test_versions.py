"""Versions of a process through the JSON API and the use cases: deploy with a comment (201, 403, 422 with
located problems and nothing stored, 404), the history, the diff of a hand-made change of task_followup
(tests/bpmn/versions_task_followup_v2.bpmn), roll back, and the draft dropped once deployed."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from engine.core.audit import AuditEntry
from engine.process import drafts, versions
from engine.process.tables import DefinitionVersion, ProcessDraft
from engine.regulation import api_tokens
from tests.helpers import BPMN, ROOT, complete_step, ready_tasks, register_task

V2 = (BPMN / "versions_task_followup_v2.bpmn").read_text(encoding="utf-8")
APPROVAL = {"title": "Lãnh đạo Văn phòng duyệt", "x-title-en": "Office leader's approval", "type": "object",
            "properties": {"approved": {"type": "boolean", "title": "Đồng ý"}}, "additionalProperties": False}
APPROVAL_FILE = "task_followup.office_approval.schema.json"
RETURN = {"decision": "return", "return_reason": "Sai thẩm quyền xử lý"}


@pytest.fixture
def api(app, shipped):
    tokens = {u: api_tokens.issue(shipped, u, "pipeline", "admin").token for u in ("pt.lan", "admin", "cv.hoa",
                                                                                   "dm.sotuphap")}

    def call(method, path, user="pt.lan", **kwargs):
        return app.test_client().open(path, method=method, headers={"Authorization": f"Bearer {tokens[user]}"},
                                      **kwargs)

    return call


def _deploy_v2(api, user="pt.lan", **extra):
    body = {"bpmn": V2, "comment": "Thêm bước Lãnh đạo Văn phòng duyệt", "forms": {APPROVAL_FILE: APPROVAL}}
    return api("POST", "/api/processes/task_followup/versions", user=user, json={**body, **extra})


def _stored(ctx, process_id="task_followup"):
    with ctx.unit_of_work(readonly=True) as session:
        return list(session.scalars(select(DefinitionVersion.version).where(DefinitionVersion.process_id == process_id)
                                    .order_by(DefinitionVersion.version)))


def test_an_analyst_deploys_a_version_with_a_comment_and_the_history_shows_it(api, shipped):
    response = _deploy_v2(api)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["version"], body["deployed_by"], body["comment"], body["latest"]) == (
        2, "pt.lan", "Thêm bước Lãnh đạo Văn phòng duyệt", True)
    history = api("GET", "/api/processes/task_followup/versions", user="cv.hoa").get_json()["items"]
    assert [(v["version"], v["deployed_by"], v["comment"], v["latest"]) for v in history] == [
        (2, "pt.lan", "Thêm bước Lãnh đạo Văn phòng duyệt", True), (1, "system", "", False)]
    with shipped.unit_of_work(readonly=True) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "deploy")
                                .order_by(AuditEntry.id.desc())).first()
    assert (entry.actor, entry.summary["version"], entry.summary["comment"]) == (
        "pt.lan", 2, "Thêm bước Lãnh đạo Văn phòng duyệt")
    # The forms the diagram names and the body left out came from version 1.
    with shipped.unit_of_work(readonly=True) as session:
        forms = json.loads(session.scalar(select(DefinitionVersion.spec_json).where(
            DefinitionVersion.process_id == "task_followup", DefinitionVersion.version == 2)))["forms"]
    assert set(forms) == {APPROVAL_FILE, "task_followup.review_receipt.schema.json",
                          "task_followup.report_completion.schema.json", "task_followup.confirm_completion.schema.json"}
    assert _deploy_v2(api).status_code == 409  # the same content again makes no version


@pytest.mark.parametrize("user", ["cv.hoa", "dm.sotuphap"])
def test_only_analysts_and_admins_deploy(api, shipped, user):
    response = _deploy_v2(api, user=user, comment="thử")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert _stored(shipped) == [1]
    assert _deploy_v2(api, user="admin").status_code == 201


def test_a_diagram_that_does_not_pass_is_422_with_located_problems_and_nothing_is_stored(api, shipped):
    # The added user task names a form nobody gives.
    response = api("POST", "/api/processes/task_followup/versions", json={"bpmn": V2, "comment": "thiếu biểu mẫu"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_bpmn"
    assert [(p["element_id"], p["severity"]) for p in error["problems"]] == [("office_approval", "error")]
    assert "task_followup.office_approval.schema.json" in error["problems"][0]["message"]
    # Not XML: located by line.
    broken = api("POST", "/api/processes/task_followup/versions", json={"bpmn": "<a>\n<b>\n</c>\n</a>",
                                                                          "comment": "hỏng"}).get_json()["error"]
    assert broken["code"] == "invalid_bpmn" and broken["problems"][0]["line"] == 3
    # Another process's diagram is refused, naming that process.
    other = (ROOT / "processes" / "feedback_followup.bpmn").read_text(encoding="utf-8")
    refused = api("POST", "/api/processes/task_followup/versions", json={"bpmn": other, "comment": "nhầm tệp"})
    assert refused.status_code == 422
    assert refused.get_json()["error"]["problems"][0]["element_id"] == "feedback_followup"
    # A comment is required.
    assert _deploy_v2(api, comment="").status_code == 422
    blank = _deploy_v2(api, comment="   ")
    assert blank.status_code == 422 and blank.get_json()["error"]["code"] == "invalid_input"
    assert _deploy_v2(api, comment="x" * (versions.MAX_COMMENT + 1)).status_code == 422
    assert _stored(shipped) == [1] and _stored(shipped, "feedback_followup") == [1]


def test_unknown_processes_and_versions_are_404(api):
    assert api("GET", "/api/processes/no_such/versions").status_code == 404
    assert api("POST", "/api/processes/no_such/versions", json={"bpmn": V2, "comment": "x"}).status_code == 404
    assert api("GET", "/api/processes/task_followup/versions/1/diff/9").status_code == 404
    assert api("GET", "/api/processes/no_such/versions/1/diff/2").status_code == 404
    assert api("GET", "/api/processes/task_followup/versions/9/instances").status_code == 404
    assert api("POST", "/api/processes/task_followup/versions/9/roll-back", json={"comment": "x"}).status_code == 404
    assert api("POST", "/api/processes/task_followup/migrations/preview", json={"from": 1, "to": 9}).status_code == 404


def test_the_diff_lists_what_was_added_removed_and_changed_by_id(api):
    assert _deploy_v2(api).status_code == 201
    diff = api("GET", "/api/processes/task_followup/versions/1/diff/2", user="cv.hoa").get_json()
    by = {kind: {e["id"]: e for e in diff[kind]} for kind in ("added", "removed", "changed", "moved")}
    assert set(by["added"]) == {"office_approval", "f_approved", "Lane_office_leader"}
    assert by["added"]["office_approval"]["type"] == "userTask"
    assert by["added"]["office_approval"]["name"] == "Lãnh đạo Văn phòng duyệt báo cáo hoàn thành"
    assert set(by["removed"]) == {"handle_return", "return_action", "correct", "corrected", "reroute", "rerouted",
                                  "f_handled", "f_correct", "f_corrected", "f_back_corrected", "f_reroute",
                                  "f_rerouted", "f_back_rerouted", "f_cancel"}
    assert (by["removed"]["handle_return"]["type"], by["removed"]["handle_return"]["name"]) == (
        "userTask", "Xử lý nhiệm vụ bị trả lại")
    renamed = by["changed"]["confirm_completion"]
    assert (renamed["changes"], renamed["name"], renamed["old_name"]) == (
        ["name", "incoming"], "Kiểm tra, xác nhận kết quả hoàn thành", "Kiểm tra, xác nhận hoàn thành")
    assert {i: e["changes"] for i, e in by["changed"].items()} == {
        "confirm_completion": ["name", "incoming"], "review_deadline_gw": ["incoming"], "cancelled": ["incoming"],
        "f_to_handle": ["targetRef"], "f_confirm_task": ["targetRef"], "Lane_specialist": ["flowNodeRef"]}
    assert set(by["moved"]) == {"Pool_task_followup"}  # redrawn only: not a change
    back = api("GET", "/api/processes/task_followup/versions/2/diff/1").get_json()
    assert {e["id"] for e in back["added"]} == set(by["removed"])


def test_a_property_a_timer_and_layout_alone_are_told_apart():
    from engine.bpmn.diff import diff_bpmn

    old = (ROOT / "processes" / "task_followup.bpmn").read_bytes()
    new = (old.replace(b'value="lead_unit" />\n        <spiffworkflow:property name="dueDate" value=\'deadline',
                       b'value="follower_unit" />\n        <spiffworkflow:property name="dueDate" value=\'deadline', 1)
           .replace(b'before_date("deadline_reminder", due_date)', b'before_date("deadline_reminder",  due_date )', 1)
           .replace(b'<dc:Bounds x="300" y="380"', b'<dc:Bounds x="310" y="390"'))
    found = diff_bpmn(old, new)
    assert {e.id: e.changes for e in found.changed} == {"review_receipt": ("property:assignee",),
                                                       "review_remind_deadline": ("timerEventDefinition",)}
    assert not found.added and not found.removed and found.moved == ()
    moved_only = diff_bpmn(old, old.replace(b'<dc:Bounds x="800" y="570"', b'<dc:Bounds x="820" y="570"'))
    assert [e.id for e in moved_only.moved] == ["report_completion_open"] and not moved_only.changed


def test_roll_back_makes_new_instances_start_on_the_old_content(api, shipped):
    assert _deploy_v2(api).status_code == 201
    on_v2 = register_task(shipped, number_symbol="601/QĐ-UBND").instance_id
    complete_step(shipped, on_v2, "review_receipt", RETURN, actor="dm.sotuphap")
    assert ready_tasks(shipped, on_v2) == {}  # v2 cancels a returned task
    assert api("POST", "/api/processes/task_followup/versions/1/roll-back", json={"comment": "x"},
               user="cv.hoa").status_code == 403
    response = api("POST", "/api/processes/task_followup/versions/1/roll-back",
                   json={"comment": "Bước duyệt chưa ban hành"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["version"], body["deployed_by"], body["comment"]) == (
        3, "pt.lan", "Quay lại phiên bản v1: Bước duyệt chưa ban hành")
    on_v3 = register_task(shipped, number_symbol="602/QĐ-UBND").instance_id
    complete_step(shipped, on_v3, "review_receipt", RETURN, actor="dm.sotuphap")
    assert set(ready_tasks(shipped, on_v3)) == {"handle_return"}  # v1's content again
    diff = api("GET", "/api/processes/task_followup/versions/1/diff/3").get_json()
    assert diff["added"] == diff["removed"] == diff["changed"] == []
    again = api("POST", "/api/processes/task_followup/versions/1/roll-back", json={"comment": "lần nữa"})
    assert again.status_code == 409
    assert api("POST", "/api/processes/task_followup/versions/1/roll-back", json={"comment": ""}).status_code == 422
    assert _stored(shipped) == [1, 2, 3]


def test_running_instances_and_the_migration_through_the_api(api, shipped):
    first = register_task(shipped, number_symbol="603/QĐ-UBND").instance_id
    assert _deploy_v2(api).status_code == 201
    items = api("GET", "/api/processes/task_followup/versions/1/instances", user="cv.hoa").get_json()["items"]
    assert [(i["id"], i["ready"]) for i in items] == [(first, ["Rà soát, tiếp nhận nhiệm vụ"])]
    assert api("POST", "/api/processes/task_followup/migrations/preview", json={"from": 1, "to": 2},
               user="cv.hoa").status_code == 403
    preview = api("POST", "/api/processes/task_followup/migrations/preview", json={"from": 1, "to": 2}).get_json()
    assert [(c["instance_id"], c["can_move"]) for c in preview["items"]] == [(first, True)]
    assert api("POST", "/api/processes/task_followup/migrations", json={"from": 1, "to": 1}).status_code == 422
    moved = api("POST", "/api/processes/task_followup/migrations", json={"from": 1, "to": 2, "instance_ids": [first]})
    assert moved.status_code == 200 and moved.get_json()["moved"] == [first]
    assert api("GET", "/api/processes/task_followup/versions/1/instances").get_json()["items"] == []


def test_deploying_drops_the_draft_that_holds_what_was_deployed(api, shipped):
    forms = {APPROVAL_FILE: json.dumps(APPROVAL, ensure_ascii=False, indent=2)}
    drafts.save_draft(shipped, "task_followup", V2.encode(), forms, "pt.lan")
    view = versions.deploy_version(shipped, "task_followup", V2.encode(), forms, "từ bản nháp", "pt.lan")
    assert view.version == 2
    with shipped.unit_of_work(readonly=True) as session:
        assert session.get(ProcessDraft, "task_followup") is None
    # A draft that differs from what is deployed stays.
    drafts.save_draft(shipped, "task_followup", V2.encode() + b"\n<!-- more -->", forms, "pt.lan")
    versions.roll_back(shipped, "task_followup", 1, "quay lại", "pt.lan")
    with shipped.unit_of_work(readonly=True) as session:
        assert session.get(ProcessDraft, "task_followup") is not None


def test_the_pages_show_the_history_the_diff_and_the_migration_preview(app, shipped):
    from tests.helpers import csrf_token, sign_in

    waiting = register_task(shipped, number_symbol="604/QĐ-UBND").instance_id
    versions.deploy_version(shipped, "task_followup", V2.encode(), {APPROVAL_FILE: json.dumps(APPROVAL)},
                            "Thêm bước duyệt", "pt.lan")
    office = app.test_client()
    sign_in(office, "cv.hoa")
    page = office.get("/processes/task_followup/versions")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Thêm bước duyệt" in text and "Cao Thị Lan" in text and 'id="deploy"' not in text  # reads, changes nothing
    assert office.get("/processes/task_followup/migrate").status_code == 403
    assert office.get("/processes/task_followup/versions/compare?a=1&b=2").headers["Location"].endswith(
        "/processes/task_followup/versions/1/diff/2")
    diff = office.get("/processes/task_followup/versions/1/diff/2").get_data(as_text=True)
    assert 'data-element="office_approval"' in diff and 'data-element="handle_return"' in diff
    assert "tên cũ: Kiểm tra, xác nhận hoàn thành" in diff
    assert office.get("/processes/task_followup/versions/2/diagram.xml").data == V2.encode()
    assert office.get("/processes/task_followup/versions/9/diff/2").status_code == 404

    analyst = app.test_client()
    sign_in(analyst, "pt.lan")
    preview = analyst.get("/processes/task_followup/migrate?from=1&to=2").get_data(as_text=True)
    assert f'name="instance_ids" value="{waiting}"' in preview
    token = csrf_token(analyst, "/processes/task_followup/versions")
    moved = analyst.post("/processes/task_followup/migrate", data={
        "csrf_token": token, "from": "1", "to": "2", "instance_ids": [str(waiting)]})
    assert moved.status_code == 303
    assert "Đã chuyển 1 hồ sơ sang v2." in analyst.get(moved.headers["Location"]).get_data(as_text=True)
    refused = analyst.post("/processes/task_followup/versions/1/roll-back", data={"csrf_token": token, "comment": " "})
    assert refused.status_code == 422
    rolled = analyst.post("/processes/task_followup/versions/1/roll-back", data={"csrf_token": token,
                                                                                 "comment": "Chưa ban hành"})
    assert rolled.status_code == 303
    assert "Quay lại phiên bản v1: Chưa ban hành" in analyst.get(rolled.headers["Location"]).get_data(as_text=True)


def test_the_history_page_deploys_an_uploaded_file_or_lists_its_problems(app, shipped):
    import io

    from tests.helpers import csrf_token, sign_in

    analyst = app.test_client()
    sign_in(analyst, "pt.lan")
    token = csrf_token(analyst, "/processes/task_followup/versions")
    refused = analyst.post("/processes/task_followup/versions", content_type="multipart/form-data", data={
        "csrf_token": token, "comment": "thiếu biểu mẫu", "bpmn": (io.BytesIO(V2.encode()), "v2.bpmn")})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'id="version-problems"' in text and "office_approval" in text and "thiếu biểu mẫu" in text
    assert _stored(shipped) == [1]
    changed = V2.replace('name="Kiểm tra, xác nhận kết quả hoàn thành"', 'name="Kiểm tra kết quả"').replace(
        "task_followup.office_approval.schema.json", "task_followup.confirm_completion.schema.json")
    deployed = analyst.post("/processes/task_followup/versions", content_type="multipart/form-data", data={
        "csrf_token": token, "comment": "Dùng biểu mẫu có sẵn", "bpmn": (io.BytesIO(changed.encode()), "x.bpmn")})
    assert deployed.status_code == 303
    assert _stored(shipped) == [1, 2]
