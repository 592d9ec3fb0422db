"""In-app notifications: for every hand-off, reminder, overdue, urging and copy to a provider.

A notification goes to a user, or to the people acting in a role in one unit (the unit's focal point,
the Office's tracking specialists; the rule is access.notice_recipients). It is written in the same
transaction as the step that caused it. Read state is each person's own (a row per reader in
`notification_reads`); e-mail delivery is a separate, optional pass.

Each kind has its title (and for some its body) in the catalog. A notification keeps the parameters
of its texts, so each reader sees it in their language; its `title` and `body` columns hold the
Vietnamese text (for e-mail copies, and for rows written before parameters were kept).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import and_, exists, func, insert, literal, or_, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.core import i18n
from engine.regulation import access
from engine.regulation.access import Actor
from engine.regulation.records import Notification, NotificationRead

_N = Notification.__table__
_R = NotificationRead.__table__
_TITLE = "$title"  # a stored parameter naming the title's key when it is not the kind's own


class NotificationKind(str, enum.Enum):
    """What a notification is about."""

    TASK_READY = "task_ready"
    TASK_RETURNED = "task_returned"
    DEADLINE_REMINDER = "deadline_reminder"
    OVERDUE = "overdue"
    RECEIPT_LATE = "receipt_late"
    SENT_BACK = "sent_back"
    URGING = "urging"
    URGING_COPY = "urging_copy"
    DIRECTION = "direction"
    DIRECTION_COPY = "direction_copy"
    FEEDBACK_ANSWER = "feedback_answer"
    FEEDBACK_REMINDER = "feedback_reminder"
    FEEDBACK_OVERDUE = "feedback_overdue"
    COORDINATOR_INPUT = "coordinator_input"
    REPORT_SUBMITTED = "report_submitted"
    REPORT_LATE = "report_late"
    REPORTS_CONSOLIDATED = "reports_consolidated"

    @property
    def label_key(self) -> str:
        """Its label's key in the catalog."""
        return f"notification_kind.{self.value}"

    @property
    def title_key(self) -> str:
        """The key of its title's template."""
        return f"notification.{self.value}.title"

    @property
    def body_key(self) -> str | None:
        """The key of its body's template; None when the body is a person's own text, kept as written."""
        return f"notification.{self.value}.body" if self in _TEMPLATED_BODIES else None


_TEMPLATED_BODIES = frozenset({NotificationKind.DEADLINE_REMINDER, NotificationKind.REPORT_LATE,
                               NotificationKind.RECEIPT_LATE})


@dataclass(frozen=True)
class NotificationView:
    """What a user sees in the notification list (title and body in the reader's language)."""

    id: int
    kind: NotificationKind
    title: str
    body: str
    instance_id: int | None
    task_id: int | None
    created_at: datetime
    read: bool


@cache
def _insert():
    return insert(_N)


def notify(session: Session, *, kind: NotificationKind | str, now: datetime, params: dict[str, Any] | None = None,
           title: str = "", body: str = "", title_key: str | None = None, unit_code: str | None = None,
           role: str | None = None, user_id: int | None = None, instance_id: int | None = None,
           task_id: int | None = None) -> None:
    """Write one notification in the caller's transaction.

    With `params`, the title (from `title_key`, else the kind's own) and a templated body come from the
    catalog and are rendered for each reader; `body` is then a person's text, kept as written. Without,
    `title` and `body` are stored as given. A role without a unit is the province's own business: the
    notice names the Office (the PPC for its leaders; access.province_unit).
    """
    kind, stored = NotificationKind(kind), None
    if role and unit_code is None:
        unit_code = access.province_unit(session, role)
    if params is not None:
        stored = {**i18n.encode_params(params), **({_TITLE: title_key} if title_key else {})}
        title = i18n.text(title_key or kind.title_key, "vi", **params)
        body = i18n.text(kind.body_key, "vi", **params) if kind.body_key else body
    session.connection().execute(_insert(), {
        "kind": kind.value, "title": title[:500], "body": body, "params": stored, "unit_code": unit_code,
        "role": role, "user_id": user_id, "instance_id": instance_id, "task_id": task_id, "created_at": now})


def rendered(kind: NotificationKind | str, title: str, body: str, params: dict | None,
             lang: str = i18n.DEFAULT_LANGUAGE) -> tuple[str, str]:
    """A notification's title and body in `lang`; a row without parameters is shown as stored."""
    if params is None:
        return title, body
    kind, values = NotificationKind(kind), i18n.decode_params(params)
    title_key = values.pop(_TITLE, None) or kind.title_key
    return (i18n.text(title_key, lang, **values),
            i18n.text(kind.body_key, lang, **values) if kind.body_key else body)


def after_step(session: Session, view) -> None:
    """Step hook: tell the holders of the tasks a step made ready that they are theirs."""
    tasks_ready(session, view.id, view.next_tasks, view.updated_at)


def tasks_ready(session: Session, instance_id: int, new_tasks, now: datetime) -> None:
    """Tell the holders of each new task's lane role (in its assignee unit) that it is theirs."""
    for task in new_tasks:  # a lane names its role (deploy refuses one that does not)
        notify(session, kind=NotificationKind.TASK_READY, params={"task": task.name or task.bpmn_id}, now=now,
               unit_code=task.assignee, role=task.lane, instance_id=instance_id)


def _recipient_filter(actor: Actor):
    # Mine: addressed to me, or to a role I act in, in a unit whose notices reach me (my own; the
    # Office for its staff): the same rule as access.notice_recipients, in SQL.
    return or_(_N.c.user_id == actor.user_id,
               and_(_N.c.user_id.is_(None), _N.c.role.in_(actor.roles), _N.c.unit_code.in_(actor.notice_units)))


def _read_by(actor: Actor):
    return exists().where(_R.c.notification_id == _N.c.id, _R.c.user_id == actor.user_id)


def for_actor(ctx, actor: Actor, limit: int = 50, lang: str = i18n.DEFAULT_LANGUAGE) -> list[NotificationView]:
    """A person's notifications, newest first, in their language, read or not by them."""
    with ctx.unit_of_work(readonly=True) as session:
        return listed(session, actor, limit=limit, lang=lang)


def listed(session: Session, actor: Actor, *, limit: int, offset: int = 0,
           lang: str = i18n.DEFAULT_LANGUAGE) -> list[NotificationView]:
    """One slice of a person's notifications, newest first, in the caller's transaction."""
    rows = session.connection().execute(
        select(_N, _read_by(actor).label("read")).where(_recipient_filter(actor))
        .order_by(_N.c.id.desc()).limit(limit).offset(offset))
    return [NotificationView(r.id, NotificationKind(r.kind), *rendered(r.kind, r.title, r.body, r.params, lang),
                             r.instance_id, r.task_id, r.created_at, bool(r.read)) for r in rows]


def counted(session: Session, actor: Actor, *, unread_only: bool = False) -> int:
    """How many notifications a person has (or has not read), in the caller's transaction."""
    condition = and_(_recipient_filter(actor), ~_read_by(actor)) if unread_only else _recipient_filter(actor)
    return session.connection().execute(select(func.count()).select_from(_N).where(condition)).scalar_one()


def unread_count(ctx, actor: Actor) -> int:
    """How many of a person's notifications they have not read."""
    with ctx.unit_of_work(readonly=True) as session:
        return counted(session, actor, unread_only=True)


def mark_read(ctx, actor: Actor, ids: list[int]) -> int:
    """Mark some of a person's notifications read for them (not for the other recipients); ids that are
    not theirs, or that they have read already, are ignored. How many were marked."""
    return _mark(ctx, actor, _N.c.id.in_(ids))


def mark_all_read(ctx, actor: Actor) -> int:
    """Mark every notification of a person read for them, on every page, not only those shown."""
    return _mark(ctx, actor, true())


def _mark(ctx, actor: Actor, which) -> int:
    with ctx.unit_of_work() as session:
        mine = select(_N.c.id, literal(actor.user_id), literal(ctx.now(), _R.c.read_at.type)).where(
            which, _recipient_filter(actor), ~_read_by(actor))
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        statement = dialect.insert(_R).from_select(["notification_id", "user_id", "read_at"], mine)
        # Two tabs marking the same notification at once: the second adds nothing.
        marked = session.connection().execute(statement.on_conflict_do_nothing().returning(_R.c.notification_id))
        return len(marked.all())
