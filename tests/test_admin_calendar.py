"""The working-day calendar from the admin console: the year view, the tester on real holidays, overrides
added and removed with a preview and apply of the due dates they move, and a year's CSV import."""
from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from engine.core.audit import AuditEntry
from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.process import instances
from engine.process.tables import ReadyTask, WaitingTimer
from engine.regulation import api_tokens, calendar_admin, calendar_import
from engine.regulation.calendar_admin import DayKind
from engine.regulation.calendar_import import ImportRefused, LineStatus
from engine.worktime import calendar_overrides
from tests.helpers import TZ, sign_in

RECEIVED = datetime(2026, 11, 20, 10, 0, tzinfo=TZ)  # Fri; 7 working days end on Tue 1 Dec 2026
CULTURE_DAY = date(2026, 11, 24)


@pytest.fixture
def feedback(shipped):
    shipped.clock.set(RECEIVED)
    started = instances.start_instance(shipped, "feedback_followup", {"received_at": RECEIVED.isoformat()})
    shipped.clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=TZ))
    return started.id


@pytest.fixture
def api(app, shipped):
    tokens = {u: api_tokens.issue(shipped, u, "console", "admin").token for u in ("admin", "cv.hoa", "dm.sotuphap")}

    def call(method, path, user="admin", **kwargs):
        return app.test_client().open(path, method=method, headers={"Authorization": f"Bearer {tokens[user]}"},
                                      **kwargs)

    return call


def _due(ctx, instance_id):
    with ctx.unit_of_work(readonly=True) as session:
        task = session.scalars(select(ReadyTask).where(ReadyTask.instance_id == instance_id,
                                                       ReadyTask.bpmn_id == "check_feedback")).one()
        limit = session.scalars(select(WaitingTimer).where(WaitingTimer.instance_id == instance_id,
                                                           WaitingTimer.bpmn_id == "limit_exceeded")).one()
    return task.due_at.astimezone(TZ), limit.due_at.astimezone(TZ)


def _end_of(day):
    return datetime(day.year, day.month, day.day, tzinfo=TZ) + (date(2000, 1, 2) - date(2000, 1, 1))


DEC_1, DEC_2 = _end_of(date(2026, 12, 1)), _end_of(date(2026, 12, 2))


def _days(view):
    return {d.day: d for m in view.months for w in m.weeks for d in w if d}


def test_the_year_shows_holidays_compensatory_days_announced_days_off_and_make_up_days(shipped):
    view = calendar_admin.year_view(shipped, 2026)
    days = _days(view)
    assert len(days) == 365 and len(view.months) == 12
    assert days[date(2026, 4, 30)].kind is DayKind.HOLIDAY and not days[date(2026, 4, 30)].working
    assert days[date(2026, 5, 1)].kind is DayKind.HOLIDAY and days[date(2026, 9, 2)].kind is DayKind.HOLIDAY
    assert "Tết" in days[date(2026, 2, 17)].reason and not days[date(2026, 2, 17)].working
    assert days[date(2026, 1, 2)].kind is DayKind.DAY_OFF and "12729" in days[date(2026, 1, 2)].source
    assert days[date(2026, 1, 10)].kind is DayKind.MAKEUP and days[date(2026, 1, 10)].working
    assert days[date(2026, 1, 3)].kind is DayKind.WEEKEND and days[date(2026, 1, 5)].kind is DayKind.WORKING
    view_2025 = _days(calendar_admin.year_view(shipped, 2025))
    compensatory = [d for d in view_2025.values() if d.kind is DayKind.COMPENSATORY]
    assert compensatory == [] or all("nghỉ bù" in d.reason for d in compensatory)
    assert {o.day for o in view.overrides} >= {date(2026, 1, 2), date(2026, 1, 10)}
    with pytest.raises(NotFound):
        calendar_admin.year_view(shipped, 1999)


@pytest.mark.parametrize("since, n, last, skipped", [
    (datetime(2026, 2, 13, 16, 0, tzinfo=TZ), 3, date(2026, 2, 25), {date(2026, 2, d) for d in range(16, 21)}),
    (datetime(2026, 4, 29, 16, 0, tzinfo=TZ), 1, date(2026, 5, 4), {date(2026, 4, 30), date(2026, 5, 1)}),
    (datetime(2025, 4, 25, 16, 0, tzinfo=TZ), 7, date(2025, 5, 8), {date(2025, 4, 30), date(2025, 5, 1),
                                                                    date(2025, 5, 2)}),
    (datetime(2026, 1, 9, 8, 0, tzinfo=TZ), 1, date(2026, 1, 10), set()),  # Sat 10 Jan 2026 is a make-up day
    (datetime(2026, 6, 1, 0, 0, tzinfo=TZ), 0, date(2026, 6, 1), set()),
])
def test_the_tester_counts_on_the_real_holidays(shipped, since, n, last, skipped):
    result = calendar_admin.working_days_after(shipped, since, n)
    assert result.last_day == last and result.ends_at == _end_of(last)
    assert {d.day for d in result.skipped} == skipped


def test_the_tester_around_national_day_2026(shipped):
    result = calendar_admin.working_days_after(shipped, datetime(2026, 9, 1, 9, 0, tzinfo=TZ), 1)
    assert date(2026, 9, 2) in {d.day for d in result.skipped} and result.last_day > date(2026, 9, 2)


@pytest.mark.parametrize("n", [-1, 1001, "3", True])
def test_the_tester_refuses_a_wrong_count(shipped, n):
    with pytest.raises(InvalidInput):
        calendar_admin.working_days_after(shipped, RECEIVED, n)


def test_adding_a_day_off_previews_then_moves_the_due_dates_and_removing_it_moves_them_back(shipped, feedback):
    assert _due(shipped, feedback) == (DEC_1, DEC_1)
    moves = calendar_admin.preview_add(shipped, CULTURE_DAY, "day_off", "Ngày Văn hóa Việt Nam", "NQ 2026")
    assert {(m.kind, m.bpmn_id, m.old_due, m.new_due) for m in moves} >= {
        ("task", "check_feedback", DEC_1, DEC_2), ("timer", "limit_exceeded", DEC_1, DEC_2)}
    assert {m.unit for m in moves} == {"Văn phòng UBND tỉnh"}
    assert calendar_overrides.list_overrides(shipped, 2026)[-1].day != CULTURE_DAY  # preview records nothing
    assert _due(shipped, feedback) == (DEC_1, DEC_1)
    changed = calendar_admin.add(shipped, CULTURE_DAY, "day_off", "Ngày Văn hóa Việt Nam", "NQ 2026", True, "admin")
    assert len(changed.moved) == len(moves) and _due(shipped, feedback) == (DEC_2, DEC_2)
    assert not _days(calendar_admin.year_view(shipped, 2026))[CULTURE_DAY].working
    back = calendar_admin.preview_remove(shipped, CULTURE_DAY)
    assert {(m.bpmn_id, m.old_due, m.new_due) for m in back if m.kind == "task"} == {("check_feedback", DEC_2, DEC_1)}
    calendar_admin.remove(shipped, CULTURE_DAY, True, "admin")
    assert _due(shipped, feedback) == (DEC_1, DEC_1)
    with shipped.unit_of_work(readonly=True) as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-4:] == ["calendar_override_added", "due_dates_moved", "calendar_override_removed",
                            "due_dates_moved"]


def test_a_day_off_for_new_work_only_leaves_running_due_dates(shipped, feedback):
    changed = calendar_admin.add(shipped, CULTURE_DAY, "day_off", "Ngày Văn hóa Việt Nam", "NQ 2026", False, "admin")
    assert changed.moved == () and _due(shipped, feedback) == (DEC_1, DEC_1)
    shipped.clock.set(RECEIVED)
    new = instances.start_instance(shipped, "feedback_followup", {"received_at": RECEIVED.isoformat()})
    assert _due(shipped, new.id) == (DEC_2, DEC_2)


def test_bad_overrides_are_refused_and_record_nothing(shipped):
    before = calendar_overrides.list_overrides(shipped)
    with pytest.raises(InvalidInput):
        calendar_admin.preview_add(shipped, CULTURE_DAY, "holiday", "x", "y")
    with pytest.raises(InvalidInput):
        calendar_admin.add(shipped, CULTURE_DAY, "day_off", " ", "y", True, "admin")
    with pytest.raises(InvalidInput):
        calendar_admin.add(shipped, CULTURE_DAY, "working_day", "x", "y", True, "admin")  # a Tuesday
    with pytest.raises(Conflict):
        calendar_admin.add(shipped, date(2026, 1, 2), "day_off", "x", "y", True, "admin")
    with pytest.raises(NotFound):
        calendar_admin.remove(shipped, CULTURE_DAY, True, "admin")
    assert calendar_overrides.list_overrides(shipped) == before


GOOD_CSV = """day,kind,reason,source
2026-11-24,day_off,Ngày Văn hóa Việt Nam,Nghị quyết 2026
01/09/2026,day_off,"Nghỉ liền kề Quốc khánh, theo thông báo",Thông báo 2026/BNV
"""


def test_csv_import_previews_each_line_then_imports_all(shipped, feedback):
    known = {o.day: o for o in calendar_overrides.list_overrides(shipped, 2026)}[date(2026, 1, 2)]
    again = io.StringIO()
    csv.writer(again).writerow(["2026-01-02", "day_off", known.reason, known.source])  # recorded already
    preview = calendar_import.preview_import(shipped, GOOD_CSV + again.getvalue())
    assert [(x.line, x.status) for x in preview.lines] == [(2, LineStatus.ADD), (3, LineStatus.ADD),
                                                           (4, LineStatus.UNCHANGED)]
    assert preview.added == 2 and preview.errors == 0
    assert {m.bpmn_id for m in preview.moved} >= {"check_feedback", "limit_exceeded"}
    assert date(2026, 11, 24) not in {o.day for o in calendar_overrides.list_overrides(shipped, 2026)}
    result = calendar_import.apply_import(shipped, GOOD_CSV, True, "admin")
    assert result.added == 2 and _due(shipped, feedback) == (DEC_2, DEC_2)
    days = {o.day: o for o in calendar_overrides.list_overrides(shipped, 2026)}
    assert days[date(2026, 9, 1)].reason == "Nghỉ liền kề Quốc khánh, theo thông báo"


BAD_CSV = """2026-11-24,day_off,Ngày Văn hóa Việt Nam,NQ
2026-13-01,day_off,x,y
2026-11-25,holiday,x,y
2026-11-26,day_off,,y
2026-11-27,working_day,x,y
2026-11-24,day_off,again,y
2026-01-02,day_off,khác,khác
2026-11-30,day_off,x,y,extra
"""


def test_csv_import_names_each_wrong_line_and_imports_nothing(shipped):
    preview = calendar_import.preview_import(shipped, BAD_CSV)
    assert [(x.line, x.status.value, x.problem.key if x.problem else None) for x in preview.lines] == [
        (1, "add", None), (2, "error", "admin_calendar.csv.day"), (3, "error", "error.override_kind_unknown"),
        (4, "error", "error.override_reason_missing"), (5, "error", "error.makeup_day_weekday"),
        (6, "error", "admin_calendar.csv.twice"), (7, "error", "error.override_exists"),
        (8, "error", "admin_calendar.csv.columns")]
    assert preview.errors == 7 and preview.moved == ()
    before = calendar_overrides.list_overrides(shipped)
    with pytest.raises(ImportRefused) as refused:
        calendar_import.apply_import(shipped, BAD_CSV, True, "admin")
    assert sum(x.status is LineStatus.ERROR for x in refused.value.lines) == 7
    assert calendar_overrides.list_overrides(shipped) == before
    for empty in ("", "\n\n", "day,kind,reason,source\n"):
        with pytest.raises(InvalidInput):
            calendar_import.preview_import(shipped, empty)


# --- the API and the pages -------------------------------------------------------------------------------


def test_api_year_tester_put_and_delete(api, shipped, feedback):
    year = api("GET", "/api/calendar/2026", user="cv.hoa").get_json()
    assert year["year"] == 2026 and len(year["months"]) == 12
    assert api("GET", "/api/calendar/1999").status_code == 404 and api("GET", "/api/calendar/abcd").status_code == 404
    tester = api("GET", "/api/calendar/working-days?from=2026-04-29T16:00:00%2B07:00&n=1", user="cv.hoa").get_json()
    assert tester["last_day"] == "2026-05-04"
    assert api("GET", "/api/calendar/working-days?from=nope&n=1").status_code == 422
    previewed = api("POST", "/api/calendar/overrides/2026-11-24/preview",
                    json={"action": "add", "kind": "day_off", "reason": "Văn hóa", "source": "NQ"}).get_json()
    assert {m["bpmn_id"] for m in previewed["moves"]} >= {"check_feedback", "limit_exceeded"}
    body = {"kind": "day_off", "reason": "Văn hóa", "source": "NQ", "apply_to_running": True}
    assert api("PUT", "/api/calendar/overrides/2026-11-24", user="cv.hoa", json=body).status_code == 403
    added = api("PUT", "/api/calendar/overrides/2026-11-24", json=body)
    assert added.status_code == 201 and _due(shipped, feedback) == (DEC_2, DEC_2)
    assert api("PUT", "/api/calendar/overrides/2026-11-24", json=body).status_code == 409
    assert api("PUT", "/api/calendar/overrides/2026-11-31", json=body).status_code == 422
    assert api("DELETE", "/api/calendar/overrides/2026-11-24?apply_to_running=1", user="cv.hoa").status_code == 403
    removed = api("DELETE", "/api/calendar/overrides/2026-11-24?apply_to_running=1")
    assert removed.status_code == 200 and _due(shipped, feedback) == (DEC_1, DEC_1)
    assert api("GET", "/api/calendar/2026", user="dm.sotuphap").status_code == 403


def test_api_import_preview_and_refusal_name_each_line(api, shipped):
    preview = api("POST", "/api/calendar/import", json={"csv": BAD_CSV}).get_json()
    assert [x["status"] for x in preview["lines"]][:2] == ["add", "error"] and preview["lines"][1]["problem"]
    refused = api("POST", "/api/calendar/import", json={"csv": BAD_CSV, "apply": True})
    assert refused.status_code == 422 and set(refused.get_json()["error"]["fields"]) == {
        f"line {n}" for n in range(2, 9)}
    done = api("POST", "/api/calendar/import", json={"csv": BAD_CSV.splitlines()[0], "apply": True})
    assert done.status_code == 200 and done.get_json()["added"] == 1


def test_pages_office_reads_admin_changes_department_refused(app, shipped):
    office, admin, department = app.test_client(), app.test_client(), app.test_client()
    sign_in(office, "cv.hoa"), sign_in(admin, "admin"), sign_in(department, "dm.sotuphap")
    page = office.get("/admin/calendar?year=2026").get_data(as_text=True)
    assert "Ngày Quốc tế Lao động" in page and 'id="add-override"' not in page and 'id="import"' not in page
    assert 'id="add-override"' in admin.get("/admin/calendar?year=2026").get_data(as_text=True)
    assert department.get("/admin/calendar").status_code == 403
    settings = office.get("/admin/settings/feedback_office_action").get_data(as_text=True)
    assert "15.5" in settings and 'id="preview-setting"' not in settings
    assert department.get("/admin/settings").status_code == 403


def test_the_day_of_an_override_is_typed_dd_mm_yyyy_and_a_wrong_one_comes_back_as_typed(app, shipped):
    # Issue 13, item 11: a text input, no browser date picker; "31/02/2026" refused naming the field.
    from tests.helpers import csrf_token

    admin = app.test_client()
    sign_in(admin, "admin")
    page = admin.get("/admin/calendar?year=2026").get_data(as_text=True)
    assert 'name="day" required placeholder="dd/mm/yyyy"' in page and 'type="date"' not in page
    sent = {"csrf_token": csrf_token(admin, "/admin/calendar?year=2026"), "year": "2026", "day": "31/02/2026",
            "kind": "day_off", "reason": "Nghỉ đột xuất", "source": "Thông báo 5/TB-UBND"}
    refused = admin.post("/admin/calendar/overrides/preview", data=sent)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Ngày: ngày không hợp lệ" in text
    assert 'value="31/02/2026"' in text and 'value="Nghỉ đột xuất"' in text and 'value="Thông báo 5/TB-UBND"' in text
    previewed = admin.post("/admin/calendar/overrides/preview", data={**sent, "day": "24/11/2026"})
    assert previewed.status_code == 200 and "24/11/2026" in previewed.get_data(as_text=True)


def test_the_tester_takes_its_instant_typed_dd_mm_yyyy_hh_mm(app, shipped):
    admin = app.test_client()
    sign_in(admin, "admin")
    page = admin.get("/admin/calendar?year=2026").get_data(as_text=True)
    assert 'type="datetime-local"' not in page and 'placeholder="dd/mm/yyyy HH:MM"' in page
    typed = admin.get("/admin/calendar?year=2026&since=13/02/2026 16:00&n=3").get_data(as_text=True)
    iso = admin.get("/admin/calendar?year=2026&since=2026-02-13T16:00&n=3").get_data(as_text=True)
    result = re.search(r'<p id="tester-result">(.*?)</p>', typed, re.S).group(1)
    assert "13/02/2026 16:00" in result and result in iso  # an older link's ISO instant reads the same
    wrong = admin.get("/admin/calendar?year=2026&since=31/02/2026 16:00&n=3").get_data(as_text=True)
    assert "ngày không hợp lệ" in wrong and 'value="31/02/2026 16:00"' in wrong
