"""Timer worker throughput: N due timers on PostgreSQL, fired by 1 worker, then by 2 worker processes.

Each instance of tests/bpmn/three_step.bpmn waits in "handle" with its interrupting boundary
timer "late" (PT2H) armed; firing it ends the instance at "end_late". The timers are fired with
`engine.timers.fire_due_timers` (limit 500 per pass) on a FixedClock 3 hours after arming, first
in-process, then again on a fresh set of instances by 2 `spawn` processes started together; each
worker loops until a pass fires nothing. `double_fired` counts instances with more than one
`timer_fired` audit entry (must be 0); `not_completed` counts instances not ended `completed`.
The benchmark uses its own database `bench_timers`, created next to the one named by
TEST_DATABASE_URL (the test-suite wipes that one). The last line printed is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import own_database  # noqa: E402
from sqlalchemy import make_url, text  # noqa: E402

from engine.app.bootstrap import open_context  # noqa: E402
from engine.app.migrations import upgrade  # noqa: E402
from engine.core.clock import FixedClock  # noqa: E402
from engine.core.config import Config  # noqa: E402
from engine.process import instances  # noqa: E402
from engine.process.definitions import deploy_bytes  # noqa: E402
from engine.process.timers import due_instances, fire_due_timers  # noqa: E402

DIAGRAM = ROOT / "tests" / "bpmn" / "three_step.bpmn"
DB_NAME = "bench_timers"
ARMED_AT = datetime(2025, 4, 25, 2, 0, tzinfo=UTC)
FIRE_AT = ARMED_AT + timedelta(hours=3)  # the timer is due at ARMED_AT + 2 h
LIMIT = 500


def bench_url(test_url: str) -> str:
    """The benchmark's own database on the same server (see bench/common.py)."""
    return own_database(test_url, DB_NAME)


def reset(ctx) -> None:
    # The audit log is append-only by trigger; TRUNCATE is the one way to empty it.
    with ctx.db.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_log, waiting_timers, ready_tasks, process_instances "
                          "RESTART IDENTITY CASCADE"))


def setup(ctx, n: int) -> None:
    """n running instances, each waiting in "handle" with its "late" timer armed."""
    ctx.clock.set(ARMED_AT)
    view = instances.start_instance(ctx, "three_step", {"unit": "u1"}, actor="bench")
    view = instances.complete_task(ctx, view.id, view.next_tasks[0].task_id, {}, actor="bench")
    # The other n-1 instances are byte-identical copies of this real instance's state and of its
    # query-table rows (same task ids, same due time), made by SQL only to save setup time: going
    # through the use cases 10,000 times would take far longer than the measurement itself.
    with ctx.db.engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO process_instances (definition_id, process_id, status, state_json, error_message,
                started_by, created_at, updated_at, ended_at, row_version)
            SELECT definition_id, process_id, status, state_json, error_message,
                started_by, created_at, updated_at, ended_at, row_version
            FROM process_instances, generate_series(1, :k) WHERE id = :src"""), {"k": n - 1, "src": view.id})
        conn.execute(text("""
            INSERT INTO waiting_timers (instance_id, task_id, bpmn_id, due_at)
            SELECT p.id, w.task_id, w.bpmn_id, w.due_at FROM process_instances p
            JOIN waiting_timers w ON w.instance_id = :src WHERE p.id <> :src"""), {"src": view.id})
        conn.execute(text("""
            INSERT INTO ready_tasks (instance_id, task_id, bpmn_id, name, lane, assignee, due_at, created_at)
            SELECT p.id, r.task_id, r.bpmn_id, r.name, r.lane, r.assignee, r.due_at, r.created_at
            FROM process_instances p JOIN ready_tasks r ON r.instance_id = :src
            WHERE p.id <> :src"""), {"src": view.id})
        timers = conn.execute(text("SELECT count(*) FROM waiting_timers WHERE due_at <= :at"),
                              {"at": FIRE_AT}).scalar()
    if timers != n:
        raise SystemExit(f"setup made {timers} due timers, expected {n}")


def fire_until_idle(ctx) -> dict:
    """Passes of fire_due_timers until one fires nothing; what this worker did."""
    done = {"fired": 0, "failed": 0, "skipped": 0, "passes": 0}
    while True:
        report = fire_due_timers(ctx, limit=LIMIT, actor="bench")
        done["passes"] += 1
        done["fired"] += len(report.fired)
        done["failed"] += len(report.failed)
        done["skipped"] += report.skipped
        if not report.fired:
            return done


def worker(url: str, barrier, results) -> None:
    ctx = open_context(Config(database_url=url, deploy_on_start=False), FixedClock(FIRE_AT))
    due_instances(ctx, FIRE_AT, 1)  # open the pooled connection before the start signal
    barrier.wait()
    results.put(fire_until_idle(ctx))
    ctx.db.dispose()


def check(ctx) -> dict:
    """Audit and final-state counts of the current run."""
    with ctx.db.engine.connect() as conn:
        def one(sql: str) -> int:
            return conn.execute(text(sql)).scalar()
        return {
            "instances": one("SELECT count(*) FROM process_instances"),
            "fired": one("SELECT count(*) FROM audit_log WHERE action = 'timer_fired'"),
            "double_fired": one("SELECT count(*) FROM (SELECT instance_id FROM audit_log WHERE action = "
                                "'timer_fired' GROUP BY instance_id HAVING count(*) > 1) d"),
            "not_completed": one("SELECT count(*) FROM process_instances WHERE status <> 'completed'"),
            "timers_left": one("SELECT count(*) FROM waiting_timers"),
            "errors": one("SELECT count(*) FROM audit_log WHERE action = 'error'"),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=10_000, help="due timers per run")
    args = parser.parse_args()
    test_url = os.environ.get("TEST_DATABASE_URL")
    if not test_url or make_url(test_url).get_backend_name() != "postgresql":
        raise SystemExit("TEST_DATABASE_URL must name a PostgreSQL database")
    url = bench_url(test_url)
    upgrade(url)
    ctx = open_context(Config(database_url=url, deploy_on_start=False), FixedClock(ARMED_AT))
    deploy_bytes(ctx, DIAGRAM.read_bytes(), DIAGRAM.name, actor="bench")
    n = args.timers

    # 1 worker, in this process.
    reset(ctx)
    started = time.perf_counter()
    setup(ctx, n)
    setup_s = time.perf_counter() - started
    ctx.clock.set(FIRE_AT)
    started = time.perf_counter()
    one_worker = fire_until_idle(ctx)
    elapsed_1 = time.perf_counter() - started
    check_1 = check(ctx)

    # 2 worker processes, on a fresh set of instances.
    reset(ctx)
    setup(ctx, n)
    spawn = mp.get_context("spawn")
    barrier, results = spawn.Barrier(3), spawn.Queue()
    procs = [spawn.Process(target=worker, args=(url, barrier, results)) for _ in range(2)]
    for proc in procs:
        proc.start()
    barrier.wait()
    started = time.perf_counter()
    workers = [results.get() for _ in procs]
    elapsed_2 = time.perf_counter() - started
    for proc in procs:
        proc.join()
    check_2 = check(ctx)
    ctx.db.dispose()

    result = {
        "timers": n,
        "fired": check_2["fired"],
        "double_fired": check_1["double_fired"] + check_2["double_fired"],
        "timers_per_s_1": round(check_1["fired"] / elapsed_1, 1),
        "timers_per_s_2": round(check_2["fired"] / elapsed_2, 1),
        "elapsed_s_1": round(elapsed_1, 2),
        "elapsed_s_2": round(elapsed_2, 2),
        "setup_s": round(setup_s, 2),
        "fired_1": check_1["fired"],
        "not_completed": check_1["not_completed"] + check_2["not_completed"],
        "timers_left": check_1["timers_left"] + check_2["timers_left"],
        "failed": one_worker["failed"] + sum(w["failed"] for w in workers) + check_1["errors"] + check_2["errors"],
        "fired_per_worker_2": [w["fired"] for w in workers],
        "skipped_per_worker_2": [w["skipped"] for w in workers],
    }
    print(f"setup: {n} instances with a due timer in {result['setup_s']} s (1 real, {n - 1} SQL copies)")
    print(f"1 worker:  {check_1['fired']} timers in {result['elapsed_s_1']} s ({result['timers_per_s_1']:.0f}/s)")
    print(f"2 workers: {check_2['fired']} timers in {result['elapsed_s_2']} s ({result['timers_per_s_2']:.0f}/s)"
          f", split {result['fired_per_worker_2']}, skipped {result['skipped_per_worker_2']}")
    print(f"double fired: {result['double_fired']}, not completed: {result['not_completed']}, "
          f"timers left: {result['timers_left']}, failed: {result['failed']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
