"""Tests for engine.validation and engine.xmlsafe: every diagram gets definitions or located problems."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

from engine.bpmn.validation import ParsedDefinition, Problem, validate_bpmn
from engine.bpmn.xmlsafe import MalformedXml, UnsafeXml, parse_xml

ROOT = Path(__file__).resolve().parents[1]
BPMN_DIR = Path(__file__).resolve().parent / "bpmn"
MIWG = BPMN_DIR / "conformance" / "miwg-reference"  # a copy in the repository: CI has nothing else
MIWG_FILES = sorted(MIWG.glob("*.bpmn"))


def validate_file(path: Path, **kwargs):
    return validate_bpmn(path.read_bytes(), path.name, **kwargs)


def line_of(source: Path | bytes, needle: str) -> int:
    """1-based number of the first line of source (a file or bytes) containing needle."""
    text = source.decode() if isinstance(source, bytes) else source.read_text(encoding="utf-8")
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def diagram(process_body: str, root_extra: str = "") -> bytes:
    """A one-process executable diagram around the given flow elements."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="t">
  <bpmn:process id="p" isExecutable="true">
    {process_body}
  </bpmn:process>{root_extra}
</bpmn:definitions>""".encode()


def timer_diagram(expression: str, kind: str = "timeDuration") -> bytes:
    return diagram(f"""
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="t"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="late" attachedToRef="t"><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:{kind}>{expression}</bpmn:{kind}></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="e2"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
    <bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="e2"/>""")


def assert_clean_messages(problems):
    for p in problems:
        text = str(p)
        assert "\n" not in text and "Traceback" not in text and " at 0x" not in text, text


# ---- the MIWG reference models: valid BPMN from other tools -------------------------------

@pytest.mark.parametrize("path", MIWG_FILES, ids=lambda p: p.name)
def test_every_miwg_reference_file_gives_definitions_or_located_problems(path):
    definitions, problems = validate_file(path)
    assert bool(definitions) != bool(problems)
    assert_clean_messages(problems)
    assert not any("internal error" in p.message for p in problems)
    assert not any("(XSD)" in p.message for p in problems)  # they are all schema-valid


def miwg(name: str) -> Path:
    assert (MIWG / name).is_file(), name
    return MIWG / name


def test_miwg_file_without_executable_process_says_so():
    _, problems = validate_file(miwg("A.1.0.bpmn"))
    assert len(problems) == 1 and problems[0].message.startswith("no executable process")


def test_miwg_service_task_is_named_with_its_line():
    path = miwg("C.1.0.bpmn")
    _, problems = validate_file(path)
    [service] = [p for p in problems if "service task" in p.message]
    assert service.element_id == "archiveInvoice"
    assert service.line == line_of(path, 'serviceTask id="archiveInvoice"')


def test_miwg_data_store_is_named():
    path = miwg("C.1.1.bpmn")
    _, problems = validate_file(path)
    [store] = [p for p in problems if "data store" in p.message]
    assert store.element_id == "sid-14ef3d18-7218-4f57-98f0-bb595114754b"
    assert "Financial Accounting System" in store.message


def test_miwg_multi_instance_without_cardinality_is_named():
    _, problems = validate_file(miwg("C.9.2.bpmn"))
    assert any(p.element_id == "CallActivity_RequestDocument" and "multi-instance" in p.message
               for p in problems)


def test_miwg_unquoted_timers_are_the_only_problem_and_quoting_them_fixes_it():
    path = miwg("C.9.1.bpmn")
    _, problems = validate_file(path)
    assert {p.element_id for p in problems} == {"BoundaryEvent_1", "BoundaryEvent_2"}
    assert all("quoted ISO 8601" in p.message for p in problems)
    fixed = path.read_bytes().replace(b">R6/P1D<", b">'R6/P1D'<").replace(b">P7D<", b">'P7D'<")
    definitions, problems = validate_bpmn(fixed, path.name)
    assert problems == [] and [d.process_id for d in definitions] == ["requestDocument_en"]


# ---- safe XML ---------------------------------------------------------------------------

def test_malformed_xml_gives_one_problem_with_its_line():
    definitions, problems = validate_file(BPMN_DIR / "invalid_malformed.bpmn")
    assert definitions == [] and len(problems) == 1
    assert problems[0].line == 5 and "malformed XML" in problems[0].message


@pytest.mark.parametrize("name", ["invalid_billion_laughs.bpmn", "invalid_xxe.bpmn"])
def test_entity_attacks_are_refused(name):
    definitions, problems = validate_file(BPMN_DIR / name)
    assert definitions == [] and len(problems) == 1
    assert "DOCTYPE" in problems[0].message and problems[0].line == 2


def test_xxe_file_content_never_appears_in_any_message(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-7f3a")
    for encoding in ("utf-8", "utf-16"):
        xml = (f'<?xml version="1.0" encoding="{encoding.upper()}"?>\n'
               f'<!DOCTYPE d [<!ENTITY s SYSTEM "{secret.as_uri()}">]>\n'
               '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">'
               '<bpmn:process id="p" name="&s;" isExecutable="true"><bpmn:documentation>&s;'
               '</bpmn:documentation></bpmn:process></bpmn:definitions>').encode(encoding)
        _, problems = validate_bpmn(xml, "xxe.bpmn")
        assert problems and all("TOP-SECRET" not in str(p) for p in problems)
        with pytest.raises(UnsafeXml):
            parse_xml(xml)


def test_oversize_file_is_refused_before_parsing():
    data = (BPMN_DIR / "valid_review_with_deadline.bpmn").read_bytes()
    _, problems = validate_bpmn(data, "big.bpmn", max_bytes=len(data) - 1)
    assert len(problems) == 1 and "larger than the limit" in problems[0].message
    with pytest.raises(UnsafeXml):
        parse_xml(b"<a>" + b" " * 100 + b"</a>", max_bytes=50)


def test_parse_xml_returns_a_tree_and_reports_malformed_lines():
    tree = parse_xml(b"<a>\n<b/>\n</a>")
    assert isinstance(tree, etree._ElementTree) and tree.getroot()[0].sourceline == 2
    with pytest.raises(MalformedXml) as info:
        parse_xml(b"<a>\n<b>\n</a>")
    assert info.value.line == 3


def test_spiffworkflow_is_never_handed_bytes(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("SpiffWorkflow must not parse bytes itself")
    monkeypatch.setattr(SpiffBpmnParser, "add_bpmn_str", refuse)
    monkeypatch.setattr(SpiffBpmnParser, "add_bpmn_io", refuse)
    definitions, problems = validate_file(BPMN_DIR / "valid_review_with_deadline.bpmn")
    assert problems == [] and len(definitions) == 1


# ---- XSD --------------------------------------------------------------------------------

def test_every_xsd_error_is_reported_with_line_and_element():
    path = BPMN_DIR / "invalid_xsd.bpmn"
    _, problems = validate_file(path)
    assert [(p.line, p.element_id) for p in problems] == [
        (line_of(path, "bpmn:taks"), "typo"), (line_of(path, 'id="xsd_second"'), "xsd_second")]
    assert all(p.message.endswith("(XSD)") for p in problems)
    assert "'bpmn:taks'" in problems[0].message  # namespaces shown as prefixes, not {uri}


# ---- a good diagram, and the unsafe ones -------------------------------------------------

@pytest.mark.parametrize("path", sorted(BPMN_DIR.glob("valid_*.bpmn")), ids=lambda p: p.name)
def test_valid_fixture_files_give_definitions_and_no_problems(path):
    definitions, problems = validate_file(path)
    assert problems == [] and definitions


@pytest.mark.parametrize("path", sorted(BPMN_DIR.glob("invalid_*.bpmn")), ids=lambda p: p.name)
def test_invalid_fixture_files_give_problems_only(path):
    definitions, problems = validate_file(path)
    assert definitions == [] and problems
    assert_clean_messages(problems)


def test_valid_diagram_gives_one_parsed_definition():
    path = BPMN_DIR / "valid_review_with_deadline.bpmn"
    [definition], problems = validate_file(path)
    assert problems == []
    assert isinstance(definition, ParsedDefinition)
    assert (definition.process_id, definition.name) == ("review_with_deadline", "Xem xét có hạn")
    assert isinstance(definition.spec, BpmnProcessSpec) and "review_late" in definition.spec.task_specs
    assert definition.subprocess_specs == {} and definition.xml == path.read_bytes()


def test_condition_calling_import_names_the_sequence_flow_and_line():
    path = BPMN_DIR / "invalid_condition_injection.bpmn"
    _, [problem] = validate_file(path)
    assert problem.element_id == "f_approved"
    assert problem.line == line_of(path, "__import__")
    assert "__import__" in problem.message
    assert str(problem).startswith(f"invalid_condition_injection.bpmn:{problem.line}: [f_approved] condition")


def test_script_task_with_import_names_the_task():
    path = BPMN_DIR / "invalid_script_import.bpmn"
    _, [problem] = validate_file(path)
    assert (problem.element_id, problem.line) == ("prepare", line_of(path, "import os"))
    assert "import is not allowed" in problem.message


def test_unquoted_iso_timer_is_reported_with_the_fix():
    path = BPMN_DIR / "invalid_timer_unquoted.bpmn"
    _, [problem] = validate_file(path)
    assert problem.element_id == "review_late" and problem.line == line_of(path, "<bpmn:timeDuration>")
    assert "quoted ISO 8601 string or a function call" in problem.message and "'PT2H'" in problem.message


@pytest.mark.parametrize("expression, kind", [
    ('"PT2H"', "timeDuration"), ("'P3D'", "timeDuration"), ('"R3/PT10M"', "timeCycle"),
    ('"2030-01-02T08:00:00+07:00"', "timeDate"), ("add_working_days(3)", "timeDuration"),
    ('"P" + str(days) + "D"', "timeDuration"),
])
def test_good_timer_expressions_pass(expression, kind):
    definitions, problems = validate_bpmn(timer_diagram(expression, kind), "t.bpmn",
                                          functions=["add_working_days"])
    assert problems == [] and definitions


@pytest.mark.parametrize("expression, kind, expected", [
    ("PT2H", "timeDuration", "write 'PT2H' with the quotes"),
    ("R3/PT10M", "timeCycle", "write 'R3/PT10M' with the quotes"),
    ("2030-01-02T08:00:00", "timeDate", "quoted ISO 8601"),
    ("deadline", "timeDuration", "quoted ISO 8601"),
    ("", "timeDuration", "quoted ISO 8601"),
    ('"2 hours"', "timeDuration", "is not a valid ISO 8601 duration"),
    ('"P2D"', "timeDate", "is not a valid ISO 8601 date"),
    ("3600", "timeDuration", "quoted ISO 8601"),
    ("__import__('os').getcwd()", "timeDuration", "'__import__' is not allowed"),
    ('"R/P999999999M"', "timeCycle", "longer than 1000 years"),  # would loop month by month for minutes
])
def test_bad_timer_expressions_are_located(expression, kind, expected):
    definitions, [problem] = validate_bpmn(timer_diagram(expression, kind), "t.bpmn")
    assert definitions == [] and problem.element_id == "late" and expected in problem.message


def test_a_bare_name_is_accepted_when_it_is_an_allowed_function():
    _, problems = validate_bpmn(timer_diagram("deadline"), "t.bpmn", functions=["deadline"])
    assert problems == []


def test_pre_and_post_scripts_are_checked():
    body = """
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="t"><bpmn:extensionElements>
        <spiffworkflow:preScript>x = open('/etc/passwd').read()</spiffworkflow:preScript>
      </bpmn:extensionElements><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>"""
    _, [problem] = validate_bpmn(diagram(body), "pre.bpmn")
    assert problem.element_id == "t" and "'open' is not allowed" in problem.message


# ---- things SpiffWorkflow parses but cannot run -----------------------------------------

def test_event_subprocess_is_refused_because_it_would_never_start():
    body = """
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:endEvent id="e"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="e"/>
    <bpmn:subProcess id="on_signal" triggeredByEvent="true">
      <bpmn:startEvent id="es"><bpmn:outgoing>g1</bpmn:outgoing><bpmn:signalEventDefinition/></bpmn:startEvent>
      <bpmn:endEvent id="ee"><bpmn:incoming>g1</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="g1" sourceRef="es" targetRef="ee"/>
    </bpmn:subProcess>"""
    _, [problem] = validate_bpmn(diagram(body), "evs.bpmn")
    assert problem.element_id == "on_signal" and "event subprocess" in problem.message


def test_process_without_start_event_and_service_task_are_both_reported():
    body = """<bpmn:serviceTask id="call_api"/><bpmn:endEvent id="e"/>"""
    _, problems = validate_bpmn(diagram(body), "nostart.bpmn")
    assert {(p.element_id, p.message.split(":")[0]) for p in problems} == {
        ("p", "process has no start event"), ("call_api", "service tasks are not supported")}


def test_reachable_complex_gateway_is_reported_by_spiffworkflow_with_its_line():
    body = """
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:complexGateway id="cg"><bpmn:incoming>f1</bpmn:incoming></bpmn:complexGateway>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="cg"/>"""
    data = diagram(body)
    _, [problem] = validate_bpmn(data, "cg.bpmn")
    assert (problem.element_id, problem.line) == ("cg", line_of(data, 'id="cg"'))
    assert "no support" in problem.message


def test_spiffworkflow_errors_are_located_by_element_id():
    body = """
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="g"><bpmn:incoming>f1</bpmn:incoming></bpmn:exclusiveGateway>
    <bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="g"/>
    <bpmn:sequenceFlow id="no_condition" sourceRef="g" targetRef="e1"/>
    <bpmn:sequenceFlow id="f3" sourceRef="g" targetRef="e2"/>"""
    data = diagram(body)
    _, [problem] = validate_bpmn(data, "gw.bpmn")
    assert problem.element_id in ("no_condition", "f3") and "without condition" in problem.message
    assert problem.line == line_of(data, f'id="{problem.element_id}"')


def test_code_in_a_called_process_is_checked_even_if_that_process_is_not_marked_executable():
    caller = """
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:callActivity id="call" calledElement="helper"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>
    <bpmn:endEvent id="e"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="call"/>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="e"/>"""
    helper = """
  <bpmn:process id="helper">
    <bpmn:startEvent id="hs"><bpmn:outgoing>h1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="evil"><bpmn:incoming>h1</bpmn:incoming><bpmn:outgoing>h2</bpmn:outgoing>
      <bpmn:script>x = ().__class__</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="he"><bpmn:incoming>h2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="h1" sourceRef="hs" targetRef="evil"/>
    <bpmn:sequenceFlow id="h2" sourceRef="evil" targetRef="he"/>
  </bpmn:process>"""
    _, [problem] = validate_bpmn(diagram(caller, helper), "call.bpmn")
    assert problem.element_id == "evil" and "__class__" in problem.message
    fixed = diagram(caller, helper.replace("().__class__", "1"))
    [definition], problems = validate_bpmn(fixed, "call.bpmn")
    assert problems == [] and list(definition.subprocess_specs) == ["helper"]


def test_condition_on_a_flow_leaving_a_task_is_refused_because_it_would_be_ignored():
    body = """
    <bpmn:startEvent id="s"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:endEvent id="e"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="e"><bpmn:conditionExpression>x</bpmn:conditionExpression>
    </bpmn:sequenceFlow>"""
    _, [problem] = validate_bpmn(diagram(body), "cond.bpmn")
    assert problem.element_id == "f1" and "would be ignored" in problem.message


# ---- never raises; message shape ---------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"", b"\x00\xff garbage", b"<html><body/></html>", b"<?xml version='1.0'?><a:b xmlns:a='x'/>",
    "<bpmn:definitions/>", None, b"<a>" * 300 + b"</a>" * 300,
])
def test_nothing_raises_for_any_input(data):
    definitions, problems = validate_bpmn(data, "junk.bpmn")
    assert definitions == [] and problems
    assert_clean_messages(problems)


def test_problem_str_leaves_out_unknown_parts():
    assert str(Problem("a.bpmn", 12, "Task_1", "bad")) == "a.bpmn:12: [Task_1] bad"
    assert str(Problem("a.bpmn", None, "Task_1", "bad")) == "a.bpmn: [Task_1] bad"
    assert str(Problem("a.bpmn", 3, None, "bad")) == "a.bpmn:3: bad"
    assert str(Problem("a.bpmn", None, None, "bad")) == "a.bpmn: bad"
    assert re.fullmatch(r"\S+:\d+: \[\w+\] .+", str(Problem("x.bpmn", 1, "id1", "m")))
