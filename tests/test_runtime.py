"""Engine behaviour without a database or Flask, each scenario also with a save/restore between steps."""
from __future__ import annotations

import hashlib
from datetime import datetime

import pytest
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.bpmn import runtime, timer_clock
from engine.bpmn.sandbox import make_script_engine
from engine.bpmn.serialization import WorkflowCodec
from engine.core import clock as clocks
from engine.core.errors import DiagramError
from engine.process import instances
from engine.process.tables import DefinitionVersion, InstanceStatus
from tests.helpers import BPMN, TZ

SCENARIOS = {
    "three_step": [{"unit": "u1"}, {}, {"approved": True}, {}],
    "parallel": [{}, {}, {}],
    "script_step": [{}, {"amounts": [2, 4], "divisor": 2}, {}],
}


def _specs(codec, process_id, file_name=None):
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_file(str(BPMN / (file_name or f"{process_id}.bpmn")))
    spec_json = codec.dump_specs(parser.get_spec(process_id), parser.get_subprocess_specs(process_id))
    return codec.load_specs(hash(process_id), spec_json)


@pytest.mark.parametrize("roundtrip", [False, True], ids=["in_memory", "save_restore"])
@pytest.mark.parametrize("process_id", sorted(SCENARIOS))
def test_scenario_runs_to_completion(process_id, roundtrip):
    codec, engine = WorkflowCodec(), make_script_engine()
    specs = _specs(codec, process_id)
    start, *steps = SCENARIOS[process_id]
    timer_clock.install()
    with clocks.in_effect(clocks.FixedClock(datetime(2025, 4, 25, 9, tzinfo=TZ))):
        workflow, _ = runtime.new_workflow(specs, engine, start)
        for data in steps:
            if roundtrip:
                workflow = codec.load_state(codec.dump_state(workflow), specs)
                workflow.script_engine = engine
            ready, _ = runtime.open_work(workflow)
            runtime.complete_user_task(workflow, ready[0].task_id, data)
    assert workflow.is_completed()
    if process_id == "script_step":
        assert workflow.data["total"] == 3


def test_timer_due_survives_save_restore():
    codec, engine = WorkflowCodec(), make_script_engine()
    specs = _specs(codec, "three_step")
    timer_clock.install()
    with clocks.in_effect(clocks.FixedClock(datetime(2025, 4, 25, 9, tzinfo=TZ))):
        workflow, _ = runtime.new_workflow(specs, engine, {"unit": "u1"})
        runtime.complete_user_task(workflow, runtime.open_work(workflow)[0][0].task_id, {})
    before = runtime.open_work(workflow)
    restored = codec.load_state(codec.dump_state(workflow), specs)
    restored.script_engine = engine
    assert runtime.open_work(restored) == before
    assert before[1][0].due_at == datetime(2025, 4, 25, 11, tzinfo=TZ)


HOSTILE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">
  <bpmn:process id="hostile" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Đơn vị" spiffworkflow:role="unit_focal_point">
      <bpmn:flowNodeRef>enter</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="enter"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:scriptTask id="escape"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="enter" />
    <bpmn:sequenceFlow id="f2" sourceRef="enter" targetRef="escape" />
    <bpmn:sequenceFlow id="f3" sourceRef="escape" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>"""


@pytest.mark.parametrize("script", [
    "import os\nos.system('id')",
    "x = ().__class__.__bases__[0].__subclasses__()",
    "f = open('/etc/passwd').read()",
    "y = getattr(1, '__cl' + 'ass__')",
    "z = '{0.__class__}'.format(1)",
])
def test_hostile_script_that_slipped_past_deploy_fails_its_task_and_only_its_instance(ctx, deploy, script):
    # Stored without validation, as if written to the database by an older, laxer version.
    xml = HOSTILE.format(script=script.replace("'", "&apos;")).encode()
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(xml, filename="hostile.bpmn")
    with ctx.unit_of_work() as session:
        session.add(DefinitionVersion(
            process_id="hostile", version=1, name=None, content_hash=hashlib.sha256(xml).hexdigest(),
            source_file="hostile.bpmn", bpmn_xml=xml, deployed_at=ctx.now(), deployed_by="test",
            spec_json=ctx.codec.dump_specs(parser.get_spec("hostile"), parser.get_subprocess_specs("hostile"))))
    deploy("three_step.bpmn")
    bystander = instances.start_instance(ctx, "three_step", {"unit": "u1"})
    victim = instances.start_instance(ctx, "hostile")
    with pytest.raises(DiagramError, match="escape.*not allowed"):
        instances.complete_task(ctx, victim.id, victim.next_tasks[0].task_id, {})
    assert instances.get_instance(ctx, victim.id).status is InstanceStatus.ERROR
    assert instances.get_instance(ctx, bystander.id).status is InstanceStatus.RUNNING
