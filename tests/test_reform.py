"""Organisation changes that move work (engine/regulation/reorganisation.py): merge and retire units,
previewed then applied, through the real use cases and the shipped diagrams."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.core.audit import AuditEntry
from engine.core.errors import Conflict, FieldErrors, InvalidInput, NotFound
from engine.process import instances
from engine.read import task_queries
from engine.read.inbox import inbox
from engine.regulation import access, organisation, organisation_import, reorganisation
from engine.regulation.organisation import Unit, User
from engine.regulation.records import TaskStatus
from tests.helpers import complete_step, ready_tasks, register_task

OLD, NEW = "xa-tan-xuan-ba-tri", "tt-ba-tri"


def _unit(ctx, code):
    with ctx.unit_of_work(readonly=True) as session:
        return organisation.unit_by_code(session, code)


def _user_unit(ctx, username):
    with ctx.unit_of_work(readonly=True) as session:
        user = session.scalar(select(User).where(User.username == username))
        return session.get(Unit, user.unit_id).code, user.active


def test_merging_two_communes_previews_then_moves_the_ready_task_and_the_workflow_data(shipped):
    ctx = shipped
    registered = register_task(ctx, lead_unit=OLD, content="Rà soát hộ nghèo xã Tân Xuân")
    complete_step(ctx, registered.instance_id, "review_receipt", {"decision": "accept"}, actor="dm.tanxuan")
    assert ready_tasks(ctx, registered.instance_id)["report_completion"].assignee == OLD

    preview = reorganisation.merge_unit(ctx, OLD, NEW, "admin", "Sáp nhập xã", apply=False)
    assert not preview.applied
    assert [(s.instance_id, s.old_assignee, s.new_assignee) for s in preview.steps] == [
        (registered.instance_id, OLD, NEW)]
    assert [(t.task_id, t.role, t.new_unit) for t in preview.tracked_tasks] == [(registered.task_id, "lead", NEW)]
    assert {u.username: u.new_unit for u in preview.users} == {"dm.tanxuan": NEW, "ld.tanxuan": NEW}
    assert [(c.action, c.code, c.into) for c in preview.units] == [("merged", OLD, NEW)]
    assert {t.bpmn_id for t in preview.timers} == {"remind_deadline", "update_overdue"}
    assert preview.blocked == []
    # Nothing moved: the preview was rolled back.
    assert ready_tasks(ctx, registered.instance_id)["report_completion"].assignee == OLD
    assert _unit(ctx, OLD).active and _user_unit(ctx, "dm.tanxuan") == (OLD, True)

    done = reorganisation.merge_unit(ctx, OLD, NEW, "admin", "Sáp nhập xã")
    assert done.applied and done.steps == preview.steps
    step = ready_tasks(ctx, registered.instance_id)["report_completion"]
    assert step.assignee == NEW
    details = instances.task_details(ctx, registered.instance_id, step.task_id)
    assert details.data["lead_unit"] == NEW
    assert _unit(ctx, OLD).active is False and _unit(ctx, OLD).merged_into_id == _unit(ctx, NEW).id
    assert _user_unit(ctx, "dm.tanxuan") == (NEW, True)

    focal = access.actor_named(ctx, "dm.ttbatri")
    assert [i.task_id for i in inbox(ctx, focal).items] == [step.task_id]
    complete_step(ctx, registered.instance_id, "report_completion",
                  {"result": "Đã rà soát", "report_document": "9/BC-UBND", "completed_on": "2025-04-25"},
                  actor="dm.ttbatri")
    assert "confirm_completion" in ready_tasks(ctx, registered.instance_id)
    assert task_queries.task_page(ctx, registered.task_id).updates[0].unit == NEW
    with ctx.unit_of_work(readonly=True) as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert "instance_data_rewritten" in actions and "unit_merged" in actions


def test_a_closed_task_and_its_progress_keep_the_old_units_name(shipped):
    ctx = shipped
    old_name = _unit(ctx, OLD).name
    registered = register_task(ctx, lead_unit=OLD)
    complete_step(ctx, registered.instance_id, "review_receipt", {"decision": "accept"}, actor="dm.tanxuan")
    complete_step(ctx, registered.instance_id, "report_completion",
                  {"result": "Xong", "report_document": "5/BC-UBND", "completed_on": "2025-04-25"},
                  actor="dm.tanxuan")
    complete_step(ctx, registered.instance_id, "confirm_completion", {"decision": "confirm"}, actor="cv.hoa")
    open_task = register_task(ctx, lead_unit=OLD, number_symbol="302/QĐ-UBND")

    done = reorganisation.merge_unit(ctx, OLD, NEW, "admin")
    assert [t.task_id for t in done.tracked_tasks] == [open_task.task_id]  # the closed one stays
    closed = task_queries.task_page(ctx, registered.task_id)
    assert TaskStatus(closed.task.status) is TaskStatus.COMPLETED_ON_TIME
    assert (closed.task.lead_unit, closed.task.lead_unit_name) == (OLD, old_name)
    assert [u.unit for u in closed.updates] == [OLD]
    moved = task_queries.task_page(ctx, open_task.task_id)
    assert moved.task.lead_unit == NEW


def test_retiring_a_district_gives_its_work_away_and_deactivates_its_people(shipped):
    ctx = shipped
    registered = register_task(ctx, lead_unit="batri-phong-nnptnt")
    step = registered.step
    assert step.assignee == "batri-phong-nnptnt"
    with pytest.raises(Conflict, match="huyen-ba-tri"):  # its communes are still active below it
        reorganisation.retire_unit(ctx, "huyen-ba-tri", "so-nong-nghiep-ptnt", "admin")
    done = reorganisation.retire_unit(ctx, "batri-phong-nnptnt", "so-nong-nghiep-ptnt", "admin", "Giải thể phòng")
    assert [(c.action, c.into) for c in done.units] == [("retired", "so-nong-nghiep-ptnt")]
    assert ready_tasks(ctx, registered.instance_id)["review_receipt"].assignee == "so-nong-nghiep-ptnt"
    inbox_items = inbox(ctx, access.actor_named(ctx, "dm.sonnptnt")).items
    assert step.task_id in [i.task_id for i in inbox_items]


def test_retire_deactivates_people_and_releases_their_claims(shipped):
    ctx = shipped
    registered = register_task(ctx, lead_unit=OLD)
    from engine.read.inbox import claim
    claim(ctx, access.actor_named(ctx, "dm.tanxuan"), registered.instance_id, registered.step.task_id)
    done = reorganisation.retire_unit(ctx, OLD, NEW, "admin")
    assert {(u.username, u.new_unit, u.released_claims) for u in done.users} == {
        ("dm.tanxuan", None, 1), ("ld.tanxuan", None, 0)}
    assert _user_unit(ctx, "dm.tanxuan") == (OLD, False)
    with pytest.raises(NotFound):
        access.actor_named(ctx, "dm.tanxuan")
    assert [i.claimed_by for i in inbox(ctx, access.actor_named(ctx, "dm.ttbatri")).items] == [None]


@pytest.mark.parametrize(("code", "into", "error", "key"), [
    (OLD, OLD, InvalidInput, "unit_merge_into_itself"),
    ("no-such-unit", NEW, NotFound, "unit_not_found"),
    (OLD, "no-such-unit", InvalidInput, "unit_receiving_unknown"),
    ("huyen-ba-tri", NEW, Conflict, "unit_receiving_below"),
])
def test_bad_merges_are_refused_and_change_nothing(ctx, code, into, error, key):
    with pytest.raises(error) as raised:
        reorganisation.merge_unit(ctx, code, into, "admin", with_sub_units=True)
    assert raised.value.key == key
    assert _unit(ctx, OLD).active and _unit(ctx, NEW).active


def test_merging_into_a_retired_unit_or_a_retired_unit_again_is_refused(ctx):
    reorganisation.merge_unit(ctx, OLD, NEW, "admin")
    with pytest.raises(Conflict) as into_retired:
        reorganisation.merge_unit(ctx, "phuong-7-tp-ben-tre", OLD, "admin")
    assert into_retired.value.key == "unit_receiving_inactive"
    with pytest.raises(Conflict) as again:
        reorganisation.merge_unit(ctx, OLD, "phuong-7-tp-ben-tre", "admin")
    assert again.value.key == "unit_already_inactive"
    with pytest.raises(InvalidInput):
        reorganisation.merge_unit(ctx, NEW, "phuong-7-tp-ben-tre", "admin", users="fire")


REFORM = Path(__file__).resolve().parents[1] / "processes" / "org" / "reform-2025-vinh-long.json"


def test_the_2025_reform_file_previews_then_applies_in_one_transaction(shipped):
    ctx = shipped
    raw = json.loads(REFORM.read_text(encoding="utf-8"))
    ba_tri = register_task(ctx, lead_unit="tt-ba-tri")
    district = register_task(ctx, lead_unit="huyen-ba-tri", number_symbol="303/QĐ-UBND")
    ministry = register_task(ctx, lead_unit="so-ke-hoach-dau-tu", number_symbol="304/QĐ-UBND")

    preview = organisation_import.import_changes(ctx, raw, "admin", apply=False)
    actions = {(c.action, c.code) for c in preview.units}
    assert {("created", "xa-ba-tri"), ("merged", "tt-ba-tri"), ("retired", "huyen-ba-tri"),
            ("merged", "ubnd-tinh"), ("renamed", "vp-ubnd"), ("moved", "vp-ubnd")} <= actions
    moves = {(s.instance_id, s.new_assignee) for s in preview.steps}
    assert {(ba_tri.instance_id, "xa-ba-tri"), (district.instance_id, "xa-ba-tri"),
            (ministry.instance_id, "so-tai-chinh")} <= moves
    assert preview.names["xa-ba-tri"] == "UBND xã Ba Tri"
    with pytest.raises(NotFound):  # rolled back
        _unit(ctx, "xa-ba-tri")

    done = organisation_import.import_changes(ctx, raw, "admin", "Nghị quyết 202/2025/QH15")
    assert {(c.action, c.code) for c in done.units} == actions
    assert ready_tasks(ctx, ba_tri.instance_id)["review_receipt"].assignee == "xa-ba-tri"
    assert ready_tasks(ctx, district.instance_id)["review_receipt"].assignee == "xa-ba-tri"
    assert _user_unit(ctx, "dm.ttbatri") == ("xa-ba-tri", True)
    assert _user_unit(ctx, "dm.batri") == ("xa-ba-tri", True)        # "users": "move" for the district
    assert _user_unit(ctx, "cv.hoa") == ("vp-ubnd", True)
    assert _unit(ctx, "vp-ubnd").name == "Văn phòng UBND tỉnh Vĩnh Long"
    assert _unit(ctx, "ubnd-tinh").active is False and _unit(ctx, "ubnd-tinh").name == "Ủy ban nhân dân tỉnh Bến Tre"
    focal = access.actor_named(ctx, "dm.ttbatri")
    assert {ba_tri.step.task_id, district.step.task_id} <= {i.task_id for i in inbox(ctx, focal).items}
    # The Office still follows the province's tasks (registering one works on the new tree).
    register_task(ctx, lead_unit="xa-tan-xuan", number_symbol="305/QĐ-UBND")
    # Applying the same file twice is refused whole: its new units exist already.
    with pytest.raises(InvalidInput):
        organisation_import.import_changes(ctx, raw, "admin")


@pytest.mark.parametrize(("raw", "where"), [
    ({"format": "org-change/1", "mapping": [{"old": "tt-ba-tri", "action": "explode"}]}, "mapping[0]"),
    ({"format": "org-change/1", "mapping": [{"old": "tt-ba-tri", "action": "merge"}]}, "mapping[0]"),
    ({"format": "org-change/1", "units": [{"code": "X!", "name": "", "kind": "commune"}]}, "units[0]"),
    ({"format": "org-change/1", "units": [{"code": "xa-moi", "name": "Xã mới", "kind": "city"}]}, "units[0]"),
    ({"format": "org-change/1"}, "mapping"),
])
def test_a_bad_change_file_is_refused_naming_the_entry(ctx, raw, where):
    with pytest.raises(FieldErrors) as refused:
        organisation_import.import_changes(ctx, raw, "admin", apply=False)
    assert where in refused.value.problems


def test_a_file_of_another_format_or_not_an_object_is_refused(ctx):
    for raw in ([], {"format": "v0"}):
        with pytest.raises(InvalidInput):
            organisation_import.import_changes(ctx, raw, "admin")
