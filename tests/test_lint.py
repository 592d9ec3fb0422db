"""Modelling lint (engine/bpmn/lint.py): each rule warns on a small diagram that breaks it, naming the
element to click, and stays quiet on one that does not; the shipped diagrams; a 3 MB file in bounded time."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from engine.bpmn.lint import MAX_PER_RULE, lint
from engine.bpmn.validation import validate_bpmn
from engine.bpmn.xmlsafe import parse_xml
from engine.core import i18n

ROOT = Path(__file__).resolve().parents[1]
KINDS = {"s": "startEvent", "e": "endEvent", "t": "task", "u": "userTask", "x": "exclusiveGateway",
         "p": "parallelGateway", "i": "inclusiveGateway", "c": "intermediateCatchEvent", "sub": "subProcess"}


def diagram(nodes: str, flows: str = "", inside: str = "", pool: bool = False, executable: bool = False) -> bytes:
    """A one-process diagram from a short notation.

    nodes: "kind:id" words (kinds in KINDS); a trailing "!" leaves the element unnamed, "@timer" gives an
    event a timer. flows: "a>b" words; "a>b?cond" has a condition, "a>b*" is a's default flow, "a>b!" is
    unnamed. inside: raw XML added to the process."""
    defaults, parts, node_parts = {}, [], []
    for number, spec in enumerate(flows.split()):
        ends, _, condition = spec.partition("?")
        unnamed, default = ends.endswith("!"), ends.rstrip("!").endswith("*")
        source, target = ends.rstrip("!*").split(">")
        flow_id = f"f{number}_{source}_{target}"
        if default:
            defaults[source] = flow_id
        body = f'<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>' if condition else ""
        name = "" if unnamed else f' name="{flow_id}"'
        parts.append(f'<bpmn:sequenceFlow id="{flow_id}"{name} sourceRef="{source}" targetRef="{target}">{body}'
                     '</bpmn:sequenceFlow>')
    for spec in nodes.split():
        kind, _, node_id = spec.partition(":")
        timer = node_id.endswith("@timer")
        node_id = node_id.removesuffix("@timer")
        unnamed = node_id.endswith("!")
        node_id = node_id.rstrip("!")
        attrs = ("" if unnamed else f' name="{node_id.upper()}"') + (
            f' default="{defaults[node_id]}"' if node_id in defaults else "")
        body = "<bpmn:timerEventDefinition/>" if timer else ""
        node_parts.append(f'<bpmn:{KINDS[kind]} id="{node_id}"{attrs}>{body}</bpmn:{KINDS[kind]}>')
    collaboration = ('<bpmn:collaboration id="C"><bpmn:participant id="Pool" name="Pool" processRef="p"/>'
                     '</bpmn:collaboration>') if pool else ""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="t">
  {collaboration}
  <bpmn:process id="p" isExecutable="{str(executable).lower()}">
    {"".join(node_parts + parts)}{inside}
  </bpmn:process>
</bpmn:definitions>""".encode()


def warnings(data: bytes, lang: str = "en"):
    return lint(parse_xml(data), "d.bpmn", lang)


def fragment(rule: str) -> str:
    """The longest fixed part of a rule's English message: what its warning must say."""
    return max(re.split(r"\{[^}]*\}", i18n.catalog()[f"lint.{rule}"]["en"]), key=len)


def said(rule: str, problem) -> bool:
    return fragment(rule) in problem.message


SUB = ('<bpmn:subProcess id="sub" name="SUB"><bpmn:startEvent id="ss"/><bpmn:task id="st" name="ST"/>'
       '<bpmn:endEvent id="se"/><bpmn:sequenceFlow id="sf1" sourceRef="ss" targetRef="st"/>'
       '<bpmn:sequenceFlow id="sf2" sourceRef="st" targetRef="se"/></bpmn:subProcess>')
# rule, element it must name, a diagram that breaks the rule, one that does not
CASES = [
    ("no_implicit_split", "t",
     diagram("s:s t:t t:a t:b e:e1 e:e2", "s>t t>a t>b a>e1 b>e2"),
     diagram("s:s t:t p:g t:a t:b p:j e:e1", "s>t t>g g>a g>b a>j b>j j>e1")),
    ("implicit_join", "t",
     diagram("s:s x:g t:a t:b t:t e:e", "s>g g>a?x g>b* a>t b>t t>e"),
     diagram("s:s x:g t:a t:b x:m t:t e:e", "s>g g>a?x g>b* a>m b>m m>t t>e")),
    ("implicit_join_parallel", "t",
     diagram("s:s p:g t:a t:b t:t e:e", "s>g g>a g>b a>t b>t t>e"),
     diagram("s:s p:g t:a t:b p:j t:t e:e", "s>g g>a g>b a>j b>j j>t t>e")),
    ("fake_join", "j",
     diagram("s:s x:g t:a t:b p:j e:e", "s>g g>a?x g>b* a>j b>j j>e"),
     diagram("s:s x:g t:a t:b x:j e:e", "s>g g>a?x g>b* a>j b>j j>e")),
    ("no_disconnected", "lost",
     diagram("s:s t:t e:e t:lost", "s>t t>e"),
     diagram("s:s t:t e:e", "s>t t>e")),
    ("start_event_required", "p",
     diagram("t:t e:e", "t>e"),
     diagram("s:s t:t e:e", "s>t t>e")),
    ("start_event_required", "Pool",  # a process in a pool: the pool is what the analyst clicks
     diagram("t:t e:e", "t>e", pool=True),
     diagram("s:s t:t e:e", "s>t t>e", pool=True)),
    ("end_event_required", "p",
     diagram("s:s t:t", "s>t"),
     diagram("s:s t:t e:e", "s>t t>e")),
    ("empty_scope", "sub",
     diagram("s:s e:e", "s>sub sub>e", inside='<bpmn:subProcess id="sub" name="SUB"/>'),
     diagram("s:s e:e", "s>sub sub>e", inside=SUB)),
    ("single_blank_start_event", "s2",
     diagram("s:s s:s2 t:t e:e", "s>t s2>t t>e"),
     diagram("s:s s:s2@timer t:t x:m e:e", "s>m s2>m m>t t>e")),
    ("gateway_join_fork", "g",
     diagram("s:s t:a x:g t:b t:c e:e e:e2", "s>a a>g b>g g>b?x g>c* c>e", inside=""),
     diagram("s:s t:a x:m x:g t:b t:c e:e", "s>a a>m b>m m>g g>b?x g>c* c>e")),
    ("superfluous_gateway", "g",
     diagram("s:s x:g t:t e:e", "s>g g>t t>e"),
     diagram("s:s t:t e:e", "s>t t>e")),
    ("label_required.activity", "t",
     diagram("s:s t:t! e:e", "s>t t>e"),
     diagram("s:s t:t e:e", "s>t t>e")),
    ("label_required.event", "c",
     diagram("s:s c:c!@timer e:e", "s>c c>e"),
     diagram("s:s c:c@timer e:e", "s>c c>e")),
    ("label_required.gateway", "g",
     diagram("s:s x:g! t:a t:b e:e1 e:e2", "s>g g>a?x g>b* a>e1 b>e2"),
     diagram("s:s x:g t:a t:b e:e1 e:e2", "s>g g>a?x g>b* a>e1 b>e2")),
    ("label_required.flow", "f2_g_b",
     diagram("s:s x:g t:a t:b e:e1 e:e2", "s>g g>a?x g>b*! a>e1 b>e2"),
     diagram("s:s x:g t:a t:b e:e1 e:e2", "s>g g>a?x g>b* a>e1 b>e2")),
    ("conditional_flow", "f2_g_b",
     diagram("s:s x:g t:a t:b e:e1 e:e2", "s>g g>a?x g>b a>e1 b>e2"),
     diagram("s:s x:g t:a t:b e:e1 e:e2", "s>g g>a?x g>b?not_x a>e1 b>e2")),
    ("default_with_condition", "f2_g_b",
     diagram("s:s x:g t:a t:b e:e1 e:e2", "s>g g>a?x g>b*?y a>e1 b>e2"),
     diagram("s:s x:g t:a t:b e:e1 e:e2", "s>g g>a?x g>b* a>e1 b>e2")),
    ("duplicate_flow", "f2_s_t",
     diagram("s:s t:t e:e", "s>t t>e s>t"),
     diagram("s:s t:t e:e", "s>t t>e")),
]


@pytest.mark.parametrize("rule, element_id, bad, good", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_each_rule_names_the_element_that_breaks_it_and_is_quiet_otherwise(rule, element_id, bad, good):
    found = [p for p in warnings(bad) if said(rule, p)]
    assert [p.element_id for p in found] == [element_id], warnings(bad)
    assert found[0].severity == "warning" and found[0].line and found[0].file == "d.bpmn"
    assert not [p for p in warnings(good) if said(rule, p)], warnings(good)


def test_every_good_case_is_clean_of_every_rule():
    # the good diagrams are well drawn: no warning of any kind, so no rule fires where it should not
    assert {name: warnings(good) for name, _, _, good in CASES if warnings(good)} == {}


def test_a_parallel_join_fed_by_alternatives_names_the_splitting_gateway():
    [problem] = [p for p in warnings(CASES[3][2]) if p.element_id == "j"]
    assert "'G'" in problem.message and "wait here forever" in problem.message


def test_alternatives_into_one_end_event_are_fine_but_parallel_paths_are_not():
    alternatives = diagram("s:s x:g t:a t:b e:e", "s>g g>a?x g>b* a>e b>e")
    assert warnings(alternatives) == []
    parallel = diagram("s:s p:g t:a t:b e:e", "s>g g>a g>b a>e b>e")
    assert [p.element_id for p in warnings(parallel)] == ["e"]


def test_a_subprocess_and_an_event_subprocess_are_linted_as_scopes_of_their_own():
    event_sub = ('<bpmn:subProcess id="es" name="ES" triggeredByEvent="true"><bpmn:startEvent id="es_s" name="X"/>'
                 '<bpmn:endEvent id="es_e" name="Y"/><bpmn:sequenceFlow id="esf" sourceRef="es_s" targetRef="es_e"/>'
                 '</bpmn:subProcess>')
    found = warnings(diagram("s:s e:e", "s>sub sub>e", inside=SUB + event_sub))
    # the event subprocess stands alone (not "disconnected") but its start needs a trigger
    assert [(p.element_id, said("event_subprocess_typed_start", p)) for p in found] == [
        ("es_s", True)]


def test_an_executable_process_leaves_missing_start_events_to_the_deploy_check():
    # validation.py refuses it as an error; a warning saying the same would be noise
    data = diagram("t:t e:e", "t>e", executable=True)
    assert warnings(data) == []
    _, errors = validate_bpmn(data, "d.bpmn")
    assert any("no start event" in p.message for p in errors)


def test_messages_follow_the_language_asked():
    bad = CASES[0][2]
    [vi] = warnings(bad, "vi")
    assert vi.element_id == "t" and "cổng" in vi.message
    assert said("no_implicit_split", warnings(bad)[0]) and not said("no_implicit_split", vi)


def test_every_rule_message_is_in_the_catalog_in_both_languages():
    source = (ROOT / "engine" / "bpmn" / "lint.py").read_text(encoding="utf-8")
    keys = {k for k in i18n.catalog() if k.startswith("lint.")}
    assert {c[0] for c in CASES} | {"event_subprocess_typed_start", "more_not_listed"} <= {k[5:] for k in keys}
    for key in keys:
        assert f'"{key[5:].split(".")[0]}' in source.replace('"lint.', '"'), key  # no entry without its rule


@pytest.mark.parametrize("path", sorted((ROOT / "processes").glob("*.bpmn")), ids=lambda p: p.name)
def test_shipped_diagrams_lint_clean_or_with_known_warnings(path):
    # task_followup: review_deadline_gw (first pass and two loop-backs, then with or without a deadline)
    # and has_deadline_gw both merge and split; both are alternatives, so harmless, but bpmnlint's
    # recommended rules flag them and a merge gateway would make the loops readable (reported to the lead).
    known = {"task_followup.bpmn": {("review_deadline_gw", "gateway_join_fork"),
                                    ("has_deadline_gw", "gateway_join_fork")}}
    found = {(p.element_id, next(k[5:] for k in i18n.catalog() if k.startswith("lint.")
                                 and said(k[5:], p))) for p in lint(parse_xml(
                                     path.read_bytes()), path.name)}
    assert found <= known.get(path.name, set())


def test_a_3_mb_diagram_lints_in_well_under_a_second():
    # two chains of 12 000 tasks after a parallel split, joined without a gateway at the end: the walk
    # back from the join crosses every task (linear thanks to the memo), plus 24 000 nodes and flows.
    parts = ['<bpmn:startEvent id="s" name="S"/><bpmn:parallelGateway id="split"/>',
             '<bpmn:sequenceFlow id="f0" sourceRef="s" targetRef="split"/>']
    for chain in "ab":
        parts.append(f'<bpmn:sequenceFlow id="{chain}f" sourceRef="split" targetRef="{chain}0"/>')
        for i in range(12_000):
            target = f"{chain}{i + 1}" if i + 1 < 12_000 else "join"
            parts.append(f'<bpmn:task id="{chain}{i}" name="Task {chain} {i}"/>'
                         f'<bpmn:sequenceFlow id="{chain}s{i}" sourceRef="{chain}{i}" targetRef="{target}"/>\n')
    parts.append('<bpmn:task id="join" name="J"/><bpmn:endEvent id="e" name="E"/>'
                 '<bpmn:sequenceFlow id="fe" sourceRef="join" targetRef="e"/>')
    data = diagram("", inside="".join(parts))
    assert len(data) > 2_500_000
    tree = parse_xml(data)
    started = time.perf_counter()
    found = lint(tree, "big.bpmn")
    assert time.perf_counter() - started < 10  # a hang guard: the figures are bench/check.py's
    assert [p.element_id for p in found] == ["join"]


def test_a_file_breaking_one_rule_thousands_of_times_lists_the_first_ones_and_counts_the_rest():
    data = diagram("s:s e:e", "s>e", inside="".join(f'<bpmn:task id="t{i}" name="T"/>' for i in range(5000)))
    started = time.perf_counter()
    found = lint(parse_xml(data), "many.bpmn")
    assert time.perf_counter() - started < 10  # a hang guard: the figures are bench/check.py's
    assert len(found) == MAX_PER_RULE + 1
    assert found[-1].element_id is None and found[-1].message.startswith(f"{5000 - MAX_PER_RULE} more warnings")


def test_an_odd_diagram_never_raises():
    odd = diagram("s:s t:t e:e", "s>nowhere ghost>t t>t t>e", inside='<bpmn:task name="no id"/>'
                  '<bpmn:sequenceFlow id="loose"/><bpmn:subProcess id="ring"><bpmn:task id="r1" name="R"/>'
                  '<bpmn:task id="r2" name="R"/><bpmn:sequenceFlow id="r12" sourceRef="r1" targetRef="r2"/>'
                  '<bpmn:sequenceFlow id="r21" sourceRef="r2" targetRef="r1"/></bpmn:subProcess>')
    found = lint(parse_xml(odd), "odd.bpmn")
    assert all(p.severity == "warning" and "\n" not in p.message for p in found)
    assert any(p.element_id == "ring" and said("start_event_required", p) for p in found)
