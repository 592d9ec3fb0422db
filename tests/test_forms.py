"""User-task forms: every schema file loads and is titled; validation speaks per field, vi and en."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from werkzeug.datastructures import MultiDict

from engine.bpmn.forms import Field, Form, FormInvalid, coerce, form_from_json, load_form, validate
from engine.core.errors import InvalidInput

FORMS = Path(__file__).resolve().parent.parent / "processes" / "forms"
FORM_FILES = sorted(FORMS.glob("*.schema.json"))
EXPECTED = {
    "task_followup.review_receipt", "task_followup.handle_return", "task_followup.update_progress",
    "task_followup.report_completion", "task_followup.confirm_completion", "task_followup.provide_input",
    "feedback_followup.check_feedback", "feedback_followup.issue_urging", "feedback_followup.ask_direction",
    "feedback_followup.notify_direction", "feedback_followup.answer_unfounded", "feedback_followup.give_direction",
    "feedback_followup.handle_overdue", "periodic_report.submit_report", "periodic_report.consolidate",
}
REQUIRED_VI = "Trường này là bắt buộc."
DATE_VI = "Ngày không hợp lệ (dd/mm/yyyy)."
ENUM_VI = "Giá trị không hợp lệ; chọn một trong các giá trị cho phép."
FIGURES = {"total": 10, "completed_on_time": 5, "completed_late": 1, "in_progress": 2, "overdue": 1,
           "no_deadline": 1}


def form(name: str) -> Form:
    return load_form(FORMS / f"{name}.schema.json")


def errors_of(f: Form, data, lang: str = "vi") -> dict[str, str]:
    with pytest.raises(FormInvalid) as caught:
        validate(f, data, lang)
    return caught.value.errors


# --- every form file -------------------------------------------------------------------------

def test_every_expected_form_exists():
    assert {p.name.removesuffix(".schema.json") for p in FORM_FILES} == EXPECTED


@pytest.mark.parametrize("path", FORM_FILES, ids=lambda p: p.name)
def test_form_file_is_a_titled_closed_schema(path):
    f = load_form(path)
    Draft202012Validator.check_schema(f.schema)
    assert f.filename == path.name
    assert f.title and f.title_en and f.title != f.title_en
    assert f.schema["additionalProperties"] is False
    assert set(f.schema["required"]) <= set(f.schema["properties"])
    for name, prop in f.schema["properties"].items():
        assert prop["title"].strip() and prop["x-title-en"].strip(), name
        assert prop["title"] != prop["x-title-en"], f"{name}: the Vietnamese title is a copy of the English one"
        if "enum" in prop:
            assert set(prop["x-enum-labels"]) == set(prop["enum"]) == set(prop["x-enum-labels-en"]), name
        if prop.get("type") == "string" and "enum" not in prop and "format" not in prop:
            assert "maxLength" in prop, f"{name}: free text needs a maxLength"
    for field in f.fields:
        assert field.kind in {"string", "text", "integer", "number", "boolean", "date", "datetime", "enum",
                              "object"}


@pytest.mark.parametrize("path", FORM_FILES, ids=lambda p: p.name)
def test_form_survives_hostile_input(path):
    f = load_form(path)
    for data in (None, [], "x", 5, {"x": [[[]]]}, {name: [[1], {"a": None}] for name in f.schema["properties"]},
                 {name: "x" * 200_000 for name in f.schema["properties"]}):
        with pytest.raises(FormInvalid):
            validate(f, data)


# --- loading ---------------------------------------------------------------------------------

def test_form_from_json_matches_the_file():
    path = FORMS / "task_followup.review_receipt.schema.json"
    assert form_from_json(path.name, path.read_text(encoding="utf-8")) == load_form(path)


@pytest.mark.parametrize("text, words", [
    ("{not json", "not valid JSON"),
    ('{"type": "object", "properties": {"a": {"type": "strin"}}, "additionalProperties": false}',
     "not a valid JSON Schema"),
    ('{"type": "object", "properties": {"a": {"title": "A"}}}', "additionalProperties"),
    ('{"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false}', "title"),
    ('{"type": "object", "properties": {"a": {"type": "string", "pattern": "(["}}}', "not a valid JSON Schema"),
    ("[]", "not a valid JSON Schema"),
    ("true", '"type": "object"'),
])
def test_bad_schema_is_refused_with_a_clear_message(text, words):
    with pytest.raises(ValueError) as caught:
        form_from_json("bad.schema.json", text)
    assert "bad.schema.json" in str(caught.value) and words in str(caught.value)


def test_missing_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read"):
        load_form(tmp_path / "absent.schema.json")


# --- validation ------------------------------------------------------------------------------

def test_valid_submission_returns_cleaned_data():
    f = form("task_followup.update_progress")
    data = {"state": "in_progress", "work_done": "  Đã họp triển khai với các phòng.  ", "proposals": "",
            "report_document": "45/BC-SXD", "difficulties": None}
    assert validate(f, data) == {"state": "in_progress", "work_done": "Đã họp triển khai với các phòng.",
                                 "report_document": "45/BC-SXD"}


def test_missing_required_in_vietnamese_then_english():
    f = form("task_followup.report_completion")
    assert errors_of(f, {"result": "Xong"}) == {"report_document": REQUIRED_VI, "completed_on": REQUIRED_VI}
    assert errors_of(f, {"result": "Xong"}, "en") == {"report_document": "This field is required.",
                                                       "completed_on": "This field is required."}


def test_form_invalid_keeps_both_languages_and_is_an_input_error():
    with pytest.raises(FormInvalid) as caught:
        validate(form("feedback_followup.answer_unfounded"), {"answer": "   "})
    error = caught.value
    assert isinstance(error, InvalidInput) and error.code == "form_invalid"
    assert error.errors == error.messages() == {"answer": REQUIRED_VI}
    assert error.messages("en") == {"answer": "This field is required."}
    assert error.messages("fr") == {"answer": REQUIRED_VI}
    assert REQUIRED_VI in str(error)


def test_return_needs_a_reason_of_ten_characters():
    f = form("task_followup.review_receipt")
    assert validate(f, {"decision": "accept"}) == {"decision": "accept"}
    assert errors_of(f, {"decision": "return"}) == {"return_reason": REQUIRED_VI}
    assert errors_of(f, {"decision": "return", "return_reason": "sai"}) == {"return_reason": "Cần ít nhất 10 ký tự."}
    assert errors_of(f, {"decision": "return", "return_reason": "sai"}, "en") == {
        "return_reason": "At least 10 characters are needed."}
    reason = "Nhiệm vụ không thuộc chức năng của Sở."
    assert validate(f, {"decision": "return", "return_reason": reason}) == {"decision": "return",
                                                                            "return_reason": reason}


def test_blocked_needs_difficulties():
    f = form("task_followup.update_progress")
    assert errors_of(f, {"state": "blocked", "work_done": "Đã rà soát"}) == {"difficulties": REQUIRED_VI}
    assert validate(f, {"state": "blocked", "work_done": "Đã rà soát", "difficulties": "Thiếu kinh phí"})


@pytest.mark.parametrize("name, data, field", [
    ("task_followup.handle_return", {"action": "correct"}, "corrected_content"),
    ("task_followup.handle_return", {"action": "reroute"}, "new_lead_unit"),
    ("task_followup.confirm_completion", {"decision": "send_back"}, "reason"),
])
def test_other_conditionally_required_fields(name, data, field):
    assert errors_of(form(name), data) == {field: REQUIRED_VI}


def test_cancel_needs_nothing_more():
    assert validate(form("task_followup.handle_return"), {"action": "cancel"}) == {"action": "cancel"}


def test_enum_out_of_range():
    f = form("feedback_followup.check_feedback")
    assert errors_of(f, {"decision": "ignore", "assessment": "x"}) == {"decision": ENUM_VI}
    assert errors_of(f, {"decision": "ignore", "assessment": "x"}, "en")["decision"].startswith("Invalid value")


@pytest.mark.parametrize("bad", ["31/02/2025", "2025-13-01", "2025-02-30", "8 tháng 5", "20250508"])
def test_bad_dates(bad):
    f = form("task_followup.report_completion")
    assert errors_of(f, {"result": "Xong", "report_document": "45/BC-SXD", "completed_on": bad}) == {
        "completed_on": DATE_VI}


def test_pattern_uses_the_schema_message():
    f = form("feedback_followup.notify_direction")
    assert errors_of(f, {"notice_number": "công văn 12", "issued_on": "2025-05-08"}) == {
        "notice_number": "Số, ký hiệu dạng 123/VP-UBND."}
    assert errors_of(f, {"notice_number": "12", "issued_on": "2025-05-08"}, "en") == {
        "notice_number": "Number and symbol like 123/VP-UBND."}
    assert validate(f, {"notice_number": "123/TB-VPUBND", "issued_on": "2025-05-08"})
    assert validate(f, {"notice_number": "12/QĐ-UBND", "issued_on": "2025-05-08"})


def test_max_length():
    f = form("task_followup.update_progress")
    data = {"state": "done", "work_done": "Xong", "report_document": "4" * 101}
    assert errors_of(f, data) == {"report_document": "Tối đa 100 ký tự."}


def test_unknown_fields_reported_by_validate():
    f = form("feedback_followup.handle_overdue")
    assert errors_of(f, {"instruction": "Đôn đốc ngay", "assignee": "admin"}) == {
        "_form": "Trường không được phép: assignee"}
    assert errors_of(f, {"instruction": "x", "assignee": "a"}, "en") == {"_form": "Field not allowed: assignee"}


def test_figures_are_checked_but_never_taken_from_the_user():
    f = form("periodic_report.submit_report")
    data = {"content": "Đã tự kiểm tra 10 nhiệm vụ", "report_document": "12/BC-UBND"}
    assert validate(f, data) == data
    assert validate(f, {**data, "figures": FIGURES}) == data
    assert errors_of(f, {**data, "figures": {**FIGURES, "overdue": -1}}) == {"figures": "Phải lớn hơn hoặc bằng 0."}
    assert errors_of(f, {**data, "figures": {**FIGURES, "total": "mười"}}) == {"figures": "Phải là số nguyên."}


def test_hostile_values_are_form_errors():
    f = form("task_followup.review_receipt")
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    cyclic: list = []
    cyclic.append(cyclic)
    for data in ({"decision": deep}, {"decision": cyclic}, {"decision": {"a": [1, None]}},
                 {"decision": None, 5: "x", ("t",): 1}, {"decision": float("nan")},
                 {"decision": "return", "return_reason": "x" * 3_000_000}, {"decision": 10 ** 5000}):
        with pytest.raises(FormInvalid) as caught:
            validate(f, data)
        assert caught.value.errors
    assert errors_of(f, {"decision": ["accept"]}) == {"decision": "Phải là văn bản."}


def test_text_is_sanitised_for_storage():
    f = form("feedback_followup.answer_unfounded")
    decomposed = "Kho\u0302ng co\u0301 cơ sở\x00"  # NFD input, with a NUL PostgreSQL JSON cannot hold
    assert validate(f, {"answer": decomposed}) == {"answer": "Không có cơ sở"}
    assert validate(f, {"answer": "a\ud800b"}) == {"answer": "a?b"}


# --- HTML posts ------------------------------------------------------------------------------

def test_coerce_normalises_dates_and_drops_blanks_and_unknown_fields():
    f = form("feedback_followup.issue_urging")
    raw = {"number_symbol": " 123/VP-UBND ", "issued_on": "08/05/2025", "summary": "",
           "is_admin": "1", "_form": "x"}
    data = coerce(f, raw)
    assert data == {"number_symbol": "123/VP-UBND", "issued_on": "2025-05-08"}
    assert errors_of(f, data) == {"summary": REQUIRED_VI}
    assert coerce(f, {"issued_on": "8/5/2025"}) == {"issued_on": "2025-05-08"}
    assert validate(f, {**data, "summary": "Đôn đốc Sở Xây dựng"})["issued_on"] == "2025-05-08"


def test_coerce_then_validate_reports_impossible_dates():
    f = form("feedback_followup.notify_direction")
    data = coerce(f, {"notice_number": "5/TB-VPUBND", "issued_on": "31/02/2025"})
    assert errors_of(f, data) == {"issued_on": DATE_VI}


def test_coerce_parses_integers_and_booleans():
    # The project's forms have neither, so a small form stands in for future ones.
    schema = {"type": "object", "additionalProperties": False, "properties": {
        "count": {"type": "integer", "minimum": 0, "title": "Số lượng"},
        "urgent": {"type": "boolean", "title": "Khẩn"},
        "ratio": {"type": "number", "title": "Tỷ lệ"},
        "figures": {"type": "object", "readOnly": True, "title": "Số liệu"}}}
    f = form_from_json("t.schema.json", json.dumps(schema))
    assert coerce(f, {"count": "12", "urgent": "on", "ratio": "2,5", "figures": "{}"}) == {
        "count": 12, "urgent": True, "ratio": 2.5}
    assert coerce(f, {"count": "12"}) == {"count": 12, "urgent": False}
    assert coerce(f, MultiDict([("urgent", "false"), ("urgent", "1")]))["urgent"] is True
    assert errors_of(f, coerce(f, {"count": "mười hai"})) == {"count": "Phải là số nguyên."}
    assert errors_of(f, coerce(f, {"count": "1.5"})) == {"count": "Phải là số nguyên."}
    assert errors_of(f, coerce(f, {"count": "-1"})) == {"count": "Phải lớn hơn hoặc bằng 0."}
    assert errors_of(f, coerce(f, {"ratio": "nan"})) == {"ratio": "Phải là số."}
    assert validate(f, {"count": 3.0, "urgent": False}) == {"count": 3, "urgent": False}


def test_coerce_keeps_repeated_values_for_validation_to_refuse():
    f = form("task_followup.review_receipt")
    data = coerce(f, MultiDict([("decision", "accept"), ("decision", "return")]))
    assert errors_of(f, data) == {"decision": "Phải là văn bản."}
    assert coerce(f, {"decision": ["accept"]}) == {"decision": "accept"}


def test_coerce_refuses_a_non_mapping():
    with pytest.raises(FormInvalid):
        coerce(form("task_followup.review_receipt"), ["decision", "accept"])


# --- rendering -------------------------------------------------------------------------------

def test_fields_for_rendering():
    fields = form("task_followup.update_progress").fields
    assert [x.name for x in fields] == ["state", "work_done", "difficulties", "proposals", "report_document"]
    state, work_done, difficulties, _, document = fields
    assert isinstance(state, Field)
    assert (state.kind, state.widget, state.required) == ("enum", "select", True)
    assert state.enum == ("not_started", "in_progress", "blocked", "done")
    assert state.enum_labels == ("Chưa thực hiện", "Đang thực hiện", "Gặp vướng mắc", "Đã hoàn thành")
    assert state.enum_labels_en[2] == "Blocked"
    assert (work_done.kind, work_done.widget, work_done.title) == (
        "text", "textarea", "Công việc đã thực hiện, kết quả")
    assert (difficulties.required, difficulties.title_en) == (False, "Difficulties and obstacles")
    assert (document.kind, document.widget, document.enum, document.read_only) == ("string", "text", None, False)


def test_fields_kinds_for_dates_and_figures():
    kinds = {x.name: x.kind for x in form("task_followup.report_completion").fields}
    assert kinds == {"result": "text", "report_document": "string", "completed_on": "date"}
    figures = form("periodic_report.submit_report").fields[0]
    assert (figures.name, figures.kind, figures.widget, figures.read_only, figures.required) == (
        "figures", "object", "readonly", True, False)
    labels = form("task_followup.handle_return").fields[0].enum_labels
    assert labels == ("Chỉnh sửa nội dung, giao lại", "Chuyển đơn vị khác", "Hủy nhiệm vụ")
