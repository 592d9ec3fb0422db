"""A step due on another day than the task's deadline says why (issue 13, item 11), from its dueDate
expression and the named timer setting: nothing is written per step."""
from __future__ import annotations

from engine.read import due_reasons
from engine.read.due_reasons import DueRule
from engine.worktime.timer_settings import TimerSettingRow
from tests.helpers import complete_step, ready_tasks, sign_in


def test_the_rule_is_read_from_the_expression_and_anything_else_has_none():
    assert due_reasons.rule_of('deadline("task_review", assigned_at)') == DueRule("deadline", "task_review",
                                                                                  "assigned_at")
    assert due_reasons.rule_of('after_date("update_grace", due_date)') == DueRule("after_date", "update_grace",
                                                                                  "due_date")
    for other in ("update_due", "deadline", 'reminder("a", "b", x)', 'deadline(name, assigned_at)', "((", None,
                  'deadline("task_review", data["x"])'):
        assert due_reasons.rule_of(other) is None, other


def test_the_task_page_and_the_inbox_say_why_a_step_is_due_when_it_is(app, ctx, registered_task):
    registered = registered_task()  # due 30 May 2025, for so-tu-phap
    client = app.test_client()
    sign_in(client, "dm.sotuphap")
    review = client.get(f"/tasks/{registered.instance_id}/{registered.step.task_id}").get_data(as_text=True)
    assert "2 ngày làm việc kể từ ngày giao nhiệm vụ: Đơn vị xem xét nhiệm vụ mới nhận" in review
    complete_step(ctx, registered.instance_id, "review_receipt", {"decision": "accept"}, actor="dm.sotuphap")
    work = ready_tasks(ctx, registered.instance_id)["report_completion"]
    page = client.get(f"/tasks/{registered.instance_id}/{work.task_id}").get_data(as_text=True)
    why = ("Thời hạn của nhiệm vụ cộng 1 ngày làm việc: Cập nhật tiến độ, kết quả chậm nhất sau thời hạn hoàn "
           "thành (Điều 8.1.a QĐ 08/2023/QĐ-UBND)")
    assert why in page and why in client.get("/inbox").get_data(as_text=True)
    english = client.get(f"/tasks/{registered.instance_id}/{work.task_id}?lang=en").get_data(as_text=True)
    assert "The task&#39;s deadline plus 1 working days: Progress update due after a task&#39;s deadline" in english


def test_the_reason_follows_the_setting_as_the_admin_changed_it(app, ctx, registered_task):
    registered = registered_task()
    with ctx.unit_of_work() as session:
        session.get(TimerSettingRow, "task_review").value = 3
    reason = due_reasons.for_steps(ctx, {(registered.instance_id, "review_receipt")})
    assert reason[(registered.instance_id, "review_receipt")].text("vi").startswith("3 ngày làm việc kể từ")
    assert due_reasons.for_steps(ctx, {(registered.instance_id, "no_such_step"), (999999, "review_receipt")}) == {}


def test_the_api_says_it_too_in_the_language_asked(app, ctx, registered_task):
    from engine.regulation import api_tokens

    registered = registered_task()
    headers = {"Authorization": f"Bearer {api_tokens.issue(ctx, 'dm.sotuphap', 'test', 'admin').token}"}
    client = app.test_client()
    item = client.get("/api/tasks", headers=headers).get_json()["items"][0]
    assert item["due_reason"].startswith("2 ngày làm việc kể từ ngày giao nhiệm vụ")
    one = client.get(f"/api/tasks/{registered.instance_id}/{item['task_id']}?lang=en", headers=headers).get_json()
    assert one["due_reason"].startswith("2 working days from the day the task was assigned")
