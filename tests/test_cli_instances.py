"""`python -m engine instances ...` and the database messages of the command line."""
from __future__ import annotations

from datetime import datetime, timedelta

from tests.conftest import BPMN, TZ
from tests.helpers import run_cli as run


def _later(hours: float) -> str:
    return (datetime.now(TZ) + timedelta(hours=hours)).isoformat(timespec="minutes")


def test_start_list_show_and_retry_an_instance_in_error(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert run("migrate", database_url=url).returncode == 0
    assert run("deploy", BPMN / "timer_then_script.bpmn", database_url=url).returncode == 0

    started = run("instances", "start", "timer_then_script", "--data", '{"divisor": 0}', "--by", "admin",
                  database_url=url)
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith("instance 1: timer_then_script version 1, running; ready: wait")
    fired = run("timers", "fire-due", "--at", _later(2), database_url=url)
    assert fired.returncode == 1 and "instance 1: error:" in fired.stderr and "ZeroDivisionError" in fired.stderr

    listed = run("instances", "list", "--status", "error", database_url=url)
    assert listed.returncode == 0 and listed.stdout.startswith("1\ttimer_then_script v1\terror\t")
    assert "1 instance(s)" in listed.stdout
    assert run("instances", "list", "--status", "running", database_url=url).stdout.strip() == "0 instance(s)"
    shown = run("instances", "show", "1", database_url=url)
    assert shown.returncode == 0 and "error: " in shown.stdout and "ZeroDivisionError" in shown.stdout
    assert "instances retry 1" in shown.stdout and "admin\tstart" in shown.stdout

    corrected = tmp_path / "timer_then_script.bpmn"
    corrected.write_bytes((BPMN / "timer_then_script.bpmn").read_bytes()
                          .replace(b"result = 10 / divisor", b"result = 10 / (divisor or 1)"))
    assert run("deploy", corrected, database_url=url).returncode == 0
    retried = run("instances", "retry", "1", "--to-latest", "--by", "admin", database_url=url)
    assert retried.returncode == 0, retried.stderr
    # Not due yet by the wall clock: it waits on its timer again, on the corrected version.
    assert retried.stdout.strip() == "instance 1: running again on version 2; ready: wait"
    assert run("timers", "fire-due", "--at", _later(2), database_url=url).returncode == 0
    shown = run("instances", "show", "1", database_url=url).stdout
    assert "version 2, running" in shown and " after (" in shown and "admin\tretry" in shown

    again = run("instances", "retry", "1", database_url=url)
    assert again.returncode == 1 and "(trạng thái: running)" in again.stderr and "Traceback" not in again.stderr


SCRIPT_FIRST = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs" targetNamespace="http://x">
  <bpmn:process id="script_first" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="l" name="Đơn vị" spiffworkflow:role="unit_focal_point">
      <bpmn:flowNodeRef>check</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="compute"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>share = 10 / divisor</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="check"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="compute" />
    <bpmn:sequenceFlow id="f2" sourceRef="compute" targetRef="check" />
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def test_start_says_why_it_failed_with_exit_1(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    run("migrate", database_url=url)
    (tmp_path / "script_first.bpmn").write_text(SCRIPT_FIRST)
    assert run("deploy", tmp_path / "script_first.bpmn", database_url=url).returncode == 0
    ok = run("instances", "start", "script_first", "--data", '{"divisor": 5}', database_url=url)
    assert ok.returncode == 0 and "; ready: check" in ok.stdout
    for args, words in ((["script_first", "--data", '{"divisor": 0}'], "ZeroDivisionError"),
                        (["no_such_process"], "no_such_process"),
                        (["script_first", "--data", "{not json"], "not JSON"),
                        (["script_first", "--data", "[1]"], "error:")):
        result = run("instances", "start", *args, database_url=url)
        assert result.returncode == 1 and words in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_an_unreachable_database_is_not_blamed_on_the_schema():
    result = run("timers", "fire-due", "--at", "2025-05-09T08:00+07:00",
                 database_url="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "migrate" not in result.stderr and "127.0.0.1" in result.stderr
