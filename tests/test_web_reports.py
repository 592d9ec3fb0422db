"""The Office's reporting-round pages: open a period's round, follow the units' reports."""
from __future__ import annotations

from datetime import datetime

import pytest

from engine.process import instances
from engine.regulation.records import PeriodicReport, ReportingRound
from tests.helpers import TZ, sign_in
from tests.helpers import count_rows as _count
from tests.helpers import csrf_token as _csrf

ROUND = {"cadence": "quarterly", "period_day": "2025-05-20", "kinds": ["department"]}


@pytest.fixture
def office(client, ctx):
    ctx.clock.set(datetime(2025, 6, 16, 9, tzinfo=TZ))   # the Monday after the Q2 cut-off (14 Jun)
    sign_in(client, "cv.hoa")
    return client


def _open(client, **changes):
    data = dict(ROUND, **changes)
    return client.post("/office/reports", data=dict(data, csrf_token=_csrf(client, "/office/reports")))


def test_the_office_opens_a_round_and_every_department_gets_its_report_task(office, ctx):
    page = office.get("/office/reports").get_data(as_text=True)
    assert "Kỳ báo cáo tự kiểm tra" in page and "Mở kỳ báo cáo" in page
    response = _open(office)
    assert response.status_code == 303 and response.headers["Location"].endswith("/office/reports/2025-Q2")
    page = office.get(response.headers["Location"]).get_data(as_text=True)
    assert "Kỳ báo cáo Quý II/2025" in page and "Đã mở kỳ báo cáo Quý II/2025" in page
    departments = _count(ctx, PeriodicReport)
    assert departments == 17 and page.count('data-state="pending"') == departments
    assert "15/03/2025 – 14/06/2025" in page and 'id="submitted">0/17' in page
    report_tasks = [t for t in instances.list_ready_tasks(ctx) if t.bpmn_id == "submit_report"]
    assert len(report_tasks) == departments
    listing = office.get("/office/reports").get_data(as_text=True)
    assert 'data-round="2025-Q2"' in listing and "0/17" in listing


def test_sent_and_missing_reports_show_as_such_once_the_deadline_passed(office, ctx):
    _open(office)
    task = next(t for t in instances.list_ready_tasks(ctx)
                if t.bpmn_id == "submit_report" and t.assignee == "so-tu-phap")
    instances.complete_task(ctx, task.instance_id, task.task_id,
                            {"content": "Đã tự kiểm tra", "report_document": "12/BC-STP"}, actor="dm.sotuphap")
    ctx.clock.set(datetime(2025, 6, 20, 9, tzinfo=TZ))    # the units' deadline ended with Thu 19 Jun
    sign_in(office, "cv.hoa")                               # four days on: yesterday's session has expired
    page = office.get("/office/reports/2025-Q2").get_data(as_text=True)
    assert 'data-unit="so-tu-phap" data-state="submitted"' in page and "12/BC-STP" in page
    assert page.count('data-state="overdue"') == 16 and 'id="late">16' in page
    assert "Overdue, not sent" in office.get("/office/reports/2025-Q2?lang=en").get_data(as_text=True)


def test_a_round_opened_twice_is_refused_with_a_message_and_nothing_changes(office, ctx):
    _open(office)
    before = (_count(ctx, PeriodicReport), _count(ctx, ReportingRound), len(instances.list_instances(ctx, 500)))
    response = _open(office)
    assert response.status_code == 409 and "đã được mở" in response.get_data(as_text=True)
    assert (_count(ctx, PeriodicReport), _count(ctx, ReportingRound), len(instances.list_instances(ctx, 500))) == before


@pytest.mark.parametrize("changes, message", [
    ({"cadence": "weekly"}, "weekly"),
    ({"period_day": "31/02/2025"}, "ngày không hợp lệ"),
    ({"period_day": "2025-07-01"}, "chưa thể mở kỳ báo cáo"),          # Q3 2025: its cut-off is 14 Sep
    ({"kinds": ["planet"]}, "planet"),
    ({"kinds": ["provincial_office"]}, "provincial_office"),     # a kind the form does not offer
    ({"kinds": []}, "Chọn ít nhất một loại đơn vị"),
])
def test_bad_input_is_refused_with_the_form_kept_and_nothing_created(office, ctx, changes, message):
    response = _open(office, **changes)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and message in page
    assert 'value="quarterly" selected' in page or changes.get("cadence") == "weekly"
    assert _count(ctx, PeriodicReport) == 0 and _count(ctx, ReportingRound) == 0


def test_units_cannot_open_rounds_nor_post_without_the_csrf_token(client, office, ctx):
    assert office.post("/office/reports", data=ROUND).status_code == 400     # no CSRF token
    unit = client.application.test_client()
    sign_in(unit, "dm.sotuphap")
    assert unit.post("/office/reports", data=dict(ROUND, csrf_token=_csrf(unit, "/inbox"))).status_code == 403
    plan = {"auto": ["monthly"], "csrf_token": _csrf(unit, "/inbox")}
    assert unit.post("/office/reports/plan", data=plan).status_code == 403
    assert _count(ctx, ReportingRound) == 0


def test_an_unknown_round_is_a_clear_not_found(office):
    response = office.get("/office/reports/2031-Q1")
    assert response.status_code == 404 and "chưa được mở" in response.get_data(as_text=True)


def test_the_office_chooses_the_cadences_that_open_by_themselves(office, ctx):
    from engine.regulation import reporting_plan
    from engine.worktime.periods import Cadence

    token = _csrf(office, "/office/reports")
    response = office.post("/office/reports/plan", data={"auto": ["monthly", "quarterly"], "csrf_token": token})
    assert response.status_code == 303
    page = office.get("/office/reports").get_data(as_text=True)
    assert 'name="auto" value="monthly" checked' in page and 'name="auto" value="yearly" checked' not in page
    assert reporting_plan.automatic_cadences(ctx) == {Cadence.MONTHLY, Cadence.QUARTERLY}
    refused = office.post("/office/reports/plan", data={"auto": ["weekly"], "csrf_token": token})
    assert refused.status_code == 422 and "weekly" in refused.get_data(as_text=True)
    assert reporting_plan.automatic_cadences(ctx) == {Cadence.MONTHLY, Cadence.QUARTERLY}
    office.post("/office/reports/plan", data={"csrf_token": token})     # nothing ticked: all off
    assert reporting_plan.automatic_cadences(ctx) == set()
