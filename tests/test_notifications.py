"""Who receives a role-addressed notification, and whose it is to mark read (engine/regulation/access.py).

A notification addressed to a role reaches the people acting in that role in the unit it names, and
no one else: not the units above it, not every focal point acting as a follower somewhere. The Office's
own notices name the Office. Read state is each person's own.
"""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from engine.process.timers import fire_due_timers
from engine.regulation import access, notifications, tracking
from engine.regulation.notifications import NotificationKind
from engine.regulation.records import Feedback, Notification
from engine.regulation.tracking import DocumentInput, TaskInput
from tests.helpers import TZ
from tests.helpers import complete_step as _do

DOC = DocumentInput(number_symbol="88/QĐ-UBND", issued_on=date(2025, 4, 18), doc_type="quyet_dinh",
                    issuer="UBND tỉnh Bến Tre", signer="Phó Chủ tịch UBND tỉnh", summary="Rà soát văn bản")


@pytest.fixture
def province(ctx, shipped):
    ctx.clock.set(datetime(2025, 4, 21, 9, 0, tzinfo=TZ))  # Monday
    return ctx


def _mine(ctx, username):
    actor = access.actor_named(ctx, username)
    return actor, notifications.for_actor(ctx, actor)


def _feedback_with_reminders(ctx):
    """A department's task, a district's feedback on it, and the Office's limit passing (reminder, escalation)."""
    registered = tracking.register_document(ctx, DOC, [TaskInput(
        content="Rà soát văn bản quy phạm", lead_unit="so-tu-phap", expected_output="Báo cáo",
        deadline=date(2025, 4, 30))], actor="cv.hoa")
    _do(ctx, registered.instance_ids[0], "review_receipt", {"decision": "accept"})
    ctx.clock.set(datetime(2025, 4, 25, 16, 0, tzinfo=TZ))
    feedback_id = tracking.file_feedback(ctx, registered.task_ids[0], "huyen-ba-tri", "Sở chậm rà soát",
                                         actor="dm.batri")
    ctx.clock.set(datetime(2025, 5, 9, 8, 0, tzinfo=TZ))
    fire_due_timers(ctx)
    with ctx.unit_of_work(readonly=True) as session:
        return session.get(Feedback, feedback_id).instance_id


def test_the_offices_notices_name_the_office_and_reach_only_its_people(province):
    instance = _feedback_with_reminders(province)
    with province.unit_of_work(readonly=True) as session:
        office = access.office_unit(session)
        addressed = {(n.kind, n.unit_code, n.role) for n in session.scalars(
            select(Notification).where(Notification.instance_id == instance))}
    assert addressed == {("task_ready", office, "tracking_specialist"), ("task_ready", office, "office_leader"),
                         ("feedback_reminder", office, "tracking_specialist"),
                         ("feedback_overdue", office, "office_leader")}
    office_kinds = {"feedback_reminder", "feedback_overdue"}
    for username in ("dm.sotuphap", "dm.batri", "dm.congan", "dm.ttbatri", "ld.sotuphap"):
        _, mine = _mine(province, username)   # focal points act as followers, but not for the Office
        assert not [n for n in mine if n.kind in office_kinds or n.instance_id == instance], username
    for username, kind in (("cv.hoa", "feedback_reminder"), ("cv.minh", "feedback_reminder"),
                           ("ld.vanphong", "feedback_overdue")):
        _, mine = _mine(province, username)
        assert kind in {n.kind for n in mine}, username


def test_a_role_addressed_notice_reaches_that_unit_only_not_the_units_above_it(province):
    with province.unit_of_work() as session:
        notifications.notify(session, kind=NotificationKind.DEADLINE_REMINDER, now=province.now(),
                             params={"content": "Rà soát hộ nghèo", "due_date": "2025-05-30"},
                             unit_code="tt-ba-tri", role="unit_focal_point")
    assert [n.kind for n in _mine(province, "dm.ttbatri")[1]] == ["deadline_reminder"]
    for username in ("dm.batri", "ld.ttbatri", "cv.hoa", "ld.ubndtinh", "admin"):
        assert _mine(province, username)[1] == [], username
    district = access.actor_named(province, "dm.batri")
    [notice] = _mine(province, "dm.ttbatri")[1]
    assert notifications.mark_read(province, district, [notice.id]) == 0   # not theirs to mark
    assert notifications.unread_count(province, access.actor_named(province, "dm.ttbatri")) == 1


def test_read_state_is_each_persons_own(province):
    _feedback_with_reminders(province)
    hoa, hoa_notes = _mine(province, "cv.hoa")
    minh, minh_notes = _mine(province, "cv.minh")
    shared = [n.id for n in hoa_notes]
    assert shared and shared == [n.id for n in minh_notes]   # both are the Office's tracking specialists
    before = notifications.unread_count(province, minh)
    assert notifications.mark_read(province, hoa, shared) == len(shared)
    assert notifications.mark_read(province, hoa, shared) == 0                  # already read by her
    assert notifications.unread_count(province, hoa) == 0
    assert notifications.unread_count(province, minh) == before == len(shared)  # still unread for him
    assert not any(n.read for n in notifications.for_actor(province, minh))
    assert all(n.read for n in notifications.for_actor(province, hoa))
    assert notifications.mark_read(province, minh, shared[:1]) == 1
    assert notifications.unread_count(province, minh) == len(shared) - 1
