"""Modelling lint: how a diagram is drawn, not whether it can run (validation.py says that).

The rules follow the spirit of bpmnlint's "recommended" configuration (written here from its rule
list, not from its code) plus one it lacks (a parallel join fed by alternatives, which deadlocks).
Every problem is a `Problem` with severity "warning", located on the element the analyst can click
(for a process drawn inside a pool, the pool). Messages come from the catalog (engine/core/messages/
lint.json, keys "lint.<rule>"), in English unless another language is asked.

Cost: one pass over the tree builds the flow graph of every process and subprocess, then each rule
looks at each node or flow a bounded number of times; the walk back to a join's origin memoises what
it has seen, so the whole lint is linear in the size of the file.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from lxml import etree

from engine.bpmn.validation import BPMN, Problem
from engine.core import i18n

_B = f"{{{BPMN}}}"
ACTIVITIES = frozenset(_B + t for t in (
    "task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"))
EVENTS = frozenset(_B + t for t in (
    "startEvent", "endEvent", "intermediateThrowEvent", "intermediateCatchEvent", "boundaryEvent",
    "implicitThrowEvent"))
GATEWAYS = frozenset(_B + t for t in (
    "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"))
SCOPES = (_B + "process", _B + "subProcess", _B + "transaction", _B + "adHocSubProcess")
_SUBSCOPES = frozenset(SCOPES[1:])
DECISIONS = frozenset((_B + "exclusiveGateway", _B + "inclusiveGateway"))  # choose by conditions
MAX_PER_RULE = 100  # a generated file can break a rule thousands of times: the analyst needs the first ones
ONE_PATH = frozenset((_B + "exclusiveGateway", _B + "eventBasedGateway"))  # take exactly one way out
MANY_PATHS = frozenset((_B + "parallelGateway", _B + "inclusiveGateway", _B + "complexGateway"))


@dataclass
class Scope:
    """One process or subprocess: its own flow nodes and the sequence flows between them."""
    element: etree._Element
    nodes: dict = field(default_factory=dict)  # id -> element
    flows: list = field(default_factory=list)
    incoming: dict = field(default_factory=lambda: defaultdict(list))  # node id -> flows entering it
    outgoing: dict = field(default_factory=lambda: defaultdict(list))  # node id -> flows leaving it


def lint(tree, filename: str, lang: str = "en") -> list[Problem]:
    """Modelling warnings for every process and subprocess of a parsed diagram (from xmlsafe.parse_xml).

    Never raises for an odd diagram: whatever cannot be judged is skipped."""
    root = tree.getroot() if hasattr(tree, "getroot") else tree
    linter = _Linter(root, str(filename), lang)
    for element in root.iter(*SCOPES):
        linter.check(_scope(element))
    problems = sorted(dict.fromkeys(linter.problems), key=lambda p: p.line or 0)
    for rule, count in linter.counts.items():
        if count > MAX_PER_RULE:
            more = " ".join(i18n.text("lint.more_not_listed", lang, count=count - MAX_PER_RULE).split())
            problems.append(Problem(linter.filename, None, None, f"{more}: {linter.first[rule]}", "warning"))
    return problems


def _scope(element) -> Scope:
    scope = Scope(element)
    for child in element:
        tag = child.tag
        if tag in ACTIVITIES or tag in EVENTS or tag in GATEWAYS:
            if child.get("id"):
                scope.nodes[child.get("id")] = child
        elif tag == _B + "sequenceFlow":
            scope.flows.append(child)
    for flow in scope.flows:  # sourceRef/targetRef are the truth; <incoming>/<outgoing> are often stale
        scope.outgoing[flow.get("sourceRef")].append(flow)
        scope.incoming[flow.get("targetRef")].append(flow)
    return scope


def _has_condition(flow) -> bool:
    condition = flow.find(_B + "conditionExpression")
    return condition is not None and bool((condition.text or "").strip())


def _name(element) -> str:
    return (element.get("name") or "").strip()


def _shown(element) -> str:
    """How a message names another element: its name, else its id."""
    return " ".join(_name(element).split())[:60] or element.get("id") or "?"


def _definitions(event):
    return [c for c in event if isinstance(c.tag, str) and c.tag.endswith("EventDefinition")]


class _Linter:
    def __init__(self, root, filename, lang):
        self.filename, self.lang, self.problems = filename, lang, []
        self.counts, self.first = defaultdict(int), {}  # per rule: how many found, the first message
        # a process drawn inside a pool is clicked as the pool: name the pool for whole-process warnings
        self.pool_of = {p.get("processRef"): p.get("id") for p in root.iter(_B + "participant")
                        if p.get("processRef") and p.get("id")}
        # validation.py already refuses (as errors) a missing start event in a process it would deploy and a
        # subprocess of it without exactly one start and an end: the lint leaves those to it
        self.deployed = {p for p in root.iterchildren(_B + "process") if p.get("isExecutable") == "true"}

    def warn(self, element, rule, **params):
        self.counts[rule] += 1
        if self.counts[rule] > MAX_PER_RULE:
            return
        element_id = element.get("id")
        if element.tag == _B + "process":
            element_id = self.pool_of.get(element_id, element_id)
        message = " ".join(i18n.text(f"lint.{rule}", self.lang, **params).split())
        self.first.setdefault(rule, message)
        self.problems.append(Problem(self.filename, element.sourceline, element_id, message, "warning"))

    def check(self, scope: Scope):
        self.scope_events(scope)
        self.nodes(scope)
        self.flows(scope)
        self.joins(scope)

    def scope_events(self, scope):
        element = scope.element
        event_sub = element.get("triggeredByEvent") == "true"
        starts = [n for n in scope.nodes.values() if n.tag == _B + "startEvent"]
        checked = next((p for p in (element, *element.iterancestors(_B + "process"))
                        if p in self.deployed), None) is not None
        if element.tag == _B + "adHocSubProcess":  # its activities start on their own, and end so too
            return
        if not scope.nodes:  # one warning says it all (a collapsed subprocess drawn by another tool, often)
            self.warn(element, "empty_scope")
            return
        if not starts and not checked:
            self.warn(element, "start_event_required")
        if not any(n.tag == _B + "endEvent" for n in scope.nodes.values()) and not (
                checked and element.tag in _SUBSCOPES and not event_sub):
            self.warn(element, "end_event_required")
        blank = [s for s in starts if not _definitions(s)]
        if event_sub:
            for start in blank:
                self.warn(start, "event_subprocess_typed_start")
        else:
            for start in blank[1:]:
                self.warn(start, "single_blank_start_event")

    def nodes(self, scope):
        in_ad_hoc = scope.element.tag == _B + "adHocSubProcess"
        for node_id, node in scope.nodes.items():
            tag, ins, outs = node.tag, scope.incoming[node_id], scope.outgoing[node_id]
            if not ins and not outs and not self._may_stand_alone(node, in_ad_hoc):
                self.warn(node, "no_disconnected")
            if tag in GATEWAYS:
                self.gateway(scope, node, ins, outs)
                continue
            plain = [f for f in outs if not _has_condition(f) and f.get("id") != node.get("default")]
            if len(plain) > 1:
                self.warn(node, "no_implicit_split", count=len(plain))
            if node.get("default") and node.get("default") not in {f.get("id") for f in outs}:
                self.warn(node, "default_not_outgoing", flow=node.get("default"))
            if tag in EVENTS and len(_definitions(node)) > 1:
                self.warn(node, "single_event_definition", count=len(_definitions(node)))
            if not _name(node) and not (tag in EVENTS and self._unnamed_event_ok(node)):
                self.warn(node, "label_required.activity" if tag in ACTIVITIES else "label_required.event")

    @staticmethod
    def _may_stand_alone(node, in_ad_hoc):
        if node.get("triggeredByEvent") == "true" or node.get("isForCompensation") == "true":
            return True  # an event subprocess starts by its trigger; compensation is linked by association
        if node.tag == _B + "boundaryEvent":
            return any(d.tag == _B + "compensateEventDefinition" for d in _definitions(node))
        return in_ad_hoc and node.tag in ACTIVITIES

    @staticmethod
    def _unnamed_event_ok(node):
        # the one blank start and the blank end of a subprocess say nothing a name would add
        parent = node.getparent()
        return parent is not None and parent.tag in _SUBSCOPES and not _definitions(node) and node.tag in (
            _B + "startEvent", _B + "endEvent")

    def gateway(self, scope, node, ins, outs):
        tag, default = node.tag, node.get("default")
        if len(ins) == 1 and len(outs) == 1:
            self.warn(node, "superfluous_gateway")
        if len(ins) > 1 and len(outs) > 1:
            self.warn(node, "gateway_join_fork")
        if default and default not in {f.get("id") for f in outs}:
            self.warn(node, "default_not_outgoing", flow=default)
        if len(outs) > 1 and tag != _B + "parallelGateway" and not _name(node):
            self.warn(node, "label_required.gateway")
        if tag in DECISIONS and len(outs) > 1:
            for flow in outs:
                is_default = flow.get("id") == default
                if not _has_condition(flow) and not is_default:
                    self.warn(flow, "conditional_flow", gateway=_shown(node))
                if is_default and _has_condition(flow):
                    self.warn(flow, "default_with_condition")
                if not _name(flow):
                    self.warn(flow, "label_required.flow", gateway=_shown(node))

    def flows(self, scope):
        seen = {}
        for flow in scope.flows:
            condition = flow.find(_B + "conditionExpression")
            key = (flow.get("sourceRef"), flow.get("targetRef"),
                   " ".join((condition.text or "").split()) if condition is not None else None)
            if key in seen:
                self.warn(flow, "duplicate_flow", other=seen[key].get("id") or "?")
            else:
                seen[key] = flow

    def joins(self, scope):
        origins = _Origins(scope)
        for node_id, node in scope.nodes.items():
            ins = scope.incoming[node_id]
            if len(ins) < 2:
                continue
            if node.tag in GATEWAYS:
                if node.tag == _B + "parallelGateway":
                    self.parallel_join(node, [origins.of(f) for f in ins])
                continue
            branches = [origins.of(f) for f in ins]
            parallel = any(o is not None and origins.parallel(o) for o in branches)
            if parallel:
                self.warn(node, "implicit_join_parallel", count=len(ins))
            elif node.tag != _B + "endEvent":  # alternatives that end in one end event: nothing to merge
                self.warn(node, "implicit_join", count=len(ins))

    def parallel_join(self, node, branches):
        counts = defaultdict(int)
        for origin in branches:
            if origin is not None and origin.tag in ONE_PATH:
                counts[origin] += 1
        for split, count in counts.items():
            if count > 1:
                self.warn(node, "fake_join", count=count, split=_shown(split))
                return


class _Origins:
    """Where a flow's branch begins: walking back from its source through plain steps (one flow in, one
    out, not a gateway) to the first gateway, split, join or start. Memoised, so linear overall."""

    def __init__(self, scope):
        self.scope, self.memo = scope, {}

    def of(self, flow):
        node = self.scope.nodes.get(flow.get("sourceRef"))
        path = {}  # id -> None, in walking order; a dict so that membership is cheap
        while node is not None and node.get("id") not in self.memo:
            node_id = node.get("id")
            ins, outs = self.scope.incoming[node_id], self.scope.outgoing[node_id]
            if node.tag in GATEWAYS or len(ins) != 1 or len(outs) != 1 or node_id in path:
                break
            path[node_id] = None
            node = self.scope.nodes.get(ins[0].get("sourceRef"))
        origin = self.memo.get(node.get("id"), node) if node is not None else None
        if node is not None and node.get("id") in path:  # a ring of plain steps: no origin
            origin = None
        for step in path:
            self.memo[step] = origin
        return origin

    def parallel(self, origin) -> bool:
        """Whether paths leaving this origin can run at the same time."""
        outs = self.scope.outgoing[origin.get("id")]
        if origin.tag in GATEWAYS:
            return origin.tag in MANY_PATHS and len(outs) > 1
        if origin.tag == _B + "boundaryEvent":
            return origin.get("cancelActivity") == "false"
        plain = [f for f in outs if not _has_condition(f) and f.get("id") != origin.get("default")]
        return len(plain) > 1  # an implicit split runs all its unconditioned flows
