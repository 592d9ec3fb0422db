"""Task completion over HTTP: the JSON API served by a real WSGI server, one request at a time.

The app (web.create_app) is served on 127.0.0.1 (a free port) by werkzeug's `make_server` with
threaded=False (one request at a time, HTTP/1.1 keep-alive, request log off) in a background
thread of this process; the client is http.client on one kept-alive connection, bearer token of
`dm.sotuphap` (engine.api_tokens). The process is bench/bpmn/three_step_api.bpmn: 3 user tasks in
the lane "Đầu mối đơn vị" assigned to the unit in data "unit", an exclusive gateway and a
boundary timer, no forms. The API has no "start instance" endpoint: each instance is started in
process (engine.instances.start_instance with {"unit": "so-tu-phap"}, not timed), then each of its
3 tasks is found with GET /api/tasks?process=three_step_api (a lookup) and completed with
POST /api/tasks/{instance}/{task}/complete {"data": ..., "row_version": n} (a completion).
`task_complete_p50_ms` / `_p95_ms`: one POST, request sent to response read (every other instance sends
its completions with an Idempotency-Key instead: `keyed_complete_p50_ms`, and `key_cost_ratio` the two
medians' ratio); `lookup_p50_ms`: one
GET; `instance_ms`: median per instance of its 3 lookups + 3 completions over HTTP (start
excluded). SQLite in a temporary file; PostgreSQL (keys prefixed `postgres_`) in its own database
`bench_api`, created next to the one TEST_DATABASE_URL names, when that is set. For comparison,
spiff-arena's backend takes about 120 ms per task completion over HTTP on SQLite on this kind of
machine. Target: task_complete_p50_ms < 15. The last line printed is one JSON object.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import own_database, reset_postgres  # noqa: E402
from sqlalchemy import make_url  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from engine.app.bootstrap import open_context, seed_reference_data  # noqa: E402
from engine.app.migrations import upgrade  # noqa: E402
from engine.core.clock import FixedClock  # noqa: E402
from engine.core.config import Config  # noqa: E402
from engine.process import instances  # noqa: E402
from engine.process.definitions import deploy_bytes  # noqa: E402
from engine.regulation import api_tokens  # noqa: E402
from web import create_app  # noqa: E402

DIAGRAM = ROOT / "bench" / "bpmn" / "three_step_api.bpmn"
PROCESS = "three_step_api"
STEPS = ({}, {"approved": True}, {"comment": "ok"})
DB_NAME = "bench_api"
NOW = datetime(2025, 4, 25, 2, 0, tzinfo=UTC)


class Handler(WSGIRequestHandler):
    """Keep-alive (werkzeug enables HTTP/1.1 only when threaded) and no access log."""

    protocol_version = "HTTP/1.1"

    def log_request(self, *args, **kwargs) -> None:
        pass


class Client:
    """JSON over one kept-alive HTTP connection, with a bearer token."""

    def __init__(self, port: int, token: str):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def call(self, method: str, path: str, body: dict | None = None, key: str | None = None) -> dict:
        headers = dict(self.headers, **({"Idempotency-Key": key} if key else {}))
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = json.loads(response.read())
        if response.status != 200:
            raise SystemExit(f"{method} {path}: HTTP {response.status} {payload}")
        return payload


def run_instance(ctx, client: Client, complete_ms: list, lookup_ms: list, keyed: bool = False) -> float:
    """Start one instance in process, then find and complete its 3 tasks over HTTP; ms over HTTP. `keyed`:
    each completion carries an Idempotency-Key (a lookup of the key, its row, the answer kept)."""
    view = instances.start_instance(ctx, PROCESS, {"unit": "so-tu-phap"}, actor="dm.sotuphap")
    version, body, started = view.row_version, None, time.perf_counter()
    for data in STEPS:
        t0 = time.perf_counter()
        page = client.call("GET", f"/api/tasks?process={PROCESS}&per_page=10")
        t1 = time.perf_counter()
        task = next(i for i in page["items"] if i["instance_id"] == view.id)
        body = client.call("POST", f"/api/tasks/{view.id}/{task['task_id']}/complete",
                           {"data": data, "row_version": version}, key=uuid.uuid4().hex if keyed else None)
        t2 = time.perf_counter()
        lookup_ms.append((t1 - t0) * 1000)
        complete_ms.append((t2 - t1) * 1000)
        version = body["row_version"]
    elapsed = (time.perf_counter() - started) * 1000
    if body["status"] != "completed":
        raise SystemExit(f"instance {view.id} ended {body['status']}, expected completed")
    return elapsed


def run_backend(url: str, n: int, warmup: int) -> dict:
    upgrade(url)
    ctx = open_context(Config(database_url=url, deploy_on_start=False, secret_key="bench"), FixedClock(NOW))
    seed_reference_data(ctx)
    deploy_bytes(ctx, DIAGRAM.read_bytes(), DIAGRAM.name, actor="bench")
    token = api_tokens.issue(ctx, "dm.sotuphap", "bench", actor="admin").token
    app = create_app(ctx, {"SECRET_KEY": "bench"})
    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=Handler)
    thread = threading.Thread(target=server.serve_forever, name="wsgi", daemon=True)
    thread.start()
    client = Client(server.server_port, token)
    try:
        for _ in range(warmup):
            run_instance(ctx, client, [], [])
        complete_ms, keyed_ms, lookup_ms = [], [], []
        # Every other instance with keys, so that both kinds share the run's moments of noise.
        per_instance = [run_instance(ctx, client, keyed_ms if i % 2 else complete_ms, lookup_ms, keyed=bool(i % 2))
                        for i in range(n)]
    finally:
        client.conn.close()  # the single-threaded server serves one connection until it closes
        server.shutdown()
        thread.join()
        server.server_close()
        ctx.db.dispose()
    return {
        "task_complete_p50_ms": round(statistics.median(complete_ms), 2),
        "task_complete_p95_ms": round(statistics.quantiles(complete_ms, n=100)[94], 2),
        "keyed_complete_p50_ms": round(statistics.median(keyed_ms), 2),
        "key_cost_ratio": round(statistics.median(keyed_ms) / statistics.median(complete_ms), 2),
        "instance_ms": round(statistics.median(per_instance), 2),
        "lookup_p50_ms": round(statistics.median(lookup_ms), 2),
    }


def bench_url(test_url: str) -> str:
    """The benchmark's own database on the same server (see bench/common.py)."""
    return own_database(test_url, DB_NAME)


def report(backend: str, r: dict) -> None:
    print(f"{backend}: complete p50 {r['task_complete_p50_ms']} ms, p95 {r['task_complete_p95_ms']} ms; "
          f"with an Idempotency-Key p50 {r['keyed_complete_p50_ms']} ms (x{r['key_cost_ratio']}); "
          f"lookup p50 {r['lookup_p50_ms']} ms; 3 lookups + 3 completions {r['instance_ms']} ms per instance")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="instances measured per backend")
    parser.add_argument("--warmup", type=int, default=20, help="instances run first, not measured")
    args = parser.parse_args()
    result = {"instances": args.n}
    with tempfile.TemporaryDirectory() as tmp:
        result.update(run_backend(f"sqlite:///{tmp}/bench.db", args.n, args.warmup))
    report("SQLite", result)
    test_url = os.environ.get("TEST_DATABASE_URL")
    if test_url and make_url(test_url).get_backend_name() == "postgresql":
        url = bench_url(test_url)
        reset_postgres(url)
        postgres = run_backend(url, args.n, args.warmup)
        report("PostgreSQL", postgres)
        result.update({f"postgres_{k}": v for k, v in postgres.items()})
    print(f"target task_complete_p50_ms < 15 (spiff-arena: about 120 ms on SQLite): "
          f"{'met' if result['task_complete_p50_ms'] < 15 else 'NOT met'} on SQLite")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
