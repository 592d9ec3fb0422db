"""Issue 13, item 2: the PPC leader answers the Office's request for direction (Art. 15.5) in their own
lane, or the Office leader records a direction given outside the system, marked as such; the page and the
API ask the same access rule (engine/regulation/access.py)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.bpmn.forms import FormInvalid
from engine.process import instances
from engine.read import inbox as inbox_queries
from engine.regulation import access, api_tokens, tracking
from engine.regulation.records import Direction, Feedback, Notification
from tests.helpers import BPMN, complete_step, csrf_token, ready_tasks, sign_in

REQUEST = "Sở Tư pháp chậm rà soát; đề nghị đồng chí Chủ tịch cho ý kiến chỉ đạo"
ANSWER = "Giao Sở Tư pháp hoàn thành rà soát trước ngày 15/6/2025, báo cáo kết quả"


@pytest.fixture
def asked(shipped, registered_task):
    """A feedback from Ba Tri on a Sở Tư pháp task, checked by the specialist who proposes asking for direction."""
    registered = registered_task()
    feedback_id = tracking.file_feedback(shipped, registered.task_id, "huyen-ba-tri",
                                         "Sở Tư pháp chậm rà soát, ảnh hưởng tiến độ của huyện", actor="dm.batri")
    with shipped.unit_of_work(readonly=True) as session:
        instance = session.get(Feedback, feedback_id).instance_id
    complete_step(shipped, instance, "check_feedback", {"decision": "ask_direction",
                                                        "assessment": "Đề xuất báo cáo Chủ tịch"}, actor="cv.hoa")
    return instance


def _direction(ctx) -> Direction:
    with ctx.unit_of_work(readonly=True) as session:
        return session.scalars(select(Direction)).one()


def _notices(ctx, kind="task_ready"):
    with ctx.unit_of_work(readonly=True) as session:
        return [(n.unit_code, n.role) for n in session.scalars(
            select(Notification).where(Notification.kind == kind).order_by(Notification.id))]


def test_asked_in_the_system_the_ppc_leader_answers_and_the_specialist_notifies(shipped, asked):
    assert ready_tasks(shipped, asked)["ask_direction"].lane == "office_leader"
    with pytest.raises(FormInvalid) as refused:  # asking needs the request's text
        complete_step(shipped, asked, "ask_direction", {"direction_route": "ask_ppc"}, actor="ld.vanphong")
    assert set(refused.value.errors) == {"request"}
    complete_step(shipped, asked, "ask_direction", {"direction_route": "ask_ppc", "request": REQUEST},
                  actor="ld.vanphong")
    give = ready_tasks(shipped, asked)["give_direction"]
    assert (give.lane, give.assignee, give.due_at) == ("ppc_leader", None, None)
    assert _notices(shipped)[-1] == ("ubnd-tinh", "ppc_leader")  # the PPC leader is told it is theirs
    complete_step(shipped, asked, "give_direction", {"direction": ANSWER}, actor="ld.ubndtinh")
    direction = _direction(shipped)
    assert (direction.content, direction.given_by, direction.outside_system, direction.recorded_by,
            direction.given_on) == (ANSWER, "Võ Văn Thành", False, "ld.ubndtinh", None)
    notify = ready_tasks(shipped, asked)["notify_direction"]
    assert notify.lane == "tracking_specialist" and _notices(shipped)[-1] == ("vp-ubnd", "tracking_specialist")
    complete_step(shipped, asked, "notify_direction", {"notice_number": "210/TB-VPUBND", "issued_on": "30/04/2025"},
                  actor="cv.hoa")
    assert _direction(shipped).notice_number == "210/TB-VPUBND"
    assert _notices(shipped, "direction") == [("so-tu-phap", "unit_focal_point")]
    assert _notices(shipped, "direction_copy") == [("huyen-ba-tri", "unit_focal_point")]  # the reporter, copied
    assert instances.get_instance(shipped, asked).status.value == "completed"


def test_a_direction_given_outside_the_system_goes_straight_to_the_notice_marked_as_such(shipped, asked):
    with pytest.raises(FormInvalid) as refused:
        complete_step(shipped, asked, "ask_direction", {"direction_route": "given_outside", "direction": ANSWER,
                                                        "directed_on": "31/02/2025"}, actor="ld.vanphong")
    assert set(refused.value.errors) == {"directed_by", "directed_on"}
    complete_step(shipped, asked, "ask_direction", {
        "direction_route": "given_outside", "direction": ANSWER, "directed_by": "Chủ tịch UBND tỉnh Trần Ngọc Tam",
        "directed_on": "18/04/2025", "report_number": "45/BC-VPUBND"}, actor="ld.vanphong")
    assert set(ready_tasks(shipped, asked)) == {"notify_direction"}  # the PPC leader gets nothing
    assert ("ubnd-tinh", "ppc_leader") not in _notices(shipped)
    direction = _direction(shipped)
    assert (direction.given_by, direction.given_on, direction.outside_system, direction.recorded_by) == (
        "Chủ tịch UBND tỉnh Trần Ngọc Tam", date(2025, 4, 18), True, "ld.vanphong")
    complete_step(shipped, asked, "notify_direction", {"notice_number": "211/TB-VPUBND", "issued_on": "2025-04-30"})
    assert _direction(shipped).notice_number == "211/TB-VPUBND"
    assert _notices(shipped, "direction_copy") == [("huyen-ba-tri", "unit_focal_point")]


def _give_task(ctx, asked):
    complete_step(ctx, asked, "ask_direction", {"direction_route": "ask_ppc", "request": REQUEST},
                  actor="ld.vanphong")
    return ready_tasks(ctx, asked)["give_direction"]


def test_only_the_ppc_leader_sees_and_acts_on_the_request(shipped, asked):
    give = _give_task(shipped, asked)
    leader = access.actor_named(shipped, "ld.ubndtinh")
    items = inbox_queries.inbox(shipped, leader).items
    assert [(i.bpmn_id, i.subject.content, i.subject.reporter) for i in items] == [
        ("give_direction", "Rà soát thủ tục hành chính", "UBND huyện Ba Tri")]
    details = inbox_queries.task_for(shipped, leader, asked, give.task_id)
    assert (details.subject.lead_unit_name, details.subject.document) == ("Sở Tư pháp", "301/QĐ-UBND")
    assert [s.bpmn_id for s in details.earlier] == ["check_feedback", "ask_direction"]
    for username in ("dm.sotuphap", "ld.sotuphap", "dm.batri", "ld.vanphong", "cv.hoa"):
        other = access.actor_named(shipped, username)
        assert give.task_id not in {i.task_id for i in inbox_queries.inbox(shipped, other).items}
        with pytest.raises(Exception) as refused:
            inbox_queries.task_for(shipped, other, asked, give.task_id)
        assert type(refused.value).__name__ == "NotFound"


def test_the_pages_the_ppc_leader_answers_and_the_specialist_sees_the_direction(app, shipped, asked):
    give = _give_task(shipped, asked)
    path = f"/tasks/{asked}/{give.task_id}"
    department = app.test_client()
    sign_in(department, "dm.sotuphap")
    assert department.get(path).status_code == 404
    assert department.post(path, data={"csrf_token": csrf_token(department, "/inbox"),
                                       "direction": "x"}).status_code == 404
    leader = app.test_client()
    sign_in(leader, "ld.ubndtinh")
    inbox_page = leader.get("/inbox").get_data(as_text=True)
    assert "Cho ý kiến chỉ đạo" in inbox_page and "Rà soát thủ tục hành chính" in inbox_page
    page = leader.get(path).get_data(as_text=True)
    for shown in ("UBND huyện Ba Tri", "Sở Tư pháp", "Rà soát thủ tục hành chính", "301/QĐ-UBND",
                  "Sở Tư pháp chậm rà soát, ảnh hưởng tiến độ của huyện", "Đề xuất báo cáo Chủ tịch", REQUEST):
        assert shown in page, shown
    token = csrf_token(leader, path)
    version = instances.get_instance(shipped, asked).row_version
    empty = leader.post(path, data={"csrf_token": token, "row_version": version, "direction": " "})
    assert empty.status_code == 422 and "Trường này là bắt buộc." in empty.get_data(as_text=True)
    done = leader.post(path, data={"csrf_token": token, "row_version": version, "direction": ANSWER})
    assert done.status_code in (302, 303)
    notify = ready_tasks(shipped, asked)["notify_direction"]
    specialist = app.test_client()
    sign_in(specialist, "cv.hoa")
    page = specialist.get(f"/tasks/{asked}/{notify.task_id}").get_data(as_text=True)
    assert ANSWER in page and "Võ Văn Thành" in page and "Cho ý kiến trên hệ thống lúc" in page


def test_the_api_answers_the_same_way_as_the_page(app, shipped, asked):
    give = _give_task(shipped, asked)
    client = app.test_client()
    tokens = {u: api_tokens.issue(shipped, u, "test", "admin").token for u in ("ld.ubndtinh", "dm.sotuphap")}

    def call(method, path, user, **kwargs):
        return client.open(path, method=method, headers={"Authorization": f"Bearer {tokens[user]}"}, **kwargs)

    notices = call("GET", "/api/notifications", "ld.ubndtinh").get_json()["items"]
    assert [n["url"] for n in notices] == [f"/tasks/{asked}/{give.task_id}"]  # told, with the way to it
    items = call("GET", "/api/tasks", "ld.ubndtinh").get_json()["items"]
    assert [(i["bpmn_id"], i["subject"]["reporter"]) for i in items] == [("give_direction", "UBND huyện Ba Tri")]
    path = f"/api/tasks/{asked}/{give.task_id}"
    assert call("GET", path, "dm.sotuphap").status_code == 404
    assert call("POST", path + "/complete", "dm.sotuphap", json={"data": {"direction": "x"}}).status_code == 404
    body = call("GET", path, "ld.ubndtinh").get_json()
    assert body["subject"]["lead_unit_name"] == "Sở Tư pháp" and body["direction"] is None
    refused = call("POST", path + "/complete", "ld.ubndtinh", json={"data": {}, "row_version": body["row_version"]})
    assert refused.status_code == 422 and "direction" in refused.get_json()["error"]["fields"]
    done = call("POST", path + "/complete", "ld.ubndtinh",
                json={"data": {"direction": ANSWER}, "row_version": body["row_version"]}).get_json()
    assert [t["bpmn_id"] for t in done["next_tasks"]] == ["notify_direction"]
    specialist = api_tokens.issue(shipped, "cv.hoa", "test", "admin").token
    notify = done["next_tasks"][0]
    seen = client.get(f"/api/tasks/{asked}/{notify['task_id']}",
                      headers={"Authorization": f"Bearer {specialist}"}).get_json()["direction"]
    assert (seen["content"], seen["given_by"], seen["outside_system"]) == (ANSWER, "Võ Văn Thành", False)
    assert call("GET", path, "ld.ubndtinh").get_json()["state"] == "completed"  # their finished step, read-only


# The ask_direction form before issue 13 item 2: the Office leader typed the direction in.
_OLD_ASK_FORM = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Báo cáo, xin ý kiến chỉ đạo",
                 "type": "object", "properties": {
                     "report_number": {"type": "string", "title": "Số, ký hiệu báo cáo", "maxLength": 100},
                     "direction": {"type": "string", "title": "Ý kiến chỉ đạo của lãnh đạo UBND tỉnh",
                                   "x-widget": "textarea", "minLength": 1, "maxLength": 10000}},
                 "required": ["direction"], "additionalProperties": False}


def test_an_instance_of_the_version_before_keeps_working_on_it(shipped, registered_task):
    import json

    from engine.app.bootstrap import default_bpmn_files
    from engine.process.definitions import deploy_bytes, deploy_files

    forms_dir = shipped.config.processes_dir / "forms"
    forms = {p.name: p.read_text() for p in forms_dir.glob("feedback_followup.*.schema.json")}
    forms["feedback_followup.ask_direction.schema.json"] = json.dumps(_OLD_ASK_FORM)
    old = (BPMN / "feedback_followup_before_ppc_lane.bpmn").read_bytes()
    deploy_bytes(shipped, old, "feedback_followup.bpmn", "tester", forms=forms)
    registered = registered_task()
    feedback_id = tracking.file_feedback(shipped, registered.task_id, "huyen-ba-tri", "Chậm", actor="dm.batri")
    with shipped.unit_of_work(readonly=True) as session:
        instance = session.get(Feedback, feedback_id).instance_id
    complete_step(shipped, instance, "check_feedback", {"decision": "ask_direction", "assessment": "Xin ý kiến"})
    deploy_files(shipped, default_bpmn_files(shipped.config))  # today's diagram again: a newer version
    complete_step(shipped, instance, "ask_direction", {"direction": ANSWER}, actor="ld.vanphong")
    complete_step(shipped, instance, "notify_direction", {"notice_number": "212/TB-VPUBND", "issued_on": "2025-04-30"})
    direction = _direction(shipped)
    # Typed by the Office leader on the PPC's behalf: recorded as given outside the system.
    assert (direction.content, direction.notice_number, direction.outside_system) == (ANSWER, "212/TB-VPUBND", True)
    assert instances.get_instance(shipped, instance).status.value == "completed"
