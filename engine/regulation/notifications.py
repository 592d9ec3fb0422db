"""In-app notifications: for every hand-off, reminder, overdue, urging and copy to a provider.

A notification goes to a user, or to the holders of a role in a unit (the unit's focal point,
the Office's tracking specialists). It is written in the same transaction as the step that
caused it. Read state is kept per notification; e-mail delivery is a separate, optional pass.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from engine.regulation.access import Actor
from engine.regulation.organisation import LANE_ROLES
from engine.regulation.records import Notification

_N = Notification.__table__


@dataclass(frozen=True)
class NotificationView:
    """What a user sees in the notification list."""

    id: int
    kind: str
    title: str
    body: str
    instance_id: int | None
    task_id: int | None
    created_at: datetime
    read: bool


@cache
def _insert():
    return insert(_N)


def notify(session: Session, *, kind: str, title: str, now: datetime, body: str = "",
           unit_code: str | None = None, role: str | None = None, user_id: int | None = None,
           instance_id: int | None = None, task_id: int | None = None) -> None:
    """Write one notification in the caller's transaction."""
    session.connection().execute(_insert(), {
        "kind": kind, "title": title[:500], "body": body, "unit_code": unit_code, "role": role,
        "user_id": user_id, "instance_id": instance_id, "task_id": task_id, "created_at": now})


def already_sent(session: Session, instance_id: int, kind: str) -> bool:
    """Whether an instance has already notified anyone of this kind."""
    return session.connection().execute(
        select(_N.c.id).where(_N.c.instance_id == instance_id, _N.c.kind == kind).limit(1)).first() is not None


def after_step(session: Session, view) -> None:
    """Step hook: tell the holders of the tasks a step made ready that they are theirs."""
    tasks_ready(session, view.id, view.next_tasks, view.updated_at)


def tasks_ready(session: Session, instance_id: int, new_tasks, now: datetime) -> None:
    """Tell the holders of each new task's lane role (in its assignee unit) that it is theirs."""
    for task in new_tasks:
        role = LANE_ROLES.get(task.lane or "", task.lane)
        notify(session, kind="task_ready", title=task.name or task.bpmn_id, now=now, unit_code=task.assignee,
               role=role.value if hasattr(role, "value") else role, instance_id=instance_id)


def _recipient_filter(actor: Actor):
    # Mine: addressed to me, or to a role I act in, in one of the units whose notices reach me
    # (access.Actor.notice_units: the Office's whole subtree for Office staff), or to a role I act
    # in with no unit (the Office's own business, province-wide). Role-addressed notifications are
    # shared: one holder reading it marks it read for all, like a shared mailbox.
    return or_(_N.c.user_id == actor.user_id,
               and_(_N.c.user_id.is_(None), _N.c.role.in_(actor.roles),
                    or_(_N.c.unit_code.in_(actor.notice_units), _N.c.unit_code.is_(None))))


def for_actor(ctx, actor: Actor, limit: int = 50) -> list[NotificationView]:
    """A person's notifications, newest first."""
    with ctx.unit_of_work(readonly=True) as session:
        rows = session.connection().execute(
            select(_N).where(_recipient_filter(actor)).order_by(_N.c.id.desc()).limit(limit))
        return [NotificationView(r.id, r.kind, r.title, r.body, r.instance_id, r.task_id, r.created_at,
                                 r.read_at is not None) for r in rows]


def unread_count(ctx, actor: Actor) -> int:
    """How many of a person's notifications are unread."""
    with ctx.unit_of_work(readonly=True) as session:
        return session.connection().execute(
            select(func.count()).select_from(_N).where(_recipient_filter(actor), _N.c.read_at.is_(None))).scalar_one()


def mark_read(ctx, actor: Actor, ids: list[int]) -> int:
    """Mark some of a person's notifications read; ids that are not theirs are ignored."""
    with ctx.unit_of_work() as session:
        result = session.connection().execute(
            update(_N).where(_N.c.id.in_(ids), _recipient_filter(actor), _N.c.read_at.is_(None))
            .values(read_at=ctx.now()))
        return result.rowcount
