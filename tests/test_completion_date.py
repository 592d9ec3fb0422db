"""A completion date in the future is refused (issue 13, item 11): a form field marked "x-not-after": "today"
is checked against the engine's clock in Vietnam; the page and the API name the field; nothing moves."""
from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from engine.bpmn import forms
from engine.bpmn.forms import FormInvalid
from engine.process import instances
from engine.regulation import api_tokens
from engine.worktime.calendar import TZ
from tests.helpers import complete_step, ready_tasks

SCHEMA = {"type": "object", "additionalProperties": False, "properties": {
    "completed_on": {"type": "string", "format": "date", "title": "Ngày hoàn thành", "x-title-en": "Completed on",
                     "x-not-after": "today"}}}


def _form(schema=SCHEMA):
    return forms.form_from_json("f.schema.json", json.dumps(schema))


def test_a_day_after_today_is_refused_naming_the_field_in_both_languages():
    form = _form()
    assert forms.validate(form, {"completed_on": "21/04/2025"}, today=date(2025, 4, 21)) == {
        "completed_on": "2025-04-21"}
    with pytest.raises(FormInvalid) as refused:
        forms.validate(form, {"completed_on": "22/04/2025"}, today=date(2025, 4, 21))
    assert refused.value.messages("vi") == {"completed_on": "Ngày hoàn thành không được sau ngày hôm nay (21/04/2025)."}
    assert refused.value.messages("en") == {"completed_on": "Completed on cannot be after today (21/04/2025)."}
    assert forms.validate(form, {"completed_on": "2030-01-01"}) == {"completed_on": "2030-01-01"}  # no clock, no rule


def test_the_mark_is_only_for_dates_and_only_today():
    wrong = {**SCHEMA, "properties": {"n": {"type": "string", "title": "N", "x-not-after": "tomorrow"}}}
    with pytest.raises(ValueError, match="x-not-after"):
        _form(wrong)


def test_the_shipped_completion_report_refuses_tomorrow_by_the_engine_clock(ctx, registered_task):
    instance = registered_task().instance_id
    complete_step(ctx, instance, "review_receipt", {"decision": "accept"}, actor="dm.sotuphap")
    ctx.clock.set(datetime(2025, 4, 29, 0, 30, tzinfo=TZ))  # the 29th in Vietnam, still the 28th in UTC
    report = {"result": "Xong", "report_document": "45/BC-STP", "completed_on": "2025-04-30"}
    version = instances.get_instance(ctx, instance).row_version
    with pytest.raises(FormInvalid, match="Ngày hoàn thành không được sau ngày hôm nay"):
        complete_step(ctx, instance, "report_completion", report, actor="dm.sotuphap")
    assert instances.get_instance(ctx, instance).row_version == version  # nothing moved
    complete_step(ctx, instance, "report_completion", dict(report, completed_on="2025-04-29"), actor="dm.sotuphap")
    assert "confirm_completion" in ready_tasks(ctx, instance)


def test_the_api_answers_422_naming_the_field(app, ctx, registered_task):
    instance = registered_task().instance_id
    complete_step(ctx, instance, "review_receipt", {"decision": "accept"}, actor="dm.sotuphap")
    task = ready_tasks(ctx, instance)["report_completion"]
    token = api_tokens.issue(ctx, "dm.sotuphap", "test", "admin").token
    answer = app.test_client().post(f"/api/tasks/{instance}/{task.task_id}/complete", headers={
        "Authorization": f"Bearer {token}"}, json={"data": {
            "result": "Xong", "report_document": "45/BC-STP", "completed_on": "2030-01-01"}})
    assert answer.status_code == 422
    assert "Ngày hoàn thành không được sau ngày hôm nay" in answer.get_json()["error"]["fields"]["completed_on"]
    assert answer.get_json()["error"]["message"].startswith("Ngày hoàn thành không được sau")  # no "completed_on:"


def test_a_form_error_names_fields_by_their_titles_not_their_codes():
    # Issue 13, item 10: the API's message (and any page showing the whole text) says "Kết quả thực hiện: ...".
    form = _form({**SCHEMA, "required": ["result"], "properties": {**SCHEMA["properties"], "result": {
        "type": "string", "title": "Kết quả thực hiện", "x-title-en": "Result"}}})
    with pytest.raises(FormInvalid) as refused:
        forms.validate(form, {"completed_on": "22/04/2025"}, today=date(2025, 4, 21))
    assert refused.value.text("vi") == "Kết quả thực hiện: Trường này là bắt buộc."
    assert refused.value.text("en") == "Result: This field is required."
    with pytest.raises(FormInvalid) as late:
        forms.validate(form, {"result": "x", "completed_on": "22/04/2025"}, today=date(2025, 4, 21))
    assert late.value.text("vi") == "Ngày hoàn thành không được sau ngày hôm nay (21/04/2025)."
