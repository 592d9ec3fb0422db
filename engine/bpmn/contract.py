"""The contract between a diagram and the code that runs beside it, checked before a deploy.

An analyst may change labels, layout and wording freely; what the engine and the domain actions rely
on must still hold, or the deploy is refused naming the element (docs/workbench.md, "The diagram
contract"):
- every lane names a known role (`spiffworkflow:role`): the role, never the label, decides who receives
  the lane's tasks; every user task sits in such a lane;
- every action an element names gets the data it reads, of the right type, from the process's start
  data, the forms of the user tasks before it, or the scripts before it;
- so does every expression the engine evaluates (a flow's condition, a timer, a task's due date or
  assignee), and a condition comparing a form's choice with a text names one the form offers.
Data flow is judged on the graph, not on paths: a field counts as provided at an element when any
element that can come before it provides it. That is lenient on purpose (a loop or an exclusive
branch may provide it on some paths only) and catches what breaks silently: a renamed or removed
field, form, lane or action.
"""
from __future__ import annotations

import ast
import builtins
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.bpmn.forms import Form
from engine.bpmn.validation import BPMN, NS, ROLE_ATTRIBUTE, Problem
from engine.core import i18n

# The types an action or a start may declare for a field; "unit" is a unit's code.
TYPES = ("string", "unit", "integer", "number", "boolean", "date", "datetime", "array", "object", "any")
_TEXTUAL = {"string", "unit", "date", "datetime"}  # all stored as text in task data
_FORM_KINDS = {"string": "string", "text": "string", "enum": "string", "integer": "integer", "number": "number",
               "boolean": "boolean", "date": "date", "datetime": "datetime", "object": "object"}
_CONTAINERS = ("subProcess", "transaction", "adHocSubProcess")
_COMPLETING = ("userTask", "scriptTask", "task", "manualTask")  # their data grows when they complete
ANYTHING = "*"  # provided by a user task without a form: any field may come from it
_BUILTINS = frozenset(dir(builtins)) | {"True", "False", "None"}


@dataclass(frozen=True)
class Contract:
    """What the code expects of diagrams: the roles lanes may name, the data each action reads
    (field -> type), and the data each process is started with (process id -> field -> type)."""

    roles: frozenset[str] = frozenset()
    actions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    start_data: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    functions: frozenset[str] = frozenset()  # what expressions may call: not data


def check(tree, filename: str, contract: Contract, forms: Mapping[str, Form], lang: str = "en") -> list[Problem]:
    """Problems of the executable processes of a parsed, schema-valid file (`forms`: file name -> Form),
    worded in `lang` (catalog keys "contract.*"; English for the command line and logs)."""
    problems: list[Problem] = []
    say = functools.partial(_problem, filename, lang)
    for process in tree.xpath("/bpmn:definitions/bpmn:process[@isExecutable='true']", namespaces=NS):
        problems += _lane_problems(process, say, contract.roles)
        problems += _data_problems(process, say, contract, forms)
    return problems


def _problem(filename: str, lang: str, element, key: str, severity: str = "error", **params) -> Problem:
    if "what" in params:  # the kind of expression, as the validator names it (engine/core/messages/validation.json)
        params["what"] = i18n.text(f"validation.expression.{params['what']}", lang)
    return Problem(filename, element.sourceline, element.get("id"), i18n.text(f"contract.{key}", lang, **params),
                   severity)


def compatible(needed: str, provided: str) -> bool:
    """Whether data of type `provided` satisfies an action that reads `needed`."""
    if "any" in (needed, provided) or needed == provided:
        return True
    if needed == "string":
        return provided in _TEXTUAL
    return (needed, provided) in {("unit", "string"), ("number", "integer"), ("date", "datetime"),
                                  ("datetime", "date")}


def _lane_problems(process, say, roles: frozenset[str]) -> list[Problem]:
    problems = []
    in_lane, reported = set(), set()  # one problem per mistake: a bad lane's tasks are not reported again
    for lane in process.iter(f"{{{BPMN}}}lane"):
        label = lane.get("name") or lane.get("id")
        role = lane.get(ROLE_ATTRIBUTE)
        refs = {ref.text.strip() for ref in lane.iterfind("bpmn:flowNodeRef", NS) if ref.text}
        if lane.find("bpmn:childLaneSet", NS) is not None and not role:
            continue  # a lane split into lanes: its children say who acts
        if not role:
            problems.append(say(lane, "lane_no_role", lane=label))
        elif role not in roles:
            problems.append(say(lane, "lane_unknown_role", lane=label, role=role, known=", ".join(sorted(roles))))
        else:
            in_lane |= refs
            continue
        reported |= refs
    for task in process.iter(f"{{{BPMN}}}userTask"):
        name = task.get("name") or task.get("id")
        if task.get("id") not in in_lane | reported:
            problems.append(say(task, "task_in_no_lane", task=name))
        if _property(task, "formJsonSchemaFilename") is None:
            problems.append(say(task, "task_without_form", "warning", task=name))
    return problems


def _data_problems(process, say, contract: Contract, forms: Mapping[str, Form]) -> list[Problem]:
    elements = {el.get("id"): el for el in process.iter() if isinstance(el.tag, str) and el.get("id")}
    provided = {eid: _provides(el, forms) for eid, el in elements.items()}
    before = _predecessors(process, elements)
    # A process no code declares a start for (a test's, a new one) may be started with anything.
    start = dict(contract.start_data.get(process.get("id"), {ANYTHING: "any"}))

    def available_at(eid: str, own: bool) -> dict[str, str]:
        found = dict(start)
        for earlier in _ancestors(eid, before):
            found.update(provided.get(earlier, {}))
        if own:  # what runs once the element completed (its action, its outgoing conditions) sees its form
            found.update(provided.get(eid, {}))
        return found

    problems = _expressions_read(process, elements, forms, contract, say, available_at)
    for eid, el in elements.items():
        action = _property(el, "action")
        if not action or action not in contract.actions:
            continue  # an unknown action is refused by deploy already, naming it
        available = available_at(eid, etree_local(el) in _COMPLETING)
        for name, needed in contract.actions[action].items():
            if name not in available and ANYTHING not in available:
                problems.append(say(el, "field_not_provided", action=action, field=name, type=needed))
            elif name in available and not compatible(needed, available[name]):
                problems.append(say(el, "field_wrong_type", action=action, field=name, type=needed,
                                    provided=available[name]))
    return problems


def _expressions_read(process, elements, forms, contract: Contract, say, available_at) -> list[Problem]:
    """What the engine's expressions read must be there: names no earlier element provides, and texts a
    condition expects of a form's choice that the form never gives (a renamed option breaks silently)."""
    problems = []
    choices = _choices(process, forms)
    for where, at, own, text, what in _engine_expressions(process, elements):
        names, compared = _reads(text, contract.functions)
        available = available_at(at, own)
        for name in sorted(names - set(available)) if ANYTHING not in available else ():
            problems.append(say(where, "expression_reads_unknown", what=what, field=name))
        for name, value in compared:
            offered = choices.get(name)
            if name in available and offered is not None and value not in offered:
                problems.append(say(where, "condition_value_not_offered", field=name, value=value,
                                    offered=", ".join(sorted(offered))))
    return problems


def _engine_expressions(process, elements):
    """(element to name, element whose data is read, with its own output?, text, what) of each expression
    the engine evaluates: conditions on flows (after their source), timers and due dates and assignees
    (before their element)."""
    for flow in process.iter(f"{{{BPMN}}}sequenceFlow"):
        condition = flow.find("bpmn:conditionExpression", NS)
        source = elements.get(flow.get("sourceRef"))
        if condition is not None and (condition.text or "").strip() and source is not None:
            yield flow, source.get("id"), etree_local(source) in _COMPLETING, condition.text, "condition"
    for eid, el in elements.items():
        for timer in el.xpath("bpmn:timerEventDefinition/*", namespaces=NS):
            if (timer.text or "").strip():
                yield el, eid, False, timer.text, "timer"
        for name in ("dueDate", "assignee"):
            if text := _property(el, name):
                yield el, eid, False, text, f"{name} property"


def _reads(text: str, functions: frozenset[str]) -> tuple[set[str], list[tuple[str, str]]]:
    """The data names an expression reads, and the (name, text) pairs it compares with ==, != or in."""
    try:
        tree = ast.parse(text.strip(), mode="eval") if len(text) <= 10_000 else None
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None  # the validator refuses it, saying why
    if tree is None:
        return set(), []
    nodes = list(ast.walk(tree))
    bound = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}  # comprehensions
    names = {n.id for n in nodes if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    compared = []
    for node in nodes:
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.left, ast.Name)):
            continue
        right = node.comparators[0]
        if isinstance(node.ops[0], ast.Eq | ast.NotEq) and _is_text(right):
            compared.append((node.left.id, right.value))
        elif isinstance(node.ops[0], ast.In | ast.NotIn) and isinstance(right, ast.Tuple | ast.List | ast.Set):
            compared += [(node.left.id, item.value) for item in right.elts if _is_text(item)]
    return names - bound - functions - _BUILTINS, compared


def _is_text(node) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _choices(process, forms: Mapping[str, Form]) -> dict[str, set[str]]:
    """Field -> the texts the process's forms offer for it, for fields every form offering them lists as
    a choice (a free-text field anywhere means any text may come)."""
    offered: dict[str, set[str] | None] = {}
    for task in process.iter(f"{{{BPMN}}}userTask"):
        form = forms.get(_property(task, "formJsonSchemaFilename") or "")
        for f in form.fields if form is not None else ():
            values = {str(v) for v in f.enum} if f.enum is not None else None
            previous = offered.get(f.name, set())
            offered[f.name] = None if values is None or previous is None else previous | values
    return {name: values for name, values in offered.items() if values is not None}


def etree_local(el) -> str:
    """An element's tag without its namespace."""
    return el.tag.rsplit("}", 1)[-1]


def _property(el, name: str) -> str | None:
    values = el.xpath(f"bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property[@name='{name}']/@value",
                      namespaces=NS)
    return str(values[0]) if values else None


def _provides(el, forms: Mapping[str, Form]) -> dict[str, str]:
    """Fields an element puts into the data: its form's fields, and the names its scripts assign."""
    out: dict[str, str] = {}
    form = forms.get(_property(el, "formJsonSchemaFilename") or "")
    if form is not None:
        out.update({f.name: _FORM_KINDS.get(f.kind, "any") for f in form.fields})
    elif etree_local(el) == "userTask" and _property(el, "formJsonSchemaFilename") is None:
        out[ANYTHING] = "any"  # a task without a form takes its data as given (a warning says so)
    scripts = el.xpath("bpmn:script | bpmn:extensionElements/spiffworkflow:preScript"
                       " | bpmn:extensionElements/spiffworkflow:postScript", namespaces=NS)
    for script in scripts:
        out.update(dict.fromkeys(_assigned(script.text or ""), "any"))
    return out


def _assigned(source: str) -> set[str]:
    try:
        tree = ast.parse(source) if len(source) <= 100_000 else None
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        tree = None  # the sandbox check reports it
    if tree is None:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}


def _predecessors(process, elements) -> dict[str, set[str]]:
    """Element id -> the ids that can run just before it: sequence flows, a boundary event's activity's
    predecessors (it fires while the activity waits), a subprocess before its start events and its
    end events before what follows it."""
    before: dict[str, set[str]] = {eid: set() for eid in elements}
    for flow in process.iter(f"{{{BPMN}}}sequenceFlow"):
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        if target in before and source:
            before[target].add(source)
    for eid, el in elements.items():
        local = etree_local(el)
        if local == "boundaryEvent" and el.get("attachedToRef") in before:
            before[eid].add(f"<before>{el.get('attachedToRef')}")
        elif local in _CONTAINERS:
            for child in el:
                if isinstance(child.tag, str) and etree_local(child) == "startEvent" and child.get("id") in before:
                    before[child.get("id")].add(eid)
                if isinstance(child.tag, str) and etree_local(child) == "endEvent":
                    before[eid].add(child.get("id"))
    return before


def _ancestors(eid: str, before: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(before.get(eid, ()))
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        if current.startswith("<before>"):  # a boundary event: what ran before its activity
            stack.extend(before.get(current[len("<before>"):], ()))
        else:
            stack.extend(before.get(current, ()))
    return seen
