"""Dry runs: a draft tried in a throwaway database, on the real calendar and settings, the real one untouched."""
from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from engine.app import dry_run
from engine.app.dry_run_sample import declared, sample_start_data, units
from engine.bpmn.forms import FormInvalid
from engine.core.audit import AuditEntry
from engine.core.errors import DeployRefused, InvalidInput
from engine.process.tables import ProcessInstance, ReadyTask, WaitingTimer
from engine.regulation import access, api_tokens
from engine.regulation.notifications import Notification
from tests.helpers import ROOT, TZ

BPMN = (ROOT / "processes" / "task_followup.bpmn").read_bytes()
FORMS = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "processes" / "forms").glob("task_followup.*")}
FRIDAY = datetime(2025, 8, 29, 9, 0, tzinfo=TZ)  # Mon 1 and Tue 2 Sep 2025 are National Day days off
REAL_TABLES = (ProcessInstance, ReadyTask, WaitingTimer, Notification, AuditEntry)


@pytest.fixture
def real(shipped, tmp_path):
    """The real database (shipped diagrams deployed), its dry runs kept under tmp_path."""
    shipped.config = dataclasses.replace(shipped.config, dry_runs_dir=tmp_path / "dry-runs")
    return shipped


def _analyst(ctx, name="pt.lan"):
    return access.actor_named(ctx, name)


def _sample(ctx, at=FRIDAY):
    return sample_start_data(declared(ctx, "task_followup"), at, units(ctx))


def _counts(ctx):
    with ctx.unit_of_work(readonly=True) as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model)) for model in REAL_TABLES}


def _local(moment):
    return moment.astimezone(TZ).replace(tzinfo=None)


def test_a_dry_run_follows_the_real_calendar_logs_actions_and_never_writes_the_real_database(real):
    before = _counts(real)
    analyst = _analyst(real)
    run = dry_run.start_dry_run(real, "task_followup", BPMN, FORMS, _sample(real), analyst, start_at=FRIDAY)
    assert run.status == "running" and run.now == FRIDAY
    [review] = run.ready
    # Two working days from Friday 29 Aug 2025: Sat, Sun, Mon 1 and Tue 2 Sep (National Day) are off,
    # so the review is due at the end of Thursday 4 Sep (the real calendar's overrides, the real setting).
    assert review.bpmn_id == "review_receipt" and _local(review.due_at) == datetime(2025, 9, 5, 0, 0)
    assert review.assignee_name == "Sở Tư pháp" and review.form.filename == "task_followup.review_receipt.schema.json"

    run = dry_run.complete_dry_run_task(real, run.run_id, review.task_id, {"decision": "accept"}, analyst)
    assert [t.bpmn_id for t in run.ready] == ["report_completion"]
    assert {t.bpmn_id: _local(t.due_at) for t in run.timers} == {
        "remind_deadline": datetime(2025, 9, 25, 0, 0),   # 3 working days before the deadline (Sun 28 Sep)
        "update_overdue": datetime(2025, 10, 1, 0, 0)}    # 1 working day after it: end of Tue 30 Sep
    assert [s.bpmn_id for s in run.path] == ["assigned", "review_deadline_gw", "review_receipt", "reviewed_merge",
                                             "receipt_decision", "accepted", "has_deadline_gw"]
    assert ("task_accepted", "accepted") in [(e.details.get("action"), e.bpmn_id) for e in run.log]

    run = dry_run.advance_dry_run_clock(real, run.run_id, "next_timer", analyst)
    assert [t.bpmn_id for t in run.timers] == ["update_overdue"]
    run = dry_run.advance_dry_run_clock(real, run.run_id, datetime(2025, 10, 15, 9, 0, tzinfo=TZ), analyst)
    assert run.now == datetime(2025, 10, 15, 9, 0, tzinfo=TZ) and run.timers == ()
    fired = [(e.details["timers"], _local(e.at).date()) for e in run.log if e.kind == "timer_fired"]
    assert fired == [(["remind_deadline"], date(2025, 9, 25)), (["update_overdue"], date(2025, 10, 1))]
    would_run = [e.details["action"] for e in run.log if e.kind == dry_run.WOULD_RUN]
    assert would_run == ["task_accepted", "deadline_reminder", "task_overdue"]
    assert {"reminded", "overdue_flagged"} <= {s.bpmn_id for s in run.path}
    assert [t.bpmn_id for t in run.ready] == ["report_completion"]  # the reminders do not take the task away

    assert _counts(real) == before  # nothing of it reached the real database: no instance, task, timer, notice
    dry_run.end_dry_run(real, run.run_id, analyst)
    assert not any((real.config.dry_runs_dir).rglob("run.db"))


def test_wrong_answers_are_refused_per_field_and_change_nothing(real):
    analyst = _analyst(real)
    run = dry_run.start_dry_run(real, "task_followup", BPMN, FORMS, _sample(real), analyst, start_at=FRIDAY)
    with pytest.raises(FormInvalid) as refused:
        dry_run.complete_dry_run_task(real, run.run_id, run.ready[0].task_id, {"decision": "return"}, analyst)
    assert "return_reason" in refused.value.messages("vi")
    assert dry_run.dry_run_state(real, run.run_id, analyst).ready == run.ready


def test_a_run_is_its_owners_only_and_unknown_runs_are_not_found(real):
    run = dry_run.start_dry_run(real, "task_followup", BPMN, FORMS, _sample(real), _analyst(real))
    with pytest.raises(dry_run.DryRunNotFound):
        dry_run.dry_run_state(real, run.run_id, _analyst(real, "admin"))
    with pytest.raises(dry_run.DryRunNotFound):
        dry_run.dry_run_state(real, "x" * 22, _analyst(real))
    with pytest.raises(dry_run.DryRunNotFound):
        dry_run.dry_run_state(real, "../../etc", _analyst(real))


def test_a_diagram_that_does_not_deploy_is_refused_with_its_problems_and_leaves_no_run(real):
    broken = BPMN.replace(b'spiffworkflow:role="unit_focal_point"', b'spiffworkflow:role="nobody"')
    with pytest.raises(DeployRefused) as refused:
        dry_run.start_dry_run(real, "task_followup", broken, FORMS, _sample(real), _analyst(real))
    assert any("nobody" in p.message for p in refused.value.problems)
    assert not any(real.config.dry_runs_dir.rglob("run.db"))


def test_a_start_the_diagram_cannot_take_is_named(real):
    with pytest.raises(InvalidInput) as refused:
        dry_run.start_dry_run(real, "task_followup", BPMN, FORMS, {"lead_unit": "so-tu-phap"}, _analyst(real))
    assert refused.value.key == "dry_run_start_failed"


def test_the_clock_moves_forward_only_and_by_working_days(real):
    analyst = _analyst(real)
    run = dry_run.start_dry_run(real, "task_followup", BPMN, FORMS, _sample(real), analyst, start_at=FRIDAY)
    with pytest.raises(InvalidInput):
        dry_run.advance_dry_run_clock(real, run.run_id, datetime(2025, 8, 1, tzinfo=TZ), analyst)
    run = dry_run.advance_dry_run_clock(real, run.run_id, dry_run.NEXT_WORKING_DAY, analyst)
    assert run.now == datetime(2025, 9, 3, 9, 0, tzinfo=TZ)  # over the weekend and National Day


def test_a_user_keeps_a_bounded_number_of_runs(real):
    from engine.app.dry_run_store import MAX_PER_USER

    analyst = _analyst(real)
    runs = [dry_run.start_dry_run(real, "task_followup", BPMN, FORMS, _sample(real), analyst).run_id
            for _ in range(MAX_PER_USER + 1)]
    with pytest.raises(dry_run.DryRunNotFound):
        dry_run.dry_run_state(real, runs[0], analyst)  # the oldest made room
    assert dry_run.dry_run_state(real, runs[-1], analyst).status == "running"


# --- the JSON API ---------------------------------------------------------------------------------------------------


@pytest.fixture
def api(real):
    from web import create_app

    app = create_app(real, {"TESTING": True, "SECRET_KEY": "test"})
    tokens = {user: api_tokens.issue(real, user, "dry run", "admin").token for user in ("pt.lan", "admin", "cv.hoa")}

    def call(method, path, user="pt.lan", body=None):
        return app.test_client().open(path, method=method, json=body,
                                      headers={"Authorization": f"Bearer {tokens[user]}"})

    return call


def test_the_api_runs_a_draft_through_and_refuses_what_it_must(api, real):
    before = _counts(real)
    sample = _sample(real)
    started = api("POST", "/api/processes/task_followup/dry-runs",
                  body={"start_data": sample, "start_at": FRIDAY.isoformat()})
    assert started.status_code == 201, started.get_json()
    run = started.get_json()["run"]
    task = run["ready"][0]
    assert task["due_at"].startswith("2025-09-04T17:00") and task["form"]["schema"]["properties"]["decision"]

    wrong = api("POST", f"/api/dry-runs/{run['run_id']}/tasks/{task['task_id']}", body={"data": {"decision": "x"}})
    assert wrong.status_code == 422 and "decision" in wrong.get_json()["error"]["fields"]
    assert api("GET", f"/api/dry-runs/{run['run_id']}", user="admin").status_code == 404  # not theirs
    assert api("GET", f"/api/dry-runs/{run['run_id']}", user="cv.hoa").status_code == 403

    done = api("POST", f"/api/dry-runs/{run['run_id']}/tasks/{task['task_id']}", body={"data": {"decision": "accept"}})
    assert done.status_code == 200 and done.get_json()["run"]["ready"][0]["bpmn_id"] == "report_completion"
    moved = api("POST", f"/api/dry-runs/{run['run_id']}/clock", body={"until": "2025-10-15T09:00:00+07:00"})
    assert moved.status_code == 200
    assert [e["details"]["action"] for e in moved.get_json()["run"]["log"] if e["kind"] == "dry_run_action"] == [
        "task_accepted", "deadline_reminder", "task_overdue"]
    assert api("POST", f"/api/dry-runs/{run['run_id']}/clock", body={"until": "yesterday"}).status_code == 422

    broken = BPMN.replace(b'spiffworkflow:role="unit_focal_point"', b'spiffworkflow:role="nobody"')
    refused = api("POST", "/api/processes/task_followup/dry-runs",
                  body={"bpmn": broken.decode(), "forms": FORMS, "start_data": sample})
    assert refused.status_code == 422 and any("nobody" in p["message"] for p in refused.get_json()["error"]["problems"])

    assert api("DELETE", f"/api/dry-runs/{run['run_id']}").status_code == 200
    assert api("GET", f"/api/dry-runs/{run['run_id']}").status_code == 404
    assert _counts(real) == before


# --- the pages ------------------------------------------------------------------------------------------------------


def test_the_pages_start_answer_move_the_clock_and_end(real):
    from tests.helpers import csrf_token, sign_in
    from web import create_app

    client = create_app(real, {"TESTING": True, "SECRET_KEY": "test"}).test_client()
    assert sign_in(client, "pt.lan").status_code == 302
    page = client.get("/processes/task_followup/dry-run")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Đơn vị chủ trì" in text and "Sở Tư pháp" in text
    token = csrf_token(client, "/processes/task_followup/dry-run")
    form = {"csrf_token": token, "start_at": "2025-08-29T09:00", "tracked_task_id": "1", "document": "01/QĐ",
            "content": "Việc thử", "lead_unit": "so-tu-phap", "follower_unit": "vp-ubnd", "has_deadline": "true",
            "due_date": "28/09/2025", "coordinators": "[]", "assigned_at": "2025-08-29T09:00:00+07:00"}
    bad = client.post("/processes/task_followup/dry-run", data={**form, "tracked_task_id": "một"})
    assert bad.status_code == 422 and "Giá trị không đúng kiểu" in bad.get_data(as_text=True)
    started = client.post("/processes/task_followup/dry-run", data=form)
    assert started.status_code == 303
    run_page = started.headers["Location"]
    text = client.get(run_page).get_data(as_text=True)
    assert "Rà soát, tiếp nhận nhiệm vụ" in text and "04/09/2025" in text and "Đầu mối đơn vị — Sở Tư pháp" in text
    assert client.get(run_page + "/diagram.xml").status_code == 200
    action = re.search(r'action="([^"]+/tasks/[^"]+)"', text).group(1)
    wrong = client.post(action, data={"csrf_token": token, "decision": "return"})
    assert wrong.status_code == 422 and 'data-field="return_reason"' in wrong.get_data(as_text=True)
    assert client.post(action, data={"csrf_token": token, "decision": "accept"}).status_code == 303
    assert client.post(run_page + "/clock", data={"csrf_token": token, "until": "at", "at": "2025-10-15T09:00"}
                       ).status_code == 303
    text = client.get(run_page).get_data(as_text=True)
    assert "«Báo quá hạn»" in text and "Đã báo quá hạn" in text and "15/10/2025 09:00" in text
    assert client.post(run_page + "/clock", data={"csrf_token": token, "until": "at", "at": "2025-01-01T09:00"}
                       ).status_code == 422
    assert client.post(run_page + "/end", data={"csrf_token": token}).status_code == 303
    assert client.get(run_page).status_code == 404
