"""count_by_window (the dashboard's 12-month trend, issue 14) reduces the tasks to their position among the
windows' starts, cut-offs and threshold dates before applying the rule: tasks exactly on each of those
instants and dates, and one microsecond or one day either side, must count as count_by_unit counts them."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import cycle, product

from sqlalchemy import select

from engine.regulation.organisation import Unit
from engine.regulation.records import Document, DocumentType, TaskStatus, TrackedTask
from engine.regulation.statistics import CATEGORIES, add_up, count_by_unit, count_by_window, thresholds, window_instants
from engine.worktime.calendar import TZ
from engine.worktime.periods import period_from_key

MONTHS = [f"2024-M{m:02d}" for m in range(10, 13)] + ["2025-M01", "2025-M02", "2025-M03"]
NOW = datetime(2025, 3, 3, 10, 17, 23, 456789, tzinfo=TZ)  # mid-window: the last month's cut-off is now
UNITS = ("huyen-ba-tri", "so-tu-phap")
STATUSES = ["in_progress", "completed_on_time", "returned", "cancelled", "completed_late", "no_deadline",
            "awaiting_confirmation", "completed_no_deadline"]


def test_tasks_on_every_boundary_count_as_count_by_unit_counts_them(ctx):
    months = [period_from_key(key) for key in MONTHS]
    with ctx.unit_of_work() as session:
        calendar = ctx.calendars.get(session)
        units = [session.scalar(select(Unit.id).where(Unit.code == code)) for code in UNITS]
        instants, days = [], []
        for month in months:
            start, end = window_instants(month.data_from, month.data_to)
            as_of = min(NOW, end)
            limits = thresholds(calendar, as_of, 3)
            instants += [start, as_of]
            days += [d for d in (limits.overdue_through, limits.nearly_due_through) if d is not None]
        near = sorted({i + delta for i in instants for delta in (-timedelta(microseconds=1), timedelta(0),
                                                                  timedelta(microseconds=1))})
        deadlines = sorted({d + timedelta(days=k) for d in days for k in (-1, 0, 1)})
        document = Document(number_symbol="16/QĐ-UBND", issued_on=date(2024, 9, 1), doc_type=DocumentType.PLAN,
                            issuer="UBND tỉnh Bến Tre", signer="Chủ tịch UBND tỉnh", summary="Ranh giới",
                            registered_by="tester", registered_at=datetime(2024, 9, 1, 9, tzinfo=TZ))
        session.add(document)
        session.flush()
        statuses, deadline_of, unit_of = cycle(STATUSES), cycle(deadlines + [None]), cycle(units)
        for n, (assigned, closed) in enumerate(product(near, near + [None])):
            if closed is not None and closed < assigned:
                continue
            status = next(statuses)
            if closed is not None and status not in ("completed_on_time", "completed_late", "cancelled",
                                                     "completed_no_deadline"):
                status = "completed_late"
            session.add(TrackedTask(document_id=document.id, content=f"Ranh giới {n}", lead_unit_id=next(unit_of),
                                    deadline=next(deadline_of), expected_output="Báo cáo", status=TaskStatus(status),
                                    urge_count=0, assigned_at=assigned, completed_at=closed))
    with ctx.unit_of_work(readonly=True) as session:
        calendar = ctx.calendars.get(session)
        windows = count_by_window(session, units, [(m.data_from, m.data_to) for m in months], NOW, calendar, 3)
        for month, figures in zip(months, windows, strict=True):
            expected = add_up(count_by_unit(session, units, month.data_from, month.data_to, NOW, calendar, 3).values())
            assert figures == {name: expected[name] for name in CATEGORIES}, month.key
    assert all(sum(figures.values()) > 0 for figures in windows)
