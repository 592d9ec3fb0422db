"""Issue 13, items 3 and 7: inbox rows and API items name their subject (task content, document number,
lead unit's name, the reporter of feedback); accent- and case-insensitive search over content, document
number and summary in the inbox and the task list; the task list's status filter offers every category
it shows; the inbox's process filter picks a process by name."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from engine.core.search_text import fold, like_pattern
from engine.read import inbox as inbox_queries
from engine.read import task_queries
from engine.regulation import access, api_tokens, organisation, tracking
from engine.regulation.records import Document, TrackedTask
from tests.helpers import ready_tasks, sign_in


@pytest.fixture
def two_tasks(registered_task):
    """Two tasks of Sở Tư pháp: one on land ("đất đai"), one overdue on administrative procedures."""
    land = registered_task(number_symbol="12/QĐ-UBND", summary="Quản lý đất đai năm 2025",
                           content="Rà soát hồ sơ ĐẤT ĐAI ven sông", deadline=date(2025, 5, 30))
    late = registered_task(number_symbol="7/KH-UBND", summary="Cải cách hành chính", issued_on=date(2025, 2, 10),
                           content="Rà soát thủ tục hành chính", deadline=date(2025, 3, 3))
    return land, late


def _actor(ctx, username):
    with ctx.unit_of_work(readonly=True) as session:
        return access.actor_for(session, organisation.user_by_username(session, username))


def _contents(page):
    return [item.subject.content for item in page.items]


def test_fold_drops_accents_case_and_the_stroke_of_d():
    assert fold("  Rà soát hồ sơ ĐẤT   ĐAI ") == "ra soat ho so dat dai"
    assert fold("12/QĐ-UBND") == "12/qd-ubnd" and fold(None) == ""
    assert like_pattern("100%_x") == "%100\\%\\_x%" and like_pattern("   ") is None


def test_new_rows_are_written_with_their_folded_search_text(shipped, two_tasks):
    land, _ = two_tasks
    with shipped.unit_of_work(readonly=True) as session:
        assert session.get(TrackedTask, land.task_id).search_text == "ra soat ho so dat dai ven song"
        assert session.get(Document, land.document_id).search_text == "12/qd-ubnd quan ly dat dai nam 2025"


def test_each_inbox_row_names_its_task_document_and_lead_unit(shipped, two_tasks):
    land, _ = two_tasks
    page = inbox_queries.inbox(shipped, _actor(shipped, "dm.sotuphap"))
    item = next(i for i in page.items if i.instance_id == land.instance_id)
    assert item.name == "Rà soát, tiếp nhận nhiệm vụ"
    assert (item.subject.tracked_task_id, item.subject.content, item.subject.document, item.subject.lead_unit_name) \
        == (land.task_id, "Rà soát hồ sơ ĐẤT ĐAI ven sông", "12/QĐ-UBND", "Sở Tư pháp")
    assert item.assignee_name == "Sở Tư pháp" and item.subject.reporter is None


def test_an_update_request_and_feedback_name_the_task_they_are_about(shipped, two_tasks):
    land, _ = two_tasks
    child = tracking.request_update(shipped, land.task_id, "Báo cáo nhanh", "cv.hoa")  # a child of the task's instance
    tracking.file_feedback(shipped, land.task_id, "huyen-ba-tri", "Sở chậm rà soát", "dm.batri")
    unit = inbox_queries.inbox(shipped, _actor(shipped, "dm.sotuphap"), per_page=200)
    update = next(i for i in unit.items if i.instance_id == child)
    assert update.subject.content == "Rà soát hồ sơ ĐẤT ĐAI ven sông" and update.subject.document == "12/QĐ-UBND"
    office = inbox_queries.inbox(shipped, _actor(shipped, "cv.minh"), per_page=200)
    check = next(i for i in office.items if i.bpmn_id == "check_feedback")
    assert check.subject.reporter == "UBND huyện Ba Tri" and check.subject.lead_unit_name == "Sở Tư pháp"
    assert check.subject.content == "Rà soát hồ sơ ĐẤT ĐAI ven sông"


@pytest.mark.parametrize("query", ["dat dai", "DAT DAI", "đất đai", "Đất Đai", "12/qd", "quan ly dat", "ven  song"])
def test_the_inbox_finds_a_task_by_content_number_or_summary_without_accents(shipped, two_tasks, query):
    page = inbox_queries.inbox(shipped, _actor(shipped, "dm.sotuphap"), text=query)
    assert _contents(page) == ["Rà soát hồ sơ ĐẤT ĐAI ven sông"] and page.total == 1


def test_inbox_search_still_matches_step_names_and_finds_nothing_for_other_words(shipped, two_tasks):
    unit = _actor(shipped, "dm.sotuphap")
    assert inbox_queries.inbox(shipped, unit, text="tiếp nhận").total == 2   # the step's name, as before
    assert inbox_queries.inbox(shipped, unit, text="xay dung cau").total == 0
    assert inbox_queries.inbox(shipped, unit, text="%").total == 0          # a LIKE wildcard is a character
    assert inbox_queries.inbox(shipped, _actor(shipped, "dm.sotaichinh"), text="dat dai").total == 0  # not theirs


@pytest.mark.parametrize("query", ["dat dai", "ĐẤT ĐAI", "12/QD-UBND", "quan ly"])
def test_the_task_list_finds_a_task_without_accents(shipped, two_tasks, query):
    rows = task_queries.list_tasks(shipped, None, text=query).rows
    assert [r.content for r in rows] == ["Rà soát hồ sơ ĐẤT ĐAI ven sông"]


def test_the_task_list_filters_by_every_category_it_shows(shipped, two_tasks):
    land, late = two_tasks
    by_category = {c: [r.id for r in task_queries.list_tasks(shipped, None, status=c).rows]
                   for c in task_queries.CATEGORIES}
    assert by_category["overdue"] == [late.task_id]
    assert land.task_id in by_category["within_deadline"] + by_category["nearly_due"]
    assert by_category["completed_on_time"] == [] and by_category["no_deadline"] == []
    rows = {r.id: r.category for r in task_queries.list_tasks(shipped, None).rows}
    for category, ids in by_category.items():  # a row filtered under a category is shown under it
        assert all(rows[i] == category for i in ids)
    assert [r.id for r in task_queries.list_tasks(shipped, None, status="in_progress").rows] == \
        [late.task_id, land.task_id]  # a status still filters as a status


def test_the_pages_show_the_subject_search_and_filters(shipped, client, two_tasks):
    land, late = two_tasks
    sign_in(client, "dm.sotuphap")
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "Rà soát hồ sơ ĐẤT ĐAI ven sông" in inbox and "12/QĐ-UBND" in inbox and "Sở Tư pháp" in inbox
    assert '<option value="task_followup" >Theo dõi, đôn đốc thực hiện nhiệm vụ được giao</option>' in inbox
    assert '<option value="overdue" >Quá hạn</option>' in inbox  # the deadline categories, as a filter
    found = client.get("/inbox?q=dat+dai").get_data(as_text=True)
    assert "Rà soát hồ sơ ĐẤT ĐAI ven sông" in found and "Rà soát thủ tục hành chính" not in found
    # The receipt reviews are due in days, not by the tasks' deadlines: none is overdue yet.
    assert "Rà soát thủ tục hành chính" not in client.get("/inbox?category=overdue").get_data(as_text=True)
    late_item = next(i for i in inbox_queries.inbox(shipped, _actor(shipped, "dm.sotuphap")).items
                     if i.instance_id == late.instance_id)
    assert late_item.category != "overdue"
    assert "Rà soát thủ tục hành chính" in client.get(
        f"/inbox?category={late_item.category.value}&q=thu+tuc").get_data(as_text=True)
    assert "Rà soát hồ sơ" not in client.get("/inbox?process=periodic_update").get_data(as_text=True)
    assert "Rà soát hồ sơ" in client.get("/inbox?process=task_followup").get_data(as_text=True)
    tasks = client.get("/office/tasks?q=DAT+DAI").get_data(as_text=True)
    assert "Rà soát hồ sơ ĐẤT ĐAI ven sông" in tasks and "Rà soát thủ tục hành chính" not in tasks
    overdue = client.get("/office/tasks?status=overdue").get_data(as_text=True)
    assert '<option value="overdue" selected>Quá hạn</option>' in overdue
    assert "Rà soát thủ tục hành chính" in overdue and "Rà soát hồ sơ ĐẤT ĐAI" not in overdue


def test_api_items_name_their_subject_and_search_ignores_accents(ctx, app, two_tasks):
    land, late = two_tasks
    token = api_tokens.issue(ctx, "dm.sotuphap", "test", "admin").token
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    body = client.get("/api/tasks?q=dat%20dai", headers=headers).get_json()
    assert body["total"] == 1
    assert body["items"][0]["subject"] == {"tracked_task_id": land.task_id, "content": "Rà soát hồ sơ ĐẤT ĐAI ven sông",
                                           "document": "12/QĐ-UBND", "lead_unit_name": "Sở Tư pháp",
                                           "reporter": None, "period": None}
    assert body["items"][0]["assignee_name"] == "Sở Tư pháp"
    listed = client.get("/api/tracked-tasks?q=7/kh&status=overdue", headers=headers).get_json()["items"]
    assert [t["id"] for t in listed] == [late.task_id]


def test_the_migration_folds_rows_written_before_it(tmp_path):
    from alembic import command
    from sqlalchemy import create_engine, text

    from engine.app.migrations import alembic_config

    url = f"sqlite:///{tmp_path / 'm.db'}"
    command.upgrade(alembic_config(url), "0013")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO units (id, code, name, kind, active) VALUES (1, 'so-tu-phap', 'Sở Tư pháp', "
                          "'department', 1)"))
        conn.execute(text("INSERT INTO documents (id, number_symbol, issued_on, doc_type, issuer, signer, summary, "
                          "registered_by, registered_at) VALUES (1, '5/QĐ-UBND', '2025-04-01', 'quyet_dinh', 'x', "
                          "'y', 'Đất đai', 'cv.hoa', '2025-04-01 00:00:00.000000')"))
        conn.execute(text("INSERT INTO tracked_tasks (id, document_id, content, lead_unit_id, expected_output, status, "
                          "urge_count, assigned_at) VALUES (1, 1, 'Thu hồi ĐẤT', 1, 'x', 'in_progress', 0, "
                          "'2025-04-01 00:00:00.000000')"))
    command.upgrade(alembic_config(url), "0014")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT search_text FROM documents")).scalar() == "5/qd-ubnd dat dai"
        assert conn.execute(text("SELECT search_text FROM tracked_tasks")).scalar() == "thu hoi dat"
    engine.dispose()
    command.downgrade(alembic_config(url), "0013")
    command.upgrade(alembic_config(url), "head")


def test_a_ready_task_step_exists_for_both_tasks(shipped, two_tasks):  # the fixture's tasks are in the inbox
    assert all("review_receipt" in ready_tasks(shipped, t.instance_id) for t in two_tasks)
    with shipped.unit_of_work(readonly=True) as session:
        assert session.scalar(select(TrackedTask.id).where(TrackedTask.search_text.like("%dat dai%")))
