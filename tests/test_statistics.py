"""Status categories of tracked tasks (docs/regulation.md, "Status categories") on the 2025 calendar.

`category` judges one task; `count_by_unit` counts many in one grouped query. The second half checks
the window rule on rows written directly, and that the SQL agrees with `category` row by row.
"""
from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

from engine.regulation.organisation import Unit
from engine.regulation.records import Document, DocumentType, TaskStatus, TrackedTask
from engine.regulation.statistics import CATEGORIES, category, count_by_unit, thresholds
from engine.worktime.calendar import TZ, WorkingCalendar, load_overrides

CALENDAR = WorkingCalendar(load_overrides(Path(__file__).resolve().parent.parent / "processes" / "calendar"
                                          / "vn-public-service.json"))


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


def open_task(deadline, now, days=3):
    return category(TaskStatus.IN_PROGRESS, deadline, None, now, CALENDAR, days)


# --- one task ----------------------------------------------------------------------------------

def test_a_deadline_on_a_holiday_runs_to_the_end_of_the_next_working_day():
    # Wed 30 Apr 2025 is Reunification Day, 1 May Labour Day, Fri 2 May swapped off, then a weekend:
    # the deadline ends with Mon 5 May (Art. 148.5), not with 30 Apr.
    deadline = date(2025, 4, 30)
    assert open_task(deadline, at(2025, 5, 2, 10)) == "nearly_due"
    assert open_task(deadline, at(2025, 5, 5, 23, 59)) == "nearly_due"
    assert open_task(deadline, at(2025, 5, 6, 0, 0)) == "overdue"


def test_nearly_due_starts_with_the_reminder_and_spans_the_holidays():
    # 3 working days left for a deadline of 30 Apr (moved to 5 May): 28 Apr, 29 Apr and 5 May.
    assert open_task(date(2025, 4, 30), at(2025, 4, 27, 23, 59)) == "within_deadline"
    assert open_task(date(2025, 4, 30), at(2025, 4, 28, 0, 0)) == "nearly_due"


def test_nearly_due_across_a_weekend():
    # Tue 17 Jun 2025: Fri 13, Mon 16 and Tue 17 are the last 3 working days.
    deadline = date(2025, 6, 17)
    assert open_task(deadline, at(2025, 6, 12, 23, 59)) == "within_deadline"
    assert open_task(deadline, at(2025, 6, 13, 0, 0)) == "nearly_due"
    assert open_task(deadline, at(2025, 6, 15, 12, 0)) == "nearly_due"  # Sunday: 2 working days left
    assert open_task(deadline, at(2025, 6, 17, 23, 59)) == "nearly_due"
    assert open_task(deadline, at(2025, 6, 18, 0, 0)) == "overdue"
    # Mon 16 Jun: Thu 12, Fri 13 and Mon 16; on Sat 14 Jun it is nearly due, not overdue.
    assert open_task(date(2025, 6, 16), at(2025, 6, 11, 18, 0)) == "within_deadline"
    assert open_task(date(2025, 6, 16), at(2025, 6, 14, 9, 0)) == "nearly_due"


def test_a_deadline_on_a_make_up_saturday_is_not_moved():
    # Sat 26 Apr 2025 is a make-up working day: the deadline ends with it.
    assert open_task(date(2025, 4, 26), at(2025, 4, 26, 17, 0)) == "nearly_due"
    assert open_task(date(2025, 4, 26), at(2025, 4, 27, 8, 0)) == "overdue"


def test_a_deadline_in_tet_runs_to_the_first_working_day_after_it():
    # Tết Ất Tỵ: 25 Jan - 2 Feb 2025 off; a deadline of 29 Jan ends with Mon 3 Feb.
    assert open_task(date(2025, 1, 29), at(2025, 2, 1, 10)) == "nearly_due"
    assert open_task(date(2025, 1, 29), at(2025, 2, 3, 16)) == "nearly_due"
    assert open_task(date(2025, 1, 29), at(2025, 2, 4, 8)) == "overdue"
    assert open_task(date(2025, 1, 29), at(2025, 1, 20, 8)) == "within_deadline"  # 21, 22, 23, 24 Jan, 3 Feb


def test_the_nearly_due_setting_is_in_working_days_and_zero_turns_it_off():
    deadline = date(2025, 6, 20)  # Friday
    assert open_task(deadline, at(2025, 6, 16, 9), days=5) == "nearly_due"  # 16-20 Jun
    assert open_task(deadline, at(2025, 6, 16, 9), days=3) == "within_deadline"
    assert open_task(deadline, at(2025, 6, 20, 9), days=0) == "within_deadline"
    assert open_task(deadline, at(2025, 6, 21, 9), days=0) == "overdue"


@pytest.mark.parametrize("status, deadline, completed_at, expected", [
    (TaskStatus.NO_DEADLINE, None, None, "no_deadline"),
    (TaskStatus.IN_PROGRESS, None, None, "no_deadline"),
    (TaskStatus.RETURNED, date(2025, 5, 1), None, "returned"),
    (TaskStatus.AWAITING_CONFIRMATION, date(2025, 5, 1), None, "awaiting_confirmation"),
    (TaskStatus.CANCELLED, date(2025, 7, 1), at(2025, 6, 2, 9), "cancelled"),
    (TaskStatus.COMPLETED_ON_TIME, date(2025, 6, 5), at(2025, 6, 4, 9), "completed_on_time"),
    (TaskStatus.COMPLETED_LATE, date(2025, 6, 5), at(2025, 6, 9, 9), "completed_late"),
    (TaskStatus.COMPLETED_NO_DEADLINE, None, at(2025, 6, 9, 9), "completed_no_deadline"),
    ("completed_late", date(2025, 6, 5), at(2025, 6, 9, 9), "completed_late"),  # stored value
    # Closed after the instant asked about: judged as it stood then, open, by its deadline.
    (TaskStatus.COMPLETED_ON_TIME, date(2025, 6, 30), at(2025, 6, 16, 9), "within_deadline"),
    (TaskStatus.COMPLETED_LATE, date(2025, 6, 10), at(2025, 6, 20, 9), "overdue"),
    (TaskStatus.CANCELLED, None, at(2025, 6, 20, 9), "no_deadline"),
])
def test_statuses_and_closing_instants(status, deadline, completed_at, expected):
    assert category(status, deadline, completed_at, at(2025, 6, 15, 0, 0), CALENDAR, 3) == expected


def test_thresholds_bound_the_deadline_dates():
    limits = thresholds(CALENDAR, at(2025, 6, 15, 0, 0), 3)  # end of Sat 14 Jun 2025
    assert (limits.overdue_through, limits.nearly_due_through) == (date(2025, 6, 13), date(2025, 6, 17))
    # Fri 13 Jun ended; Sat 14 and Sun 15 move to Mon 16 and have not.
    assert CALENDAR.deadline_end(date(2025, 6, 14)) > limits.at >= CALENDAR.deadline_end(date(2025, 6, 13))
    with pytest.raises(ValueError):
        thresholds(CALENDAR, datetime(2025, 6, 15), 3)


# --- counting in SQL ---------------------------------------------------------------------------

@pytest.fixture
def units(ctx):
    with ctx.unit_of_work(readonly=True) as session:
        return dict(session.execute(select(Unit.code, Unit.id)).all())


@pytest.fixture
def add(ctx):
    """Write tracked task rows directly (no workflow): add(unit_id, status, deadline, assigned, completed)."""
    with ctx.unit_of_work() as session:
        document = Document(number_symbol="9/QĐ-UBND", issued_on=date(2025, 1, 2), doc_type=DocumentType.DECISION,
                            issuer="UBND tỉnh Bến Tre", signer="Chủ tịch UBND tỉnh", summary="Số liệu kiểm thử",
                            registered_by="tester", registered_at=at(2025, 1, 2, 9))
        session.add(document)
        session.flush()
        document_id = document.id

    def _add(rows):
        with ctx.unit_of_work() as session:
            session.add_all(TrackedTask(document_id=document_id, content="Nhiệm vụ", lead_unit_id=unit,
                                        deadline=deadline, expected_output="Báo cáo", status=TaskStatus(status),
                                        urge_count=0, assigned_at=assigned, completed_at=completed)
                            for unit, status, deadline, assigned, completed in rows)

    return _add


def _count(ctx, unit_ids, now, window=(date(2025, 3, 15), date(2025, 6, 14)), days=3):
    with ctx.unit_of_work(readonly=True) as session:
        return count_by_unit(session, unit_ids, *window, now, ctx.calendars.get(session), days)


def test_the_q2_window_counts_what_was_open_at_the_cut_off_or_closed_within_it(ctx, units, add):
    sxd, gt, tp = units["so-xay-dung"], units["so-giao-thong-van-tai"], units["so-tu-phap"]
    assigned = at(2025, 3, 3, 9)
    add([
        (sxd, "completed_on_time", date(2025, 3, 12), assigned, at(2025, 3, 14, 23, 59)),  # closed before: out
        (sxd, "completed_on_time", date(2025, 3, 31), assigned, at(2025, 3, 15, 0, 0)),    # first instant: in
        (sxd, "completed_late", date(2025, 3, 31), assigned, at(2025, 4, 3, 9)),
        (sxd, "completed_no_deadline", None, assigned, at(2025, 5, 3, 9)),
        (sxd, "cancelled", date(2025, 5, 20), assigned, at(2025, 5, 3, 9)),                # counted, not in total
        (sxd, "in_progress", date(2025, 6, 10), assigned, None),                             # overdue
        (sxd, "in_progress", date(2025, 6, 17), assigned, None),                             # nearly due
        (sxd, "in_progress", date(2025, 6, 20), assigned, None),                             # within
        (sxd, "completed_on_time", date(2025, 6, 30), assigned, at(2025, 6, 16, 8)),       # closed after: open
        (sxd, "no_deadline", None, assigned, None),
        (sxd, "returned", date(2025, 6, 1), assigned, None),
        (sxd, "awaiting_confirmation", date(2025, 6, 1), assigned, None),
        (sxd, "in_progress", date(2025, 6, 30), at(2025, 6, 15, 0, 0), None),              # assigned after: out
        (gt, "in_progress", date(2025, 6, 2), at(2025, 6, 14, 23, 0), None),               # assigned on the last day
        (units["so-y-te"], "in_progress", date(2025, 6, 2), assigned, None),                # not asked about
    ])
    figures = _count(ctx, [sxd, gt, tp], at(2025, 6, 16, 9))
    assert set(figures) == {sxd, gt, tp}
    assert figures[sxd] == {
        "within_deadline": 2, "nearly_due": 1, "overdue": 1, "no_deadline": 1, "awaiting_confirmation": 1,
        "returned": 1, "completed_on_time": 1, "completed_late": 1, "completed_no_deadline": 1, "cancelled": 1,
        "total": 10, "on_time_rate": 0.5}
    assert figures[gt]["overdue"] == figures[gt]["total"] == 1
    assert figures[tp] == dict(dict.fromkeys(CATEGORIES, 0), total=0, on_time_rate=None)


def test_mid_window_the_figures_are_as_of_now(ctx, units, add):
    sxd = units["so-xay-dung"]
    add([(sxd, "in_progress", date(2025, 5, 5), at(2025, 4, 1, 9), None),
         (sxd, "completed_on_time", date(2025, 5, 5), at(2025, 4, 1, 9), at(2025, 5, 2, 9)),
         (sxd, "in_progress", date(2025, 6, 1), at(2025, 5, 2, 9), None)])
    figures = _count(ctx, [sxd], at(2025, 4, 30, 10))  # 30 Apr: the 1 May completion has not happened yet
    assert (figures[sxd]["nearly_due"], figures[sxd]["within_deadline"], figures[sxd]["total"]) == (2, 0, 2)
    assert figures[sxd]["on_time_rate"] is None


def test_one_grouped_query_whatever_the_number_of_rows(ctx, units, add):
    sxd = units["so-xay-dung"]
    add([(sxd, "in_progress", date(2025, 4, 1) + timedelta(days=i % 90), at(2025, 3, 20, 9), None)
         for i in range(500)])
    statements = []
    engine = ctx.db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        figures = _count(ctx, list(units.values()), at(2025, 6, 16, 9))
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert figures[sxd]["total"] == 500
    assert len([s for s in statements if "tracked_tasks" in s]) == 1


@pytest.mark.parametrize("now", [at(2025, 4, 29, 15), at(2025, 5, 3, 8), at(2025, 6, 13, 0, 0), at(2025, 6, 20, 9)])
def test_sql_agrees_with_category_row_by_row(ctx, units, add, now):
    sxd = units["so-xay-dung"]
    statuses = ["in_progress", "completed_on_time", "returned", "cancelled", "completed_late", "no_deadline",
                "awaiting_confirmation", "completed_no_deadline"]
    rows = []
    for i in range(120):  # deadlines every day from 15 Apr, around the 30 Apr - 4 May holidays and weekends
        status = statuses[i % 8]
        deadline = None if status.endswith("no_deadline") else date(2025, 4, 15) + timedelta(days=i // 2)
        completed = at(2025, 4, 20, 9) + timedelta(hours=17 * i) if status.startswith(("completed", "cancel")) else None
        rows.append((sxd, status, deadline, at(2025, 3, 20, 9) + timedelta(hours=13 * i), completed))
    add(rows)
    window_start, window_end = at(2025, 3, 15), at(2025, 6, 15)
    as_of = min(now, window_end)
    expected = Counter(category(status, deadline, completed, as_of, CALENDAR, 3)
                       for _, status, deadline, assigned, completed in rows
                       if assigned < as_of and (completed is None or completed >= window_start))
    figures = _count(ctx, [sxd], now)
    assert {name: figures[sxd][name] for name in CATEGORIES} == {name: expected[name] for name in CATEGORIES}
