"""Saying things right (issue 13, item 13): an ad hoc update request needs its note; a claimed task's
page says who holds it, by name; giving a claimed task back is not called "Trả lại" (returning a task)."""
from __future__ import annotations

import pytest

from engine.core.errors import InvalidInput
from engine.read import claims
from engine.regulation import access, api_tokens, tracking
from tests.helpers import count_rows, csrf_token, sign_in


@pytest.fixture
def assigned(shipped, registered_task):
    return registered_task(content="Rà soát thủ tục hành chính cấp tỉnh")


def _instances(ctx):
    from engine.process.tables import ProcessInstance
    return count_rows(ctx, ProcessInstance)


@pytest.mark.parametrize("note", ["", "   \n "])
def test_an_update_request_without_a_note_is_refused_and_nothing_starts(shipped, assigned, note):
    before = _instances(shipped)
    with pytest.raises(InvalidInput) as refused:
        tracking.request_update(shipped, assigned.task_id, note, "cv.hoa")
    assert refused.value.key == "update_request_note_required"
    assert _instances(shipped) == before
    assert tracking.request_update(shipped, assigned.task_id, "Phục vụ họp UBND", "cv.hoa")
    assert _instances(shipped) == before + 1


def test_the_page_and_the_api_ask_for_the_note(client, app, shipped, assigned):
    sign_in(client, "cv.hoa")
    url = f"/office/tasks/{assigned.task_id}"
    page = client.get(url).get_data(as_text=True)
    assert '<input type="text" name="note" required>' in page
    before = _instances(shipped)
    response = client.post(f"{url}/request-update", data={"csrf_token": csrf_token(client, url), "note": " "})
    assert response.status_code == 303
    shown = client.get(url).get_data(as_text=True)
    assert "Hãy ghi nội dung yêu cầu cập nhật: đơn vị cần báo cáo gì, để làm gì." in shown
    assert "Đã gửi yêu cầu cập nhật" not in shown and _instances(shipped) == before
    token = api_tokens.issue(shipped, "cv.hoa", "test", "admin").token
    api, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    for body in ({}, {"note": None}, {"note": "  "}):
        refused = api.post(f"/api/tracked-tasks/{assigned.task_id}/request-update", json=body, headers=headers)
        assert refused.status_code == 422, body
    assert _instances(shipped) == before
    asked = api.post(f"/api/tracked-tasks/{assigned.task_id}/request-update", json={"note": "Phục vụ họp"},
                     headers=headers)
    assert asked.status_code == 201 and _instances(shipped) == before + 1


def test_a_claimed_task_names_who_holds_it(app, shipped, assigned):
    step = f"/tasks/{assigned.instance_id}/{assigned.step.task_id}"
    focal = app.test_client()
    sign_in(focal, "dm.sotuphap")
    free = focal.get(step).get_data(as_text=True)
    assert "Chưa ai nhận xử lý công việc này." in free and 'type="submit" value="Nhận xử lý"' in free
    focal.post(f"{step}/claim", data={"csrf_token": csrf_token(focal, step)})
    mine = focal.get(step).get_data(as_text=True)
    assert "Bạn đang xử lý công việc này (nhận lúc" in mine
    assert 'type="submit" value="Thôi nhận xử lý"' in mine and 'value="Trả lại"' not in mine
    assert ">Thôi nhận xử lý</button>" in focal.get("/inbox").get_data(as_text=True)
    unit = access.actor_named(shipped, "dm.sotuphap")
    claim = claims.claim_on(shipped, unit, assigned.instance_id, assigned.step.task_id)
    assert (claim.username, claim.full_name, claim.mine) == ("dm.sotuphap", unit.full_name, True)
    other = access.actor_named(shipped, "dm.sotaichinh")   # not theirs: nothing to say
    assert claims.claim_on(shipped, other, assigned.instance_id, assigned.step.task_id) is None
    focal.post(f"{step}/claim", data={"csrf_token": csrf_token(focal, step), "release": "1"})
    assert "Chưa ai nhận xử lý công việc này." in focal.get(step).get_data(as_text=True)


def test_a_colleague_sees_the_holders_name_on_the_task_page(app, shipped, registered_task):
    from engine.process import instances
    from tests.helpers import ready_tasks
    registered = registered_task()
    tracking.file_feedback(shipped, registered.task_id, "huyen-ba-tri", "Sở Tư pháp chậm", "dm.batri")
    instance = max(t.instance_id for t in instances.list_ready_tasks(shipped) if t.bpmn_id == "check_feedback")
    step = f"/tasks/{instance}/{ready_tasks(shipped, instance)['check_feedback'].task_id}"
    hoa, minh = app.test_client(), app.test_client()
    sign_in(hoa, "cv.hoa")
    sign_in(minh, "cv.minh")
    hoa.post(f"{step}/claim", data={"csrf_token": csrf_token(hoa, step)})
    name = access.actor_named(shipped, "cv.hoa").full_name
    page = minh.get(step).get_data(as_text=True)
    assert f"{name} (cv.hoa) đang xử lý công việc này, nhận lúc" in page and 'value="Tiếp quản"' in page
    english = minh.get(f"{step}?lang=en").get_data(as_text=True)
    assert f"{name} (cv.hoa) is handling this task, claimed at" in english
