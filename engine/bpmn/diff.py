"""What changed between two BPMN documents, element by element id.

An *element* is anything with an id that sits directly in a container: a process (or sub-process,
transaction, ad hoc sub-process), a lane set, a collaboration or the definitions themselves. So tasks,
events, gateways, sequence flows, lanes, participants, message flows and data objects are elements;
what is nested inside one (its event definition, condition, script, documentation, extension
properties, incoming and outgoing references) is part of it, and a change there changes it.

An element present in both documents is *changed* when its attributes (id aside), its own text, its
extension properties or other extensions, its incoming/outgoing (or a lane's flowNodeRef) references,
or any other nested content differ; `changes` names each aspect ("name", "property:assignee",
"incoming", "timerEventDefinition"...). Whitespace between tags and the order of references are not
changes. Layout (the BPMNDI shapes and edges) is never a change: an element whose only difference is
its shape or waypoints is listed apart, in `moved`, so an analyst sees it was redrawn but nobody
treats it as a change of behaviour.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.bpmn.xmlsafe import DEFAULT_MAX_BYTES, parse_xml

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_CONTAINERS = {f"{{{BPMN}}}{t}" for t in (
    "definitions", "process", "subProcess", "transaction", "adHocSubProcess", "laneSet", "childLaneSet",
    "collaboration")}
_REFERENCES = {f"{{{BPMN}}}{t}": t for t in ("incoming", "outgoing", "flowNodeRef")}
_EXTENSIONS = f"{{{BPMN}}}extensionElements"
_PREFIXES = {BPMN: "", SPIFF: "spiffworkflow:", BPMNDI: "bpmndi:"}


@dataclass(frozen=True)
class ElementDiff:
    """One element added, removed, changed or moved: its id, type (local name) and name."""

    id: str
    type: str
    name: str | None
    changes: tuple[str, ...] = ()   # for changed elements: the aspects that differ
    old_name: str | None = None     # for changed elements: the name in the first document


@dataclass(frozen=True)
class DiagramDiff:
    """Elements of the second document that the first lacks (added), the reverse (removed), those in both
    that differ (changed) and those that differ only in layout (moved); each sorted by id."""

    added: tuple[ElementDiff, ...]
    removed: tuple[ElementDiff, ...]
    changed: tuple[ElementDiff, ...]
    moved: tuple[ElementDiff, ...]


def diff_bpmn(old: bytes, new: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> DiagramDiff:
    """Compare two BPMN documents by element id (both parsed as untrusted XML: xmlsafe.XmlRejected)."""
    old_tree, new_tree = parse_xml(old, max_bytes=max_bytes), parse_xml(new, max_bytes=max_bytes)
    before, after = _elements(old_tree), _elements(new_tree)
    layout_before, layout_after = _layout(old_tree), _layout(new_tree)
    added = [_summary(after[i]) for i in sorted(after.keys() - before.keys())]
    removed = [_summary(before[i]) for i in sorted(before.keys() - after.keys())]
    changed, moved = [], []
    for element_id in sorted(before.keys() & after.keys()):
        aspects = _changes(before[element_id], after[element_id])
        if aspects:
            old_name = before[element_id].get("name")
            changed.append(_summary(after[element_id], tuple(aspects), old_name))
        elif layout_before.get(element_id) != layout_after.get(element_id):
            moved.append(_summary(after[element_id]))
    return DiagramDiff(tuple(added), tuple(removed), tuple(changed), tuple(moved))


def executable_process_ids(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> list[str]:
    """The ids of the executable processes a BPMN document defines (xmlsafe.XmlRejected if it is not XML)."""
    root = parse_xml(data, max_bytes=max_bytes).getroot()
    return [p.get("id") for p in root.iterfind(f"{{{BPMN}}}process") if p.get("isExecutable") == "true"]


def _elements(tree) -> dict:
    found = {}
    for element in tree.iter(f"{{{BPMN}}}*"):
        parent = element.getparent()
        element_id = element.get("id")
        if element_id and parent is not None and parent.tag in _CONTAINERS:
            found.setdefault(element_id, element)  # a duplicate id is invalid BPMN: the first one counts
    return found


def _layout(tree) -> dict:
    # The drawing of each element: its shape's bounds or its edge's waypoints (and label), ids aside.
    found = {}
    for shape in tree.iter(f"{{{BPMNDI}}}BPMNShape", f"{{{BPMNDI}}}BPMNEdge"):
        if shape.get("bpmnElement"):
            found.setdefault(shape.get("bpmnElement"), _canonical(shape, skip_id=True))
    return found


def _summary(element, changes: tuple[str, ...] = (), old_name: str | None = None) -> ElementDiff:
    name = element.get("name")
    return ElementDiff(element.get("id"), _local(element.tag), name, changes,
                       old_name if changes and old_name != name else None)


def _changes(old, new) -> list[str]:
    aspects = [_attribute_name(key) for key in sorted(set(old.attrib) | set(new.attrib), key=str)
               if key != "id" and old.get(key) != new.get(key)]
    if (old.text or "").strip() != (new.text or "").strip():
        aspects.append("text")
    old_parts, new_parts = _parts(old), _parts(new)
    aspects += [key for key in sorted(old_parts.keys() | new_parts.keys()) if old_parts.get(key) != new_parts.get(key)]
    return aspects


def _parts(element) -> dict:
    """What is nested in an element, by aspect: references as sets, extension properties one by one,
    other extensions and nested definitions as canonical tuples (child elements are elements themselves)."""
    parts: dict = {}
    for child in element:
        if not isinstance(child.tag, str):  # comments and processing instructions
            continue
        if child.get("id") and element.tag in _CONTAINERS:
            continue  # a child element: compared on its own
        if child.tag in _REFERENCES:
            parts.setdefault(_REFERENCES[child.tag], set()).add((child.text or "").strip())
        elif child.tag == _EXTENSIONS:
            for extension in child:
                if not isinstance(extension.tag, str):
                    continue
                if extension.tag == f"{{{SPIFF}}}properties":
                    for prop in extension:
                        if isinstance(prop.tag, str):
                            parts[f"property:{prop.get('name')}"] = prop.get("value")
                else:
                    key = f"extension:{_local(extension.tag)}"
                    parts[key] = parts.get(key, ()) + (_canonical(extension),)
        else:
            key = _local(child.tag)
            parts[key] = parts.get(key, ()) + (_canonical(child),)
    return {key: frozenset(value) if isinstance(value, set) else value for key, value in parts.items()}


def _canonical(element, skip_id: bool = False) -> tuple:
    """A comparable picture of a subtree: tag, attributes, stripped text, children (whitespace ignored)."""
    attributes = tuple(sorted((str(k), v) for k, v in element.attrib.items() if not (skip_id and k == "id")))
    children = tuple(_canonical(c) for c in element if isinstance(c.tag, str))
    return element.tag, attributes, (element.text or "").strip(), children


def _attribute_name(key: str) -> str:
    if key.startswith("{"):
        namespace, local = key[1:].split("}", 1)
        return _PREFIXES.get(namespace, f"{{{namespace}}}") + local
    return key


def _local(tag: str) -> str:
    return tag.split("}", 1)[1] if tag.startswith("{") else tag
