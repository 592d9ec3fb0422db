"""Cost of checking a diagram where the analyst looks: the workbench's "Check" and the deploy's checks,
against SpiffWorkflow parsing the same file with its own validator (the least any engine does).

For task_followup.bpmn (the shipped procedure, 9 KB) and a generated chain of N user tasks in a lane
(about 190 KB at N=400): (a) raw: SpiffWorkflow's parser with its XSD validator, get_spec; (b)
validate_bpmn (safe XML, XSD, parse, unsupported elements, sandboxed expressions); (c) check_draft:
(b) plus the diagram contract, forms, settings and the modelling lint. Medians; the last line is JSON.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common import timings  # noqa: E402
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser  # noqa: E402

from engine.app.bootstrap import prepare  # noqa: E402
from engine.bpmn.validation import validate_bpmn  # noqa: E402
from engine.core.config import Config  # noqa: E402
from engine.process.definitions import check_draft  # noqa: E402

FORMS = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "processes" / "forms").glob("*.json")}


def chain(n: int) -> bytes:
    """A process of n user tasks in one lane with a role, each with the receipt review's form."""
    form = "task_followup.review_receipt.schema.json"
    tasks = "".join(
        f'<bpmn:userTask id="t{i}" name="Bước {i}"><bpmn:extensionElements><spiffworkflow:properties>'
        f'<spiffworkflow:property name="formJsonSchemaFilename" value="{form}" /></spiffworkflow:properties>'
        f'</bpmn:extensionElements></bpmn:userTask>'
        f'<bpmn:sequenceFlow id="f{i}" sourceRef="{"s" if i == 0 else f"t{i - 1}"}" targetRef="t{i}" />'
        for i in range(n))
    refs = "".join(f"<bpmn:flowNodeRef>t{i}</bpmn:flowNodeRef>" for i in range(n))
    return (f'<?xml version="1.0" encoding="UTF-8"?>'
            f'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            f'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="x">'
            f'<bpmn:process id="chain" isExecutable="true"><bpmn:laneSet id="ls"><bpmn:lane id="l" name="Đơn vị" '
            f'spiffworkflow:role="unit_focal_point">{refs}</bpmn:lane></bpmn:laneSet><bpmn:startEvent id="s" />'
            f'{tasks}<bpmn:endEvent id="e" /><bpmn:sequenceFlow id="fe" sourceRef="t{n - 1}" targetRef="e" />'
            f'</bpmn:process></bpmn:definitions>').encode()


def raw(data: bytes, process_id: str) -> None:
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_str(data)
    parser.get_spec(process_id)


def measure(ctx, name: str, data: bytes, process_id: str, runs: int) -> dict[str, float]:
    """Median milliseconds of the three ways to check one file."""
    calls = {"raw_ms": lambda: raw(data, process_id),
             "validate_ms": lambda: validate_bpmn(data, name, functions=ctx.functions, max_bytes=10_000_000),
             "check_ms": lambda: check_draft(ctx, data, FORMS, name)}
    return {label: statistics.median(timings(call, runs, 1)) for label, call in calls.items()}


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__)
    # SpiffWorkflow's parser recurses along a chain of tasks: about 480 in a row is its limit here.
    args.add_argument("--n", type=int, default=400, help="user tasks in the generated chain")
    args.add_argument("--runs", type=int, default=15)
    options = args.parse_args()
    url = f"sqlite:///{tempfile.mkdtemp()}/check.db"
    ctx = prepare(Config(database_url=url, deploy_on_start=False))  # migrated and seeded: settings known
    cases = {"task_followup": ((ROOT / "processes" / "task_followup.bpmn").read_bytes(), "task_followup"),
             f"chain_{options.n}": (chain(options.n), "chain")}
    result = {}
    for name, (data, process_id) in cases.items():
        errors = [str(p) for p in check_draft(ctx, data, FORMS) if p.severity == "error"]
        assert not errors, errors[:3]
        runs = max(3, options.runs if name == "task_followup" else options.runs // 5)
        medians = measure(ctx, name, data, process_id, runs)
        medians["check_vs_raw"] = medians["check_ms"] / medians["raw_ms"]
        result[name] = {k: round(v, 2) for k, v in medians.items()}
        print(f"{name} ({len(data) / 1024:.0f} KB): raw {medians['raw_ms']:.1f} ms, validate_bpmn "
              f"{medians['validate_ms']:.1f} ms, check_draft {medians['check_ms']:.1f} ms "
              f"({medians['check_vs_raw']:.2f}x raw)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
