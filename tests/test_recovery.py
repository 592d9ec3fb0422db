"""An instance in error is retried from the state it was saved in: after a fix, or on a corrected version."""
from __future__ import annotations

from datetime import timedelta

import pytest

from engine.core.errors import Conflict, DiagramError, InstanceNotFound
from engine.process import instances
from engine.process.definitions import deploy_bytes
from engine.process.recovery import instance_details, retry_instance
from engine.process.tables import InstanceStatus
from engine.process.timers import fire_due_timers
from tests.conftest import BPMN


def _ready(ctx, instance_id):
    return [t.bpmn_id for t in instances.list_ready_tasks(ctx, instance_id=instance_id)]


def _actions(ctx, instance_id):
    return [e.action for e in instances.history(ctx, instance_id)]


@pytest.fixture
def failed(ctx, deploy):
    """A timer_then_script instance whose script divided by zero when its timer fired."""
    deploy("timer_then_script.bpmn")
    started = instances.start_instance(ctx, "timer_then_script", {"divisor": 0})
    ctx.clock.advance(timedelta(hours=1, minutes=1))
    assert [i for i, _ in fire_due_timers(ctx).failed] == [started.id]
    assert instances.get_instance(ctx, started.id).status is InstanceStatus.ERROR
    return started.id


def _corrected(ctx, script: bytes = b"result = 10 / (divisor or 1)", rename: bytes = b""):
    xml = (BPMN / "timer_then_script.bpmn").read_bytes().replace(b"result = 10 / divisor", script)
    if rename:
        xml = xml.replace(b'"wait"', rename).replace(b"wait</bpmn:", rename.strip(b'"') + b"</bpmn:")
    return deploy_bytes(ctx, xml, "timer_then_script.bpmn", "analyst")


def test_an_instance_in_error_shows_why_and_what_it_was_waiting_on(ctx, failed):
    details = instance_details(ctx, failed)
    assert details.instance.status is InstanceStatus.ERROR and "ZeroDivisionError" in details.failure["error"]
    assert details.ready == () and details.timers == ()  # the query tables were emptied when it failed
    assert [e.action for e in details.history] == ["start", "error"]
    assert [v.id for v in instances.list_instances(ctx, status=InstanceStatus.ERROR)] == [failed]


def test_a_retry_that_fails_again_stays_in_error_and_is_audited(ctx, failed):
    with pytest.raises(DiagramError, match="ZeroDivisionError"):
        retry_instance(ctx, failed, "admin")
    assert instances.get_instance(ctx, failed).status is InstanceStatus.ERROR
    assert _actions(ctx, failed) == ["start", "error", "retry_failed"]


def test_a_retry_on_the_corrected_version_goes_on_from_the_saved_state(ctx, failed):
    _corrected(ctx)
    view = retry_instance(ctx, failed, "admin", to_latest=True)
    assert view.status is InstanceStatus.RUNNING and view.definition_version == 2 and view.error_message is None
    assert _ready(ctx, failed) == ["after"]  # the saved timer fired again, the corrected script ran
    assert _actions(ctx, failed) == ["start", "error", "retry"]
    details = instance_details(ctx, failed)
    assert details.failure is None and details.instance.definition_version == 2


def test_a_retry_before_the_timer_is_due_brings_the_timer_back(ctx, failed):
    ctx.clock.set(ctx.clock.now() - timedelta(hours=2))  # e.g. the instance failed for another reason
    view = retry_instance(ctx, failed, "admin")
    assert view.status is InstanceStatus.RUNNING and _ready(ctx, failed) == ["wait"]
    assert [bpmn for bpmn, _ in instance_details(ctx, failed).timers] == ["expire"]


def test_a_retry_after_the_cause_was_fixed_gives_the_task_back(ctx):
    from engine.app.bootstrap import default_bpmn_files
    from engine.process.definitions import deploy_files
    from tests.helpers import failing_after_date, register_tasks

    deploy_files(ctx, default_bpmn_files(ctx.config))
    bug = failing_after_date(ctx, lambda: ValueError("bad date"))  # a bug in a diagram function
    instance_id = register_tasks(ctx)[0]
    bug["on"] = True
    task = instances.list_ready_tasks(ctx, instance_id=instance_id)[0]
    with pytest.raises(DiagramError, match="bad date"):
        instances.complete_task(ctx, instance_id, task.task_id, {"decision": "accept"})
    details = instance_details(ctx, instance_id)
    assert details.failure["data"]["decision"] == "accept" and details.ready == ()
    bug["on"] = False  # the fix is deployed
    view = retry_instance(ctx, instance_id, "admin")
    assert view.status is InstanceStatus.RUNNING and [t.task_id for t in view.next_tasks] == [task.task_id]
    instances.complete_task(ctx, instance_id, task.task_id, {"decision": "accept"})
    assert _ready(ctx, instance_id) == ["report_completion"]


def test_only_an_instance_in_error_can_be_retried(ctx, deploy):
    deploy("three_step.bpmn")
    started = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    with pytest.raises(Conflict) as refused:
        retry_instance(ctx, started.id, "admin")
    assert "running, not in error" in refused.value.text("en")
    with pytest.raises(InstanceNotFound):
        retry_instance(ctx, 999_999, "admin")


def test_a_version_whose_elements_changed_is_refused_and_nothing_moves(ctx, failed):
    _corrected(ctx, rename=b'"wait_renamed"')
    with pytest.raises(Conflict) as refused:
        retry_instance(ctx, failed, "admin", to_latest=True)
    assert "does not fit version 2; elements gone: wait, wait.BoundaryEventJoin" in refused.value.text("en")
    view = instances.get_instance(ctx, failed)
    assert view.status is InstanceStatus.ERROR and view.definition_version == 1
