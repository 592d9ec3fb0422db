"""Server time of the dashboard pages (issue 14) on 200,000 tracked tasks with two years of history.

Per backend: SQLite in a temporary file; PostgreSQL in its own database `bench_dashboard` on the server
TEST_DATABASE_URL names (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres), created, filled
and dropped at the end. The data: bench/dashboard_data.py (documents, tracked tasks of the shipped
organisation's units over two years in every status category, progress updates, urge counts, one
task_followup instance per task and its audit-log rows), bulk inserted.

Measured: the server time of the query functions behind each page (no HTTP, no template: the page's
data as its view asks for it), n runs after 2 warm-up runs, p50 and p95 in ms:

- province_dashboard: engine.read.dashboard.dashboard(ctx, <root unit>, None): this quarter, every unit;
- unit_quarterly_report: a district's quarterly report (engine.read.period_reports.period_report when
  present, else statistics.count_by_unit over its subtree for the quarter, as the reporting rounds count);
- and whatever PAGES gains below (the heatmap of task_followup: its helper adds it there).

The last line printed is one JSON object: tasks, n, per backend the figures of each page, and
sqlite_p95_ms / postgres_p95_ms (the slowest page's p95). Target: under 300 ms on both.

    .venv/bin/python bench/dashboard.py [--tasks 200000] [--n 20] [--no-postgres]

Run time at 200,000 tasks: about 4 minutes to build each database on the 2-core machine, then a few seconds
a page; --tasks 2000 runs in well under a minute (tests/test_dashboard_bench.py runs it so).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import timings  # noqa: E402
from dashboard_data import NOW, build  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from engine.read import dashboard  # noqa: E402
from engine.regulation import statistics as counts  # noqa: E402
from engine.worktime import timer_settings  # noqa: E402
from engine.worktime.calendar import TZ  # noqa: E402
from engine.worktime.periods import Cadence, period_containing  # noqa: E402

DB_NAME = "bench_dashboard"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
UNIT = "huyen-ba-tri"  # a district with sub-units and communes


def province_dashboard(ctx):
    """The province's dashboard as its page asks for it (this quarter)."""
    with ctx.unit_of_work(readonly=True) as session:
        root = dashboard.root_unit(session)
    return dashboard.dashboard(ctx, root, None)


def unit_quarterly_report(ctx):
    """A district's report for this quarter: the reports helper's function when there, else the count itself."""
    quarter = period_containing(Cadence.QUARTERLY, NOW.astimezone(TZ).date())
    try:
        from engine.read import period_reports
    except ImportError:
        period_reports = None
    if period_reports is not None and hasattr(period_reports, "period_report"):
        return period_reports.period_report(ctx, UNIT, quarter)
    with ctx.unit_of_work(readonly=True) as session:
        ids = dashboard.scope(session, UNIT).ids
        nearly = timer_settings.get(session, "deadline_reminder").value
        return counts.count_by_unit(session, ids, quarter.data_from, quarter.data_to, ctx.now(),
                                    ctx.calendars.get(session), nearly)


# The pages measured, by name: each a function of the context. ---- HEATMAP: add the heatmap of
# task_followup here (e.g. PAGES["heatmap_task_followup"] = heatmap_task_followup) ----
PAGES = {
    "province_dashboard": province_dashboard,
    "unit_quarterly_report": unit_quarterly_report,
}
# The heatmap of task_followup for the province this quarter (bench/heatmap_data.py derives the step waits it
# reads from the generated audit rows on its first, warm-up, call).
from heatmap_data import heatmap_task_followup  # noqa: E402

PAGES["heatmap_task_followup"] = heatmap_task_followup


def measure(ctx, n: int) -> dict:
    """p50 and p95 (ms) of each page."""
    out = {}
    for name, page in PAGES.items():
        times = timings(lambda p=page: p(ctx), n, 2)
        out[name] = {"p50": _p(times, 50), "p95": _p(times, 95)}
        print(f"  {name:24} p50 {out[name]['p50']:8.1f} ms   p95 {out[name]['p95']:8.1f} ms", flush=True)
    return out


def _p(values: list[float], q: int) -> float:
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1)


def _timed_build(url: str, tasks: int):
    import time

    started = time.perf_counter()
    ctx = build(url, tasks)
    print(f"{url.split(':')[0]}: {tasks} tasks built in {time.perf_counter() - started:.0f} s", flush=True)
    return ctx


def _postgres(server_url: str, tasks: int, n: int) -> dict:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{DB_NAME}"'))
    try:
        ctx = _timed_build(make_url(server_url).set(database=DB_NAME).render_as_string(hide_password=False), tasks)
        try:
            return measure(ctx, n)
        finally:
            ctx.db.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200_000)
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    results: dict = {"tasks": args.tasks, "n": args.n, "as_of": NOW.isoformat(), "measured": "query functions"}
    with tempfile.TemporaryDirectory() as tmp:
        ctx = _timed_build(f"sqlite:///{tmp}/dashboard.db", args.tasks)
        results["sqlite"] = measure(ctx, args.n)
        ctx.db.dispose()
    if not args.no_postgres:
        server = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG
        results["postgresql"] = _postgres(make_url(server).set(database="postgres").render_as_string(
            hide_password=False), args.tasks, args.n)
    for backend, key in (("sqlite", "sqlite_p95_ms"), ("postgresql", "postgres_p95_ms")):
        if backend in results:
            results[key] = max(page["p95"] for page in results[backend].values())
    print(json.dumps(results, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
