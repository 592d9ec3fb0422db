"""One process instance as the admin console shows it: where it stands on its diagram, its data, its
history in words, its waiting timers, and why it failed or who holds it.

Names, not codes: elements by their diagram names, people by full name, units by name, data fields by
their forms' titles. The path taken and the data come from the saved workflow, restored read-only for
this one page; the rest from the instance row, the query tables and the audit log.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from engine.bpmn import elements, runtime
from engine.bpmn.trace import path_taken
from engine.core import audit, i18n
from engine.core.db import retried
from engine.core.errors import DiagramError
from engine.process import instance_store as store
from engine.process.steps import load_workflow, specs_of
from engine.process.tables import DefinitionVersion, InstanceStatus, ProcessInstance, ReadyTask, WaitingTimer
from engine.regulation.organisation import Unit, User
from engine.regulation.records import TrackedTask
from engine.worktime.calendar import TZ

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")


@dataclass(frozen=True)
class ReadyItem:
    """A ready user task of the instance: who it waits on and by when."""

    task_id: str
    bpmn_id: str
    name: str | None
    lane: str | None            # the role its lane names
    assignee: str | None
    assignee_name: str | None
    due_at: datetime | None
    claimed_by: str | None
    claimed_by_name: str | None


@dataclass(frozen=True)
class TimerItem:
    """A timer waiting in the instance; `overdue` when its time has passed (it fires on the next pass, or on
    the first pass after a suspended instance is resumed)."""

    task_id: str
    bpmn_id: str
    name: str | None
    due_at: datetime
    overdue: bool


@dataclass(frozen=True)
class PathStep:
    """An element on the path taken, and the element the instance came to it from."""

    bpmn_id: str
    name: str | None
    came_from: str | None


@dataclass(frozen=True)
class DataItem:
    """One field of the instance's data: its title from the forms when one names it, its value, and
    the value in words when it is a unit code (the unit's name) or a choice (the choice's label)."""

    name: str
    title: str
    title_en: str
    value: Any
    shown: str | None
    shown_en: str | None


@dataclass(frozen=True)
class HistoryItem:
    """One line of the history: when, who (by name), what (an action code the pages label), on which
    element, and the reason or the error when the entry has one."""

    at: datetime
    actor: str
    actor_name: str | None
    action: str
    bpmn_id: str | None
    element_name: str | None
    reason: str | None
    error: str | None


@dataclass(frozen=True)
class Hold:
    """Who suspended the instance, when and why (while it is suspended)."""

    at: datetime
    by: str
    by_name: str | None
    reason: str


@dataclass(frozen=True)
class TrackedLink:
    """The tracked task the instance follows (its own, or its parent instance's)."""

    id: int
    content: str
    lead_unit: str
    lead_unit_name: str
    status: str


@dataclass(frozen=True)
class InstanceDetail:
    """Everything the instance page and GET /api/instances/<id> show."""

    id: int
    process_id: str
    process_name: str | None
    version: int
    latest_version: int
    status: InstanceStatus
    row_version: int
    error_message: str | None
    failed_data: dict[str, Any] | None     # while in error: what a user had submitted with the failing step
    hold: Hold | None
    started_by: str
    started_by_name: str | None
    created_at: datetime
    updated_at: datetime
    parent_id: int | None
    tracked: TrackedLink | None
    ready: tuple[ReadyItem, ...]
    stalled_at: tuple[str, ...]            # while in error: the elements its saved state waits at (BPMN ids)
    timers: tuple[TimerItem, ...]
    path: tuple[PathStep, ...]
    data: tuple[DataItem, ...]
    history: tuple[HistoryItem, ...]


@retried
def instance_detail(ctx, instance_id: int) -> InstanceDetail:
    """One instance with its diagram position, data, history, timers, failure or hold (InstanceNotFound: 404)."""
    with ctx.unit_of_work(readonly=True) as session:
        row = store.load(session, instance_id)
        extra = session.execute(select(ProcessInstance.started_by, ProcessInstance.parent_id)
                                .where(ProcessInstance.id == instance_id)).one()
        specs, version = specs_of(ctx, session, row.definition_id)
        _, workflow = load_workflow(ctx, session, row)
        names = {spec.bpmn_id: spec.bpmn_name for spec in elements.task_specs(specs)
                 if getattr(spec, "bpmn_id", None)}
        latest = session.scalar(select(DefinitionVersion.version).where(
            DefinitionVersion.process_id == row.process_id).order_by(DefinitionVersion.version.desc()).limit(1))
        process_name = session.scalar(select(DefinitionVersion.name).where(DefinitionVersion.id == row.definition_id))
        units = dict(session.execute(select(Unit.code, Unit.name)).all())
        entries = audit.entries_for(session, instance_id)
        ready_rows = session.scalars(select(ReadyTask).where(ReadyTask.instance_id == instance_id)
                                     .order_by(ReadyTask.id)).all()
        timer_rows = session.scalars(select(WaitingTimer).where(WaitingTimer.instance_id == instance_id)
                                     .order_by(WaitingTimer.due_at)).all()
        usernames = {e.actor for e in entries} | {extra.started_by} | {t.claimed_by for t in ready_rows if t.claimed_by}
        people = dict(session.execute(select(User.username, User.full_name).where(User.username.in_(usernames))).all())
        now = ctx.now()
        return InstanceDetail(
            row.id, row.process_id, process_name, version, latest or version, row.status, row.row_version,
            row.error_message, _failed_data(row.status, entries), _hold(row.status, entries, people),
            extra.started_by, people.get(extra.started_by), row.created_at, row.updated_at, extra.parent_id,
            _tracked(session, row.id, extra.parent_id, units),
            tuple(ReadyItem(t.task_id, t.bpmn_id, t.name, t.lane, t.assignee, units.get(t.assignee or ""),
                            t.due_at, t.claimed_by, people.get(t.claimed_by or "")) for t in ready_rows),
            _stalled(workflow) if row.status is InstanceStatus.ERROR else (),
            tuple(TimerItem(t.task_id, t.bpmn_id, names.get(t.bpmn_id), t.due_at, t.due_at < now)
                  for t in timer_rows),
            tuple(PathStep(p.bpmn_id, names.get(p.bpmn_id), p.came_from) for p in path_taken(workflow)),
            _data(runtime.current_data(workflow), specs.forms.values(), units),
            tuple(_history(e, people, names) for e in entries))


def _stalled(workflow) -> tuple[str, ...]:
    # An instance in error had its query-table rows removed; its saved state still says where it waits.
    # Listing that evaluates assignee and due-date expressions, which may be what fails: then say nothing.
    try:
        ready, _ = runtime.open_work(workflow)
    except DiagramError:
        return ()
    return tuple(task.bpmn_id for task in ready)


def _failed_data(status: InstanceStatus, entries) -> dict[str, Any] | None:
    if status is not InstanceStatus.ERROR:
        return None
    marked = [e.summary for e in entries if e.action == "error"]
    return dict(marked[-1].get("data", {})) if marked else {}


def _hold(status: InstanceStatus, entries, people: dict[str, str]) -> Hold | None:
    if status is not InstanceStatus.SUSPENDED:
        return None
    held = [e for e in entries if e.action == "suspend"]
    if not held:
        return None
    last = held[-1]
    return Hold(last.at, last.actor, people.get(last.actor), str((last.summary or {}).get("reason", "")))


def _tracked(session, instance_id: int, parent_id: int | None, units: dict[str, str]) -> TrackedLink | None:
    for owner in (instance_id, parent_id):
        if owner is None:
            continue
        found = session.execute(select(TrackedTask, Unit.code).join(Unit, Unit.id == TrackedTask.lead_unit_id)
                                .where(TrackedTask.instance_id == owner).limit(1)).first()
        if found is not None:
            task, code = found
            return TrackedLink(task.id, task.content, code, units.get(code, code), task.status.value)
    return None


def _data(data: dict[str, Any], forms, units: dict[str, str]) -> tuple[DataItem, ...]:
    fields = {}
    for form in forms:
        for field in form.fields:
            fields.setdefault(field.name, field)
    items = []
    for name, value in sorted(data.items()):
        field = fields.get(name)
        shown = shown_en = None
        if isinstance(value, str) and value in units:
            shown = shown_en = units[value]
        elif field is not None and field.enum and value in field.enum:
            index = field.enum.index(value)
            shown = str(field.enum_labels[index]) if field.enum_labels else None
            shown_en = str(field.enum_labels_en[index]) if field.enum_labels_en else shown
        elif isinstance(value, list) and value and all(isinstance(v, str) and v in units for v in value):
            shown = shown_en = ", ".join(units[v] for v in value)
        elif isinstance(value, str) and (moment := _moment(value)):
            shown = shown_en = moment
        known = f"dry_run.field.{name}"  # the start data's labels, shared with the dry run's start form
        title = field.title if field else i18n.text(known, "vi") if i18n.has(known) else name
        title_en = field.title_en if field else i18n.text(known, "en") if i18n.has(known) else name
        items.append(DataItem(name, title, title_en, value, shown, shown_en))
    return tuple(items)


def _moment(text: str) -> str | None:
    # Task data keeps dates and instants as ISO text (docs/spiffworkflow.md): shown as people write them.
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text).strftime("%d/%m/%Y")
        if _INSTANT.match(text):
            moment = datetime.fromisoformat(text)
            return (moment.astimezone(TZ) if moment.tzinfo else moment).strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return None
    return None


def _history(entry, people: dict[str, str], names: dict[str, str | None]) -> HistoryItem:
    summary = entry.summary or {}
    reason = summary.get("reason")
    error = summary.get("error") if entry.action in ("error", "retry_failed", "start_failed") else None
    return HistoryItem(entry.at, entry.actor, people.get(entry.actor), entry.action, entry.bpmn_id,
                       names.get(entry.bpmn_id) if entry.bpmn_id else None,
                       str(reason) if reason else None, str(error) if error else None)
