"""bench/dashboard.py runs: a small database (2,000 tasks, SQLite) built and measured, its last line the JSON
the issue asks for. The 200,000-task run is for a person to start (docs/dashboard.md)."""
from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import ROOT


def test_the_benchmark_runs_small():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "dashboard.py"), "--tasks", "2000", "--n", "3",
                           "--no-postgres"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["tasks"] == 2000 and result["sqlite_p95_ms"] > 0
    assert set(result["sqlite"]) >= {"province_dashboard", "unit_quarterly_report"}
