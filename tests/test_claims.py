"""Claims are binding (engine/regulation/access.py): a task a colleague has claimed is completed only by
them, on the pages and through the API alike; taking it over is explicit and audited, and the inbox says
who holds a task."""
from __future__ import annotations

import pytest

from engine.core.errors import Conflict
from engine.process import instances
from engine.read import inbox
from engine.regulation import access, api_tokens, tracking
from tests.helpers import csrf_token, ready_tasks, sign_in

CHECKED = {"decision": "urge", "assessment": "Sở chậm thật"}


@pytest.fixture
def office_task(shipped, registered_task):
    """The Office's "check the feedback" task (lane of the tracking specialists cv.hoa and cv.minh)."""
    registered = registered_task()
    tracking.file_feedback(shipped, registered.task_id, "huyen-ba-tri", "Sở Tư pháp chậm", "dm.batri")
    instance = max(t.instance_id for t in instances.list_ready_tasks(shipped) if t.bpmn_id == "check_feedback")
    return instance, ready_tasks(shipped, instance)["check_feedback"].task_id


def _actor(ctx, username):
    return access.actor_named(ctx, username)


def test_the_rule(shipped):
    hoa, minh = _actor(shipped, "cv.hoa"), _actor(shipped, "cv.minh")
    lane = "tracking_specialist"
    assert access.may_complete(hoa, None) and access.may_complete(hoa, "cv.hoa")
    assert not access.may_complete(minh, "cv.hoa")
    assert access.may_take_over(minh, lane, "vp-ubnd", "cv.hoa")
    assert not access.may_take_over(minh, lane, "vp-ubnd", None)  # nothing to take over
    assert not access.may_take_over(hoa, lane, "vp-ubnd", "cv.hoa")
    assert not access.may_take_over(_actor(shipped, "dm.sotuphap"), lane, "vp-ubnd", "cv.hoa")  # not theirs


def test_a_colleague_cannot_complete_a_claimed_task_on_the_page(app, shipped, office_task):
    instance, step = office_task
    hoa, minh = app.test_client(), app.test_client()
    sign_in(hoa, "cv.hoa")
    sign_in(minh, "cv.minh")
    claimed = hoa.post(f"/tasks/{instance}/{step}/claim", data={"csrf_token": csrf_token(hoa, "/inbox")})
    assert claimed.status_code == 303
    listing = minh.get("/inbox").get_data(as_text=True)
    assert "cv.hoa đang xử lý" in listing and "Tiếp quản" in listing  # who holds it, and the explicit way out
    url = f"/tasks/{instance}/{step}"
    version = instances.get_instance(shipped, instance).row_version
    refused = minh.post(url, data={"csrf_token": csrf_token(minh, url), "row_version": version, **CHECKED})
    assert refused.status_code == 303
    assert "công việc đang do cv.hoa xử lý" in minh.get("/inbox").get_data(as_text=True)
    assert ready_tasks(shipped, instance)["check_feedback"].task_id == step  # still waiting
    assert instances.get_instance(shipped, instance).row_version == version
    done = hoa.post(url, data={"csrf_token": csrf_token(hoa, url), "row_version": version, **CHECKED})
    assert done.status_code == 303 and "check_feedback" not in ready_tasks(shipped, instance)


def test_a_colleague_cannot_complete_a_claimed_task_through_the_api(app, shipped, office_task):
    instance, step = office_task
    client = app.test_client()
    tokens = {u: {"Authorization": "Bearer " + api_tokens.issue(shipped, u, "t", "admin").token}
              for u in ("cv.hoa", "cv.minh")}
    assert client.post(f"/api/tasks/{instance}/{step}/claim", headers=tokens["cv.hoa"]).status_code == 200
    item = next(i for i in client.get("/api/tasks", headers=tokens["cv.minh"]).get_json()["items"]
                if i["task_id"] == step)
    assert item["claimed_by"] == "cv.hoa"
    refused = client.post(f"/api/tasks/{instance}/{step}/complete", headers=tokens["cv.minh"], json={"data": CHECKED})
    assert refused.status_code == 409 and "cv.hoa" in refused.get_json()["error"]["message"]
    assert client.post(f"/api/tasks/{instance}/{step}/claim", headers=tokens["cv.minh"], json={}).status_code == 409
    released = client.post(f"/api/tasks/{instance}/{step}/claim", headers=tokens["cv.minh"], json={"release": True})
    assert released.status_code == 409  # only the claimer releases
    done = client.post(f"/api/tasks/{instance}/{step}/complete", headers=tokens["cv.hoa"], json={"data": CHECKED})
    assert done.status_code == 200


def test_taking_over_is_explicit_and_audited(app, shipped, office_task):
    instance, step = office_task
    client = app.test_client()
    headers = {u: {"Authorization": "Bearer " + api_tokens.issue(shipped, u, "t", "admin").token}
               for u in ("cv.hoa", "cv.minh")}
    over = client.post(f"/api/tasks/{instance}/{step}/claim", headers=headers["cv.minh"], json={"take_over": True})
    assert over.status_code == 409  # nobody holds it: nothing to take over (claim it instead)
    client.post(f"/api/tasks/{instance}/{step}/claim", headers=headers["cv.hoa"])
    minh = app.test_client()
    sign_in(minh, "cv.minh")
    taken = minh.post(f"/tasks/{instance}/{step}/claim", data={"csrf_token": csrf_token(minh, "/inbox"),
                                                                "take_over": "1"})
    assert taken.status_code == 303
    assert "Bạn đã tiếp quản công việc từ cv.hoa." in minh.get("/inbox").get_data(as_text=True)
    entries = [e for e in instances.history(shipped, instance) if e.action == "claim_taken_over"]
    assert [(e.actor, e.bpmn_id) for e in entries] == [("cv.minh", "check_feedback")]
    refused = client.post(f"/api/tasks/{instance}/{step}/complete", headers=headers["cv.hoa"], json={"data": CHECKED})
    assert refused.status_code == 409 and "cv.minh" in refused.get_json()["error"]["message"]
    page = minh.get(f"/tasks/{instance}/{step}").get_data(as_text=True)
    assert "Tiếp quản công việc" in page  # the history on the task page names the take-over
    done = client.post(f"/api/tasks/{instance}/{step}/complete", headers=headers["cv.minh"], json={"data": CHECKED})
    assert done.status_code == 200


def test_the_engine_checks_the_claim_inside_the_completing_transaction(shipped, office_task):
    """The claim is read under the lock of its ready_tasks row by complete_task itself: a claim made after
    the page was shown (or while the step runs) is what decides, not what the page saw."""
    instance, step = office_task
    hoa, minh = _actor(shipped, "cv.hoa"), _actor(shipped, "cv.minh")
    inbox.task_for(shipped, minh, instance, step)  # minh's page is shown, the task unclaimed
    inbox.claim(shipped, hoa, instance, step)       # then hoa claims it
    with pytest.raises(Conflict) as refused:
        instances.complete_task(shipped, instance, step, CHECKED, actor="cv.minh",
                                may_complete=lambda holder: access.may_complete(minh, holder))
    assert refused.value.key == "task_claimed_by" and refused.value.params == {"user": "cv.hoa"}
    view = instances.complete_task(shipped, instance, step, CHECKED, actor="cv.hoa",
                                   may_complete=lambda holder: access.may_complete(hoa, holder))
    assert "check_feedback" not in {t.bpmn_id for t in view.next_tasks}
