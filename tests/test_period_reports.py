"""The periodic report (Art. 17.1) and the overdue list: figures against hand-counted rows (period boundaries,
returned and cancelled tasks), the unit's subtree, the XLSX files read back, and who may see what.

The clock is the fixed one (Fri 25/04/2025 09:00): Q1/2025's window (15/12/2024 - 14/03/2025) is over, so its
figures are as of the cut-off; the overdue list is as of now.
"""
from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from engine.read import overdue_list, period_reports
from engine.regulation.organisation import Unit
from engine.regulation.records import Document, DocumentType, TaskStatus, TrackedTask
from engine.worktime.calendar import TZ
from engine.worktime.periods import period_from_key
from tests.helpers import sign_in

Q1 = period_from_key("2025-Q1")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


@pytest.fixture
def units(shipped):
    """The units' ids by code."""
    with shipped.unit_of_work(readonly=True) as session:
        return dict(session.execute(select(Unit.code, Unit.id)).all())


@pytest.fixture
def add(shipped):
    """Write tracked tasks directly: add(unit_id, status, deadline, assigned, completed, urges=0, content=...)."""
    with shipped.unit_of_work() as session:
        document = Document(number_symbol="15/QĐ-UBND", issued_on=date(2024, 12, 2), doc_type=DocumentType.DECISION,
                            issuer="UBND tỉnh Bến Tre", signer="Chủ tịch UBND tỉnh", summary="Giao nhiệm vụ năm 2025",
                            registered_by="cv.hoa", registered_at=at(2024, 12, 2, 9))
        session.add(document)
        session.flush()
        document_id = document.id

    def _add(*rows):
        with shipped.unit_of_work() as session:
            tasks = [TrackedTask(document_id=document_id, content=row[5] if len(row) > 5 else "Rà soát văn bản",
                                 lead_unit_id=row[0], deadline=row[2], expected_output="Báo cáo",
                                 status=TaskStatus(row[1]), urge_count=row[6] if len(row) > 6 else 0,
                                 assigned_at=row[3], completed_at=row[4]) for row in rows]
            session.add_all(tasks)
            session.flush()
            return [task.id for task in tasks]

    return _add


@pytest.fixture
def q1_rows(units, add):
    """Hand-counted rows for Sở Tư pháp (and its division) in Q1/2025."""
    stp, division = units["so-tu-phap"], units["stp-phong-xd-ktvb"]
    assigned = at(2024, 12, 1, 9)
    add(
        (stp, "completed_on_time", date(2024, 12, 13), assigned, at(2024, 12, 14, 23, 59)),  # closed before: out
        (stp, "completed_on_time", date(2025, 1, 10), assigned, at(2024, 12, 15, 0, 0)),     # first instant: in
        (stp, "completed_late", date(2025, 1, 10), assigned, at(2025, 1, 20, 9)),
        (stp, "cancelled", date(2025, 2, 10), assigned, at(2025, 2, 3, 9)),                  # counted, not in total
        (stp, "returned", date(2025, 3, 1), assigned, None),
        (stp, "in_progress", date(2025, 3, 7), assigned, None),                              # overdue at the cut-off
        (stp, "in_progress", date(2025, 3, 18), assigned, None),                             # nearly due then
        (stp, "in_progress", date(2025, 4, 30), at(2025, 3, 14, 23, 0), None),              # last hour: within
        (stp, "in_progress", date(2025, 4, 30), at(2025, 3, 15, 0, 0), None),               # assigned after: out
        (division, "completed_on_time", date(2025, 3, 1), assigned, at(2025, 2, 27, 9)),
        (division, "no_deadline", None, assigned, None),
        (units["so-tai-chinh"], "in_progress", date(2025, 3, 1), assigned, None),           # another unit
    )


def test_a_units_report_counts_its_own_tasks_and_each_unit_below_it(shipped, q1_rows):
    report = period_reports.period_report(shipped, "so-tu-phap", Q1)
    assert (report.period_label, report.data_from, report.data_to) == ("Quý I/2025", date(2024, 12, 15),
                                                                      date(2025, 3, 14))
    assert report.as_of == at(2025, 3, 15, 0, 0)  # the cut-off, not now
    assert [(row.name, row.depth) for row in report.rows] == [
        ("Sở Tư pháp", 0), ("Phòng Xây dựng và Kiểm tra văn bản quy phạm pháp luật - Sở Tư pháp", 1)]
    own, division = report.rows[0].figures, report.rows[1].figures
    assert own == {"within_deadline": 1, "nearly_due": 1, "overdue": 1, "no_deadline": 0, "awaiting_confirmation": 0,
                   "returned": 1, "completed_on_time": 1, "completed_late": 1, "completed_no_deadline": 0,
                   "cancelled": 1, "total": 6, "on_time_rate": 0.5}
    assert (division["completed_on_time"], division["no_deadline"], division["total"]) == (1, 1, 2)
    assert report.totals["total"] == 8 and report.totals["cancelled"] == 1
    assert report.totals["on_time_rate"] == round(2 / 3, 4)
    assert "Tổng số nhiệm vụ: 8" in report.self_inspection and "quá hạn chưa hoàn thành: 1" in report.self_inspection
    assert "Tỷ lệ hoàn thành đúng hạn: 66,7%" in report.self_inspection


def test_the_province_report_lists_the_reporting_units_and_adds_them_up(shipped, q1_rows):
    report = period_reports.period_report(shipped, None, Q1)
    names = [row.name for row in report.rows]
    assert "Sở Tư pháp" in names and "Sở Tài chính" in names and "UBND huyện Ba Tri" in names
    assert "Văn phòng UBND tỉnh" not in names and report.self_inspection is None
    assert report.totals["total"] == sum(row.figures["total"] for row in report.rows) == 7  # not the division
    assert report.totals["overdue"] == 2


def test_a_bad_period_key_is_refused(client):
    sign_in(client, "cv.hoa")
    response = client.get("/reports/period?period=2025-Q7")
    assert response.status_code == 422 and "không phải là một kỳ báo cáo" in response.get_data(as_text=True)


def test_the_report_on_screen_names_units_and_dates(client, q1_rows):
    sign_in(client, "ld.vanphong")
    page = client.get("/reports/period?period=2025-Q1&unit=so-tu-phap").get_data(as_text=True)
    assert "Quý I/2025 (số liệu từ ngày 15/12/2024 đến ngày 14/03/2025)" in page
    assert "Sở Tư pháp" in page and "Kết quả tự kiểm tra (Điều 17 khoản 1)" in page and "50,0%" in page
    assert "Số liệu tính đến hết ngày 14/03/2025" in page  # the cut-off, not 15/03/2025 00:00
    assert "@media print" in client.get("/static/reports.css").get_data(as_text=True)


def _sheet(response):
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    return [tuple(row) for row in sheet.iter_rows(values_only=True)], sheet


def test_the_report_as_xlsx_reads_back_in_an_offices_layout(client, q1_rows):
    sign_in(client, "cv.hoa")
    rows, sheet = _sheet(client.get("/reports/period.xlsx?period=2025-Q1&unit=so-tu-phap"))
    cells = [value for row in rows for value in row if value is not None]
    assert "SỞ TƯ PHÁP" in cells and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in cells
    assert "BÁO CÁO KẾT QUẢ THỰC HIỆN NHIỆM VỤ UBND TỈNH GIAO" in cells
    assert "Quý I/2025 (số liệu từ ngày 15/12/2024 đến ngày 14/03/2025)" in cells
    header = next(row for row in rows if row[0] == "STT")
    assert header[:4] == ("STT", "Đơn vị", "Tổng số nhiệm vụ", "Đúng hạn")
    own = next(row for row in rows if row[1] == "Sở Tư pháp")
    assert own[2:] == (6, 1, 1, 0, 1, 1, 1, 0, 0, 1, 1, "50,0%")
    total = next(row for row in rows if row[1] == "Tổng cộng")
    assert total[2] == 8 and total[-1] == "66,7%"
    assert "THỦ TRƯỞNG ĐƠN VỊ" in cells and "NGƯỜI LẬP BIỂU" in cells
    assert "Bến Tre, ngày 25 tháng 04 năm 2025" in cells  # made today
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4 and sheet.page_setup.orientation == "landscape"


def test_the_overdue_list_counts_working_days_and_reads_back_as_xlsx(shipped, client, units, add):
    stp = units["so-tu-phap"]
    # Now is Fri 25/04/2025. A deadline of Fri 18/04 is 5 working days overdue (21-25 Apr); one of Wed 30/04
    # is not yet; a returned task and a completed one are not in the list.
    first, *_ = add(
        (stp, "in_progress", date(2025, 4, 18), at(2025, 3, 1, 9), None, "Ban hành kế hoạch kiểm tra", 2),
        (stp, "in_progress", date(2025, 4, 30), at(2025, 3, 1, 9), None),
        (stp, "returned", date(2025, 4, 1), at(2025, 3, 1, 9), None),
        (stp, "completed_late", date(2025, 4, 1), at(2025, 3, 1, 9), at(2025, 4, 10, 9)),
        (units["stp-phong-xd-ktvb"], "in_progress", date(2025, 4, 24), at(2025, 3, 1, 9), None, "Thẩm định dự thảo"),
        (units["so-tai-chinh"], "in_progress", date(2025, 4, 1), at(2025, 3, 1, 9), None),
    )
    listing = overdue_list.overdue_tasks(shipped, "so-tu-phap")
    assert [(t.content, t.days_overdue, t.urge_count) for t in listing.items] == [
        ("Thẩm định dự thảo", 1, 0), ("Ban hành kế hoạch kiểm tra", 5, 2)]
    assert listing.items[1].task_id == first
    assert len(overdue_list.overdue_tasks(shipped, None).items) == 3
    sign_in(client, "dm.sotuphap")
    rows, _ = _sheet(client.get("/reports/overdue.xlsx"))
    task = next(row for row in rows if row[1] == "Ban hành kế hoạch kiểm tra")
    assert task[2:] == ("15/QĐ-UBND ngày 02/12/2024", "18/04/2025", 5, "Sở Tư pháp", 2)
    assert not any(row[1] == "Rà soát văn bản" and row[5] == "Sở Tài chính" for row in rows)


def test_a_unit_sees_its_subtree_only(client, q1_rows):
    sign_in(client, "dm.sotuphap")
    assert client.get("/reports/period?period=2025-Q1&unit=so-tai-chinh").status_code == 403
    assert client.get("/reports/period.xlsx?period=2025-Q1&unit=so-tai-chinh").status_code == 403
    assert client.get("/reports/overdue.xlsx?unit=so-tai-chinh").status_code == 403
    own = client.get("/reports/period?period=2025-Q1").get_data(as_text=True)  # no unit: their own
    assert "Sở Tư pháp" in own and "Sở Tài chính" not in own
    assert client.get("/reports/period?period=2025-Q1&unit=stp-phong-xd-ktvb").status_code == 200


def test_the_api_answers_as_the_pages(shipped, client, q1_rows):
    from engine.regulation import api_tokens  # noqa: PLC0415

    unit_token = api_tokens.issue(shipped, "dm.sotuphap", "kiểm thử", "admin").token
    office_token = api_tokens.issue(shipped, "ld.ubndtinh", "kiểm thử", "admin").token
    as_unit = {"Authorization": f"Bearer {unit_token}"}
    refused = client.get("/api/reports/period?period=2025-Q1&unit=so-tai-chinh", headers=as_unit)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    mine = client.get("/api/reports/period?period=2025-Q1", headers=as_unit).json
    assert mine["unit_code"] == "so-tu-phap" and mine["totals"]["total"] == 8
    province = client.get("/api/reports/period?period=2025-Q1", headers={"Authorization": f"Bearer {office_token}"})
    assert province.json["unit_code"] is None and province.json["totals"]["total"] == 7
    assert client.get("/api/reports/overdue", headers=as_unit).status_code == 200
    assert client.get("/api/reports/period?period=nope", headers=as_unit).status_code == 422


def test_a_reporting_round_prefills_each_units_self_inspection_from_its_figures(shipped, clock, q1_rows):
    from engine.process import instances  # noqa: PLC0415
    from engine.regulation import reporting  # noqa: PLC0415

    clock.set(at(2025, 3, 17, 9))  # the Monday after Q1's cut-off
    opened = reporting.open_reporting_round(shipped, "quarterly", date(2025, 3, 1), unit_kinds=("department",))
    step = instances.list_ready_tasks(shipped, instance_id=opened.reports["so-tu-phap"])[0]
    data = instances.task_details(shipped, step.instance_id, step.task_id).data
    own = period_reports.period_report(shipped, "so-tu-phap", Q1).rows[0].figures
    assert data["content"] == reporting.self_inspection_text("Sở Tư pháp", Q1, own)
    assert "Tổng số nhiệm vụ: 6; đã hoàn thành đúng hạn: 1, hoàn thành quá hạn: 1" in data["content"]
