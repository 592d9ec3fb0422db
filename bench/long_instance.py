"""A task followed for years: does the cost of a step grow with its history? (docs/spiffworkflow.md, trap 7)

A task without a deadline is registered and accepted, which creates its monthly schedule; each
month the scheduler starts one `periodic_update` instance linked to the task, and the unit submits
its update through the form, one transaction each. We time
the first and last cycles and weigh their stored state. For comparison, the same number of
cycles drawn as a back-edge loop inside one workflow would be impossible past ~200 cycles
(RecursionError, docs/spiffworkflow.md trap 7), so it is not run here. The last line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.app.bootstrap import default_bpmn_files, open_context, seed_reference_data  # noqa: E402
from engine.app.migrations import upgrade  # noqa: E402
from engine.core import clock as clocks  # noqa: E402
from engine.core.config import Config  # noqa: E402
from engine.process import instances, schedules  # noqa: E402
from engine.process.definitions import deploy_files  # noqa: E402
from engine.process.tables import ProcessInstance  # noqa: E402
from engine.regulation import tracking  # noqa: E402
from engine.worktime.calendar import TZ  # noqa: E402

SAMPLE = 20  # cycles averaged at each end


def run_cycle(ctx, month: int) -> tuple[float, int]:
    """Start the period that begins this month and complete its update; (ms, state bytes)."""
    year, index = 2025 + month // 12, month % 12 + 1
    ctx.clock.set(datetime(year, index, 1, 8, 0, tzinfo=TZ))
    started = time.perf_counter()
    (_, view), = schedules.fire_due_schedules(ctx)
    instances.complete_task(ctx, view.id, view.next_tasks[0].task_id,
                            {"state": "in_progress", "work_done": f"{year}-{index:02d}"}, actor="bench")
    elapsed = (time.perf_counter() - started) * 1000
    with ctx.unit_of_work(readonly=True) as session:
        size = len(session.get(ProcessInstance, view.id).state_json)
    return elapsed, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/long.db"
        upgrade(url)
        ctx = open_context(Config(database_url=url), clocks.FixedClock(datetime(2024, 12, 20, tzinfo=TZ)))
        seed_reference_data(ctx)
        deploy_files(ctx, default_bpmn_files(ctx.config))
        registered = tracking.register_document(ctx, tracking.DocumentInput(
            number_symbol="12/CT-UBND", issued_on=date(2024, 12, 18), doc_type="chi_thi",
            issuer="UBND tỉnh Bến Tre", signer="Chủ tịch UBND tỉnh", summary="Theo dõi thường xuyên"),
            [tracking.TaskInput(content="Theo dõi sạt lở", lead_unit="so-nong-nghiep-ptnt",
                                expected_output="Báo cáo tháng", update_cadence="monthly")], actor="bench")
        parent = registered.instance_ids[0]
        review = instances.list_ready_tasks(ctx, instance_id=parent)[0]
        instances.complete_task(ctx, parent, review.task_id, {"decision": "accept"}, actor="bench")
        ctx.clock.set(datetime(2024, 12, 31, tzinfo=TZ))
        schedules.fire_due_schedules(ctx)  # December 2024, before the measured cycles
        results = [run_cycle(ctx, month) for month in range(args.cycles)]
        ctx.db.dispose()
    first, last = results[:SAMPLE], results[-SAMPLE:]
    out = {
        "cycles": args.cycles,
        "first_step_ms": round(statistics.median(ms for ms, _ in first), 3),
        "last_step_ms": round(statistics.median(ms for ms, _ in last), 3),
        "first_size_kb": round(first[0][1] / 1024, 2),
        "last_size_kb": round(last[-1][1] / 1024, 2),
    }
    out["step_ratio"] = round(out["last_step_ms"] / out["first_step_ms"], 2)
    print(f"cycles 1-{SAMPLE}: {out['first_step_ms']} ms per cycle, state {out['first_size_kb']} KB")
    print(f"last {SAMPLE} cycles: {out['last_step_ms']} ms per cycle, state {out['last_size_kb']} KB "
          f"(ratio {out['step_ratio']})")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
