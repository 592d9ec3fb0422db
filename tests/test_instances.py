"""Use cases on instances, against a real database on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from engine.core import audit
from engine.core.errors import (
    ConcurrentUpdate,
    DefinitionNotFound,
    DiagramError,
    InstanceNotActive,
    InstanceNotFound,
    InvalidInput,
    TaskNotFound,
    TaskNotReady,
)
from engine.process import instances
from engine.process.tables import InstanceStatus, ProcessInstance, WaitingTimer


def _only_task(ctx, instance_id):
    tasks = instances.list_ready_tasks(ctx, instance_id=instance_id)
    assert len(tasks) == 1, tasks
    return tasks[0]


def test_start_runs_to_first_user_task_with_lane_and_assignee(ctx, deploy):
    deploy("three_step.bpmn")
    started = instances.start_instance(ctx, "three_step", {"unit": "so-tu-phap"}, actor="alice")
    assert started.status is InstanceStatus.RUNNING and started.definition_version == 1
    task = _only_task(ctx, started.id)
    assert (task.bpmn_id, task.name, task.lane, task.assignee) == (
        "receive", "Tiếp nhận", "unit_focal_point", "so-tu-phap")
    assert task.due_at is None
    assert task.created_at == ctx.clock.now()


def test_boundary_timer_gives_the_task_its_due_date_and_a_waiting_timer_row(ctx, deploy):
    deploy("three_step.bpmn")
    started = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    instances.complete_task(ctx, started.id, _only_task(ctx, started.id).task_id, {})
    task = _only_task(ctx, started.id)
    assert task.bpmn_id == "handle"
    assert task.due_at == ctx.clock.now() + timedelta(hours=2)
    with ctx.unit_of_work(readonly=True) as session:
        timers = session.scalars(select(WaitingTimer)).all()
    assert [(t.instance_id, t.bpmn_id, t.due_at) for t in timers] == [(started.id, "late", task.due_at)]


def test_gateway_condition_routes_and_instance_completes_with_query_tables_emptied(ctx, deploy):
    deploy("three_step.bpmn")
    started = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    for data in ({}, {"approved": True}, {"comment": "ok"}):
        instances.complete_task(ctx, started.id, _only_task(ctx, started.id).task_id, data)
    done = instances.get_instance(ctx, started.id)
    assert done.status is InstanceStatus.COMPLETED
    assert instances.list_ready_tasks(ctx, instance_id=started.id) == []
    with ctx.unit_of_work(readonly=True) as session:
        assert session.scalars(select(WaitingTimer)).all() == []


def test_gateway_default_flow_ends_without_approval(ctx, deploy):
    deploy("three_step.bpmn")
    started = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    instances.complete_task(ctx, started.id, _only_task(ctx, started.id).task_id, {})
    instances.complete_task(ctx, started.id, _only_task(ctx, started.id).task_id, {"approved": False})
    assert instances.get_instance(ctx, started.id).status is InstanceStatus.COMPLETED


def test_every_step_is_audited_with_actor_and_data_summary(ctx, deploy):
    deploy("three_step.bpmn")
    started = instances.start_instance(ctx, "three_step", {"unit": "u1"}, actor="alice")
    task = _only_task(ctx, started.id)
    instances.complete_task(ctx, started.id, task.task_id, {"note": "x" * 500}, actor="bob")
    with ctx.unit_of_work(readonly=True) as session:
        entries = audit.entries_for(session, started.id)
        got = [(e.actor, e.action, e.task_id, e.bpmn_id) for e in entries]
        note = entries[1].summary["note"]
    assert got == [("alice", "start", None, None), ("bob", "complete_task", task.task_id, "receive")]
    assert note.startswith("xxx") and len(note) < 500


def test_audit_log_refuses_updates_and_deletes(ctx, deploy):
    deploy("three_step.bpmn")
    with pytest.raises(Exception, match="append-only"), ctx.unit_of_work() as session:
        session.execute(text("UPDATE audit_log SET actor = 'mallory'"))
    with pytest.raises(Exception, match="append-only"), ctx.unit_of_work() as session:
        session.execute(text("DELETE FROM audit_log"))


def test_completing_a_task_twice_is_a_clear_conflict_and_changes_nothing(ctx, deploy):
    deploy("three_step.bpmn")
    started = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    task = _only_task(ctx, started.id)
    after_first = instances.complete_task(ctx, started.id, task.task_id, {})
    with pytest.raises(TaskNotReady, match="completed"):
        instances.complete_task(ctx, started.id, task.task_id, {})
    assert instances.get_instance(ctx, started.id).row_version == after_first.row_version


def test_stale_form_version_is_refused(ctx, deploy):
    deploy("parallel.bpmn")
    started = instances.start_instance(ctx, "parallel")
    a, b = sorted(instances.list_ready_tasks(ctx, instance_id=started.id), key=lambda t: t.bpmn_id)
    instances.complete_task(ctx, started.id, a.task_id, {}, expected_version=started.row_version)
    with pytest.raises(ConcurrentUpdate, match="người khác thay đổi"):
        instances.complete_task(ctx, started.id, b.task_id, {}, expected_version=started.row_version)
    assert [t.bpmn_id for t in instances.list_ready_tasks(ctx, instance_id=started.id)] == ["task_b"]


@pytest.mark.parametrize("call, error", [
    (lambda ctx, i: instances.complete_task(ctx, 999_999, "x", {}), InstanceNotFound),
    (lambda ctx, i: instances.complete_task(ctx, i, "not-a-uuid", {}), TaskNotFound),
    (lambda ctx, i: instances.complete_task(ctx, i, "6f1c2b1e-0000-4000-8000-000000000000", {}), TaskNotFound),
    (lambda ctx, i: instances.start_instance(ctx, "no_such_process"), DefinitionNotFound),
    (lambda ctx, i: instances.complete_task(ctx, i, "x", ["not", "a", "dict"]), InvalidInput),
    (lambda ctx, i: instances.complete_task(ctx, i, "x", {"__class__": 1}), InvalidInput),
    (lambda ctx, i: instances.cancel_instance(ctx, 999_999), InstanceNotFound),
])
def test_unknown_ids_and_bad_data_get_domain_errors(ctx, deploy, call, error):
    deploy("three_step.bpmn")
    started = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    with pytest.raises(error):
        call(ctx, started.id)
    assert instances.get_instance(ctx, started.id).row_version == started.row_version


def test_cancel_removes_open_tasks_and_timers_and_cannot_repeat(ctx, deploy):
    deploy("three_step.bpmn")
    started = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    instances.complete_task(ctx, started.id, _only_task(ctx, started.id).task_id, {})
    cancelled = instances.cancel_instance(ctx, started.id, actor="office", reason="giao nhầm")
    assert cancelled.status is InstanceStatus.CANCELLED
    assert instances.list_ready_tasks(ctx, instance_id=started.id) == []
    with ctx.unit_of_work(readonly=True) as session:
        assert session.scalars(select(WaitingTimer)).all() == []
        assert audit.entries_for(session, started.id)[-1].summary == {"reason": "giao nhầm"}
    with pytest.raises(InstanceNotActive):
        instances.cancel_instance(ctx, started.id)


def test_failing_timer_expression_saves_nothing_and_marks_the_instance_in_error(ctx, deploy):
    deploy("failing_timer.bpmn")
    started = instances.start_instance(ctx, "failing_timer")  # `days` is missing from the data
    first = _only_task(ctx, started.id)
    with pytest.raises(DiagramError, match="deadline"):
        instances.complete_task(ctx, started.id, first.task_id, {"typed": "by the user"}, actor="bob")
    failed = instances.get_instance(ctx, started.id)
    assert failed.status is InstanceStatus.ERROR and "days" in failed.error_message
    with ctx.unit_of_work(readonly=True) as session:
        state = session.get(ProcessInstance, started.id).state_json
        last = audit.entries_for(session, started.id)[-1]
    # The stored workflow is the one from before the attempt: `first` was not completed there.
    workflow = ctx.codec.load_state(state, _specs(ctx, "failing_timer"))
    assert str(workflow.get_next_task(spec_name="first").id) == first.task_id
    assert workflow.get_next_task(spec_name="first").state == 16  # READY
    assert last.action == "error" and last.summary["data"] == {"typed": "by the user"}
    with pytest.raises(InstanceNotActive):
        instances.complete_task(ctx, started.id, first.task_id, {})


def test_failing_script_affects_only_its_own_instance(ctx, deploy):
    deploy("script_step.bpmn")
    good = instances.start_instance(ctx, "script_step")
    bad = instances.start_instance(ctx, "script_step")
    instances.complete_task(ctx, good.id, _only_task(ctx, good.id).task_id, {"amounts": [1, 2], "divisor": 3})
    with pytest.raises(DiagramError, match="compute.*ZeroDivisionError"):
        instances.complete_task(ctx, bad.id, _only_task(ctx, bad.id).task_id, {"amounts": [1], "divisor": 0})
    assert instances.get_instance(ctx, bad.id).status is InstanceStatus.ERROR
    assert instances.get_instance(ctx, good.id).status is InstanceStatus.RUNNING
    assert _only_task(ctx, good.id).bpmn_id == "review"


def test_instances_reference_the_stored_spec_instead_of_embedding_it(ctx, deploy):
    deploy("three_step.bpmn")
    started = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    with ctx.unit_of_work(readonly=True) as session:
        state = session.get(ProcessInstance, started.id).state_json
    assert '"spec"' not in state and "task_specs" not in state


def _specs(ctx, process_id):
    from engine.process.definitions import latest_version

    with ctx.unit_of_work(readonly=True) as session:
        definition = latest_version(session, process_id)
        return ctx.codec.load_specs(definition.id, definition.spec_json)
