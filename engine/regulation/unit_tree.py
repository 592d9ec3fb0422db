"""The unit tree as the admin console shows it: every unit, active or not, with where a merged or
retired unit's work went and how much each unit holds (people, open tasks, ready steps)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from engine.process.tables import ReadyTask
from engine.regulation.organisation import UnitKind, User, _children, _walk
from engine.regulation.records import TaskStatus, TrackedTask


@dataclass(frozen=True)
class UnitNode:
    """One unit in the tree, top down (depth 0 for a root)."""

    code: str
    name: str
    kind: UnitKind
    parent: str | None
    depth: int
    active: bool
    merged_into: str | None
    retired_at: datetime | None
    users: int
    open_tasks: int
    ready_steps: int


def unit_tree(ctx) -> list[UnitNode]:
    """Every unit, each parent before its children (siblings by code), with its counts."""
    open_statuses = [status for status in TaskStatus if status.is_open]
    with ctx.unit_of_work(readonly=True) as session:
        children = _children(session)
        units = list(_walk(children, children[None]))
        users = dict(session.execute(select(User.unit_id, func.count()).where(User.active.is_(True))
                                     .group_by(User.unit_id)).all())
        tasks = dict(session.execute(select(TrackedTask.lead_unit_id, func.count())
                                     .where(TrackedTask.status.in_(open_statuses))
                                     .group_by(TrackedTask.lead_unit_id)).all())
        steps = dict(session.execute(select(ReadyTask.assignee, func.count()).group_by(ReadyTask.assignee)).all())
    by_id = {unit.id: unit for unit in units}
    depth: dict[int, int] = {}
    nodes = []
    for unit in units:
        depth[unit.id] = depth[unit.parent_id] + 1 if unit.parent_id in depth else 0
        nodes.append(UnitNode(unit.code, unit.name, UnitKind(unit.kind), by_id[unit.parent_id].code
                              if unit.parent_id in by_id else None, depth[unit.id], bool(unit.active),
                              by_id[unit.merged_into_id].code if unit.merged_into_id in by_id else None,
                              unit.retired_at, users.get(unit.id, 0), tasks.get(unit.id, 0),
                              steps.get(unit.code, 0)))
    return nodes
