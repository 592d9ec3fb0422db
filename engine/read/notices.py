"""The notification list as a person reads it: a page at a time, each notice naming the tracked task it
is about (its content and the assigning document's number) and where to go for it.

Where a notice leads, most useful first: the step it is about, while that step still waits for the
reader; the reporting round it reports on, for the Office; the tracked task's page, when the reader may
see the lead unit's tasks. Old notices are resolved the same way: nothing is stored for it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from engine.core import i18n
from engine.process.tables import ProcessInstance, ReadyTask
from engine.read.inbox import visible
from engine.regulation import access, notifications
from engine.regulation.access import Actor
from engine.regulation.notifications import NotificationKind, NotificationView
from engine.regulation.organisation import Unit
from engine.regulation.records import Document, Feedback, PeriodicReport, ReportingRound, TrackedTask


@dataclass(frozen=True)
class NoticeLink:
    """Where a notice leads: a waiting step ("task": instance_id and task_id), a reporting round
    ("round": period_key) or a tracked task's page ("tracked": tracked_id)."""

    kind: str
    instance_id: int | None = None
    task_id: str | None = None
    period_key: str | None = None
    tracked_id: int | None = None


@dataclass(frozen=True)
class NoticeItem:
    """One notice as listed: its title says which task (`subject`: content and document number)."""

    id: int
    kind: NotificationKind
    title: str
    body: str
    subject: str | None
    created_at: datetime
    read: bool
    link: NoticeLink | None


@dataclass(frozen=True)
class NoticePage:
    """A page of a person's notices, with how many they have in all and how many unread."""

    items: list[NoticeItem]
    total: int
    unread: int
    page: int
    per_page: int


@dataclass(frozen=True)
class _Subject:
    id: int
    content: str
    number: str
    lead_unit: str


def notice_page(ctx, actor: Actor, *, page: int = 1, per_page: int = 20,
                lang: str = i18n.DEFAULT_LANGUAGE) -> NoticePage:
    """A person's notices, newest first, one page of them, each with its subject and link."""
    page, per_page = max(1, page), min(max(1, per_page), 200)
    with ctx.unit_of_work(readonly=True) as session:
        views = notifications.listed(session, actor, limit=per_page, offset=(page - 1) * per_page, lang=lang)
        total = notifications.counted(session, actor)
        unread = notifications.counted(session, actor, unread_only=True)
        instances = {v.instance_id for v in views if v.instance_id is not None}
        subjects = _subjects(session, views, instances)
        waiting = _waiting_steps(session, actor, instances)
        rounds = _rounds(session, instances) if access.may_follow_province(actor) else {}
    items = []
    for v in views:
        subject = subjects.get(v.id)
        items.append(NoticeItem(v.id, v.kind, _titled(v.title, subject), v.body, _named(subject), v.created_at, v.read,
                                _link(actor, v, subject, waiting, rounds)))
    return NoticePage(items, total, unread, page, per_page)


def _named(subject: _Subject | None) -> str | None:
    if subject is None:
        return None
    return f"{subject.content} ({subject.number})" if subject.number else subject.content


def _titled(title: str, subject: _Subject | None) -> str:
    # A title that names only the step ("Rà soát, tiếp nhận nhiệm vụ") or a number says which task too.
    if subject is None or subject.content in title:
        return title
    return f"{title}: {_named(subject)}"


def _link(actor: Actor, view: NotificationView, subject: _Subject | None, waiting: dict, rounds: dict):
    if view.instance_id in waiting:
        return NoticeLink("task", instance_id=view.instance_id, task_id=waiting[view.instance_id])
    if view.instance_id in rounds:
        return NoticeLink("round", period_key=rounds[view.instance_id])
    if subject is not None and access.may_see_unit(actor, subject.lead_unit):
        return NoticeLink("tracked", tracked_id=subject.id)
    return None


def _subjects(session, views: list[NotificationView], instances: set[int]) -> dict[int, _Subject]:
    """Each notice's tracked task: named on the notice, or the one its instance (or the instance that
    started it: a feedback, an update request, a coordinator's input) follows."""
    parents = dict(session.execute(select(ProcessInstance.id, ProcessInstance.parent_id).where(
        ProcessInstance.id.in_(instances))).all()) if instances else {}
    feedback = dict(session.execute(select(Feedback.instance_id, Feedback.task_id).where(
        Feedback.instance_id.in_(instances))).all()) if instances else {}
    named = {v.task_id for v in views if v.task_id is not None} | set(feedback.values())
    followed = instances | {p for p in parents.values() if p is not None}
    if not named and not followed:
        return {}
    rows = session.execute(
        select(TrackedTask.id, TrackedTask.instance_id, TrackedTask.content, Document.number_symbol, Unit.code)
        .join(Document, Document.id == TrackedTask.document_id).join(Unit, Unit.id == TrackedTask.lead_unit_id)
        .where(or_(TrackedTask.id.in_(named), TrackedTask.instance_id.in_(followed)))).all()
    by_id = {r.id: _Subject(r.id, r.content, r.number_symbol, r.code) for r in rows}
    by_instance = {r.instance_id: by_id[r.id] for r in rows if r.instance_id is not None}
    found = {}
    for v in views:
        subject = (by_id.get(v.task_id) or by_id.get(feedback.get(v.instance_id)) or by_instance.get(v.instance_id)
                   or by_instance.get(parents.get(v.instance_id)))
        if subject is not None:
            found[v.id] = subject
    return found


def _waiting_steps(session, actor: Actor, instances: set[int]) -> dict[int, str]:
    """The first step of each instance that waits for this reader."""
    if not instances:
        return {}
    rows = session.execute(select(ReadyTask.instance_id, ReadyTask.task_id).where(
        ReadyTask.instance_id.in_(instances), visible(actor)).order_by(ReadyTask.id.desc())).all()
    return {instance: task for instance, task in rows}  # the oldest wins: rows come newest first


def _rounds(session, instances: set[int]) -> dict[int, str]:
    """The reporting round of each instance that is a unit's report or a round's consolidation."""
    if not instances:
        return {}
    reports = session.execute(select(PeriodicReport.instance_id, PeriodicReport.period_key).where(
        PeriodicReport.instance_id.in_(instances))).all()
    consolidations = session.execute(select(ReportingRound.consolidation_instance_id, ReportingRound.period_key)
                                     .where(ReportingRound.consolidation_instance_id.in_(instances))).all()
    return {instance: key for instance, key in (*reports, *consolidations)}
