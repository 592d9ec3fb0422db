"""Admins change timer durations and the calendar without code; running instances follow on request."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from engine.core.audit import AuditEntry
from engine.core.errors import Conflict, DeployRefused, InvalidInput, NotFound
from engine.process import instances, rearm
from engine.process.definitions import deploy_bytes
from engine.process.tables import WaitingTimer
from engine.process.timers import fire_due_timers
from engine.worktime import calendar_overrides, timer_settings
from tests.helpers import BPMN, TZ


def _start_feedback(ctx, at):
    ctx.clock.set(at)
    return instances.start_instance(ctx, "feedback_followup", {"received_at": at.isoformat()})


def _timers(ctx, instance_id):
    with ctx.unit_of_work(readonly=True) as session:
        return {t.bpmn_id: t.due_at for t in session.scalars(
            select(WaitingTimer).where(WaitingTimer.instance_id == instance_id))}


def test_seeded_defaults_carry_their_legal_basis(ctx):
    settings = {s.name: s for s, _, _ in timer_settings.list_settings(ctx)}
    office_action = settings["feedback_office_action"]
    assert (office_action.value, office_action.unit.value) == (7, "working_days")
    assert "15.5" in settings["feedback_office_action"].legal_basis
    assert settings["update_grace"].value == 1 and "8.1.a" in settings["update_grace"].legal_basis


def test_a_change_is_kept_in_history_and_the_audit_log(ctx):
    timer_settings.change_setting(ctx, "feedback_office_action", 10, None, "admin", "Quyết định sửa đổi")
    timer_settings.change_setting(ctx, "feedback_office_action", 5, "calendar_days", "admin2", "thử nghiệm")
    changes = timer_settings.history(ctx, "feedback_office_action")
    assert [(c.old_value, c.old_unit.value, c.new_value, c.new_unit.value, c.changed_by) for c in changes] == [
        (7, "working_days", 10, "working_days", "admin"), (10, "working_days", 5, "calendar_days", "admin2")]
    with ctx.unit_of_work(readonly=True) as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "timer_setting_changed")).all()
    assert [e.summary["new"] for e in entries] == ["10 working_days", "5 calendar_days"]


@pytest.mark.parametrize("name, value, unit, reason, error", [
    ("feedback_office_action", -1, None, "x", InvalidInput),
    ("feedback_office_action", "7", None, "x", InvalidInput),
    ("feedback_office_action", 7, "fortnights", "x", InvalidInput),
    ("feedback_office_action", 7, None, "  ", InvalidInput),
    ("no_such_setting", 7, None, "x", NotFound),
])
def test_bad_changes_are_refused_and_change_nothing(ctx, name, value, unit, reason, error):
    with pytest.raises(error):
        timer_settings.change_setting(ctx, name, value, unit, "admin", reason)
    assert timer_settings.history(ctx, "feedback_office_action") == []


def test_new_value_applies_to_timers_armed_afterwards_only(ctx, shipped):
    old = _start_feedback(ctx, datetime(2025, 4, 25, 16, 0, tzinfo=TZ))
    timer_settings.change_setting(ctx, "feedback_office_action", 10, None, "admin", "thử")
    new = _start_feedback(ctx, datetime(2025, 4, 25, 16, 0, tzinfo=TZ))
    assert _timers(ctx, old.id)["limit_exceeded"] == datetime(2025, 5, 9, tzinfo=TZ)   # 7 working days
    assert _timers(ctx, new.id)["limit_exceeded"] == datetime(2025, 5, 14, tzinfo=TZ)  # 10 working days


def test_preview_then_apply_rearms_waiting_timers_from_the_original_event(ctx, shipped):
    started = _start_feedback(ctx, datetime(2025, 4, 25, 16, 0, tzinfo=TZ))
    ctx.clock.set(datetime(2025, 4, 29, 9, 0, tzinfo=TZ))
    timer_settings.change_setting(ctx, "feedback_office_action", 10, None, "admin", "thử")
    items = rearm.preview(ctx, "feedback_office_action")
    assert {(i.instance_id, i.bpmn_id, i.old_due, i.new_due) for i in items} == {
        (started.id, "limit_exceeded", datetime(2025, 5, 9, tzinfo=TZ), datetime(2025, 5, 14, tzinfo=TZ)),
        (started.id, "remind_office", datetime(2025, 5, 7, tzinfo=TZ), datetime(2025, 5, 12, tzinfo=TZ)),
    }
    assert _timers(ctx, started.id)["limit_exceeded"] == datetime(2025, 5, 9, tzinfo=TZ)  # preview changes nothing
    moved = rearm.apply(ctx, "feedback_office_action", "admin")
    assert len(moved) == 2
    assert _timers(ctx, started.id) == {"limit_exceeded": datetime(2025, 5, 14, tzinfo=TZ),
                                        "remind_office": datetime(2025, 5, 12, tzinfo=TZ)}
    task = instances.list_ready_tasks(ctx, instance_id=started.id)[0]
    assert task.due_at == datetime(2025, 5, 14, tzinfo=TZ)
    ctx.clock.set(datetime(2025, 5, 9, 8, 0, tzinfo=TZ))
    assert fire_due_timers(ctx).fired == []  # neither the old reminder nor the old limit fires
    ctx.clock.set(datetime(2025, 5, 12, 8, 0, tzinfo=TZ))
    assert fire_due_timers(ctx).fired == [(started.id, "remind_office")]
    with ctx.unit_of_work(readonly=True) as session:
        assert session.scalar(select(AuditEntry.summary).where(AuditEntry.action == "timer_rearmed"))["setting"] \
            == "feedback_office_action"


def test_rearm_to_a_shorter_limit_already_past_fires_at_once(ctx, shipped):
    started = _start_feedback(ctx, datetime(2025, 4, 25, 16, 0, tzinfo=TZ))
    ctx.clock.set(datetime(2025, 5, 6, 9, 0, tzinfo=TZ))
    timer_settings.change_setting(ctx, "feedback_office_action", 2, None, "admin", "rút ngắn")
    rearm.apply(ctx, "feedback_office_action", "admin")
    assert sorted(t.bpmn_id for t in instances.list_ready_tasks(ctx, instance_id=started.id)) == \
        ["check_feedback", "handle_overdue"]


def test_rearm_of_a_setting_no_timer_reads_moves_nothing(ctx, shipped):
    _start_feedback(ctx, datetime(2025, 4, 25, 16, 0, tzinfo=TZ))
    assert rearm.preview(ctx, "task_review") == [] and rearm.apply(ctx, "task_review", "admin") == []


def test_deploy_refuses_a_timer_that_reads_an_unknown_setting(ctx):
    xml = (BPMN / "valid_review_with_deadline.bpmn").read_bytes()
    xml = xml.replace(b'"PT2H"', b'deadline("no_such_setting", received_at)')
    assert b"no_such_setting" in xml
    with pytest.raises(DeployRefused, match="unknown setting 'no_such_setting'"):
        deploy_bytes(ctx, xml, "review.bpmn")


def test_an_added_day_off_moves_deadlines_armed_afterwards(ctx, shipped):
    # 24 Nov 2026 (Vietnamese Culture Day) is not law yet: an admin adds it when it is.
    calendar_overrides.add_override(ctx, date(2026, 11, 24), "day_off", "Ngày Văn hóa Việt Nam", "NQ (giả định)",
                                    "admin")
    started = _start_feedback(ctx, datetime(2026, 11, 20, 10, 0, tzinfo=TZ))  # a Friday
    # Mon 23, (Tue 24 off), Wed 25, Thu 26, Fri 27, Mon 30, Tue 1: the 7th working day is Wed 2 Dec.
    assert _timers(ctx, started.id)["limit_exceeded"] == datetime(2026, 12, 3, tzinfo=TZ)
    calendar_overrides.remove_override(ctx, date(2026, 11, 24), "admin")
    again = _start_feedback(ctx, datetime(2026, 11, 20, 10, 0, tzinfo=TZ))
    assert _timers(ctx, again.id)["limit_exceeded"] == datetime(2026, 12, 2, tzinfo=TZ)  # ends Tue 1 Dec


@pytest.mark.parametrize("day, kind, reason, source, error", [
    (date(2026, 1, 2), "day_off", "x", "y", Conflict),            # already announced
    (date(2026, 3, 3), "working_day", "x", "y", InvalidInput),    # a Tuesday cannot be a make-up day
    (date(2026, 3, 3), "holiday", "x", "y", InvalidInput),
    (date(2026, 3, 3), "day_off", "", "y", InvalidInput),
    (date(2026, 3, 3), "day_off", "x", " ", InvalidInput),
])
def test_bad_overrides_are_refused(ctx, day, kind, reason, source, error):
    before = calendar_overrides.list_overrides(ctx, 2026)
    with pytest.raises(error):
        calendar_overrides.add_override(ctx, day, kind, reason, source, "admin")
    assert calendar_overrides.list_overrides(ctx, 2026) == before


def test_removing_an_unknown_override_is_not_found(ctx):
    with pytest.raises(NotFound):
        calendar_overrides.remove_override(ctx, date(2026, 3, 3), "admin")
