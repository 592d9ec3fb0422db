"""The JSON API keeps to its OpenAPI document: schemathesis generates requests from the document (valid
ones and invalid ones, a bounded number per operation, the same every run), sends them to the Flask app
in-process (WSGI) with the bearer token of an Office specialist and of a unit's focal point, and checks
that no answer is a server error and that every status code, content type and body is the documented one.
On SQLite and PostgreSQL."""
from __future__ import annotations

import time
from datetime import timedelta

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from engine.process.tables import InstanceStatus
from engine.read.inbox import InboxCategory
from engine.regulation import api_tokens, statistics
from engine.regulation.records import DocumentType, ProgressState, TaskStatus
from engine.worktime.periods import Cadence

EXAMPLES = 15  # per operation, user and kind of data (valid, invalid)
USERS = ("cv.hoa", "dm.sotuphap", "pt.lan", "admin")  # the Office, a unit, an analyst, an admin
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BUDGET = 420  # seconds for the whole run on one database (a shared 2-core machine): CI stays within minutes


def _spec(app) -> dict:
    return app.test_client().get("/api/openapi.json").get_json()


def _body(spec: dict, path: str, method: str = "post") -> dict:
    return spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def test_the_document_states_the_engines_enums_and_the_required_fields(app):
    spec = _spec(app)
    document = _body(spec, "/api/documents")
    assert set(document["required"]) == {"number_symbol", "issued_on", "doc_type", "issuer", "signer", "summary",
                                         "tasks"}
    assert document["properties"]["doc_type"]["enum"] == [t.value for t in DocumentType]
    task = document["properties"]["tasks"]["items"]
    assert {"content", "lead_unit"} <= set(task["required"])
    assert task["properties"]["update_cadence"]["anyOf"][0]["enum"] == [c.value for c in Cadence]
    assert _body(spec, "/api/reporting-rounds")["properties"]["cadence"]["enum"] == [c.value for c in Cadence]
    progress = _body(spec, "/api/tracked-tasks/{task_id}/progress")["properties"]["state"]["anyOf"][0]
    assert progress["enum"] == [s.value for s in ProgressState.reported()]
    parameters = {p["name"]: p["schema"] for p in spec["paths"]["/api/tasks"]["get"]["parameters"]}
    assert parameters["category"]["enum"] == [c.value for c in InboxCategory]
    tracked = {p["name"]: p["schema"] for p in spec["paths"]["/api/tracked-tasks"]["get"]["parameters"]}
    statuses = [s.value for s in TaskStatus]  # and the categories the list shows (overdue...): issue 13, item 7
    assert tracked["status"]["enum"] == statuses + [c for c in statistics.CATEGORIES if c not in statuses]
    completed = spec["paths"]["/api/tasks/{instance_id}/{task_id}/complete"]["post"]["responses"]["200"]
    assert completed["content"]["application/json"]["schema"]["properties"]["status"]["enum"] == [
        s.value for s in InstanceStatus]


def test_a_document_body_of_nothing_is_refused_field_by_field(app, ctx):
    token = api_tokens.issue(ctx, "cv.hoa", "t", "admin").token
    answer = app.test_client().post("/api/documents", json={}, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 422
    assert set(answer.get_json()["error"]["fields"]) == {"number_symbol", "issued_on", "doc_type", "issuer",
                                                          "signer", "summary", "tasks"}


def test_the_api_keeps_to_its_openapi_document(app, ctx, registered_task):
    registered = registered_task()  # real ids too, so that generated requests also reach a task's own code
    known = {"instance_id": registered.instance_id, "task_id": registered.step.task_id}
    tokens = {u: {"Authorization": f"Bearer {api_tokens.issue(ctx, u, 'schemathesis', 'admin').token}"}
              for u in USERS}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures, started, calls = [], time.monotonic(), [0]
    for result in schema.get_all_operations():
        operation = result.ok()
        names = {p.name for p in operation.path_parameters}
        fixed = [None] + ([{k: v for k, v in {**known, "task_id": known["task_id"] if "instance_id" in names
                                               else registered.task_id}.items() if k in names}] if names else [])
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            for user in USERS:
                for path_parameters in fixed:
                    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)
                    examples = EXAMPLES if path_parameters is None else EXAMPLES // 3
                    try:
                        _run(strategy, tokens[user], examples, calls)
                    except (Exception, BaseExceptionGroup) as failure:  # gather them all, report them together
                        failures.append(f"{operation.label} [{mode.value}, {user}, {path_parameters}]: {failure}")
    elapsed = time.monotonic() - started
    print(f"schemathesis: {calls[0]} calls in {elapsed:.1f} s")
    assert not failures, "\n\n".join(failures)
    assert elapsed < BUDGET, f"the schemathesis run took {elapsed:.0f} s"


def _run(strategy, headers: dict, examples: int, calls: list[int]) -> None:
    """Send `examples` generated requests (the same ones every run) and check each answer."""

    @settings(max_examples=examples, deadline=timedelta(seconds=10), derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def call(case):
        calls[0] += 1
        case.call_and_validate(headers=headers, checks=CHECKS)

    call()
