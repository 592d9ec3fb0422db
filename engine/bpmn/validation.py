"""Deployability checks for one BPMN file: safe XML, XSD, SpiffWorkflow parse, unsupported elements, safe code."""
from __future__ import annotations

import ast
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition as _Timer
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser

from engine.bpmn.sandbox import check_source
from engine.bpmn.xmlsafe import DEFAULT_MAX_BYTES, XmlRejected, parse_xml
from engine.core import i18n

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF}
ROLE_ATTRIBUTE = f"{{{SPIFF}}}role"  # on a lane: the role whose people receive its tasks
_PREFIXES = {v: k for k, v in NS.items()} | {"http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi"}
_CONTAINERS = {f"{{{BPMN}}}{t}" for t in ("definitions", "process", "subProcess", "transaction", "adHocSubProcess")}
_XSD_LOCK = threading.Lock()
_ISO_LIKE = re.compile(r"R\d*/.+|P(\d|T)[\w.,]*|\d{4}-\d\d-\d\d.*")  # unquoted, PT2H is a Python name
_ISO_PARSERS = {"timeDuration": _Timer.parse_iso_duration, "timeCycle": _Timer.parse_iso_recurring_interval,
                "timeDate": _Timer.parse_time_or_duration}

# What SpiffWorkflow or this engine cannot run: (XPath, catalog key of the message[, attribute or "text", XPath
# of allowed ids]); the message may name the element's attributes ({name}), its text or what it refers to.
# References are checked against a set of ids: the same test as an XPath predicate is quadratic (minutes on 3 MB).
UNSUPPORTED = (
    (".//bpmn:serviceTask", "validation.service_task"),
    (".//bpmn:businessRuleTask", "validation.business_rule_task"),
    (".//bpmn:dataStoreReference", "validation.data_store_reference"),
    (".//bpmn:compensateEventDefinition", "validation.compensation_event"),
    (".//bpmn:linkEventDefinition", "validation.link_event"),
    (".//bpmn:boundaryEvent[not(*[contains(local-name(), 'EventDefinition')])]",
     "validation.boundary_without_definition"),
    (".//bpmn:multiInstanceLoopCharacteristics[not(bpmn:loopCardinality) and not(bpmn:loopDataInputRef)]",
     "validation.multi_instance_unbounded"),
    ("self::*[not(bpmn:startEvent)]", "validation.no_start_event"),
    (".//*[self::bpmn:subProcess or self::bpmn:transaction][count(bpmn:startEvent) != 1 or not(bpmn:endEvent)]",
     "validation.subprocess_start_end"),
    # SpiffWorkflow looks these two attributes up namespaced, so never sees them (measured: never armed).
    (".//bpmn:subProcess[@triggeredByEvent='true']", "validation.event_subprocess"),
    (".//bpmn:adHocSubProcess[@ordering='Sequential']", "validation.sequential_ad_hoc"),
    (".//bpmn:callActivity", "validation.call_activity_unknown",
     "calledElement", "/bpmn:definitions/bpmn:process"),
    (".//bpmn:sequenceFlow[bpmn:conditionExpression]",
     "validation.condition_ignored",
     "sourceRef", "//bpmn:exclusiveGateway | //bpmn:inclusiveGateway"),
    (".//bpmn:dataInputAssociation/bpmn:sourceRef | .//bpmn:dataOutputAssociation/bpmn:targetRef",
     "validation.data_association_target",
     "text", "//bpmn:dataObjectReference | //bpmn:dataStoreReference"),
    ("/bpmn:definitions/bpmn:dataStore", "validation.data_store"),  # SpiffWorkflow refuses the file
)
# (XPath, mode, label): every text SpiffWorkflow or the engine evaluates or executes as Python. An XPath
# ending in /@value selects an attribute (a spiffworkflow:property, which engine/bpmn/runtime.py evaluates).
_PROPERTY = ".//bpmn:extensionElements/spiffworkflow:properties//spiffworkflow:property[@name='{}']/@value"
EXPRESSIONS = (
    (".//bpmn:conditionExpression | .//bpmn:conditionalEventDefinition/bpmn:condition", "eval", "condition"),
    (".//bpmn:timeDate | .//bpmn:timeDuration | .//bpmn:timeCycle", "timer", "timer"),
    (".//bpmn:scriptTask/bpmn:script", "exec", "script"),
    (".//spiffworkflow:preScript | .//spiffworkflow:postScript", "exec", "pre/post script"),
    (".//bpmn:loopCardinality | .//bpmn:completionCondition | .//bpmn:loopCondition", "eval", "loop expression"),
    (".//spiffworkflow:messagePayload | .//spiffworkflow:payloadExpression | .//spiffworkflow:expression"
     " | .//bpmn:correlationPropertyRetrievalExpression/*", "eval", "message expression"),
    (_PROPERTY.format("assignee"), "eval", "assignee property"),
    (_PROPERTY.format("dueDate"), "eval", "dueDate property"),
)


# SpiffWorkflow's words for what diagrams from other tools often do, and what an analyst should read instead.
_SPIFF_SAYS = (
    ("Multiple outgoing flows are not supported for tasks of type",
     "several sequence flows leave this element without a gateway, which the engine cannot run: draw a parallel"
     " gateway to take them all or an exclusive gateway to choose one"),
    ("Non-default exclusive outgoing sequence flow without condition",
     "this flow leaves an exclusive gateway without condition and is not its default flow: give it a condition"
     " or make it the gateway's default"),
    ("There is no support implemented for this task type", "the engine has no support for {kind}: replace it with"
     " elements it supports (tasks, events, exclusive, inclusive or parallel gateways)"),
)


@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be deployed, located as precisely as we can."""
    file: str
    line: int | None
    element_id: str | None
    message: str
    severity: str = "error"  # "error" refuses a deploy; "warning" (modelling lint) is shown, not enforced

    def __str__(self) -> str:
        """'FILE:LINE: [ELEMENT_ID] message', leaving out the parts that are unknown."""
        where = f"{self.file}:{self.line}:" if self.line else f"{self.file}:"
        return f"{where} [{self.element_id}] {self.message}" if self.element_id else f"{where} {self.message}"


@dataclass
class ParsedDefinition:
    """One executable process of a valid file: what deploy needs."""
    process_id: str
    name: str | None
    spec: BpmnProcessSpec
    subprocess_specs: dict
    xml: bytes


def validate_bpmn(data: bytes, filename: str, *, functions: Iterable[str] = (), max_bytes: int = DEFAULT_MAX_BYTES,
                  lang: str = "en") -> tuple[list[ParsedDefinition], list[Problem]]:
    """Validate one BPMN file; definitions are returned only when there are no problems. Never raises.
    The engine's own messages are in `lang` (English for the command line); what the XML schema, Python
    or SpiffWorkflow say is quoted as they say it."""
    try:
        data = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        return _validate(data, str(filename), frozenset(functions), max_bytes, lang)
    except Exception as e:  # last resort: a diagram must never crash a page, an API call or the CLI
        return [], [_exception_problem(e, None, str(filename))]


def _validate(data, filename, functions, max_bytes, lang):
    try:
        tree = parse_xml(data, max_bytes=max_bytes)
    except XmlRejected as e:
        return [], [Problem(filename, e.line, None, e.message)]
    if problems := _xsd_problems(tree, filename):  # the later steps assume a schema-valid document
        return [], problems
    executable = tree.xpath("/bpmn:definitions/bpmn:process[@isExecutable='true']", namespaces=NS)
    if not executable:
        where = _main_process(tree)  # located on the pool (or process) to mark, so the modeler can show it
        return [], [Problem(filename, where.sourceline, where.get("id"), _say("no_executable", lang))]
    runnable = _runnable(tree, executable)
    others = tree.xpath("/bpmn:definitions/*[not(self::bpmn:process)]", namespaces=NS)  # messages, signals...
    problems = (_unsupported(runnable, filename, lang)
                + _expression_problems(runnable + others, filename, functions, lang))
    definitions, parse_problems = _spiff_parse(tree, executable, data, filename)
    # SpiffWorkflow stops at its first error, usually one we located already; keep only new ones.
    seen = {p.element_id for p in problems}
    problems += [p for p in parse_problems if (p.element_id not in seen if p.element_id else not seen)]
    return ([], sorted(dict.fromkeys(problems), key=lambda p: p.line or 0)) if problems else (definitions, [])


def _runnable(tree, executable):
    """The executable processes and every process they call, transitively: all of that code can run."""
    by_id = {p.get("id"): p for p in tree.xpath("/bpmn:definitions/bpmn:process", namespaces=NS)}
    found = list(executable)
    for proc in found:  # grows while we walk it
        called = proc.xpath(".//bpmn:callActivity/@calledElement", namespaces=NS)
        found += [by_id[c] for c in dict.fromkeys(called) if c in by_id and by_id[c] not in found]
    return found


def _xsd_problems(tree, filename):
    VALIDATOR.preprocess(tree)  # as SpiffWorkflow does: bpmn-js writes formalExpression for messagePath
    with _XSD_LOCK:  # the shared schema keeps the error log of its last run, so runs must not overlap
        entries = [] if VALIDATOR.validator.validate(tree) else list(VALIDATOR.validator.error_log)
    # the first id on an error's line names the element (reversed, so the first one on a line wins)
    elements = reversed(list(tree.iter(etree.Element))) if entries else ()
    ids = {el.sourceline: el.get("id") for el in elements if el.get("id")}
    return [Problem(filename, e.line or None, ids.get(e.line), _one_line(e.message) + " (XSD)") for e in entries]


def _unsupported(processes, filename, lang):
    groups, targets = {}, {}  # one problem per element and rule: ten bad data inputs are one mistake
    ids = {}  # id -> element of the whole file, filled once if a message needs to describe a reference
    for proc in processes:
        for xpath, msg, ref, allowed in ((*rule, None, None)[:4] for rule in UNSUPPORTED):
            if allowed and allowed not in targets:
                targets[allowed] = {t.get("id") for t in proc.xpath(allowed, namespaces=NS)}
            for el in proc.xpath(xpath, namespaces=NS):  # a dict as ordered set: /-paths match per process
                if not allowed or (el.text if ref == "text" else el.get(ref)) not in targets[allowed]:
                    groups.setdefault((_owner_id(el), msg), {})[el] = None
    problems = []
    for (owner, key), els in groups.items():
        els = list(els)
        msg = _template(key, lang)
        text = msg.format_map(defaultdict(str, els[0].attrib, text=(els[0].text or "").strip(),
                                          target=_described(els[0], ids) if "{target}" in msg else ""))
        more = f" {_say('more_like_it', lang, n=len(els) - 1)}" if len(els) > 1 else ""
        problems.append(Problem(filename, els[0].sourceline, owner, _one_line(text + more)))
    return problems


def _expression_problems(elements, filename, functions, lang):
    problems = []
    for top in elements:
        for xpath, mode, label in EXPRESSIONS:
            for node in top.xpath(xpath, namespaces=NS):
                if isinstance(node, str):  # an attribute value (lxml smart string): locate its element
                    text, node = str(node), node.getparent()
                else:
                    text = node.text or ""
                if mode == "timer":
                    found = _timer_problems(text, etree.QName(node).localname, functions, lang)
                else:  # an empty condition or script is SpiffWorkflow's to judge, not a safety issue
                    found = check_source(text, mode, functions) if text.strip() else []
                if found:  # one-line expressions are quoted back so the analyst sees what was read
                    shown = f" `{_one_line(text)[:60]}`" if mode != "exec" and text.strip() else ""
                    if mode != "timer" and found[0].startswith("syntax error") and (foreign := _foreign(node, text)):
                        found = [*found, _say("foreign_expression", lang, language=foreign)]
                    found = "; ".join(found).replace("(line ", "(script line ")  # Problem.line is the XML line
                    problems.append(Problem(filename, node.sourceline, _owner_id(node), _one_line(_say(
                        "expression_rejected", lang, what=_say(f"expression.{label}", lang), shown=shown,
                        found=found))))
    return problems


def _described(ref, ids):
    """What a reference's text names, for an analyst: "'Employee number' (a dataInput)" rather than a bare id."""
    if not ids:
        ids.update((e.get("id"), e) for e in ref.getroottree().iter(etree.Element) if e.get("id"))
    target_id = (ref.text or "").strip()
    target = ids.get(target_id)
    if target is None:
        return f"'{target_id}', which does not exist,"
    return f"'{target.get('name') or target_id}' (a {etree.QName(target).localname})"


def _foreign(node, text):
    """The language another tool wrote an expression in, when it says so or it is unmistakable, else None.
    (Files declare XPath, BPMN's default, whatever they hold, so only an expression's own claim counts.)"""
    source = text.strip()
    if source.startswith(("${", "#{")):
        return "JUEL (Camunda 7, Activiti, Flowable)"
    if source.startswith("="):
        return "FEEL (Camunda 8)"
    if "getDataObject(" in source:  # the XPath functions of the BPMN specification
        return "XPath"
    declared = node.get("language") or node.getroottree().getroot().get("expressionLanguage") or ""
    own = node.get("language") is not None
    for mark, name in (("feel", "FEEL"), ("groovy", "Groovy"), ("javascript", "JavaScript"), ("juel", "JUEL"),
                       ("xpath", "XPath")):
        if mark in declared.lower() and (own or mark != "xpath"):
            return name
    return None


def _main_process(tree):
    """The element an analyst clicks for the file's main process: the pool of the first process that has
    flow elements (a pool with none is another party, drawn closed), else that process, else the root.
    With pools, a process in none is not drawn (modelers show the collaboration): a pooled one comes first."""
    processes = tree.xpath("/bpmn:definitions/bpmn:process", namespaces=NS)
    pools = {p.get("processRef"): p for p in tree.xpath("//bpmn:participant[@processRef]", namespaces=NS)}
    with_flows = [p for p in processes if len(p.xpath("bpmn:sequenceFlow", namespaces=NS))]
    main = next((p for p in with_flows if p.get("id") in pools), with_flows[0] if with_flows else None)
    if main is None:
        return processes[0] if processes else tree.getroot()
    return pools.get(main.get("id"), main)


def _timer_problems(text, kind, functions, lang="en"):
    """A timer is a Python expression that must give an ISO string (docs/spiffworkflow.md, trap 1):
    catch the usual slips."""
    source = text.strip()
    try:  # the length cap keeps ast.parse cheap; the sandbox caps everything else
        body = ast.parse(source, mode="eval").body if 0 < len(source) <= 1000 else None
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        body = None  # still worth the ISO hint below: 2025-01-01 is not Python either
    timer = _say("timer", lang)
    if isinstance(body, ast.Constant):
        wrong = _iso_problem(body.value, kind, lang) if isinstance(body.value, str) else _say("timer_not_text", lang)
        return [f"{timer}: {wrong}"] if wrong else []
    if _ISO_LIKE.fullmatch(source):
        return [f"{timer}: {_say('timer_quotes', lang, source=source)}"]
    if body is None or (isinstance(body, ast.Name) and body.id not in functions):
        return [timer]
    return check_source(source, "eval", functions)


def _iso_problem(value, kind, lang="en"):
    """Why SpiffWorkflow would fail (docs/spiffworkflow.md, trap 6) or hang (it adds months one by
    one) arming this timer, or None."""
    parts = [p.split("T")[0] for p in value.upper().split("/") if p.startswith("P")]
    months = sum(float(n) * (12 if u == "Y" else 1) for p in parts for n, u in re.findall(r"(\d+)\D*?([YM])", p))
    if months > 12_000:
        return _say("timer_too_long", lang, value=repr(value))
    try:
        result = _ISO_PARSERS[kind](value)
    except Exception:
        result = None
    if not result or (kind == "timeDate" and isinstance(result, dict)):  # timeDate needs a date-time
        return _say(f"timer_not_iso_{kind[4:].lower()}", lang, value=repr(value))


def _spiff_parse(tree, executable, data, filename):
    parser = SpiffBpmnParser()  # no validator: the same XSD ran above, under a lock, reporting every error
    try:
        parser.add_bpmn_xml(tree, filename=filename)  # a tree, never bytes: no second, unsafe parse
    except Exception as e:
        return [], [_exception_problem(e, tree, filename)]
    definitions, problems = [], []
    roles = lane_roles(tree)
    for proc in executable:
        pid = proc.get("id")
        try:
            spec, subprocesses = parser.get_spec(pid), parser.get_subprocess_specs(pid)
            for task_spec in (t for s in (spec, *subprocesses.values()) for t in s.task_specs.values()):
                if task_spec.bpmn_id in roles:  # a task's lane is its role from here on, never its label
                    task_spec.lane = roles[task_spec.bpmn_id]
            definitions.append(ParsedDefinition(pid, proc.get("name"), spec, subprocesses, data))
        except Exception as e:
            problems.append(_exception_problem(e, tree, filename))
    return definitions, problems


def lane_roles(tree) -> dict[str, str]:
    """Element id -> the role its lane names (spiffworkflow:role), for the elements of lanes that name one."""
    return {ref.text.strip(): lane.get(ROLE_ATTRIBUTE)
            for lane in tree.iter(f"{{{BPMN}}}lane") if lane.get(ROLE_ATTRIBUTE)
            for ref in lane.iterfind("bpmn:flowNodeRef", NS) if ref.text}


def _exception_problem(exc, tree, filename):
    if not isinstance(exc, ValidationException) or tree is None:
        return Problem(filename, None, None, _one_line(f"internal error while parsing: {type(exc).__name__}: {exc}"))
    element_id = getattr(exc, "id", "") or None
    nodes = tree.xpath("//*[@id=$i]", i=element_id) if element_id else []  # its line_number is always ""
    message = re.sub(r"<Element (\S+) at 0x[0-9a-fA-F]+>", r"\1", str(exc.args[0] if exc.args else exc))
    message = next((clear for said, clear in _SPIFF_SAYS if message.startswith(said)), message).replace(
        "{kind}", f"a {etree.QName(nodes[0]).localname}" if nodes else "this kind of element")
    return Problem(filename, nodes[0].sourceline if nodes else None, element_id, _one_line(message))


def _owner_id(el):
    """Id of the flow element or root element that holds el (what an analyst can find in the modeler)."""
    with_id = [n for n in (el, *el.iterancestors()) if n.get("id")]
    owners = [n for n in with_id if n.getparent() is None or n.getparent().tag in _CONTAINERS]
    return (owners or with_id or [{}])[0].get("id")


def _template(key: str, lang: str) -> str:
    """A message of the catalog (engine/core/messages/validation.json) in `lang`, parameters unfilled."""
    texts = i18n.catalog()[key]
    return texts.get(lang) or texts["en"]


def _say(name: str, lang: str, /, **params) -> str:
    """The message `validation.<name>` in `lang`, parameters filled in."""
    return _template(f"validation.{name}", lang).format(**params)


def _one_line(text):
    """Plain one-line message: namespaces as prefixes, whitespace collapsed, length bounded."""
    text = re.sub(r"\{([^{}]+)\}", lambda m: f"{_PREFIXES[m[1]]}:" if m[1] in _PREFIXES else m[0], text)
    text = " ".join(text.split())
    return text if len(text) <= 400 else text[:399] + "…"
