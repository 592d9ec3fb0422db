"""The data each shipped process is started with, field -> type: what its diagram may rely on.

The use cases that start processes (tracking, feedback, reporting rounds, schedules, a coordinator's
request) put at least these fields on the start event, whichever way they start it; deploy checks
that every action a diagram names finds what it reads among them or in the forms and scripts before
it (engine/bpmn/contract.py). A field here is a promise the starting code must keep:
tests/test_contract.py starts each process and compares.
"""
from __future__ import annotations

from engine.regulation.reporting import CONSOLIDATION_PROCESS, REPORT_PROCESS

_PERIOD = {"period_key": "string", "period_label": "string", "data_from": "date", "data_to": "date"}

START_DATA: dict[str, dict[str, str]] = {
    "task_followup": {
        "tracked_task_id": "integer", "document": "string", "content": "string", "lead_unit": "unit",
        "follower_unit": "unit", "has_deadline": "boolean", "due_date": "date", "update_cadence": "string",
        "coordinators": "array", "assigned_at": "datetime"},
    "feedback_followup": {
        "feedback_id": "integer", "tracked_task_id": "integer", "provider_unit": "unit", "department": "unit",
        "content": "string", "received_at": "datetime"},
    # Started by a schedule each period (with its period's dates), or ad hoc by the Office (with a note):
    # only what both give.
    "periodic_update": {
        "tracked_task_id": "integer", "lead_unit": "unit", "task_title": "string", "period_key": "string",
        "period_label": "string", "update_due": "datetime"},
    "coordinator_input": {
        "tracked_task_id": "integer", "coordinator": "unit", "lead_unit": "unit", "content": "string",
        "assigned_at": "datetime"},
    CONSOLIDATION_PROCESS: {**_PERIOD, "reports_due_on": "date", "unit_count": "integer"},
    REPORT_PROCESS: {**_PERIOD, "unit": "unit", "unit_name": "string", "figures": "object"},
}
