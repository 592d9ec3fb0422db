"""`python -m engine check` (engine/app/consistency.py): the query tables agree with the saved workflows.

A database made through the use cases passes; each kind of damage a half-saved step could leave (a lost
ready-task row, a stray or moved timer row, a status not matching the workflow, a tracked task out of step)
is reported with the instance and what differs, and the command exits with 1. A worker killed with SIGKILL
in the middle of completions leaves nothing to report.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from engine.app.consistency import check_database
from engine.process.tables import InstanceStatus, ProcessInstance, ReadyTask, WaitingTimer
from engine.regulation.records import TaskStatus, TrackedTask
from tests.helpers import ROOT, TZ, complete_step, register_task, run_cli


@pytest.fixture
def tracked(shipped):
    """Two registered tasks: one accepted (its deadline timers armed), one waiting for receipt."""
    accepted = register_task(shipped, number_symbol="401/QĐ-UBND", deadline=date(2025, 6, 30))
    complete_step(shipped, accepted.instance_id, "review_receipt", {"decision": "accept"})
    waiting = register_task(shipped, number_symbol="402/QĐ-UBND", lead_unit="so-y-te")
    return accepted, waiting


def _change(ctx, statement) -> None:
    with ctx.unit_of_work() as session:
        session.execute(statement)


def _check(ctx) -> dict:
    result = run_cli("check", "--json", database_url=ctx.config.database_url)
    report = json.loads(result.stdout)
    assert result.returncode == (0 if report["consistent"] else 1), result.stderr
    return report


def test_a_database_made_through_the_use_cases_is_consistent(shipped, tracked):
    report = _check(shipped)
    assert report == {"instances": 2, "consistent": True, "disagreements": []}
    text = run_cli("check", database_url=shipped.config.database_url)
    assert text.returncode == 0 and text.stdout.strip() == "checked 2 instances: consistent"


def test_a_lost_ready_task_row_is_reported(shipped, tracked):
    _, waiting = tracked
    _change(shipped, delete(ReadyTask).where(ReadyTask.instance_id == waiting.instance_id))
    report = _check(shipped)
    assert [(d["instance_id"], d["kind"]) for d in report["disagreements"]] == [
        (waiting.instance_id, "ready_task_missing")]
    assert "review_receipt" in report["disagreements"][0]["detail"]
    text = run_cli("check", database_url=shipped.config.database_url)
    assert text.returncode == 1
    assert f"instance {waiting.instance_id}: ready_task_missing: review_receipt" in text.stdout
    assert text.stdout.strip().endswith("checked 2 instances: 1 disagreements")


def test_a_stray_timer_row_is_reported(shipped, tracked):
    _, waiting = tracked
    _change(shipped, insert(WaitingTimer).values(instance_id=waiting.instance_id, task_id="no-such-task",
                                                 bpmn_id="remind_deadline",
                                                 due_at=datetime(2025, 6, 1, 17, tzinfo=TZ)))
    report = _check(shipped)
    assert [(d["instance_id"], d["kind"]) for d in report["disagreements"]] == [(waiting.instance_id, "timer_stray")]
    assert "no-such-task" in report["disagreements"][0]["detail"]


def test_a_timer_row_with_another_due_instant_is_reported(shipped, tracked):
    accepted, _ = tracked
    with shipped.unit_of_work(readonly=True) as session:
        timer = session.scalars(select(WaitingTimer).where(WaitingTimer.instance_id == accepted.instance_id)).first()
    _change(shipped, update(WaitingTimer).where(WaitingTimer.id == timer.id)
            .values(due_at=timer.due_at + timedelta(days=1)))
    report = _check(shipped)
    assert [(d["instance_id"], d["kind"]) for d in report["disagreements"]] == [
        (accepted.instance_id, "timer_differs")]
    assert "due_at" in report["disagreements"][0]["detail"] and timer.bpmn_id in report["disagreements"][0]["detail"]


def test_an_instance_status_not_matching_its_workflow_is_reported(shipped, tracked):
    accepted, _ = tracked
    # A completion half-saved: the status says completed, the workflow and its rows say otherwise.
    _change(shipped, update(ProcessInstance.__table__).where(ProcessInstance.id == accepted.instance_id)
            .values(status=InstanceStatus.COMPLETED))
    kinds = {d["kind"] for d in _check(shipped)["disagreements"] if d["instance_id"] == accepted.instance_id}
    assert {"status", "ready_task_stray", "timer_stray", "tracked_task_status"} <= kinds


def test_a_tracked_task_status_out_of_step_is_reported(shipped, tracked):
    _, waiting = tracked
    _change(shipped, update(TrackedTask).where(TrackedTask.id == waiting.task_id)
            .values(status=TaskStatus.COMPLETED_ON_TIME))
    report = _check(shipped)
    assert report["disagreements"] == [{
        "instance_id": waiting.instance_id, "kind": "tracked_task_status",
        "detail": f"tracked task {waiting.task_id} is completed_on_time but the instance is running"}]


def test_a_workflow_that_cannot_be_restored_is_reported_and_the_others_still_checked(shipped, tracked):
    accepted, waiting = tracked
    _change(shipped, update(ProcessInstance.__table__).where(ProcessInstance.id == waiting.instance_id)
            .values(state_json="{not json"))
    report = check_database(shipped, batch=1)   # one instance per transaction: batches chain by id
    assert report.instances == 2
    assert [(d.instance_id, d.kind) for d in report.disagreements] == [(waiting.instance_id, "unreadable")]


WORKER = """
import sys
from datetime import date
from engine.app.bootstrap import open_context
from engine.core.config import Config
from engine.process import instances
from engine.regulation import tracking

ctx = open_context(Config(database_url=sys.argv[1], deploy_on_start=False))
for n in range(10_000):
    registered = tracking.register_document(ctx, tracking.DocumentInput(
        number_symbol=f"{1000 + n}/QĐ-UBND", issued_on=date(2025, 4, 20), doc_type="quyet_dinh",
        issuer="UBND tỉnh Bến Tre", signer="Chủ tịch UBND tỉnh", summary="Thử dừng đột ngột"),
        [tracking.TaskInput(content=f"Nhiệm vụ {n}", lead_unit="so-tu-phap", expected_output="Báo cáo",
                            deadline=date(2025, 12, 30)) for _ in range(3)], actor="cv.hoa")
    for instance_id in registered.instance_ids:
        ready = instances.list_ready_tasks(ctx, instance_id=instance_id)[0]
        instances.complete_task(ctx, instance_id, ready.task_id, {"decision": "accept"}, actor="cv.so-tu-phap")
    print(n, flush=True)
"""


def test_a_worker_killed_in_the_middle_of_completions_leaves_no_half_saved_instance(shipped):
    worker = subprocess.Popen([sys.executable, "-c", WORKER, shipped.config.database_url], cwd=ROOT,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(3):   # some documents done, the next ones under way
            assert worker.stdout.readline(), "the worker stopped by itself"
        time.sleep(random.uniform(0, 0.2))
    finally:
        worker.kill()   # SIGKILL: no clean-up, whatever transaction it was in is cut off
        worker.wait()
        worker.stdout.close()
    report = check_database(shipped)
    assert report.instances >= 9 and report.disagreements == []
