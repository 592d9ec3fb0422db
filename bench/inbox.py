"""Lists at scale: 100,000 tasks across units; server time of the inbox and of the Office's task list.

Per backend (SQLite in a temporary file; PostgreSQL in its own database `bench_inbox`, created
next to the one TEST_DATABASE_URL names, when that is set): migrate, seed reference data, deploy
processes/*.bpmn, register one real document with one task through engine.tracking, then clone
it by SQL into --tasks tracked tasks, each with its process instance and its ready task, spread
over every unit outside the Office (departments, districts, their sub-units, communes, other
agencies), due dates from 60 days overdue to 180 days ahead (1 in 19 without deadline), lanes
unit_focal_point (9 in 10) and tracking_specialist (1 in 10): a lane holds its role since 0009.
Measured in process (server time, no HTTP), N calls each after a warm-up, page 1 of 50:
inbox_unit (dm.sotuphap, the focal point of Sở Tư pháp, actor as engine.regulation.access.actor_for builds
it), inbox_unit_text (the same with q="báo cáo"), inbox_office (cv.hoa, the Office's tracking
specialist: every unit), inbox_office_text (the same with q="Nhiệm vụ số 123", found in the tasks'
content), list_office (task_queries.list_tasks for the Office, all units), list_office_status (the
same, status awaiting_confirmation), list_office_text (the same, q="Nhiệm vụ số 123"). `<backend>_p95_ms`
is the largest p95 of the seven. PostgreSQL gets VACUUM ANALYZE after the load (as autovacuum would); SQLite
gets no ANALYZE (the application never runs one). The last line printed is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import own_database, reset_postgres, timings  # noqa: E402
from sqlalchemy import bindparam, make_url, text  # noqa: E402

from engine.app.bootstrap import default_bpmn_files, open_context, seed_reference_data  # noqa: E402
from engine.app.migrations import upgrade  # noqa: E402
from engine.core.clock import FixedClock  # noqa: E402
from engine.core.config import Config  # noqa: E402
from engine.process.definitions import deploy_files  # noqa: E402
from engine.read.inbox import inbox  # noqa: E402
from engine.read.task_queries import list_tasks  # noqa: E402
from engine.regulation import access, organisation, tracking  # noqa: E402

DB_NAME = "bench_inbox"
NOW = datetime(2025, 4, 25, 2, 0, tzinfo=UTC)  # a Friday, 09:00 in Vietnam
SERIES = {  # the integers 1..k as a FROM item named s(n)
    "postgresql": "(SELECT generate_series(1, :k) AS n) s",
    "sqlite": "(WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < :k) "
              "SELECT n FROM c WHERE n <= :k) s",
}
HOURS = "((s.n % 5760) * 7919 % 5760 - 1440)"  # due in -60 .. +180 days, scattered over n
DUE = {"postgresql": f"CAST(:now AS timestamptz) + {HOURS} * interval '1 hour'",
       "sqlite": f"datetime(:now, {HOURS} || ' hours') || '.000000'"}  # the format UTCDateTime writes
DEADLINE = {"postgresql": f"CAST(CAST(:now AS timestamptz) + {HOURS} * interval '1 hour' AS date)",
            "sqlite": f"date(:now, {HOURS} || ' hours')"}
NO_DEADLINE = "s.n % 19 = 0"  # prime to the lane's modulus: both lanes have some
SPECIALIST = "s.n % 10 = 3"
UNITS = ("JOIN (SELECT id, code, row_number() OVER (ORDER BY id) - 1 AS k FROM units WHERE id IN :ids) u "
         "ON u.k = s.n % :units")  # unit number n mod the count


def bench_url(test_url: str) -> str:
    """The benchmark's own database on the same server (see bench/common.py)."""
    return own_database(test_url, DB_NAME)


def measure(call, n: int, warmup: int = 10) -> dict:
    """p50 and p95 milliseconds of a call."""
    times = timings(call, n, warmup)
    return {"p50": round(statistics.median(times), 2), "p95": round(statistics.quantiles(times, n=100)[94], 2)}


def populate(ctx, n: int) -> None:
    """One real tracked task through the use case, then n - 1 SQL clones of it."""
    real = tracking.register_document(ctx, tracking.DocumentInput(
        number_symbol="1/QĐ-UBND", issued_on=date(2025, 4, 20), doc_type="quyet_dinh", issuer="UBND tỉnh",
        signer="Chủ tịch", summary="Giao nhiệm vụ (benchmark)"), [tracking.TaskInput(
            content="Rà soát văn bản quy phạm pháp luật", lead_unit="so-tu-phap", expected_output="Báo cáo",
            deadline=date(2025, 5, 30))], actor="cv.hoa")
    src = real.instance_ids[0]
    dialect = ctx.db.engine.dialect.name
    # The clones are made by SQL for setup speed only: 100,000 passes through register_document
    # would take far longer than the measurement. Each clone gets its own process_instances row
    # (a copy of the real instance's state), its own tracked_tasks row and ready_tasks row; what
    # the lists read (unit, lane, name, due date, status) varies with n. They are never advanced.
    with ctx.unit_of_work(readonly=True) as db:
        office = set(access.office_units(db))
        ids = [i for i, code, kind in db.execute(text("SELECT id, code, kind FROM units"))
               if code not in office and kind not in ("ppc", "provincial_office")]
    with ctx.db.engine.begin() as conn:
        base = conn.execute(text("SELECT max(id) FROM process_instances")).scalar()
        now = NOW if dialect == "postgresql" else NOW.strftime("%Y-%m-%d %H:%M:%S")
        params = {"k": n - 1, "src": src, "base": base, "ids": ids, "units": len(ids), "now": now,
                  "doc": real.document_id}

        def run(sql: str) -> None:
            sql = (sql.replace("{s}", SERIES[dialect]).replace("{units}", UNITS).replace("{due}", DUE[dialect])
                   .replace("{deadline}", DEADLINE[dialect]))
            stmt = text(sql).bindparams(bindparam("ids", expanding=True)) if ":ids" in sql else text(sql)
            conn.execute(stmt, params)

        run("""INSERT INTO process_instances (id, definition_id, process_id, status, state_json, started_by,
                   created_at, updated_at, row_version)
               SELECT :base + s.n, p.definition_id, p.process_id, p.status, p.state_json, p.started_by,
                   p.created_at, p.updated_at, 1 FROM process_instances p, {s} WHERE p.id = :src""")
        run(f"""INSERT INTO ready_tasks (instance_id, task_id, bpmn_id, name, lane, assignee, due_at, created_at)
               SELECT :base + s.n, r.task_id,
                   CASE WHEN {SPECIALIST} THEN 'confirm_completion' WHEN (s.n / 10) % 3 = 0 THEN 'review_receipt'
                        WHEN (s.n / 10) % 3 = 1 THEN 'report_completion' ELSE 'handle_return' END,
                   CASE WHEN {SPECIALIST} THEN 'Kiểm tra, xác nhận hoàn thành'
                        WHEN (s.n / 10) % 3 = 0 THEN 'Rà soát, tiếp nhận nhiệm vụ'
                        WHEN (s.n / 10) % 3 = 1 THEN 'Thực hiện, báo cáo kết quả (có thời hạn)'
                        ELSE 'Xử lý nhiệm vụ bị trả lại' END,
                   CASE WHEN {SPECIALIST} THEN 'tracking_specialist' ELSE 'unit_focal_point' END,
                   u.code, CASE WHEN {NO_DEADLINE} THEN NULL ELSE {{due}} END, r.created_at
               FROM {{s}} {{units}} JOIN ready_tasks r ON r.instance_id = :src""")
        # search_text: the content folded as engine.core.search_text.fold writes it.
        run(f"""INSERT INTO tracked_tasks (document_id, content, lead_unit_id, deadline, update_cadence,
                   expected_output, instance_id, status, urge_count, assigned_at, search_text)
               SELECT :doc, 'Nhiệm vụ số ' || s.n || ' giao cho đơn vị', u.id,
                   CASE WHEN {NO_DEADLINE} THEN NULL ELSE {{deadline}} END,
                   CASE WHEN {NO_DEADLINE} THEN 'monthly' END, 'Báo cáo', :base + s.n,
                   CASE WHEN {NO_DEADLINE} THEN 'no_deadline' WHEN (s.n / 7) % 20 = 0 THEN 'awaiting_confirmation'
                        WHEN (s.n / 7) % 20 = 1 THEN 'returned' WHEN (s.n / 7) % 20 = 2 THEN 'completed_on_time'
                        WHEN (s.n / 7) % 20 = 3 THEN 'completed_late' ELSE 'in_progress' END,
                   s.n % 3, t.assigned_at, 'nhiem vu so ' || s.n || ' giao cho don vi'
               FROM {{s}} {{units}} JOIN tracked_tasks t ON t.instance_id = :src""")
        if dialect == "postgresql":
            conn.execute(text("SELECT setval(pg_get_serial_sequence('process_instances', 'id'), "
                              "(SELECT max(id) FROM process_instances))"))
    if dialect == "postgresql":
        # What autovacuum does soon after a bulk insert (statistics, visibility map for index-only
        # scans); measuring before it would time a state production only sees for minutes. SQLite
        # gets no ANALYZE: the application never runs one.
        with ctx.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def run_backend(url: str, tasks: int, n: int) -> tuple[dict, dict]:
    upgrade(url)
    ctx = open_context(Config(database_url=url, deploy_on_start=False), FixedClock(NOW))
    seed_reference_data(ctx)
    deploy_files(ctx, default_bpmn_files(ctx.config), actor="bench")
    started = time.perf_counter()
    populate(ctx, tasks)
    setup_s = time.perf_counter() - started
    with ctx.unit_of_work(readonly=True) as db:
        unit = access.actor_for(db, organisation.user_by_username(db, "dm.sotuphap"))
        office = access.actor_for(db, organisation.user_by_username(db, "cv.hoa"))
    calls = {
        "inbox_unit": lambda: inbox(ctx, unit, page=1, per_page=50),
        "inbox_unit_text": lambda: inbox(ctx, unit, text="báo cáo", page=1, per_page=50),
        "inbox_office": lambda: inbox(ctx, office, page=1, per_page=50),
        "inbox_office_text": lambda: inbox(ctx, office, text="Nhiệm vụ số 123", page=1, per_page=50),
        "list_office": lambda: list_tasks(ctx, None, page=1),
        "list_office_status": lambda: list_tasks(ctx, None, status="awaiting_confirmation", page=1),
        "list_office_text": lambda: list_tasks(ctx, None, text="Nhiệm vụ số 123", page=1),
    }
    totals = {name: call().total for name, call in calls.items()}
    times = {name: measure(call, n) for name, call in calls.items()}
    ctx.db.dispose()
    return times, {"setup_s": round(setup_s, 1), "totals": totals}


def report(backend: str, times: dict, info: dict) -> None:
    print(f"{backend}: setup {info['setup_s']} s")
    for name, t in times.items():
        print(f"  {name:<20} {info['totals'][name]:>7} rows   p50 {t['p50']:>7} ms   p95 {t['p95']:>7} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="tracked tasks (and ready tasks) in the database")
    parser.add_argument("-n", type=int, default=200, help="calls per measurement")
    args = parser.parse_args()
    result = {"tasks": args.tasks, "sqlite_p95_ms": None, "postgres_p95_ms": None}
    with tempfile.TemporaryDirectory() as tmp:
        times, info = run_backend(f"sqlite:///{tmp}/bench.db", args.tasks, args.n)
    report("SQLite", times, info)
    result.update(sqlite_p95_ms=max(t["p95"] for t in times.values()), sqlite=times, sqlite_setup_s=info["setup_s"])
    test_url = os.environ.get("TEST_DATABASE_URL")
    if test_url and make_url(test_url).get_backend_name() == "postgresql":
        url = bench_url(test_url)
        reset_postgres(url)
        times, info = run_backend(url, args.tasks, args.n)
        report("PostgreSQL", times, info)
        result.update(postgres_p95_ms=max(t["p95"] for t in times.values()), postgres=times,
                      postgres_setup_s=info["setup_s"])
    print(f"overall p95: SQLite {result['sqlite_p95_ms']} ms, PostgreSQL {result['postgres_p95_ms']} ms "
          f"(target < 100 ms)")
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
