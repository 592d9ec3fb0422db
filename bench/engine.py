"""Cost of persistence: one whole instance of a 3-user-task process, raw SpiffWorkflow vs the engine.

The process (tests/bpmn/three_step.bpmn) has 3 user tasks, an exclusive gateway and a boundary
timer. (a) raw: SpiffWorkflow in memory, nothing saved; (b) the engine's use cases on a SQLite
file: start, then complete the task each step made ready, one transaction per step (4 in all);
(c) the same on PostgreSQL when TEST_DATABASE_URL is set. Beside each, the floor: the raw run
plus the least persistence any engine needs per step (bench/floor.py). Medians per whole
instance. The last line printed is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import own_database, reset_postgres, timings  # noqa: E402
from floor import PostgresFloor, SqliteFloor  # noqa: E402
from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402

from engine.app.bootstrap import open_context  # noqa: E402
from engine.app.migrations import upgrade  # noqa: E402
from engine.bpmn import timer_clock  # noqa: E402
from engine.bpmn.serialization import WorkflowCodec  # noqa: E402
from engine.core import clock as clocks  # noqa: E402
from engine.core.config import Config  # noqa: E402
from engine.process import instances  # noqa: E402
from engine.process.definitions import deploy_bytes  # noqa: E402

DIAGRAM = ROOT / "tests" / "bpmn" / "three_step.bpmn"
STEPS = ({}, {"approved": True}, {"comment": "ok"})


def raw_instance(spec, subprocess_specs, persist=None) -> None:
    """One whole instance in memory; `persist(workflow)`, if given, runs where the engine commits."""
    workflow = BpmnWorkflow(spec, subprocess_specs)
    workflow.get_next_task(spec_name="Start").data.update({"unit": "u1"})
    workflow.do_engine_steps()
    if persist:
        persist(workflow)
    for data in STEPS:
        task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
        task.set_data(**data)
        task.run()
        workflow.do_engine_steps()
        workflow.refresh_timers()
        workflow.do_engine_steps()
        if persist:
            persist(workflow)
    assert workflow.is_completed()


def floor_ms(spec, subprocess_specs, floor, n: int) -> float:
    """Median ms of a raw instance plus the least persistence per step (see bench/floor.py)."""
    codec = WorkflowCodec()
    try:
        return measure(lambda: raw_instance(spec, subprocess_specs,
                                            lambda workflow: floor.write(codec.dump_state(workflow))), n, 20)
    finally:
        floor.close()


def engine_instance(ctx) -> None:
    # As the task page does: after each step, go to the task that step made ready.
    view = instances.start_instance(ctx, "three_step", {"unit": "u1"}, actor="bench")
    for data in STEPS:
        view = instances.complete_task(ctx, view.id, view.next_tasks[0].task_id, data, actor="bench")
    assert view.status.value == "completed"


def measure(run, n: int, warmup: int) -> float:
    """Median milliseconds of one run."""
    return statistics.median(timings(run, n, warmup))


def engine_context(url: str):
    upgrade(url)
    ctx = open_context(Config(database_url=url, deploy_on_start=False),
                       clocks.FixedClock(datetime(2025, 4, 25, 2, 0, tzinfo=UTC)))
    deploy_bytes(ctx, DIAGRAM.read_bytes(), DIAGRAM.name, actor="bench")
    return ctx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="instances per measurement")
    args = parser.parse_args()
    timer_clock.install()
    spiff = SpiffBpmnParser(validator=VALIDATOR)
    spiff.add_bpmn_file(str(DIAGRAM))
    spec, subprocess_specs = spiff.get_spec("three_step"), spiff.get_subprocess_specs("three_step")

    result = {"instances": args.n}
    result["raw_ms"] = round(measure(lambda: raw_instance(spec, subprocess_specs), args.n, 20), 3)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = engine_context(f"sqlite:///{tmp}/bench.db")
        result["sqlite_ms"] = round(measure(lambda: engine_instance(ctx), args.n, 20), 3)
        ctx.db.dispose()
        result["sqlite_floor_ms"] = round(floor_ms(spec, subprocess_specs, SqliteFloor(tmp), args.n), 3)
    pg_url = os.environ.get("TEST_DATABASE_URL")
    if pg_url:
        pg_url = own_database(pg_url, "bench_engine")
        reset_postgres(pg_url)
        ctx = engine_context(pg_url)
        result["postgres_ms"] = round(measure(lambda: engine_instance(ctx), args.n, 20), 3)
        ctx.db.dispose()
        result["postgres_floor_ms"] = round(floor_ms(spec, subprocess_specs, PostgresFloor(pg_url), args.n), 3)
    print(f"raw SpiffWorkflow in memory: {result['raw_ms']} ms per instance")
    for db in ("sqlite", "postgres"):
        if f"{db}_ms" not in result:
            continue
        for key in ("ratio", "floor_ratio"):
            source = result[f"{db}_ms" if key == "ratio" else f"{db}_floor_ms"]
            result[f"{db}_{key}"] = round(source / result["raw_ms"], 2)
        print(f"engine on {db}: {result[db + '_ms']} ms ({result[db + '_ratio']}x raw); least possible "
              f"persistence: {result[db + '_floor_ms']} ms ({result[db + '_floor_ratio']}x raw)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
