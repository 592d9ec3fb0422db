"""bench/load.py runs, small: a few staff for a few seconds against `engine serve` (gunicorn and a timer
worker) on PostgreSQL, and its invariants hold: no error, nothing lost, no timer fired twice, no step done
twice, the consistency check clean. The 50-staff, 2-minute run is for a person to start (README, Capacity)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT


def test_the_load_benchmark_runs_small_and_its_invariants_hold():
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("TEST_DATABASE_URL is not set")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), "--users", "8", "--seconds", "10",
                           "--think", "1", "--extra-tasks", "40", "--client-processes", "2", "--web", "2",
                           "--timers", "1"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["requests"] > 20 and result["p99_ms"] > 0 and result["server_p99_ms"] > 0
    assert (result["errors"], result["lost_updates"], result["double_fired"], result["completed_twice"],
            result["consistency_problems"]) == (0, 0, 0, 0, 0), result
    assert "slowest 1 %" in done.stdout  # the client's attempts matched the server's request lines
