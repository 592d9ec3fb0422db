"""The in-memory workflow cache: used only while the database still holds the version it saw.

Engine tests elsewhere run with the cache on, as the product does; these pin down when it is
used, when it is thrown away, and that a cached workflow is the one a restore would give.
"""
from __future__ import annotations

import json

import pytest

from engine.app.bootstrap import open_context
from engine.bpmn import runtime
from engine.core.config import Config
from engine.core.errors import ConcurrentUpdate, InvalidInput
from engine.process import instance_store as store
from engine.process import instances, steps
from engine.process.workflow_cache import CachedWorkflow, WorkflowCache

STEPS = ({}, {"approved": True}, {"comment": "ok"})


def _task_id(ctx, instance_id):
    return instances.list_ready_tasks(ctx, instance_id=instance_id)[0].task_id


def _restored(ctx, instance_id):
    with ctx.unit_of_work(readonly=True) as session:
        row = store.load(session, instance_id)
        return row.row_version, steps.load_workflow(ctx, session, row)[1], store.current_snapshot(session, instance_id)


def test_after_each_step_the_cached_workflow_is_what_a_restore_from_the_database_gives(ctx, deploy):
    deploy("three_step.bpmn")
    view = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    for data in STEPS[:2]:
        entry = ctx.workflows.take(view.id)
        version, restored, snapshot = _restored(ctx, view.id)
        assert entry.row_version == version == view.row_version
        assert json.loads(ctx.codec.dump_state(entry.workflow)) == json.loads(ctx.codec.dump_state(restored))
        assert entry.snapshot == snapshot
        ctx.workflows.put(view.id, entry)
        view = instances.complete_task(ctx, view.id, _task_id(ctx, view.id), data)


def test_a_step_by_another_process_makes_the_entry_stale_and_the_next_step_reads_the_database(ctx, deploy, clock):
    deploy("three_step.bpmn")
    other = open_context(Config(database_url=ctx.config.database_url, deploy_on_start=False), clock)
    try:
        view = instances.start_instance(ctx, "three_step", {"unit": "u1"})
        instances.complete_task(ctx, view.id, _task_id(ctx, view.id), {})
        # The other process (its own cache) decides; this one's entry still holds the step before.
        instances.complete_task(other, view.id, _task_id(other, view.id), {"approved": True, "by": "other"})
        assert ctx.workflows.has(view.id)
        done = instances.complete_task(ctx, view.id, _task_id(ctx, view.id), {"comment": "ok"})
    finally:
        other.db.dispose()
    assert done.status.value == "completed" and done.row_version == 4
    with ctx.unit_of_work(readonly=True) as session:
        data = json.loads(store.load(session, view.id).state_json)["data"]
    assert data["by"] == "other" and data["comment"] == "ok"


def test_a_stale_form_is_refused_even_when_the_cache_holds_the_instance(ctx, deploy):
    deploy("three_step.bpmn")
    view = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    task_id = _task_id(ctx, view.id)
    with pytest.raises(ConcurrentUpdate):
        instances.complete_task(ctx, view.id, task_id, {}, expected_version=view.row_version - 1)
    assert instances.complete_task(ctx, view.id, task_id, {}, expected_version=view.row_version).row_version == 2


def test_a_step_refused_before_the_workflow_moved_keeps_the_entry(ctx, deploy):
    deploy("three_step.bpmn")
    view = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    task_id = _task_id(ctx, view.id)
    entry = ctx.workflows.take(view.id)
    ctx.workflows.put(view.id, entry)
    with pytest.raises(InvalidInput, match="dành cho sơ đồ: deadline"):
        instances.complete_task(ctx, view.id, task_id, {"deadline": "x"})  # a diagram function's name
    with pytest.raises(ConcurrentUpdate):
        instances.complete_task(ctx, view.id, task_id, {}, expected_version=7)
    kept = ctx.workflows.take(view.id)
    assert kept is entry and runtime.ready_user_task(kept.workflow, task_id) is not None   # untouched
    ctx.workflows.put(view.id, kept)
    after = instances.complete_task(ctx, view.id, task_id, {})
    assert after.row_version == 2 and ctx.workflows.has(view.id)


def test_a_cancelled_instance_is_not_stepped_from_its_old_entry(ctx, deploy):
    deploy("three_step.bpmn")
    view = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    task_id = _task_id(ctx, view.id)
    instances.cancel_instance(ctx, view.id)
    with pytest.raises(Exception, match="cancelled"):
        instances.complete_task(ctx, view.id, task_id, {})


def test_a_completed_instance_leaves_the_cache(ctx, deploy):
    deploy("three_step.bpmn")
    view = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    for data in STEPS:
        view = instances.complete_task(ctx, view.id, _task_id(ctx, view.id), data)
    assert view.status.value == "completed" and not ctx.workflows.has(view.id)


def test_with_the_cache_off_every_step_restores_and_the_outcome_is_the_same(database_url, clock, deploy):
    deploy("three_step.bpmn")
    cold = open_context(Config(database_url=database_url, deploy_on_start=False, workflow_cache_size=0), clock)
    try:
        view = instances.start_instance(cold, "three_step", {"unit": "u1"})
        for data in STEPS:
            assert len(cold.workflows) == 0
            view = instances.complete_task(cold, view.id, _task_id(cold, view.id), data)
    finally:
        cold.db.dispose()
    assert view.status.value == "completed"


def test_the_cache_is_bounded_and_evicts_the_least_recently_used():
    cache = WorkflowCache(2)
    for instance_id in (1, 2, 3):
        cache.put(instance_id, CachedWorkflow(1, object(), store.EMPTY))
    assert [cache.has(i) for i in (1, 2, 3)] == [False, True, True]
    cache.put(2, CachedWorkflow(2, object(), store.EMPTY))   # 2 is now the most recent
    cache.put(4, CachedWorkflow(1, object(), store.EMPTY))
    assert [cache.has(i) for i in (2, 3, 4)] == [True, False, True]
    assert cache.take(2).row_version == 2 and not cache.has(2)
    cache.put(4, CachedWorkflow(3, object(), store.EMPTY))
    cache.put(4, CachedWorkflow(2, object(), store.EMPTY))   # a slower thread's older step
    assert cache.take(4).row_version == 3
    off = WorkflowCache(0)
    off.put(1, CachedWorkflow(1, object(), store.EMPTY))
    assert len(off) == 0


def test_after_commit_callbacks_run_only_when_the_transaction_commits(ctx):
    from engine.core.db import after_commit

    ran = []
    with ctx.unit_of_work() as session:
        after_commit(session, lambda: ran.append("committed"))
        assert ran == []
    assert ran == ["committed"]
    with pytest.raises(RuntimeError), ctx.unit_of_work() as session:
        after_commit(session, lambda: ran.append("rolled back"))
        raise RuntimeError("boom")
    assert ran == ["committed"]


def test_a_crash_after_the_workflow_advanced_in_memory_keeps_nothing_of_it(ctx, deploy, monkeypatch):
    # The step ran and was written inside the transaction, then the process "crashed" before the
    # commit: the retry must start from the saved state, not from the advanced workflow.
    deploy("three_step.bpmn")
    view = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    task_id = _task_id(ctx, view.id)
    real = instances.after_step

    def crash_once(*args, **kwargs):
        monkeypatch.setattr(instances, "after_step", real)
        raise RuntimeError("worker killed mid-step")

    monkeypatch.setattr(instances, "after_step", crash_once)
    with pytest.raises(RuntimeError, match="mid-step"):
        instances.complete_task(ctx, view.id, task_id, {"attempt": 1})
    assert not ctx.workflows.has(view.id)
    assert _task_id(ctx, view.id) == task_id                  # still waiting, as saved
    after = instances.complete_task(ctx, view.id, task_id, {"attempt": 2})
    assert after.row_version == 2 and [t.bpmn_id for t in after.next_tasks] == ["handle"]
    assert instances.task_details(ctx, view.id, after.next_tasks[0].task_id).data["attempt"] == 2
