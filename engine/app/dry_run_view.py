"""What a dry run shows: its read model, built from the run's own database (and unit names from the real one)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from engine.app.dry_run_sample import units
from engine.app.dry_run_store import EXPIRES_AFTER, RunMeta
from engine.bpmn import elements
from engine.bpmn.forms import Form
from engine.bpmn.trace import path_taken
from engine.core import audit
from engine.process import instance_store as store
from engine.process.steps import load_workflow, specs_of
from engine.process.tables import DefinitionVersion, ReadyTask, WaitingTimer
from engine.worktime.calendar import TZ

# The run's log: the engine's own audit entries of the instance and the dry run's (engine/app/dry_run.py).
LOGGED = ("start", "complete_task", "timer_fired", "error", "dry_run_action", "dry_run_notice", "dry_run_clock")


@dataclass(frozen=True)
class DryRunTask:
    """A ready user task of the run, with the due date computed on the real calendar and its form."""

    task_id: str
    bpmn_id: str
    name: str | None
    lane: str | None
    assignee: str | None
    assignee_name: str | None
    due_at: datetime | None
    form: Form | None


@dataclass(frozen=True)
class DryRunTimer:
    """A timer of the run waiting for its due time."""

    task_id: str
    bpmn_id: str
    name: str | None
    due_at: datetime


@dataclass(frozen=True)
class DryRunStep:
    """One element on the path taken, and the element the run came to it from."""

    bpmn_id: str
    name: str | None
    came_from: str | None


@dataclass(frozen=True)
class DryRunEvent:
    """One line of the run's log: `kind` is start, complete_task, timer_fired, error, dry_run_action
    (an action that would run, `details` {"action", "data"}), dry_run_notice (a notice that would go,
    {"role", "unit", "unit_name"}) or dry_run_clock ({"from", "to"})."""

    at: datetime
    kind: str
    bpmn_id: str | None
    name: str | None
    details: dict[str, Any]


@dataclass(frozen=True)
class DryRunView:
    """A dry run as the page and the API show it."""

    run_id: str
    process_id: str
    process_name: str | None
    status: str                      # running, completed, error (engine.process.tables.InstanceStatus)
    error_message: str | None
    now: datetime                    # the run's clock
    expires_at: datetime             # real time, if left unused
    ready: tuple[DryRunTask, ...]
    timers: tuple[DryRunTimer, ...]
    path: tuple[DryRunStep, ...]
    log: tuple[DryRunEvent, ...]


def read_view(ctx, run, meta: RunMeta) -> DryRunView:
    """Read a run's state from its database (`run`: its engine context)."""
    names_of_units = {code: name for code, name, _ in units(ctx)}
    with run.unit_of_work(readonly=True) as session:
        row = store.load(session, meta.instance_id)
        specs, _ = specs_of(run, session, row.definition_id)
        _, workflow = load_workflow(run, session, row)
        specs_by_id = {spec.bpmn_id: spec for spec in elements.task_specs(specs) if getattr(spec, "bpmn_id", None)}
        names = {bpmn_id: spec.bpmn_name for bpmn_id, spec in specs_by_id.items()}
        ready = tuple(
            DryRunTask(t.task_id, t.bpmn_id, t.name, t.lane, t.assignee, names_of_units.get(t.assignee or ""),
                       t.due_at, _form(specs, specs_by_id.get(t.bpmn_id)))
            for t in session.scalars(select(ReadyTask).where(ReadyTask.instance_id == row.id)
                                     .order_by(ReadyTask.id)))
        timers = tuple(DryRunTimer(t.task_id, t.bpmn_id, names.get(t.bpmn_id), t.due_at)
                       for t in session.scalars(select(WaitingTimer).where(WaitingTimer.instance_id == row.id)
                                                .order_by(WaitingTimer.due_at)))
        path = tuple(DryRunStep(p.bpmn_id, names.get(p.bpmn_id), p.came_from) for p in path_taken(workflow))
        log = tuple(_event(e, names, names_of_units) for e in audit.entries_for(session, row.id)
                    if e.action in LOGGED)
        process_name = session.scalar(select(DefinitionVersion.name).where(DefinitionVersion.id == row.definition_id))
    return DryRunView(meta.run_id, meta.process_id, process_name, row.status.value, row.error_message, meta.now,
                      meta.used_at + EXPIRES_AFTER, ready, timers, path, log)


def _form(specs, spec) -> Form | None:
    filename = elements.properties(spec).get("formJsonSchemaFilename") if spec is not None else None
    return specs.forms.get(filename) if filename else None


def _event(entry, names: dict[str, str | None], unit_names: dict[str, str]) -> DryRunEvent:
    details = dict(entry.summary or {})
    if entry.action == "dry_run_notice":
        details["unit_name"] = unit_names.get(details.get("unit") or "")
    if entry.action == "dry_run_clock":  # where the clock went, as people read it (Vietnam time)
        details["to_local"] = datetime.fromisoformat(details["to"]).astimezone(TZ).strftime("%d/%m/%Y %H:%M")
    if entry.action == "timer_fired":  # the timers' names, in the order they fired
        details["names"] = [names.get(bpmn_id) or bpmn_id for bpmn_id in details.get("timers", [])]
    return DryRunEvent(entry.at, entry.action, entry.bpmn_id, names.get(entry.bpmn_id or ""), details)
