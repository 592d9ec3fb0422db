"""The dashboard (issue 14): figures against a hand-counted fixture, drill-downs as long as their figures, the
API giving the page's figures, and who sees which unit.

The fixture's period is the first quarter of 2025: data window 15/12/2024 - 14/03/2025 (Decree 09/2019),
figures as of its end, 15/03/2025 00:00 (a Saturday): deadlines up to Fri 14 Mar have expired, 17 and 18 Mar
are nearly due (3 working days), 19 Mar on is within the deadline. Units: UBND huyện Ba Tri (B), the
thị trấn Ba Tri below it (T), Sở Tư pháp (S).
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import select

from engine.read import dashboard
from engine.regulation import api_tokens
from engine.regulation.organisation import Unit
from engine.regulation.records import Document, DocumentType, TaskStatus, TrackedTask
from engine.regulation.statistics import CATEGORIES
from engine.worktime.calendar import TZ
from tests.helpers import sign_in

Q1 = "2025-Q1"
A = datetime(2024, 12, 2, 9, tzinfo=TZ)  # assigned before the window opened


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


# (unit, status, deadline, completed, urge_count, assigned) and what each counts as
ROWS = [
    ("B", "completed_on_time", date(2024, 12, 10), at(2024, 12, 14, 23, 59), 0, A),  # closed before: out
    ("B", "completed_on_time", date(2024, 12, 31), at(2024, 12, 15, 0, 0), 0, A),    # first instant: in
    ("B", "completed_late", date(2025, 1, 31), at(2025, 2, 10, 9), 0, A),
    ("B", "cancelled", date(2025, 3, 1), at(2025, 2, 1, 9), 1, A),                    # counted, not in total
    ("B", "in_progress", date(2025, 3, 14), None, 2, A),                              # overdue: last day ended
    ("B", "in_progress", date(2025, 3, 18), None, 0, A),                              # nearly due
    ("B", "in_progress", date(2025, 3, 19), None, 0, A),                              # within
    ("B", "returned", date(2025, 3, 1), None, 1, A),
    ("B", "completed_on_time", date(2025, 3, 31), at(2025, 3, 20, 9), 0, A),          # closed after: within
    ("B", "in_progress", date(2025, 3, 20), None, 0, at(2025, 3, 15, 0, 0)),          # assigned after: out
    ("B", "in_progress", date(2025, 4, 1), None, 0, at(2025, 3, 14, 23, 59)),         # assigned on the last day
    ("T", "awaiting_confirmation", date(2025, 3, 1), None, 0, A),
    ("T", "no_deadline", None, None, 0, A),
    ("T", "in_progress", date(2025, 3, 3), None, 1, A),                               # overdue
    ("T", "completed_no_deadline", None, at(2025, 3, 14, 23, 59, 59), 0, A),
    ("T", "completed_late", date(2025, 3, 1), at(2025, 3, 15, 0, 0), 0, A),           # closed at the cut-off: open
    ("S", "in_progress", date(2025, 3, 1), None, 3, A),                               # overdue (Sat: ends Mon 3)
    ("S", "completed_on_time", date(2025, 2, 28), at(2025, 2, 27, 9), 0, A),
]
CODES = {"B": "huyen-ba-tri", "T": "tt-ba-tri", "S": "so-tu-phap"}


def figures(**counts) -> dict:
    return {name: counts.get(name, 0) for name in CATEGORIES}


BA_TRI_OWN = figures(completed_on_time=1, completed_late=1, cancelled=1, overdue=1, nearly_due=1,
                     within_deadline=3, returned=1)
THI_TRAN = figures(awaiting_confirmation=1, no_deadline=1, overdue=2, completed_no_deadline=1)


@pytest.fixture
def tasks(ctx):
    with ctx.unit_of_work() as session:
        units = dict(session.execute(select(Unit.code, Unit.id)).all())
        document = Document(number_symbol="14/QĐ-UBND", issued_on=date(2024, 12, 2), doc_type=DocumentType.DECISION,
                            issuer="UBND tỉnh Bến Tre", signer="Chủ tịch UBND tỉnh", summary="Số liệu bảng điều khiển",
                            registered_by="tester", registered_at=A)
        session.add(document)
        session.flush()
        session.add_all(TrackedTask(document_id=document.id, content=f"Nhiệm vụ {i + 1}", lead_unit_id=units[CODES[u]],
                                    deadline=deadline, expected_output="Báo cáo", status=TaskStatus(status),
                                    urge_count=urges, assigned_at=assigned, completed_at=completed)
                        for i, (u, status, deadline, completed, urges, assigned) in enumerate(ROWS))
    return ctx


def _plain(values: dict) -> dict:
    return {name: values[name] for name in CATEGORIES}


def test_the_district_counts_its_own_tasks_and_its_communes(tasks):
    board = dashboard.dashboard(tasks, "huyen-ba-tri", Q1)
    assert (board.data_from, board.data_to, board.as_of) == (date(2024, 12, 15), date(2025, 3, 14), at(2025, 3, 15))
    subtree = {name: BA_TRI_OWN[name] + THI_TRAN[name] for name in CATEGORIES}
    assert _plain(board.figures) == subtree
    assert (board.figures["total"], board.figures["on_time_rate"]) == (13, 0.5)
    assert (board.figures["urged_tasks"], board.figures["urges"]) == (3, 4)   # the cancelled one's urge is not
    rows = {(row.code, row.own): row.figures for row in board.units}
    assert list(rows) == [("huyen-ba-tri", True), ("batri-phong-nnptnt", False), ("tt-ba-tri", False),
                          ("xa-tan-xuan-ba-tri", False)]
    assert _plain(rows["huyen-ba-tri", True]) == BA_TRI_OWN and rows["huyen-ba-tri", True]["total"] == 8
    assert _plain(rows["tt-ba-tri", False]) == THI_TRAN and rows["tt-ba-tri", False]["on_time_rate"] is None
    assert [(t.content, t.deadline) for t in board.overdue] == [
        ("Nhiệm vụ 16", date(2025, 3, 1)), ("Nhiệm vụ 14", date(2025, 3, 3)), ("Nhiệm vụ 5", date(2025, 3, 14))]


def test_the_province_counts_every_unit(tasks):
    board = dashboard.dashboard(tasks, "ubnd-tinh", Q1)
    assert board.province and board.unit_name == "Ủy ban nhân dân tỉnh Bến Tre"
    assert (board.figures["total"], board.figures["overdue"], board.figures["completed_on_time"]) == (15, 4, 2)
    assert board.figures["on_time_rate"] == round(2 / 3, 4)
    assert (board.figures["urged_tasks"], board.figures["urges"]) == (4, 7)
    by_unit = {row.code: row.figures["total"] for row in board.units}
    assert by_unit["huyen-ba-tri"] == 13 and by_unit["so-tu-phap"] == 2 and by_unit["so-tai-chinh"] == 0


def test_the_trend_is_each_month_on_its_own_window(tasks):
    board = dashboard.dashboard(tasks, "ubnd-tinh", Q1)
    assert [month.period_key for month in board.trend] == (
        [f"2024-M{m:02d}" for m in range(4, 13)] + ["2025-M01", "2025-M02", "2025-M03"])
    trend = {month.period_key: month.figures for month in board.trend}
    # Jan (15 Dec - 14 Jan): #2 closed on 15 Dec; Feb (15 Jan - 14 Feb): #3 late; Mar: #18 on time, 4 overdue.
    assert [(trend[k]["completed_on_time"], trend[k]["completed_late"], trend[k]["overdue"])
            for k in ("2025-M01", "2025-M02", "2025-M03")] == [(1, 0, 0), (0, 1, 0), (1, 0, 4)]
    assert trend["2024-M11"] == {"completed_on_time": 0, "completed_late": 0, "overdue": 0}


def test_each_figure_drills_down_to_as_many_tasks(tasks):
    board = dashboard.dashboard(tasks, "huyen-ba-tri", Q1)
    for wanted in CATEGORIES + ("total", "urged"):
        drill = dashboard.drill_down(tasks, "huyen-ba-tri", Q1, wanted)
        expected = board.figures["urged_tasks" if wanted == "urged" else wanted]
        assert drill.total == len(drill.rows) == expected, wanted
        own = dashboard.drill_down(tasks, "huyen-ba-tri", Q1, wanted, own=True)
        assert own.total == len(own.rows) == board.units[0].figures.get(wanted, own.total), wanted
    returned = dashboard.drill_down(tasks, "huyen-ba-tri", Q1, "returned")
    assert [row.content for row in returned.rows] == ["Nhiệm vụ 8"]
    closed_at_cut_off = dashboard.drill_down(tasks, "tt-ba-tri", Q1, "overdue")
    assert sorted(row.content for row in closed_at_cut_off.rows) == ["Nhiệm vụ 14", "Nhiệm vụ 16"]


def test_bad_periods_and_figures_are_refused(tasks):
    from engine.core.errors import InvalidInput, NotFound

    for key in ("2025-Q5", "2025-Q02", "Q1"):
        with pytest.raises(InvalidInput):
            dashboard.dashboard(tasks, "ubnd-tinh", key)
    with pytest.raises(InvalidInput):
        dashboard.dashboard(tasks, "ubnd-tinh", "2025-Q3")   # not begun on 25/04/2025
    with pytest.raises(InvalidInput):
        dashboard.drill_down(tasks, "ubnd-tinh", Q1, "everything")
    with pytest.raises(NotFound):
        dashboard.dashboard(tasks, "no-such-unit", Q1)


# --- the page and the API ----------------------------------------------------------------------

@pytest.fixture
def web(app, tasks):
    tokens = {}

    def api(user, path):
        if user not in tokens:
            tokens[user] = api_tokens.issue(tasks, user, "test", "admin").token
        return app.test_client().get(path, headers={"Authorization": f"Bearer {tokens[user]}"})

    def page(user, path):
        client = app.test_client()
        sign_in(client, user)
        return client.get(path)

    return api, page


_LINK = re.compile(r'<a href="(/dashboard/tasks\?[^"]+)" class="figure-link" data-figure="([a-z_]+)">([^<]+)</a>')


def test_every_number_on_the_page_is_its_drill_downs_length_and_the_apis(web):
    api, page = web
    response = page("ld.vanphong", f"/dashboard?period={Q1}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Tình hình thực hiện nhiệm vụ: Toàn tỉnh (Ủy ban nhân dân tỉnh Bến Tre)" in html
    assert "UBND huyện Ba Tri" in html and "Quý I/2025" in html and "15/12/2024" in html
    assert "tính đến 14/03/2025" in html  # the end of the cut-off day
    links = [(unescape(href), figure, value) for href, figure, value in _LINK.findall(html)]
    assert len(links) > 100  # the cards, the trend table and the unit rows
    for href, _, value in links:
        if value.endswith("%"):
            continue  # the rate links to the tasks completed on time
        drill = api("ld.vanphong", "/api" + href).get_json()
        assert drill["total"] == int(value), href
    body = api("ld.vanphong", f"/api/dashboard?period={Q1}").get_json()
    cards = {figure: value for href, figure, value in links[:4]}
    assert cards == {"total": str(body["figures"]["total"]), "completed_on_time": "66,7 %",
                     "overdue": str(body["figures"]["overdue"]), "urged": str(body["figures"]["urged_tasks"])}
    assert body["unit_code"] == "ubnd-tinh" and body["period_label"] == "Quý I/2025"
    assert body["figures"]["total"] == 15 and len(body["trend"]) == 12


def test_the_drill_down_page_lists_the_tasks(web):
    _, page = web
    html = page("dm.batri", f"/dashboard/tasks?unit=huyen-ba-tri&period={Q1}&figure=overdue").get_data(as_text=True)
    assert 'id="drill-total">3<' in html
    assert html.count("data-task-id=") == 3 and "Quá hạn" in html and "14/03/2025" in html


def test_a_unit_sees_its_own_subtree_only(web):
    api, page = web
    assert page("dm.batri", f"/dashboard?period={Q1}").status_code == 200  # its own by default
    assert api("dm.batri", f"/api/dashboard?period={Q1}").get_json()["unit_code"] == "huyen-ba-tri"
    assert api("dm.batri", f"/api/dashboard?unit=tt-ba-tri&period={Q1}").status_code == 200
    for user, unit in (("dm.batri", "so-tu-phap"), ("dm.batri", "ubnd-tinh"), ("dm.ttbatri", "ubnd-tinh"),
                       ("dm.ttbatri", "huyen-ba-tri")):
        assert page(user, f"/dashboard?unit={unit}").status_code == 403, (user, unit)
        assert api(user, f"/api/dashboard?unit={unit}").status_code == 403, (user, unit)
        assert api(user, f"/api/dashboard/tasks?unit={unit}&figure=total").status_code == 403, (user, unit)
    commune = api("dm.ttbatri", f"/api/dashboard?period={Q1}").get_json()
    assert commune["unit_code"] == "tt-ba-tri" and commune["figures"]["total"] == 5
    assert api("ld.ubndtinh", f"/api/dashboard?period={Q1}").get_json()["figures"]["total"] == 15
    assert page("cv.hoa", "/dashboard").status_code == 200  # the Office's staff see the province
    assert page("pt.lan", "/dashboard").status_code == 403  # an analyst follows diagrams, not tasks
    nav = page("dm.ttbatri", "/inbox").get_data(as_text=True)
    assert 'href="/dashboard"' in nav


def test_a_bad_period_is_said_and_the_current_quarter_shown(web):
    api, page = web
    response = page("ld.vanphong", "/dashboard?period=2025-Q9")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "kỳ số liệu &#39;2025-Q9&#39; không đúng" in html and "Quý II/2025" in html
    refused = api("ld.vanphong", "/api/dashboard?period=2025-Q9")
    assert refused.status_code == 422 and "'2025-Q9'" in refused.get_json()["error"]["message"]
    assert api("ld.vanphong", "/api/dashboard/tasks?figure=nope").status_code == 422


def test_the_trend_in_one_read_equals_count_by_unit_month_by_month(ctx):
    # Rows of every status over a year, around holidays and cut-offs (as tests/test_statistics.py's row-by-row
    # check): count_by_window gives, for each month, what count_by_unit gives summed over the units.
    from itertools import cycle

    from engine.regulation.statistics import add_up, count_by_unit, count_by_window
    from engine.worktime.periods import period_from_key

    statuses = cycle(["in_progress", "completed_on_time", "returned", "cancelled", "completed_late", "no_deadline",
                      "awaiting_confirmation", "completed_no_deadline"])
    with ctx.unit_of_work() as session:
        units = [session.scalar(select(Unit.id).where(Unit.code == code)) for code in CODES.values()]
        document = Document(number_symbol="15/QĐ-UBND", issued_on=date(2024, 3, 1), doc_type=DocumentType.PLAN,
                            issuer="UBND tỉnh Bến Tre", signer="Chủ tịch UBND tỉnh", summary="Diễn biến",
                            registered_by="tester", registered_at=at(2024, 3, 1, 9))
        session.add(document)
        session.flush()
        for i in range(300):
            status = next(statuses)
            assigned = at(2024, 3, 1, 9) + timedelta(hours=29 * i)
            deadline = None if status.endswith("no_deadline") else (assigned + timedelta(days=20 + i % 50)).date()
            closed = assigned + timedelta(days=5 + (i * 7) % 90) if status.startswith(("completed", "cancel")) else None
            session.add(TrackedTask(document_id=document.id, content=f"Diễn biến {i}", lead_unit_id=units[i % 3],
                                    deadline=deadline, expected_output="Báo cáo", status=TaskStatus(status),
                                    urge_count=i % 2, assigned_at=assigned, completed_at=closed))
    months = [period_from_key(f"2024-M{m:02d}") for m in range(4, 13)] + [period_from_key("2025-M01")]
    with ctx.unit_of_work(readonly=True) as session:
        calendar, now = ctx.calendars.get(session), at(2025, 1, 10, 15)
        windows = count_by_window(session, units, [(m.data_from, m.data_to) for m in months], now, calendar, 3)
        for month, figures in zip(months, windows, strict=True):
            expected = add_up(count_by_unit(session, units, month.data_from, month.data_to, now, calendar, 3).values())
            assert figures == {name: expected[name] for name in CATEGORIES}, month.key
    assert sum(figures["overdue"] for figures in windows) > 0 and sum(f["completed_late"] for f in windows) > 0


def test_the_running_month_is_the_one_whose_window_holds_today(tasks):
    from engine.worktime.periods import Cadence

    assert dashboard.running_period(Cadence.MONTHLY, date(2025, 3, 14)).key == "2025-M03"   # the cut-off day
    assert dashboard.running_period(Cadence.MONTHLY, date(2025, 3, 15)).key == "2025-M04"   # the next window
    assert dashboard.running_period(Cadence.QUARTERLY, date(2025, 6, 15)).key == "2025-Q3"
    assert dashboard.running_period(Cadence.MONTHLY, date(2025, 12, 20)).key == "2026-M01"
    board = dashboard.dashboard(tasks, "ubnd-tinh")          # 25/04/2025: this quarter, the trend up to May's window
    assert board.period_key == "2025-Q2" and board.trend[-1].period_key == "2025-M05"
    offered = [p.key for p in dashboard.period_choices(date(2025, 4, 25))]
    assert offered[0] == "2025-M05" and "2025-Q2" in offered and "2025-Q3" not in offered and "2024-Y" in offered
    assert "2026-Y" in [p.key for p in dashboard.period_choices(date(2025, 12, 15))]
