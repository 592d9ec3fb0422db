"""The benchmarks' own diagrams still deploy under the engine's contract: bench/api.py once stopped at
its start because a rule added later (a lane names its role) refused its diagram, and nothing ran it."""
from __future__ import annotations

from pathlib import Path

import pytest

from engine.process.definitions import deploy_bytes

BENCH_DIAGRAMS = sorted((Path(__file__).resolve().parents[1] / "bench" / "bpmn").glob("*.bpmn"))


@pytest.mark.parametrize("path", BENCH_DIAGRAMS, ids=lambda p: p.name)
def test_each_benchmark_diagram_deploys(ctx, path):
    deployed = deploy_bytes(ctx, path.read_bytes(), path.name, actor="bench")
    assert deployed and all(d.created and d.version == 1 for d in deployed)
