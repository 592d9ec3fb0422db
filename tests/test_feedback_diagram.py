"""The shipped feedback diagram (Art. 15.5, 16.4) on real dates; its outcomes are in test_tracking.py."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine.app.bootstrap import default_bpmn_files
from engine.process import instances
from engine.process.tables import WaitingTimer
from tests.helpers import TZ


@pytest.fixture
def feedback(ctx, shipped):
    ctx.clock.set(datetime(2025, 4, 25, 16, 0, tzinfo=TZ))
    return instances.start_instance(ctx, "feedback_followup", {
        "received_at": ctx.clock.now().isoformat(), "provider_unit": "UBND huyện Ba Tri",
        "department": "Sở Giao thông vận tải", "content": "Chậm triển khai dự án"}, actor="specialist")


def test_office_has_seven_working_days_across_the_april_may_holidays(ctx, feedback):
    task = instances.list_ready_tasks(ctx, instance_id=feedback.id)[0]
    assert task.bpmn_id == "check_feedback" and task.lane == "tracking_specialist"
    # 26 Apr 2025 is a make-up Saturday, 30 Apr - 4 May are off: the 7th working day is 8 May.
    assert task.due_at == datetime(2025, 5, 9, 0, 0, tzinfo=TZ)
    with ctx.unit_of_work(readonly=True) as session:
        timers = {t.bpmn_id: t.due_at for t in session.scalars(select(WaitingTimer))}
    assert timers == {"limit_exceeded": datetime(2025, 5, 9, 0, 0, tzinfo=TZ),
                      # two working days left: 7 and 8 May
                      "remind_office": datetime(2025, 5, 7, 0, 0, tzinfo=TZ)}


def test_no_shipped_diagram_writes_a_duration_into_a_timer():
    """Every timer of processes/*.bpmn reads a named setting (issue 3): no ISO literal in a timer."""
    import re

    from engine.core.config import Config

    for path in default_bpmn_files(Config()):
        for text in re.findall(r"<bpmn:time(?:Date|Duration|Cycle)[^>]*>(.*?)</bpmn:time", path.read_text()):
            assert re.search(r"\b(deadline|reminder|after_date|before_date)\(", text), \
                f"{path.name}: timer {text!r} names no setting"
            assert not re.search(r"[\"']P\w+[\"']|[\"']R\d*/", text), \
                f"{path.name}: timer {text!r} has a literal duration"


def test_every_user_task_of_the_shipped_diagrams_has_a_deployed_form(ctx, shipped):
    """Issue 4: each user task has a form, a JSON Schema next to the diagrams, validated on the server."""
    from engine.process.definitions import latest_version

    missing = []
    for path in default_bpmn_files(ctx.config):
        process_id = path.stem
        with ctx.unit_of_work(readonly=True) as session:
            definition = latest_version(session, process_id)
            specs = ctx.codec.load_specs(definition.id, definition.spec_json, definition.version)
        for spec in specs.spec.task_specs.values():
            if type(spec).__name__ == "UserTask":
                name = spec.extensions.get("properties", {}).get("formJsonSchemaFilename")
                if name not in specs.forms:
                    missing.append(f"{process_id}.{spec.bpmn_id}")
    assert missing == []
