"""Notifications as people read them (issue 13, item 9): each names its task and links to its subject
(the step waiting for the reader, else the tracked task's page), a page at a time; "mark all read" marks
every one, not only the page shown; the header's unread count is readable."""
from __future__ import annotations

import re

import pytest

from engine.read import notices
from engine.regulation import access, api_tokens, notifications
from engine.regulation.notifications import NotificationKind
from tests.helpers import complete_step, csrf_token, sign_in

CONTENT = "Rà soát thủ tục hành chính cấp tỉnh"


@pytest.fixture
def assigned(shipped, registered_task):
    """A task of Sở Tư pháp: its focal points are told that the receipt review waits for them."""
    return registered_task(content=CONTENT)


def _many(ctx, n):
    """n more notices to Sở Tư pháp's focal points (a reminder each), none about a task."""
    with ctx.unit_of_work() as session:
        for i in range(n):
            notifications.notify(session, kind=NotificationKind.DEADLINE_REMINDER, now=ctx.now(),
                                 params={"content": f"Việc {i}", "due_date": "30/05/2025"},
                                 unit_code="so-tu-phap", role="unit_focal_point")


def test_a_notice_says_which_task_and_leads_to_the_step_then_to_the_task(shipped, assigned):
    unit = access.actor_named(shipped, "dm.sotuphap")
    [item] = notices.notice_page(shipped, unit).items
    assert item.kind == NotificationKind.TASK_READY
    assert item.title == f"Rà soát, tiếp nhận nhiệm vụ: {CONTENT} (301/QĐ-UBND)"   # not just the step's name
    assert item.subject == f"{CONTENT} (301/QĐ-UBND)"
    assert (item.link.kind, item.link.instance_id, item.link.task_id) == (
        "task", assigned.instance_id, assigned.step.task_id)
    complete_step(shipped, assigned.instance_id, "review_receipt", {"decision": "accept"}, actor="dm.sotuphap")
    first = {i.id: i for i in notices.notice_page(shipped, unit).items}[item.id]
    assert first.link.kind == "task" and first.link.task_id != assigned.step.task_id  # the step now waiting
    complete_step(shipped, assigned.instance_id, "report_completion",
                  {"result": "Đã rà soát", "report_document": "45/BC-STP", "completed_on": "2025-04-21"},
                  actor="dm.sotuphap")
    first = {i.id: i for i in notices.notice_page(shipped, unit).items}[item.id]
    assert (first.link.kind, first.link.tracked_id) == ("tracked", assigned.task_id)  # nothing waits: the task
    other = access.actor_named(shipped, "dm.sotaichinh")
    assert notices.notice_page(shipped, other).items == []


def test_a_district_is_not_led_to_a_task_it_may_not_see(shipped, assigned):
    with shipped.unit_of_work() as session:   # a notice about Sở Tư pháp's task, sent to a district
        notifications.notify(session, kind=NotificationKind.FEEDBACK_ANSWER, params={}, body="Không có cơ sở",
                             now=shipped.now(), unit_code="huyen-ba-tri", role="unit_focal_point",
                             task_id=assigned.task_id)
    [item] = notices.notice_page(shipped, access.actor_named(shipped, "dm.batri")).items
    assert item.subject == f"{CONTENT} (301/QĐ-UBND)" and item.link is None


def test_paging_and_marking_all_read_marks_every_page(shipped, assigned):
    _many(shipped, 24)
    unit = access.actor_named(shipped, "dm.sotuphap")
    first, second = (notices.notice_page(shipped, unit, page=p, per_page=20) for p in (1, 2))
    assert (first.total, first.unread, len(first.items), len(second.items)) == (25, 25, 20, 5)
    assert not {i.id for i in first.items} & {i.id for i in second.items}
    assert second.items[-1].kind == NotificationKind.TASK_READY   # newest first: the oldest is last
    assert notices.notice_page(shipped, unit, page=9).items == []
    assert notifications.mark_all_read(shipped, unit) == 25
    assert notifications.mark_all_read(shipped, unit) == 0
    assert notifications.unread_count(shipped, unit) == 0


def test_the_page_links_each_notice_pages_and_marks_all_read(client, shipped, assigned):
    _many(shipped, 24)
    sign_in(client, "dm.sotuphap")
    header = client.get("/inbox").get_data(as_text=True)
    badge = re.search(r'<span class="badge unread-count has-unread" title="([^"]+)" id="unread-count">25<', header)
    assert badge and badge.group(1) == "25 thông báo chưa đọc"
    listing = client.get("/notifications").get_data(as_text=True)
    assert "Trang 1/2" in listing and 'href="/notifications?page=2"' in listing
    assert len(re.findall(r"<tr class=\"unread\"", listing)) == 20
    second = client.get("/notifications?page=2").get_data(as_text=True)
    link = f'href="/tasks/{assigned.instance_id}/{assigned.step.task_id}"'
    assert link in second and f"Rà soát, tiếp nhận nhiệm vụ: {CONTENT} (301/QĐ-UBND)" in second
    assert "Về trang đầu" in client.get("/notifications?page=7").get_data(as_text=True)
    assert "Trang 1/2" in client.get("/notifications?page=x").get_data(as_text=True)  # not a number: page 1
    response = client.post("/notifications/read", data={"all": "1", "csrf_token": csrf_token(client, "/notifications")})
    assert response.status_code == 303
    after = client.get("/notifications?page=2").get_data(as_text=True)
    assert 'class="unread"' not in after                                   # the page not shown is read too
    assert re.search(r'class="badge unread-count" title="0 thông báo chưa đọc" id="unread-count">0<', after)


def test_the_api_gives_each_notice_its_url_and_subject_pages_and_marks_all(app, shipped, assigned):
    _many(shipped, 4)
    token = api_tokens.issue(shipped, "dm.sotuphap", "test", "admin").token
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    body = client.get("/api/notifications?per_page=3&page=2", headers=headers).get_json()
    assert (body["total"], body["unread"], body["page"], body["per_page"], len(body["items"])) == (5, 5, 2, 3, 2)
    ready = body["items"][-1]
    assert ready["url"] == f"/tasks/{assigned.instance_id}/{assigned.step.task_id}"
    assert ready["subject"] == f"{CONTENT} (301/QĐ-UBND)" and CONTENT in ready["title"]
    assert body["items"][0]["url"] is None and body["items"][0]["subject"] is None   # a notice about no task
    assert len(client.get("/api/notifications?limit=2", headers=headers).get_json()["items"]) == 2
    refused = client.post("/api/notifications/read", json={}, headers=headers)
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "invalid_input"  # neither all nor ids
    assert "ids" in refused.get_json()["error"]["message"]
    assert client.post("/api/notifications/read", json={"ids": [ready["id"]]}, headers=headers).get_json() == {
        "marked": 1}
    assert client.post("/api/notifications/read", json={"all": True}, headers=headers).get_json() == {"marked": 4}
    assert client.get("/api/notifications", headers=headers).get_json()["unread"] == 0
