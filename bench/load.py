"""The product under load: `python -m engine serve` (gunicorn and timer workers) on PostgreSQL, many staff.

In its own PostgreSQL database `bench_load` (created next to the one TEST_DATABASE_URL names, or on
postgres@127.0.0.1:5432, and emptied first): the demo province (about 200 tasks over 150 days), plus
--extra-tasks tasks registered for the units' focal points, a quarter of them with a deadline already
past so that their timers are due from the start. Then `engine serve` with --web gunicorn workers and
--timers timer workers on 127.0.0.1, and --users simulated staff (bench/load_staff.py: closed loop,
think time up to --think seconds, threads in --client-processes processes) for --seconds: inbox, open a
task, complete it, record progress, file feedback, register documents whose timers fall due, read
notifications. Localhost only; bounded in count and time.

With --faults, during the run: a timer worker is killed (kill -9) at a quarter of the time, a gunicorn
worker at half, and at three quarters every connection of the database is terminated by PostgreSQL
(pg_terminate_backend), then, with --restart-postgres, PostgreSQL itself is restarted.

Afterwards, in the database: no step completed twice (audit log), no acknowledged completion, progress
update, feedback or document missing (`lost_updates`), no armed timer fired twice (`double_fired`,
from the timer ids each firing records), and `python -m engine check` finds no instance whose query
tables disagree with its workflow (`consistency_problems`). Latency is what the clients measured (HTTP
included), over every attempt, and `server_*` what the server's request lines say (time in the app);
`errors` are requests whose last attempt, after the retries the API allows (a 503 with Retry-After), was
answered 5xx, 4xx other than 409 (a colleague was first) or not at all; `retried` are attempts answered 503
or not at all and tried again (a write with the same Idempotency-Key); `replayed`, writes that were done
but whose answer was lost, answered again from the key instead of done twice. Each attempt carries an
X-Request-Id, so the slowest 1 % are split into the time before the app started on them (connection, a
free worker, a core), in it, and after it. Last line: JSON.
"""
from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import own_database, reset_postgres  # noqa: E402
from load_staff import Outcome, Staff  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from engine.app.bootstrap import prepare  # noqa: E402
from engine.core.config import Config  # noqa: E402
from engine.regulation import api_tokens, tracking  # noqa: E402

DB_NAME = "bench_load"
# Who the simulated staff are, by share: unit focal points work most; districts also file feedback.
FOCAL_POINTS = ["dm.sotuphap", "dm.sotaichinh", "dm.sokhdt", "dm.sotnmt", "dm.sonnptnt", "dm.stp.xdktvb",
                "dm.tpbt.qldt", "dm.ttbatri", "dm.tanxuan", "dm.phuong7", "dm.congan"]
DISTRICTS = ["dm.tpbentre", "dm.batri", "dm.chauthanh"]
SPECIALISTS = ["cv.hoa", "cv.minh", "cv.tuan"]
LEADERS = ["ld.vanphong", "ld.ubndtinh"]
UNITS = ["so-tu-phap", "so-tai-chinh", "so-ke-hoach-dau-tu", "so-tai-nguyen-moi-truong", "so-nong-nghiep-ptnt",
         "cong-an-tinh", "tp-ben-tre", "huyen-ba-tri", "huyen-chau-thanh"]


def main() -> None:
    args = _arguments()
    admin_url = os.environ.get("TEST_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    url = own_database(admin_url, DB_NAME)
    reset_postgres(url)
    files = Path(tempfile.mkdtemp(prefix="bench-load-"))
    began = time.perf_counter()
    tokens = _prepare(url, files, args)
    print(f"prepared: demo province, {args.extra_tasks} more tasks, {len(tokens)} staff tokens "
          f"in {time.perf_counter() - began:.0f} s", flush=True)
    port = _free_port()
    server, log_path = _start(url, files, port, args)
    try:
        _wait_ready(port, 180)
        started = time.monotonic()
        until = started + args.seconds
        faults = threading.Thread(target=_faults, args=(server.pid, url, started, args)) if args.faults else None
        if faults:
            faults.start()
        outcome = _run_staff(port, tokens, until, args)
        if faults:
            faults.join()
        elapsed = time.monotonic() - started
        _settle(url, 30)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    _report(url, outcome, elapsed, log_path, args)


def _run_staff(port: int, tokens: list[tuple[str, str]], until: float, args) -> Outcome:
    """The staff in --client-processes processes (threads in each), so that the clients' own interpreter lock
    does not queue their requests and inflate the latency they measure; their outcomes merged."""
    groups = [[(seed, *tokens[seed]) for seed in range(i, len(tokens), args.client_processes)]
              for i in range(args.client_processes)]
    with ProcessPoolExecutor(args.client_processes, mp_context=multiprocessing.get_context("fork")) as pool:
        parts = list(pool.map(_staff_process, [(port, group, args.think, until) for group in groups]))
    merged = Outcome()
    for part in parts:
        for name, values in part.items():
            getattr(merged, name).extend(values)
    return merged


def _staff_process(job) -> dict:
    port, group, think, until = job
    outcome = Outcome()
    threads = [threading.Thread(target=Staff("127.0.0.1", port, token, role, outcome, seed, think, UNITS).run,
                                args=(until,)) for seed, token, role in group]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {name: getattr(outcome, name)
            for name in ("requests", "traces", "calls", "completions", "progress", "feedback", "documents")}


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--think", type=float, default=3.0,
                        help="most seconds a staff member waits between requests (0.5: saturation)")
    parser.add_argument("--client-processes", type=int, default=5, help="processes the staff threads run in")
    parser.add_argument("--web", type=int, default=4)
    parser.add_argument("--timers", type=int, default=2)
    parser.add_argument("--extra-tasks", type=int, default=400)
    parser.add_argument("--faults", action="store_true")
    parser.add_argument("--restart-postgres", action="store_true", help="with --faults: restart the server too")
    return parser.parse_args()


def _prepare(url: str, files: Path, args) -> list[tuple[str, str]]:
    ctx = prepare(Config(database_url=url, demo_data=True, attachments_dir=files / "attachments"))
    rng, today = random.Random(15), date.today()
    try:
        for start in range(0, args.extra_tasks, 20):
            tracking.register_document(ctx, tracking.DocumentInput(
                number_symbol=f"{9000 + start}/QĐ-UBND", issued_on=today - timedelta(days=30), doc_type="quyet_dinh",
                issuer="UBND tỉnh Bến Tre", signer="Chủ tịch UBND tỉnh", summary="Giao nhiệm vụ (tải thử)"), [
                tracking.TaskInput(content=f"Nhiệm vụ tải thử số {start + i}", lead_unit=rng.choice(UNITS),
                                   expected_output="Báo cáo kết quả",
                                   deadline=today + timedelta(days=rng.choice([-10, -2, 5, 20, 60, 120])))
                for i in range(min(20, args.extra_tasks - start))], actor="cv.hoa")
        people = ([("unit_focal_point", u) for u in FOCAL_POINTS] + [("district", u) for u in DISTRICTS]
                  + [("tracking_specialist", u) for u in SPECIALISTS] + [("leader", u) for u in LEADERS])
        weights = [6] * len(FOCAL_POINTS) + [5] * len(DISTRICTS) + [4] * len(SPECIALISTS) + [2] * len(LEADERS)
        chosen = rng.choices(people, weights=weights, k=args.users)
        return [(api_tokens.issue(ctx, username, f"load {i}", actor="bench").token, role)
                for i, (role, username) in enumerate(chosen)]
    finally:
        ctx.db.dispose()


def _start(url: str, files: Path, port: int, args) -> tuple[subprocess.Popen, Path]:
    log_path = files / "serve.log"
    env = {**os.environ, "DATABASE_URL": url, "ATTACHMENTS_DIR": str(files / "attachments"), "DEMO_DATA": "0",
           "WEB_WORKERS": str(args.web), "TIMER_WORKERS": str(args.timers), "BIND": f"127.0.0.1:{port}",
           "TIMER_POLL_SECONDS": "1", "LOG_FORMAT": "json"}
    with open(log_path, "w") as log:
        server = subprocess.Popen([sys.executable, "-m", "engine", "serve"], cwd=ROOT, env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
    return server, log_path


def _faults(serve_pid: int, url: str, started: float, args) -> None:
    """Kill a timer worker, then a web worker, then every database connection (and PostgreSQL itself)."""
    steps = [(0.25, lambda: _kill_child(serve_pid, "engine worker")),
             (0.5, lambda: _kill_child(_child(serve_pid, "gunicorn"), "gunicorn")),
             (0.75, lambda: _terminate_connections(url, args.restart_postgres))]
    for share, step in steps:
        time.sleep(max(0.0, started + share * args.seconds - time.monotonic()))
        print(f"fault at {time.monotonic() - started:.0f} s: {step()}", flush=True)


def _child(parent: int, pattern: str) -> int:
    out = subprocess.run(["pgrep", "-P", str(parent), "-f", pattern], capture_output=True, text=True).stdout.split()
    return int(out[0])


def _kill_child(parent: int, pattern: str) -> str:
    pid = _child(parent, pattern)
    os.kill(pid, signal.SIGKILL)
    return f"kill -9 {pattern} {pid}"


def _terminate_connections(url: str, restart: bool) -> str:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        ended = connection.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                        "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    engine.dispose()
    said = f"terminated {ended} database connections"
    if restart:
        version = sorted(os.listdir("/etc/postgresql"))[0]
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
        said += "; restarted PostgreSQL"
    return said


def _settle(url: str, seconds: float) -> None:
    """Give the timer workers time to fire what fell due during the run."""
    engine = create_engine(url)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if not connection.execute(text("SELECT count(*) FROM waiting_timers WHERE due_at < now()")).scalar():
                break
        time.sleep(1)
    engine.dispose()


def _report(url: str, outcome: Outcome, elapsed: float, log_path: Path, args) -> None:
    times = sorted(ms for _, _, ms in outcome.requests)
    statuses = collections.Counter(status for _, status, _ in outcome.requests)
    errors = sum(1 for _, status in outcome.calls if status not in (200, 201, 409))
    retried = (statuses.get(503, 0) + statuses.get(0, 0)
               - sum(1 for _, status in outcome.calls if status in (0, 503)))
    by_route = collections.defaultdict(list)
    for what, _, ms in outcome.requests:
        by_route[what].append(ms)
    invariants = _invariants(url, outcome)
    lines = _server_lines(log_path)
    served = sorted(duration for _, duration in lines.values())
    check = _consistency(url)
    for what, values in sorted(by_route.items()):
        values.sort()
        print(f"{what:16s} n={len(values):6d} p50={_pct(values, 50):7.1f} ms p95={_pct(values, 95):7.1f} ms "
              f"p99={_pct(values, 99):7.1f} ms")
    print(f"statuses: {dict(sorted(statuses.items()))}; acknowledged: completions={len(outcome.completions)} "
          f"progress={len(outcome.progress)} feedback={len(outcome.feedback)} documents={len(outcome.documents)}")
    print(f"timers fired during the run: {invariants['timers_fired']}; consistency check: {check}")
    print(f"server log (JSON lines): {log_path}")
    print(_outside_the_app(outcome.traces, lines))
    print(json.dumps({
        "users": args.users, "seconds": round(elapsed, 1), "web_workers": args.web, "timer_workers": args.timers,
        "faults": args.faults, "requests": len(times), "errors": errors, "retried": retried,
        "replayed": outcome.replayed, "conflicts": statuses.get(409, 0),
        "rps": round(len(times) / elapsed, 1), "p50_ms": round(_pct(times, 50), 1),
        "p95_ms": round(_pct(times, 95), 1), "p99_ms": round(_pct(times, 99), 1),
        "server_p50_ms": round(_pct(served, 50), 1), "server_p95_ms": round(_pct(served, 95), 1),
        "server_p99_ms": round(_pct(served, 99), 1),
        "lost_updates": invariants["lost_updates"], "double_fired": invariants["double_fired"],
        "completed_twice": invariants["completed_twice"], "consistency_problems": check}))


def _server_lines(log_path: Path) -> dict[str, tuple[float, float]]:
    """Request id -> (wall time the app answered, milliseconds inside the app), from the server's JSON request
    lines (web/request_log.py): without the clients' own waiting nor gunicorn's queue."""
    found = {}
    with open(log_path) as log:
        for line in log:
            if line.startswith("{") and '"event": "request"' in line:
                entry = json.loads(line)
                answered = datetime.fromisoformat(entry["time"]).timestamp()
                found[entry["request_id"]] = (answered, entry["duration_ms"])
    return found


def _outside_the_app(traces: list[tuple[str, float, float]], lines: dict[str, tuple[float, float]]) -> str:
    """Where the slowest 1 % of the requests the server logged spent their time: before the app started on
    them (connection, gunicorn's queue, a core), in the app, after it (response, the client's own process)."""
    split = []
    for request_id, sent, received in traces:
        if request_id in lines:
            answered, in_app = lines[request_id]
            started = answered - in_app / 1000
            split.append(((received - sent) * 1000, (started - sent) * 1000, in_app, (received - answered) * 1000))
    if not split:
        return "no request matched a server line"
    split.sort()
    slowest = split[-max(1, len(split) // 100):]
    before, in_app, after = (statistics.mean(parts[i] for parts in slowest) for i in (1, 2, 3))
    total = statistics.mean(t for t, *_ in slowest)
    return (f"slowest 1 % ({len(slowest)} of {len(split)} matched): mean {total:.0f} ms"
            f" = {before:.0f} ms before the app + {in_app:.0f} ms in it + {after:.0f} ms after it")


def _invariants(url: str, outcome: Outcome) -> dict:
    engine = create_engine(url)
    with engine.connect() as c:
        done = collections.Counter((i, t) for i, t in c.execute(text(
            "SELECT instance_id, task_id FROM audit_log WHERE action = 'complete_task'")))
        fired = [json.loads(s) if isinstance(s, str) else s for s in c.execute(text(
            "SELECT summary FROM audit_log WHERE action = 'timer_fired'")).scalars()]
        present = {table: set(c.execute(text(f"SELECT id FROM {table}")).scalars())
                   for table in ("progress_updates", "feedbacks", "documents")}
    engine.dispose()
    armed = collections.Counter(t for s in fired for t in (s or {}).get("timer_tasks", []))
    lost = (sum(1 for key in outcome.completions if done[tuple(key)] == 0)
            + len(set(outcome.progress) - present["progress_updates"])
            + len(set(outcome.feedback) - present["feedbacks"]) + len(set(outcome.documents) - present["documents"]))
    return {"completed_twice": sum(1 for n in done.values() if n > 1), "lost_updates": lost,
            "double_fired": sum(n - 1 for n in armed.values() if n > 1), "timers_fired": len(fired)}


def _consistency(url: str) -> int:
    """Disagreements `python -m engine check` finds between the workflows and the query tables."""
    run = subprocess.run([sys.executable, "-m", "engine", "check", "--json"], cwd=ROOT, capture_output=True,
                         text=True, env={**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    try:
        found = json.loads(run.stdout)
    except ValueError:
        raise SystemExit(f"engine check failed: {run.stderr[-2000:]}") from None
    return len(found["disagreements"])


def _pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 else values[0]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server was not ready after {seconds} s")


if __name__ == "__main__":
    main()
