"""The audit log at a million rows: server time of the audit page's queries, first page and a deep page.

Per backend (SQLite in a temporary file; PostgreSQL in its own database `bench_audit`, created next to the
one TEST_DATABASE_URL names, when that is set): migrate, seed reference data, deploy processes/*.bpmn, add
--instances process instances by SQL (spread over the deployed processes), then bulk-insert --rows audit
entries (SQLite: executemany in batches; PostgreSQL: COPY) over two years: actors are the seeded users
(weighted; 1 in 10 "system"), actions weighted as a working log is (many task completions and sign-ins,
few password or unit changes), 7 in 10 entries on an instance.
Measured in process (server time, no HTTP) through engine.read.audit_queries.search, N calls each after a
warm-up, page size 50: for each filter, the first page, and a deep page (the page after the entry 90% of the
way down the filter's rows, as following `next` that far would reach; the key is found once by OFFSET, in
the benchmark only). Filters: none; one person (dm.sotuphap); one common action (complete_task); one rare
action (password_set); one unit (Sở Tư pháp, its people); one procedure
(task_followup, through its instances); a procedure no entry has (the worst case: the whole log is read to
find none); one month; unit and action together. Also the time to stream one person's CSV rows
(audit_queries.export). PostgreSQL gets VACUUM ANALYZE after the load (as autovacuum would); SQLite gets no
ANALYZE (the application never runs one). The last line printed is one JSON object.

    .venv/bin/python bench/audit.py [--rows 1000000] [--n 30]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import own_database, reset_postgres, timings  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from engine.app.bootstrap import default_bpmn_files, open_context, seed_reference_data  # noqa: E402
from engine.app.migrations import upgrade  # noqa: E402
from engine.core.audit import AuditEntry  # noqa: E402
from engine.core.clock import FixedClock  # noqa: E402
from engine.core.config import Config  # noqa: E402
from engine.process.definitions import deploy_files  # noqa: E402
from engine.process.tables import DefinitionVersion  # noqa: E402
from engine.read import audit_queries  # noqa: E402
from engine.read.audit_queries import AuditFilter  # noqa: E402
from engine.regulation.organisation import User  # noqa: E402

DB_NAME = "bench_audit"
NOW = datetime(2025, 4, 25, 2, 0, tzinfo=UTC)
START = NOW - timedelta(days=730)
ACTIONS = {"complete_task": 30, "sign_in": 25, "start": 8, "timer_fired": 12, "sign_out": 10, "claim_taken_over": 3,
           "task_delegated": 3, "sign_in_failed": 3, "document_registered": 2, "attachment_added": 3,
           "timer_rearmed": 1, "user_changed": 0.05, "password_set": 0.02, "unit_moved": 0.01}
FILTERS = {
    "all": AuditFilter(),
    "person": AuditFilter(actor="dm.sotuphap"),
    "action_common": AuditFilter(action="complete_task"),
    "action_rare": AuditFilter(action="password_set"),
    "unit": AuditFilter(unit="so-tu-phap"),
    "process": AuditFilter(process="task_followup"),
    "process_none": AuditFilter(process="no_such_process"),  # the worst case: no entry matches
    "month": audit_queries.make_filter(start="2024-11-01", end="2024-11-30"),
    "unit_action": AuditFilter(unit="so-tu-phap", action="complete_task"),
}


def prepare(url: str, rows: int, instances: int) -> object:
    """A context on a database holding the reference data, the shipped diagrams, instances and `rows` entries."""
    upgrade(url)
    ctx = open_context(Config(database_url=url, deploy_on_start=False, demo_data=True), FixedClock(NOW))
    seed_reference_data(ctx)
    deploy_files(ctx, default_bpmn_files(ctx.config))
    with ctx.unit_of_work() as session:
        definitions = session.execute(select(DefinitionVersion.id, DefinitionVersion.process_id)).all()
        users = list(session.scalars(select(User.username).order_by(User.username)))
        session.execute(text(
            "INSERT INTO process_instances (definition_id, process_id, status, state_json, started_by, created_at, "
            "updated_at, row_version) VALUES (:d, :p, 'running', '{}', 'bench', :t, :t, 1)"),
            [{"d": definitions[i % len(definitions)].id, "p": definitions[i % len(definitions)].process_id,
              "t": START} for i in range(instances)])
        first_instance = session.scalar(text("SELECT min(id) FROM process_instances"))
    started = time.perf_counter()
    _bulk_insert(ctx, url, _entries(rows, users, first_instance, instances))
    loaded = time.perf_counter() - started
    if url.startswith("postgresql"):
        with ctx.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    print(f"{url.split(':')[0]}: {rows} audit rows loaded in {loaded:.1f} s", flush=True)
    return ctx


def _entries(rows: int, users: list[str], first_instance: int, instances: int):
    rng = random.Random(12)
    weights = [5 if u.startswith(("dm.", "cv.")) else 1 for u in users]
    actions, action_weights = list(ACTIONS), list(ACTIONS.values())
    span = (NOW - START).total_seconds()
    for n in range(rows):
        at = START + timedelta(seconds=span * n / rows + rng.random())  # in time order, as a log is written
        actor = "system" if rng.random() < 0.1 else rng.choices(users, weights)[0]
        action = rng.choices(actions, action_weights)[0]
        instance = first_instance + rng.randrange(instances) if rng.random() < 0.7 else None
        yield at, actor, action, instance


def _bulk_insert(ctx, url: str, entries) -> None:
    raw = ctx.db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if url.startswith("postgresql"):
            with cursor.copy("COPY audit_log (at, actor, action, instance_id, summary) FROM STDIN") as copy:
                for at, actor, action, instance in entries:
                    copy.write_row((at, actor, action, instance, "{}"))
        else:
            batch = []
            for at, actor, action, instance in entries:
                # The format UTCDateTime writes on SQLite: naive UTC with microseconds.
                batch.append((at.strftime("%Y-%m-%d %H:%M:%S.%f"), actor, action, instance, "{}"))
                if len(batch) == 50_000:
                    cursor.executemany("INSERT INTO audit_log (at, actor, action, instance_id, summary) "
                                       "VALUES (?, ?, ?, ?, ?)", batch)
                    batch = []
            if batch:
                cursor.executemany("INSERT INTO audit_log (at, actor, action, instance_id, summary) "
                                   "VALUES (?, ?, ?, ?, ?)", batch)
        raw.commit()
    finally:
        raw.close()


def deep_key(ctx, wanted: AuditFilter) -> tuple[str | None, int]:
    """The key 90% of the way down the filter's rows (found by OFFSET here only), and how many rows match."""
    with ctx.unit_of_work(readonly=True) as session:
        where, _ = audit_queries._where(session, wanted)
        a = audit_queries._A
        total = session.scalar(select(func.count()).select_from(AuditEntry.__table__).where(*where))
        row = session.execute(select(a.id, a.at).where(*where).order_by(a.at.desc(), a.id.desc())
                              .offset(int(total * 0.9)).limit(1)).first()
    return (f"{row.at.isoformat()}_{row.id}" if row else None), total


def measure(ctx, n: int) -> dict:
    """p50 and p95 (ms) of the first and the deep page of each filter; the CSV stream of one person."""
    out = {}
    for name, wanted in FILTERS.items():
        key, total = deep_key(ctx, wanted)
        first = timings(lambda w=wanted: audit_queries.search(ctx, w), n, 3)
        deep = timings(lambda w=wanted, k=key: audit_queries.search(ctx, w, k), n, 3)
        out[name] = {"rows": total, "first_p50": _p(first, 50), "first_p95": _p(first, 95),
                     "deep_p50": _p(deep, 50), "deep_p95": _p(deep, 95)}
        print(f"  {name:14} {total:>8} rows  first p50 {out[name]['first_p50']:7.2f} p95 "
              f"{out[name]['first_p95']:7.2f} ms   deep p50 {out[name]['deep_p50']:7.2f} p95 "
              f"{out[name]['deep_p95']:7.2f} ms", flush=True)
    started = time.perf_counter()
    exported = sum(1 for _ in audit_queries.export(ctx, FILTERS["person"], limit=1_000_000))
    out["export_person"] = {"rows": exported, "seconds": round(time.perf_counter() - started, 2)}
    print(f"  export of one person's {exported} rows: {out['export_person']['seconds']} s", flush=True)
    return out


def _p(values: list[float], q: int) -> float:
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--instances", type=int, default=20_000)
    parser.add_argument("--n", type=int, default=30)
    args = parser.parse_args()
    results = {"rows": args.rows, "n": args.n}
    with tempfile.TemporaryDirectory() as tmp:
        ctx = prepare(f"sqlite:///{tmp}/audit.db", args.rows, args.instances)
        results["sqlite"] = measure(ctx, args.n)
        ctx.db.dispose()
    test_url = os.environ.get("TEST_DATABASE_URL")
    if test_url:
        url = own_database(test_url, DB_NAME)
        reset_postgres(url)
        ctx = prepare(url, args.rows, args.instances)
        results["postgresql"] = measure(ctx, args.n)
        ctx.db.dispose()
    for backend in ("sqlite", "postgresql"):
        if backend in results:
            results[f"{backend}_p95_ms"] = max(max(v["first_p95"], v["deep_p95"]) for k, v in results[backend].items()
                                               if k != "export_person")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
