"""The diagram contract: what an analyst may change keeps working, what would break silently is refused.

Each edit below is one an analyst can make in the modeler; deploy either takes it and the product
keeps working, or refuses it naming the element (docs/workbench.md, "The diagram contract").
"""
from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, insert, text

from engine.app.migrations import alembic_config
from engine.core.config import ROOT
from engine.core.errors import DeployRefused
from engine.process import instances
from engine.process.definitions import check_draft, deploy_bytes
from engine.read import inbox
from engine.regulation import access, reporting, tracking
from engine.regulation.process_inputs import START_DATA
from tests.helpers import TZ, complete_step, register_task

PROCESSES = ROOT / "processes"
FOLLOWUP = (PROCESSES / "task_followup.bpmn").read_bytes()
FORMS = {p.name: p.read_text(encoding="utf-8") for p in (PROCESSES / "forms").glob("*.json")}
REVIEW_FORM = "task_followup.review_receipt.schema.json"


def refused(ctx, xml: bytes, forms: dict | None = None) -> list[str]:
    """The problems a deploy of task_followup with this diagram and these forms is refused for (none: it deployed)."""
    try:
        deploy_bytes(ctx, xml, "task_followup.bpmn", "pt.lan", forms=FORMS if forms is None else forms,
                     comment="test")
    except DeployRefused as refusal:
        return [str(p) for p in refusal.problems]
    return []


def test_renaming_a_lane_is_cosmetic_and_the_unit_still_receives_its_tasks(shipped):
    renamed = FOLLOWUP.replace('name="Đầu mối đơn vị"'.encode(), 'name="Đầu mối của đơn vị"'.encode())
    assert renamed != FOLLOWUP and refused(shipped, renamed) == []
    task = register_task(shipped)  # starts on the version just deployed
    assert task.step.bpmn_id == "review_receipt" and task.step.lane == "unit_focal_point"
    mine = inbox.inbox(shipped, access.actor_named(shipped, "dm.sotuphap"))
    assert [item.instance_id for item in mine.items] == [task.instance_id]


def test_a_lane_without_a_role_or_with_an_unknown_one_is_refused_naming_the_lane(shipped):
    no_role = refused(shipped, FOLLOWUP.replace(b' spiffworkflow:role="unit_focal_point"', b""))
    assert len(no_role) == 1 and "[Lane_focal_point] lane 'Đầu mối đơn vị' names no role" in no_role[0]
    unknown = refused(shipped, FOLLOWUP.replace(b'role="unit_focal_point"', b'role="chairman"'))
    assert len(unknown) == 1 and "[Lane_focal_point]" in unknown[0] and "unknown role 'chairman'" in unknown[0]


def test_a_lane_removed_leaves_its_user_tasks_with_nobody_and_is_refused_naming_each(shipped):
    start = FOLLOWUP.index(b'<bpmn:lane id="Lane_focal_point"')
    end = FOLLOWUP.index(b"</bpmn:lane>", start) + len(b"</bpmn:lane>")
    problems = refused(shipped, FOLLOWUP[:start] + FOLLOWUP[end:])
    assert {p.split("]")[0].split("[")[1] for p in problems} == {
        "review_receipt", "review_receipt_open", "report_completion", "report_completion_open"}
    assert all("in no lane with a role: nobody would receive it" in p for p in problems)


def test_renaming_a_form_field_an_action_reads_is_refused_naming_action_field_and_element(shipped):
    forms = dict(FORMS)
    forms[REVIEW_FORM] = forms[REVIEW_FORM].replace('"return_reason"', '"reason_for_return"')
    problems = refused(shipped, FOLLOWUP, forms)
    assert len(problems) == 1
    assert "[returned] action 'task_returned' reads 'return_reason' (string)" in problems[0]


def test_a_field_of_the_wrong_type_is_refused(shipped):
    forms = dict(FORMS)
    schema = json.loads(forms[REVIEW_FORM])
    schema["properties"]["return_reason"] = {"type": "integer", "title": "Lý do"}
    forms[REVIEW_FORM] = json.dumps(schema)
    problems = refused(shipped, FOLLOWUP, forms)
    assert len(problems) == 1 and "reads 'return_reason' (string), but it is provided as integer" in problems[0]


def test_a_form_renamed_in_the_diagram_only_is_refused_naming_the_task(shipped):
    renamed = FOLLOWUP.replace(REVIEW_FORM.encode(), b"task_followup.review.schema.json")
    problems = refused(shipped, renamed)
    assert problems and "[review_receipt] form 'task_followup.review.schema.json' not found" in problems[0]


def test_an_action_the_code_no_longer_has_is_refused_naming_the_element(shipped):
    problems = refused(shipped, FOLLOWUP.replace(b'value="task_accepted"', b'value="task_taken"'))
    assert problems == ["task_followup.bpmn: [accepted] unknown action 'task_taken'"]


def test_an_action_moved_before_the_form_that_provides_its_data_is_refused(shipped):
    # completion_confirmed reads completed_on, which only the confirmation form provides: naming the
    # action on the receipt review (before that form) would read nothing.
    moved = FOLLOWUP.replace(b'value="task_accepted"', b'value="completion_confirmed"')
    problems = refused(shipped, moved)
    assert len(problems) == 1 and "[accepted] action 'completion_confirmed' reads 'completed_on' (date)" in problems[0]


def test_a_field_set_by_a_script_before_the_action_counts_as_provided(shipped):
    forms = dict(FORMS)
    forms[REVIEW_FORM] = forms[REVIEW_FORM].replace('"return_reason"', '"reason_for_return"')
    scripted = FOLLOWUP.replace(b'<bpmn:exclusiveGateway id="receipt_decision"', (
        b'<bpmn:scriptTask id="copy_reason"><bpmn:script>return_reason = reason_for_return</bpmn:script>'
        b'</bpmn:scriptTask><bpmn:exclusiveGateway id="receipt_decision"'), 1)
    # Routed through the script: review_receipt -> reviewed_merge -> copy_reason -> receipt_decision.
    scripted = scripted.replace(b'sourceRef="reviewed_merge" targetRef="receipt_decision"',
                                b'sourceRef="reviewed_merge" targetRef="copy_reason"', 1)
    scripted = scripted.replace(b'<bpmn:sequenceFlow id="f_return"', (
        b'<bpmn:sequenceFlow id="f_copy" sourceRef="copy_reason" targetRef="receipt_decision" />'
        b'<bpmn:sequenceFlow id="f_return"'), 1)
    assert b'targetRef="copy_reason"' in scripted
    problems = [p for p in check_draft(shipped, scripted, forms) if p.severity == "error"]
    assert problems == []


def test_check_draft_lists_errors_first_and_warns_of_a_user_task_without_a_form(shipped):
    no_form = FOLLOWUP.replace(f'<spiffworkflow:property name="formJsonSchemaFilename" value="{REVIEW_FORM}" />'
                               .encode(), b"")
    problems = check_draft(shipped, no_form.replace(b'role="unit_leader"', b'role="x"'), FORMS)
    severities = [p.severity for p in problems]
    assert severities == sorted(severities, key=lambda s: s != "error")
    assert any(p.severity == "warning" and p.element_id == "review_receipt" and "has no form" in p.message
               for p in problems)
    # A task without a form takes its data as given (API clients): a warning, not a refusal.
    assert refused(shipped, no_form) == []


@pytest.fixture
def started(shipped):
    """One instance of each shipped process, started by the product's own use cases."""
    task = register_task(shipped, content="Kiểm tra hợp đồng")
    complete_step(shipped, task.instance_id, "review_receipt", {"decision": "accept"})
    feedback_id = tracking.file_feedback(shipped, task.task_id, "huyen-ba-tri", "Sở chậm báo cáo", "dm.batri")
    tracking.request_update(shipped, task.task_id, "Báo cáo gấp", "cv.hoa")
    shipped.clock.set(datetime(2025, 6, 16, 9, tzinfo=TZ))  # after the quarter's cut-off, before its reports are due
    reporting.open_reporting_round(shipped, "quarterly", date(2025, 5, 20), actor="cv.hoa")
    return shipped, feedback_id


def test_every_shipped_process_is_started_with_the_data_it_declares(started):
    ctx, _ = started
    seen = {}
    for view in instances.list_instances(ctx, limit=500):
        for task in instances.list_ready_tasks(ctx, instance_id=view.id):
            data = instances.task_details(ctx, view.id, task.task_id).data
            seen.setdefault(view.process_id, set(data))
    declared = {pid for pid in START_DATA if pid in seen}
    assert declared >= {"task_followup", "feedback_followup", "periodic_update", "periodic_report"}
    for pid in declared:
        assert set(START_DATA[pid]) <= seen[pid], (pid, set(START_DATA[pid]) - seen[pid])


def test_migration_0009_gives_stored_versions_and_ready_tasks_their_roles(tmp_path):
    from alembic import command

    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0008")
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    t = tables.tables
    old_xml = FOLLOWUP.replace(b' spiffworkflow:role="unit_focal_point"', b"").replace(
        b' spiffworkflow:role="tracking_specialist"', b"")
    at = datetime(2025, 4, 1, 2, tzinfo=UTC)
    spec = {"spec": {"task_specs": {"review_receipt": {"lane": "Đầu mối đơn vị"}, "check": {"lane": None}}},
            "subprocess_specs": {}, "forms": {}}
    with engine.begin() as conn:
        conn.execute(insert(t["definition_versions"]), dict(
            id=1, process_id="task_followup", version=1, content_hash="x" * 64, source_file="t.bpmn",
            bpmn_xml=old_xml, spec_json=json.dumps(spec), deployed_at=at, deployed_by="seed"))
        conn.execute(insert(t["process_instances"]), dict(
            id=1, definition_id=1, process_id="task_followup", status="running", state_json="{}", started_by="seed",
            created_at=at, updated_at=at, row_version=1))
        conn.execute(insert(t["ready_tasks"]), dict(instance_id=1, task_id="a", bpmn_id="review_receipt",
                                                     name="x", lane="Đầu mối đơn vị", assignee="so-tu-phap",
                                                     created_at=at))
    command.upgrade(alembic_config(url), "head")
    with engine.connect() as conn:
        lane = conn.execute(text("SELECT lane FROM ready_tasks")).scalar_one()
        stored = conn.execute(text("SELECT spec_json, bpmn_xml, comment FROM definition_versions")).one()
    engine.dispose()
    assert lane == "unit_focal_point"
    assert json.loads(stored.spec_json)["spec"]["task_specs"]["review_receipt"]["lane"] == "unit_focal_point"
    assert b'role="unit_focal_point"' in bytes(stored.bpmn_xml) and b'role="tracking_specialist"' in bytes(
        stored.bpmn_xml)
    assert stored.comment == ""


def test_the_shipped_diagrams_keep_the_contract(ctx):
    for path in sorted(Path(PROCESSES).glob("*.bpmn")):
        errors = [str(p) for p in check_draft(ctx, path.read_bytes(), FORMS, path.name) if p.severity == "error"]
        assert errors == [], path.name


def test_a_condition_on_a_field_no_longer_provided_is_refused_naming_the_flow(shipped):
    forms = dict(FORMS)
    forms[REVIEW_FORM] = forms[REVIEW_FORM].replace('"decision"', '"choice"')
    problems = refused(shipped, FOLLOWUP, forms)
    assert any(p.startswith("task_followup.bpmn:") and "[f_return] condition reads 'decision'" in p for p in problems)


def test_an_option_renamed_in_a_form_that_a_condition_expects_is_refused(shipped):
    forms = dict(FORMS)
    forms[REVIEW_FORM] = forms[REVIEW_FORM].replace('"return"', '"give_back"')
    problems = refused(shipped, FOLLOWUP, forms)
    assert len(problems) == 1
    assert "[f_return] condition compares 'decision' with 'return', which its form never gives" in problems[0]
    assert "accept" in problems[0] and "give_back" in problems[0]


def test_a_timer_or_due_date_reading_missing_data_is_refused(shipped):
    timer = refused(shipped, FOLLOWUP.replace(b'before_date("deadline_reminder", due_date)',
                                              b'before_date("deadline_reminder", due_day)'))
    assert timer == [f"task_followup.bpmn:{line}: [{element}] timer reads 'due_day', which no form, script or "
                     "start data before it provides" for line, element in ((68, "review_remind_deadline"),
                                                                            (149, "remind_deadline"))]
    vi = check_draft(shipped, FOLLOWUP.replace(b'deadline("task_review", assigned_at)',  # review_receipt's dueDate
                                               b'deadline("task_review", assigned_on)', 1), FORMS, lang="vi")
    assert [p.message for p in vi if p.severity == "error"] == [
        "thuộc tính thời hạn (dueDate) dùng trường 'assigned_on', nhưng không biểu mẫu, đoạn mã hay dữ liệu "
        "khởi tạo nào trước đó cung cấp"]
