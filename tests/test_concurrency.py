"""Concurrent completions on one instance never lose an update; the loser gets a clear conflict.

Two threads, each with its own database connection. A barrier inside the use case makes both
read the instance before either writes, which is the race optimistic locking must catch.
"""
from __future__ import annotations

import contextlib
import threading

import pytest

from engine.bpmn import runtime
from engine.core.errors import ConcurrentUpdate, Conflict
from engine.process import instances


def _race(ctx, monkeypatch, instance_id, task_ids, barrier_parties):
    # On SQLite the other writer waits at BEGIN, so there the barrier can only time out: a short wait.
    barrier = threading.Barrier(barrier_parties, timeout=2 if ctx.db.engine.dialect.name == "postgresql" else 0.2)
    real = runtime.complete_user_task

    def complete_after_both_read(workflow, task_id, data):
        # SQLite serializes writers at BEGIN: the other thread cannot get here first
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait()
        return real(workflow, task_id, data)

    monkeypatch.setattr(runtime, "complete_user_task", complete_after_both_read)
    outcomes = [None] * len(task_ids)

    def worker(i, task_id):
        try:
            outcomes[i] = instances.complete_task(ctx, instance_id, task_id, {f"by_{i}": True})
        except Exception as error:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[i] = error

    threads = [threading.Thread(target=worker, args=(i, t)) for i, t in enumerate(task_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_tasks_of_one_instance_completed_at_once_one_wins_one_conflicts(ctx, deploy, monkeypatch):
    deploy("parallel.bpmn")
    started = instances.start_instance(ctx, "parallel")
    a, b = sorted(instances.list_ready_tasks(ctx, instance_id=started.id), key=lambda t: t.bpmn_id)
    outcomes = _race(ctx, monkeypatch, started.id, [a.task_id, b.task_id], 2)
    winners = [o for o in outcomes if isinstance(o, instances.InstanceView)]
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert isinstance(losers[0], ConcurrentUpdate) and "người khác thay đổi" in str(losers[0])
    # The winner's completion is saved; the loser's task is still there to retry.
    left = instances.list_ready_tasks(ctx, instance_id=started.id)
    assert len(left) == 1 and left[0].task_id == (b.task_id if outcomes[0] is winners[0] else a.task_id)
    monkeypatch.undo()
    instances.complete_task(ctx, started.id, left[0].task_id, {})
    assert instances.get_instance(ctx, started.id).status.value == "completed"


def test_same_task_completed_twice_at_once_is_applied_exactly_once(ctx, deploy, monkeypatch):
    deploy("three_step.bpmn")
    started = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    task = instances.list_ready_tasks(ctx, instance_id=started.id)[0]
    outcomes = _race(ctx, monkeypatch, started.id, [task.task_id, task.task_id], 2)
    assert sum(isinstance(o, instances.InstanceView) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1, outcomes
    assert [t.bpmn_id for t in instances.list_ready_tasks(ctx, instance_id=started.id)] == ["handle"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_concurrent_completions_on_sqlite_are_serialized_and_both_kept(ctx, deploy, monkeypatch):
    deploy("parallel.bpmn")
    started = instances.start_instance(ctx, "parallel")
    tasks = [t.task_id for t in instances.list_ready_tasks(ctx, instance_id=started.id)]
    outcomes = _race(ctx, monkeypatch, started.id, tasks, 2)
    # Writers queue at BEGIN IMMEDIATE, so the second one reads the first one's result.
    assert all(isinstance(o, instances.InstanceView) for o in outcomes), outcomes
    assert instances.get_instance(ctx, started.id).status.value == "completed"
