"""The process heatmap: the step waits written by real steps, and the figures against a hand-built history.

The clock is the fixed one (Fri 25/04/2025 09:00). Q2/2025's window (15/03 - 14/06/2025) is open, so waiting
tasks are counted as of now; Q1/2025's is over.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import MetaData, create_engine, insert, select, text

from engine.app.migrations import alembic_config
from engine.process import instances
from engine.process.step_waits import CANCELLED, DONE, INTERRUPTED, StepWait
from engine.read import heatmap
from engine.regulation import api_tokens
from engine.worktime.calendar import TZ
from engine.worktime.periods import period_from_key
from tests.helpers import complete_step, sign_in

Q2 = period_from_key("2025-Q2")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


def waits(ctx, instance_id):
    with ctx.unit_of_work(readonly=True) as session:
        return [(w.bpmn_id, w.assignee, w.ready_at, w.done_at, w.ended) for w in session.scalars(
            select(StepWait).where(StepWait.instance_id == instance_id).order_by(StepWait.id))]


def test_steps_record_when_a_task_became_ready_and_when_it_left(shipped, clock, registered_task):
    task = registered_task()
    start = clock.now()
    clock.advance(timedelta(days=3, hours=2))  # Mon 28/04 11:00
    complete_step(shipped, task.instance_id, "review_receipt", {"decision": "accept"}, actor="dm.sotuphap")
    rows = waits(shipped, task.instance_id)
    assert rows[0] == ("review_receipt", "so-tu-phap", start, clock.now(), DONE)
    assert rows[1][0] == "report_completion" and rows[1][2:] == (clock.now(), None, None)
    clock.advance(timedelta(hours=1))
    instances.cancel_instance(shipped, task.instance_id, actor="admin", reason="kiểm thử")
    assert waits(shipped, task.instance_id)[1][3:] == (clock.now(), CANCELLED)
    figures = {s.bpmn_id: s for s in heatmap.heatmap(shipped, "task_followup", Q2, None).steps}
    review = figures["review_receipt"]
    # Ready Fri 25/04 09:00, done Mon 28/04 11:00: 2 working days (Sat 26/04/2025 is a make-up working day,
    # then Monday), 74 hours.
    assert (review.finished, review.median_days, review.median_hours, review.waiting) == (1, 2.0, 74.0, 0)
    assert figures["report_completion"].finished == figures["report_completion"].waiting == 0  # cancelled


@pytest.fixture
def history(shipped):
    """A hand-built history of task_followup's waits (and one of another procedure)."""
    def row(bpmn_id, assignee, ready, done=None, due=None, ended=None, process="task_followup", instance=1):
        return StepWait(instance_id=instance, process_id=process, task_id=f"t{len(rows)}", bpmn_id=bpmn_id,
                        assignee=assignee, ready_at=ready, due_at=due, done_at=done,
                        ended=ended or (DONE if done else None))
    rows: list[StepWait] = []
    # review_receipt at Sở Tư pháp, finished in Q2 after 0, 1, 2, 4 and 10 working days; one of them late.
    for ready, done, due in [
        (at(2025, 3, 17, 9), at(2025, 3, 17, 15), at(2025, 3, 19, 0)),           # Mon -> Mon: 0 days, 6 h
        (at(2025, 3, 17, 9), at(2025, 3, 18, 9), None),                          # 1 day, 24 h
        (at(2025, 3, 20, 9), at(2025, 3, 24, 9), at(2025, 3, 25, 0)),            # Thu -> Mon: 2 days
        (at(2025, 4, 1, 9), at(2025, 4, 8, 9), at(2025, 4, 4, 0)),               # Tue -> Tue 8 (7th off): 4 days, late
        (at(2025, 3, 14, 9), at(2025, 3, 28, 9), None),                          # 14/03 -> 28/03: 10 days
    ]:
        rows.append(row("review_receipt", "so-tu-phap", ready, done, due))
    rows += [
        row("review_receipt", "so-tu-phap", at(2025, 3, 10, 9), at(2025, 3, 14, 23, 59)),  # finished before Q2
        row("review_receipt", "so-tu-phap", at(2025, 4, 1, 9), at(2025, 4, 2, 9), ended=CANCELLED),
        row("review_receipt", "so-tu-phap", at(2025, 4, 1, 9), at(2025, 4, 2, 9), ended=INTERRUPTED),
        row("review_receipt", "stp-phong-xd-ktvb", at(2025, 4, 21, 9), at(2025, 4, 22, 9)),  # the division: 1 day
        row("review_receipt", "so-tai-chinh", at(2025, 4, 21, 9), at(2025, 4, 24, 9)),       # another unit
        # Waiting now at report_completion: one past due, one not.
        row("report_completion", "so-tu-phap", at(2025, 4, 1, 9), due=at(2025, 4, 20, 0)),
        row("report_completion", "so-tu-phap", at(2025, 4, 1, 9), due=at(2025, 5, 20, 0)),
        row("confirm_completion", "vp-ubnd", at(2025, 4, 10, 9), at(2025, 4, 11, 9)),
        row("check_feedback", "vp-ubnd", at(2025, 4, 1, 9), at(2025, 4, 2, 9), process="feedback_followup"),
    ]
    with shipped.unit_of_work() as session:
        session.add_all(rows)
    return rows


def test_the_figures_of_each_step_against_a_hand_built_history(shipped, history):
    figures = {s.bpmn_id: s for s in heatmap.heatmap(shipped, "task_followup", Q2, "so-tu-phap").steps}
    review = figures["review_receipt"]
    assert review.name == "Rà soát, tiếp nhận nhiệm vụ"
    # Working days 0, 1, 1 (the division), 2, 4, 10: median 1.5; 90th percentile 4 + 0.5 * (10 - 4) = 7.
    assert (review.finished, review.median_days, review.p90_days, review.late) == (6, 1.5, 7.0, 1)
    assert (review.waiting, review.overdue) == (0, 1)
    completion = figures["report_completion"]
    assert (completion.finished, completion.median_days, completion.waiting, completion.waiting_overdue,
            completion.overdue) == (0, None, 2, 1, 1)
    assert figures["confirm_completion"].finished == 0  # the Office's step is not Sở Tư pháp's
    province = {s.bpmn_id: s for s in heatmap.heatmap(shipped, "task_followup", Q2, None).steps}
    assert province["review_receipt"].finished == 7 and province["confirm_completion"].finished == 1
    assert "check_feedback" not in province


def test_a_closed_window_counts_what_waited_at_its_end(shipped, history):
    q1 = {s.bpmn_id: s for s in heatmap.heatmap(shipped, "task_followup", period_from_key("2025-Q1"), None).steps}
    # Finished before 15/03 00:00: the one done at 14/03 23:59; waiting at the cut-off: the one ready 14/03 09:00.
    assert (q1["review_receipt"].finished, q1["review_receipt"].waiting) == (1, 1)


def test_a_step_lists_its_tasks_longest_wait_first(shipped, history):
    tasks = heatmap.step_tasks(shipped, "task_followup", "review_receipt", Q2, "so-tu-phap")
    assert [t.working_days for t in tasks] == [10, 4, 2, 1, 1, 0]
    assert [t.overdue for t in tasks] == [False, True, False, False, False, False]
    waiting = heatmap.step_tasks(shipped, "task_followup", "report_completion", Q2, "so-tu-phap")
    assert [(t.waiting, t.overdue, t.working_days) for t in waiting] == [(True, True, 17), (True, False, 17)]


def test_the_page_and_the_api_keep_to_the_units_subtree(shipped, client, history):
    sign_in(client, "dm.sotuphap")
    page = client.get("/reports/heatmap?period=2025-Q2").get_data(as_text=True)
    assert "Rà soát, tiếp nhận nhiệm vụ" in page and "1,5 ngày làm việc" in page and "heatmap.js" in page
    assert client.get("/reports/heatmap?period=2025-Q2&unit=so-tai-chinh").status_code == 403
    listed = client.get("/reports/heatmap/tasks?process=task_followup&period=2025-Q2&step=review_receipt")
    assert listed.status_code == 200 and "10 ngày làm việc" in listed.get_data(as_text=True)
    assert client.get("/reports/heatmap/task_followup/diagram.xml").status_code == 200
    assert client.get("/reports/heatmap?process=nope").status_code == 404
    token = api_tokens.issue(shipped, "dm.sotuphap", "kiểm thử", "admin").token
    answer = client.get("/api/reports/heatmap?period=2025-Q2", headers={"Authorization": f"Bearer {token}"}).json
    review = next(s for s in answer["steps"] if s["bpmn_id"] == "review_receipt")
    assert (review["median_days"], review["p90_days"], review["overdue"]) == (1.5, 7.0, 1)
    assert client.get("/api/reports/heatmap?unit=so-tai-chinh",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_0019_copies_the_tasks_waiting_at_upgrade_time(tmp_path):
    url = f"sqlite:///{tmp_path / 'upgrade.db'}"
    command.upgrade(alembic_config(url), "0018")
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    t, ready = tables.tables, at(2025, 4, 21, 9).astimezone(UTC)  # as the column type stores it: in UTC
    with engine.begin() as conn:
        conn.execute(insert(t["definition_versions"]), dict(
            id=1, process_id="task_followup", version=1, content_hash="x" * 64, source_file="t.bpmn",
            bpmn_xml=b"<x/>", spec_json="{}", deployed_at=ready, deployed_by="seed"))
        conn.execute(insert(t["process_instances"]), dict(
            id=5, definition_id=1, process_id="task_followup", status="running", state_json="{}",
            started_by="cv.hoa", created_at=ready, updated_at=ready, row_version=1))
        conn.execute(insert(t["ready_tasks"]), dict(instance_id=5, task_id="t-1", bpmn_id="review_receipt",
                                                    assignee="so-tu-phap", created_at=ready, due_at=None))
    command.upgrade(alembic_config(url), "0019")
    with engine.connect() as conn:
        copied = conn.execute(text("SELECT instance_id, process_id, bpmn_id, assignee, ready_epoch, done_at "
                                   "FROM step_waits")).all()
    command.downgrade(alembic_config(url), "0018")
    engine.dispose()
    assert copied == [(5, "task_followup", "review_receipt", "so-tu-phap", int(ready.timestamp()), None)]
