"""What each inbox row is about: the tracked task behind a ready task (its content, the assigning
document's number, the lead unit's name) and, for feedback, the unit that reported it.

A ready task belongs to one of these instances: a task's follow-up (tracked_tasks.instance_id), a
child of it (a period's progress update, an ad hoc update request, a coordinator's input: their
`parent_id` is the follow-up), a feedback follow-up (feedbacks.instance_id), or a reporting round's
report or consolidation (no tracked task: the subject is the unit and the period).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import false, or_, select
from sqlalchemy.orm import aliased

from engine.core.search_text import like_pattern
from engine.process.tables import ProcessInstance
from engine.regulation.organisation import Unit
from engine.regulation.records import Document, Feedback, PeriodicReport, ReportingRound, TrackedTask


@dataclass(frozen=True)
class Subject:
    """What a ready task is about; fields that do not apply are None."""

    tracked_task_id: int | None = None
    content: str | None = None
    document: str | None = None
    lead_unit_name: str | None = None
    reporter: str | None = None        # the unit that filed the feedback (feedback follow-ups)
    period: str | None = None          # the reporting period (self-inspection reports)


def subjects(session, instance_ids: set[int]) -> dict[int, Subject]:
    """The subject of each of these instances (a page's worth: a few small indexed queries)."""
    if not instance_ids:
        return {}
    parents = dict(session.execute(select(ProcessInstance.id, ProcessInstance.parent_id).where(
        ProcessInstance.id.in_(instance_ids), ProcessInstance.parent_id.is_not(None))).all())
    tasks = {row.instance_id: row for row in session.execute(
        _task_columns().where(TrackedTask.instance_id.in_(instance_ids | set(parents.values()))))}
    provider = aliased(Unit)
    feedback = {}
    for row in session.execute(_task_columns(Feedback.instance_id.label("feedback_instance"),
                                             provider.name.label("reporter"))
                               .join(Feedback, Feedback.task_id == TrackedTask.id)
                               .join(provider, provider.id == Feedback.provider_unit_id)
                               .where(Feedback.instance_id.in_(instance_ids))):
        feedback[row.feedback_instance] = row
    reports = {i: (name, period) for i, name, period in session.execute(
        select(PeriodicReport.instance_id, Unit.name, PeriodicReport.period_key)
        .join(Unit, Unit.id == PeriodicReport.unit_id).where(PeriodicReport.instance_id.in_(instance_ids)))}
    rounds = dict(session.execute(select(ReportingRound.consolidation_instance_id, ReportingRound.period_key)
                                  .where(ReportingRound.consolidation_instance_id.in_(instance_ids))).all())
    found: dict[int, Subject] = {}
    for instance_id in instance_ids:
        if instance_id in feedback:
            row = feedback[instance_id]
            found[instance_id] = _of(row, reporter=row.reporter)
        elif (row := tasks.get(instance_id) or tasks.get(parents.get(instance_id))) is not None:
            found[instance_id] = _of(row)
        elif instance_id in reports:
            found[instance_id] = Subject(lead_unit_name=reports[instance_id][0], period=reports[instance_id][1])
        elif instance_id in rounds:
            found[instance_id] = Subject(period=rounds[instance_id])
    return found


# Above this many matching instances the ids stay a subquery instead of a list of bound values.
MATCH_LIST_LIMIT = 2000


def subject_matches(session, instance_id, text: str):
    """SQL condition: the instance `instance_id` (a column) is about a tracked task matching `text`, accents
    and case ignored, in its content or its document's number or summary; None for a blank text.

    The tasks' folded texts are scanned once, here (the documents first: few rows), and the matching
    instances (follow-ups, their children, feedback follow-ups) passed on as a list: the inbox counts and
    pages with it by the ready tasks' index instead of looking at every task's text twice."""
    pattern = like_pattern(text)
    if pattern is None:
        return None
    documents = select(Document.id).where(Document.search_text.like(pattern, escape="\\"))
    document_ids = list(session.scalars(documents))
    matches = TrackedTask.search_text.like(pattern, escape="\\")
    if document_ids:  # only then: an OR makes SQLite's scan twice as slow
        matches = or_(matches, TrackedTask.document_id.in_(document_ids))
    matching = select(TrackedTask.id, TrackedTask.instance_id).where(matches)
    tasks = session.execute(matching.limit(MATCH_LIST_LIMIT + 1)).all()
    if len(tasks) > MATCH_LIST_LIMIT:
        followups = select(matching.subquery().c.instance_id)
        return or_(instance_id.in_(followups),
                   instance_id.in_(select(ProcessInstance.id).where(ProcessInstance.parent_id.in_(followups))),
                   instance_id.in_(select(Feedback.instance_id).where(
                       Feedback.task_id.in_(select(matching.subquery().c.id)))))
    if not tasks:
        return false()
    task_ids, followups = {t for t, _ in tasks}, {i for _, i in tasks if i is not None}
    instances = followups | set(session.scalars(select(ProcessInstance.id).where(
        ProcessInstance.parent_id.in_(followups)))) | set(session.scalars(select(Feedback.instance_id).where(
            Feedback.task_id.in_(task_ids), Feedback.instance_id.is_not(None))))
    return instance_id.in_(instances)


def _task_columns(*extra):
    return (select(TrackedTask.instance_id, TrackedTask.id, TrackedTask.content, Document.number_symbol,
                   Unit.name.label("lead_unit_name"), *extra)
            .join(Document, Document.id == TrackedTask.document_id).join(Unit, Unit.id == TrackedTask.lead_unit_id))


def _of(row, reporter: str | None = None) -> Subject:
    return Subject(row.id, row.content, row.number_symbol, row.lead_unit_name, reporter)
