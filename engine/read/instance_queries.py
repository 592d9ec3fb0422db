"""The admin console's list of process instances: filtered by procedure, version, status and unit, paged,
with the count per status and the instances in error first, their message beside them.

Read from the instances table and the query tables, never by restoring a workflow (the detail of one
instance, which does, is engine/read/instance_detail.py).

Which unit an instance belongs to: the lead unit of the tracked task it follows (its own for
`task_followup`, its parent's for the instances a task starts: coordinators' input, periodic updates),
or any unit one of its ready tasks waits on (`ready_tasks.assignee`). Both count because neither alone
covers the console's cases: an instance in error or waiting on a timer has no ready task, and feedback
or reporting instances follow no tracked task.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import aliased

from engine.core.errors import InvalidInput
from engine.process.tables import DefinitionVersion, InstanceStatus, ProcessInstance, ReadyTask
from engine.regulation.organisation import Unit, User
from engine.regulation.records import TrackedTask

MAX_PER_PAGE = 200


@dataclass(frozen=True)
class InstanceItem:
    """One row of the list: the instance, its procedure by name, who started it, its unit and open work."""

    id: int
    process_id: str
    process_name: str | None
    version: int
    status: InstanceStatus
    error_message: str | None
    started_by: str
    started_by_name: str | None
    created_at: datetime
    updated_at: datetime
    unit_code: str | None        # the tracked task's lead unit, else the unit its first ready task waits on
    unit_name: str | None
    tracked_task_id: int | None
    waiting_on: tuple[str, ...]  # names of its ready tasks


@dataclass(frozen=True)
class InstanceList:
    """A page of the filtered list, the total, and the count per status of the list without its status filter."""

    items: tuple[InstanceItem, ...]
    total: int
    counts: dict[str, int]
    page: int
    per_page: int


@dataclass(frozen=True)
class ProcessChoice:
    """A procedure the filter offers: its id, its name (the latest version's) and its deployed versions."""

    process_id: str
    name: str | None
    versions: tuple[int, ...]


@dataclass(frozen=True)
class UnitChoice:
    """A unit the filter offers, by name."""

    code: str
    name: str


def status_of(value: str | None) -> InstanceStatus | None:
    """A status filter as given (None or "" for all); InvalidInput naming the statuses otherwise."""
    if not value:
        return None
    try:
        return InstanceStatus(value)
    except ValueError:
        raise InvalidInput("instance_status_unknown", status=value,
                           statuses=", ".join(s.value for s in InstanceStatus)) from None


def list_instances(ctx, *, status: InstanceStatus | str | None = None, process_id: str | None = None,
                   version: int | None = None, unit: str | None = None, page: int = 1,
                   per_page: int = 50) -> InstanceList:
    """The instances that match every filter given, in error first, then suspended, then the latest changed."""
    status = status_of(status.value if isinstance(status, InstanceStatus) else status)
    page, per_page = max(1, page), min(max(1, per_page), MAX_PER_PAGE)
    pi, dv = ProcessInstance, DefinitionVersion
    own, parents = aliased(TrackedTask), aliased(TrackedTask)
    conditions = []
    if process_id:
        conditions.append(pi.process_id == process_id)
    if version is not None:
        conditions.append(dv.version == version)
    if unit:
        leading = select(TrackedTask.instance_id).join(Unit, Unit.id == TrackedTask.lead_unit_id).where(
            Unit.code == unit, TrackedTask.instance_id.is_not(None))
        conditions.append(or_(pi.id.in_(leading), pi.parent_id.in_(leading),
                              pi.id.in_(select(ReadyTask.instance_id).where(ReadyTask.assignee == unit))))
    with ctx.unit_of_work(readonly=True) as session:
        base = select(pi.status, func.count()).join(dv, dv.id == pi.definition_id).where(*conditions)
        counts = {s.value: n for s, n in session.execute(base.group_by(pi.status))}
        if status is not None:
            conditions.append(pi.status == status)
        total = counts.get(status.value, 0) if status is not None else sum(counts.values())
        first = case((pi.status == InstanceStatus.ERROR, 0), (pi.status == InstanceStatus.SUSPENDED, 1), else_=2)
        # Named columns only: the instance row also holds the whole workflow state.
        rows = session.execute(
            select(pi.id, pi.process_id, dv.name, dv.version, pi.status, pi.error_message, pi.started_by,
                   pi.created_at, pi.updated_at, func.coalesce(own.id, parents.id).label("tracked_id"),
                   func.coalesce(own.lead_unit_id, parents.lead_unit_id).label("lead_unit_id"))
            .join(dv, dv.id == pi.definition_id)
            .outerjoin(own, own.instance_id == pi.id)
            .outerjoin(parents, (parents.instance_id == pi.parent_id) & pi.parent_id.is_not(None))
            .where(*conditions).order_by(first, pi.updated_at.desc(), pi.id.desc())
            .limit(per_page).offset((page - 1) * per_page)).all()
        ids = [r.id for r in rows]
        ready: dict[int, list[tuple[str, str | None]]] = {}
        for instance_id, name, bpmn_id, assignee in session.execute(
                select(ReadyTask.instance_id, ReadyTask.name, ReadyTask.bpmn_id, ReadyTask.assignee)
                .where(ReadyTask.instance_id.in_(ids)).order_by(ReadyTask.id)) if ids else ():
            ready.setdefault(instance_id, []).append((name or bpmn_id, assignee))
        units_by_id = dict(session.execute(select(Unit.id, Unit.code)).all()) if rows else {}
        unit_names = dict(session.execute(select(Unit.code, Unit.name)).all()) if rows else {}
        people = dict(session.execute(select(User.username, User.full_name).where(
            User.username.in_({r.started_by for r in rows}))).all()) if rows else {}
        items = []
        for r in rows:
            waiting = ready.get(r.id, [])
            code = units_by_id.get(r.lead_unit_id) if r.lead_unit_id else next(
                (assignee for _, assignee in waiting if assignee), None)
            items.append(InstanceItem(r.id, r.process_id, r.name, r.version, r.status, r.error_message,
                                      r.started_by, people.get(r.started_by), r.created_at, r.updated_at,
                                      code, unit_names.get(code) if code else None, r.tracked_id,
                                      tuple(name for name, _ in waiting)))
        return InstanceList(tuple(items), total, counts, page, per_page)


def process_choices(ctx) -> list[ProcessChoice]:
    """Every deployed procedure with its latest name and its versions, by name."""
    with ctx.unit_of_work(readonly=True) as session:
        found: dict[str, tuple[str | None, list[int]]] = {}
        for process_id, name, version in session.execute(
                select(DefinitionVersion.process_id, DefinitionVersion.name, DefinitionVersion.version)
                .order_by(DefinitionVersion.process_id, DefinitionVersion.version)):
            known = found.setdefault(process_id, (name, []))
            found[process_id] = (name or known[0], [*known[1], version])
    return sorted((ProcessChoice(p, name, tuple(v)) for p, (name, v) in found.items()),
                  key=lambda choice: (choice.name or choice.process_id).lower())


def unit_choices(ctx) -> list[UnitChoice]:
    """The active units, by name, for the unit filter."""
    with ctx.unit_of_work(readonly=True) as session:
        return [UnitChoice(code, name) for code, name in session.execute(
            select(Unit.code, Unit.name).where(Unit.active).order_by(Unit.name))]
