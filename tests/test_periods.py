"""Reporting periods and Decree 09/2019 Art. 12 data windows, checked on real dates and the real calendar."""
from __future__ import annotations

import calendar as gregorian
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest

from engine.worktime.calendar import TZ, WorkingCalendar, load_overrides
from engine.worktime.periods import (
    Cadence,
    Period,
    last_cut_off,
    next_period,
    period_containing,
    period_from_key,
    periods_between,
    previous_period,
    update_due,
)

SEED = Path(__file__).resolve().parents[1] / "processes" / "calendar" / "vn-public-service.json"
D = date.fromisoformat


def end_of(day: str) -> datetime:
    """24:00 local of a day, as the calendar represents it (00:00 of the next day)."""
    return datetime.combine(D(day) + timedelta(days=1), datetime.min.time(), tzinfo=TZ)


@pytest.fixture(scope="module")
def calendar() -> WorkingCalendar:
    return WorkingCalendar(load_overrides(SEED))


# --- data windows (Decree 09/2019 Art. 12) ---------------------------------------------------------


def test_january_monthly_window_starts_on_15_december_of_the_previous_year():
    jan = period_containing(Cadence.MONTHLY, D("2025-01-20"))
    assert (jan.start, jan.end) == (D("2025-01-01"), D("2025-01-31"))
    assert (jan.data_from, jan.data_to) == (D("2024-12-15"), D("2025-01-14"))


def test_april_monthly_window_is_15_march_to_14_april():
    apr = period_containing(Cadence.MONTHLY, D("2025-04-01"))
    assert (apr.data_from, apr.data_to) == (D("2025-03-15"), D("2025-04-14"))


def test_q1_2025_window_is_15_december_2024_to_14_march_2025():
    q1 = period_containing(Cadence.QUARTERLY, D("2025-02-10"))
    assert (q1.start, q1.end) == (D("2025-01-01"), D("2025-03-31"))
    assert (q1.data_from, q1.data_to) == (D("2024-12-15"), D("2025-03-14"))


def test_q2_2025_window_is_15_march_to_14_june():
    q2 = period_containing(Cadence.QUARTERLY, D("2025-06-30"))
    assert (q2.index, q2.start, q2.end) == (2, D("2025-04-01"), D("2025-06-30"))
    assert (q2.data_from, q2.data_to) == (D("2025-03-15"), D("2025-06-14"))


def test_six_nine_and_twelve_month_windows_all_open_on_15_december_of_the_previous_year():
    h1 = period_containing(Cadence.HALF_YEARLY, D("2025-03-01"))
    nine = period_containing(Cadence.NINE_MONTHS, D("2025-03-01"))
    year = period_containing(Cadence.YEARLY, D("2025-03-01"))
    def span(p: Period) -> tuple[date, ...]:
        return p.start, p.end, p.data_from, p.data_to

    assert span(h1) == (D("2025-01-01"), D("2025-06-30"), D("2024-12-15"), D("2025-06-14"))
    assert span(nine) == (D("2025-01-01"), D("2025-09-30"), D("2024-12-15"), D("2025-09-14"))
    assert span(year) == (D("2025-01-01"), D("2025-12-31"), D("2024-12-15"), D("2025-12-14"))


def test_monthly_data_windows_tile_without_gaps_across_years():
    periods = periods_between(Cadence.MONTHLY, D("2024-01-01"), D("2027-12-31"))
    for before, after in pairwise(periods):
        assert after.data_from == before.data_to + timedelta(days=1)


def test_quarterly_data_windows_tile_without_gaps_across_years():
    periods = periods_between(Cadence.QUARTERLY, D("2024-01-01"), D("2027-12-31"))
    assert len(periods) == 16
    for before, after in pairwise(periods):
        assert after.data_from == before.data_to + timedelta(days=1)


# --- labels and keys --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cadence", "day", "label", "key"),
    [
        (Cadence.MONTHLY, "2025-04-15", "Tháng 4/2025", "2025-M04"),
        (Cadence.MONTHLY, "2025-12-31", "Tháng 12/2025", "2025-M12"),
        (Cadence.QUARTERLY, "2025-02-01", "Quý I/2025", "2025-Q1"),
        (Cadence.QUARTERLY, "2025-05-01", "Quý II/2025", "2025-Q2"),
        (Cadence.QUARTERLY, "2025-08-01", "Quý III/2025", "2025-Q3"),
        (Cadence.QUARTERLY, "2025-11-01", "Quý IV/2025", "2025-Q4"),
        (Cadence.HALF_YEARLY, "2025-06-30", "6 tháng đầu năm 2025", "2025-H1"),
        (Cadence.NINE_MONTHS, "2025-09-30", "9 tháng năm 2025", "2025-9M"),
        (Cadence.YEARLY, "2025-07-01", "Năm 2025", "2025-Y"),
    ],
)
def test_labels_are_vietnamese_with_roman_quarter_numerals_and_keys_are_stable(cadence, day, label, key):
    period = period_containing(cadence, D(day))
    assert period.label == label
    assert period.key == key


def test_monthly_keys_sort_chronologically():
    keys = [p.key for p in periods_between(Cadence.MONTHLY, D("2025-01-01"), D("2026-12-31"))]
    assert keys == sorted(keys)


def test_cadence_accepts_the_plain_string_an_admin_setting_stores():
    assert period_containing("quarterly", D("2025-05-05")).key == "2025-Q2"


# --- which period a day belongs to ------------------------------------------------------------------


def test_a_day_after_30_june_belongs_to_next_years_six_month_report():
    assert period_containing(Cadence.HALF_YEARLY, D("2025-06-30")).key == "2025-H1"
    assert period_containing(Cadence.HALF_YEARLY, D("2025-07-01")).key == "2026-H1"
    assert period_containing(Cadence.HALF_YEARLY, D("2025-12-31")).key == "2026-H1"


def test_a_day_after_30_september_belongs_to_next_years_nine_month_report():
    assert period_containing(Cadence.NINE_MONTHS, D("2025-09-30")).key == "2025-9M"
    assert period_containing(Cadence.NINE_MONTHS, D("2025-10-01")).key == "2026-9M"


def test_an_aware_datetime_is_placed_by_its_local_date():
    # 31 Mar 2025 20:00 UTC is already 1 Apr 03:00 in Vietnam: April, Q2.

    moment = datetime(2025, 3, 31, 20, 0, tzinfo=UTC)
    assert period_containing(Cadence.MONTHLY, moment).key == "2025-M04"
    assert period_containing(Cadence.QUARTERLY, moment).key == "2025-Q2"


# --- next_period ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cadence", "day", "expected_key", "expected_start", "expected_end"),
    [
        (Cadence.MONTHLY, "2025-12-10", "2026-M01", "2026-01-01", "2026-01-31"),
        (Cadence.QUARTERLY, "2025-12-10", "2026-Q1", "2026-01-01", "2026-03-31"),
        (Cadence.HALF_YEARLY, "2025-06-10", "2026-H1", "2026-01-01", "2026-06-30"),
        (Cadence.NINE_MONTHS, "2025-09-10", "2026-9M", "2026-01-01", "2026-09-30"),
        (Cadence.YEARLY, "2025-12-10", "2026-Y", "2026-01-01", "2026-12-31"),
    ],
)
def test_next_period_crosses_the_year_end(cadence, day, expected_key, expected_start, expected_end):
    following = next_period(period_containing(cadence, D(day)))
    assert following.key == expected_key
    assert (following.start, following.end) == (D(expected_start), D(expected_end))
    assert following.data_from == D("2025-12-15")


def test_next_quarter_within_a_year():
    assert next_period(period_containing(Cadence.QUARTERLY, D("2025-02-01"))).key == "2025-Q2"


def test_120_monthly_periods_from_january_2025_have_no_gaps_or_overlaps_and_end_on_the_true_month_end():
    periods = [period_containing(Cadence.MONTHLY, D("2025-01-01"))]
    for _ in range(119):
        periods.append(next_period(periods[-1]))
    assert periods[0].start == D("2025-01-01")
    assert periods[-1].key == "2034-M12" and periods[-1].end == D("2034-12-31")
    for before, after in pairwise(periods):
        assert after.start == before.end + timedelta(days=1)
    for p in periods:
        assert p.end == date(p.year, p.index, gregorian.monthrange(p.year, p.index)[1])
        assert (p.end + timedelta(days=1)).day == 1
    ends = {p.end for p in periods}
    assert {D("2025-02-28"), D("2028-02-29"), D("2025-04-30"), D("2025-01-31")} <= ends
    assert D("2028-02-28") not in ends  # a fixed-length repeat would have stopped here


# --- periods_between ----------------------------------------------------------------------------------


def test_periods_between_keeps_periods_whose_end_falls_in_the_range():
    # Q1 ends 31 Mar (outside), Q2 and Q3 end inside, Q4 ends 31 Dec (outside).
    keys = [p.key for p in periods_between(Cadence.QUARTERLY, D("2025-04-01"), D("2025-09-30"))]
    assert keys == ["2025-Q2", "2025-Q3"]


def test_periods_between_includes_both_bounds_and_skips_years_without_an_end_inside():
    assert [p.key for p in periods_between(Cadence.MONTHLY, D("2025-01-31"), D("2025-03-31"))] == [
        "2025-M01", "2025-M02", "2025-M03",
    ]
    halves = periods_between(Cadence.HALF_YEARLY, D("2025-07-01"), D("2027-06-29"))
    assert [p.key for p in halves] == ["2026-H1"]
    assert periods_between(Cadence.MONTHLY, D("2025-05-01"), D("2025-04-01")) == []


# --- update_due with the real calendar ----------------------------------------------------------------


def test_august_2025_update_moves_past_the_weekend_and_national_day_to_wednesday_3_september(calendar):
    aug = period_containing(Cadence.MONTHLY, D("2025-08-15"))
    assert aug.end == D("2025-08-31") and aug.end.weekday() == 6  # Sunday
    assert not calendar.is_working_day(D("2025-09-01")) and not calendar.is_working_day(D("2025-09-02"))
    due = update_due(aug, calendar)
    assert due == end_of("2025-09-03")
    assert due.tzinfo is not None and due.utcoffset() == timedelta(hours=7)


def test_grace_days_are_counted_after_the_moved_deadline(calendar):
    aug = period_containing(Cadence.MONTHLY, D("2025-08-15"))
    assert update_due(aug, calendar, 1) == end_of("2025-09-04")
    assert update_due(aug, calendar, 2) == end_of("2025-09-05")


def test_january_2026_ends_on_saturday_so_the_update_is_due_at_the_end_of_monday_2_february(calendar):
    jan = period_containing(Cadence.MONTHLY, D("2026-01-10"))
    assert jan.end == D("2026-01-31") and jan.end.weekday() == 5  # Saturday
    assert update_due(jan, calendar) == end_of("2026-02-02")


def test_december_2025_update_on_a_working_day_with_grace_skips_new_year_and_the_announced_swap(calendar):
    dec = period_containing(Cadence.MONTHLY, D("2025-12-01"))
    assert update_due(dec, calendar) == end_of("2025-12-31")  # Wednesday, a working day
    # 1 Jan 2026 is the holiday, Fri 2 Jan is swapped off (made up on Sat 10 Jan): next is Mon 5 Jan.
    assert update_due(dec, calendar, 1) == end_of("2026-01-05")


def test_april_2026_ends_on_victory_day_so_the_update_waits_for_monday_4_may(calendar):
    apr = period_containing(Cadence.MONTHLY, D("2026-04-01"))
    assert update_due(apr, calendar) == end_of("2026-05-04")


def test_q1_2025_and_first_half_2025_end_on_working_mondays_and_are_due_that_day(calendar):
    q1 = period_containing(Cadence.QUARTERLY, D("2025-01-15"))
    h1 = period_containing(Cadence.HALF_YEARLY, D("2025-01-15"))
    assert update_due(q1, calendar) == end_of("2025-03-31")
    assert update_due(h1, calendar) == end_of("2025-06-30")


def test_negative_grace_is_rejected(calendar):
    with pytest.raises(ValueError):
        update_due(period_containing(Cadence.MONTHLY, D("2025-01-01")), calendar, -1)


def test_periods_are_immutable_values():
    a = period_containing(Cadence.MONTHLY, D("2025-04-01"))
    b = period_containing(Cadence.MONTHLY, D("2025-04-30"))
    assert a == b and hash(a) == hash(b) and isinstance(a, Period)
    with pytest.raises(AttributeError):
        a.year = 2026  # type: ignore[misc]


@pytest.mark.parametrize("cadence", list(Cadence))
def test_every_period_key_names_its_period_and_nothing_else_does(cadence):
    for period in periods_between(cadence, date(2024, 1, 1), date(2026, 12, 31)):
        assert period_from_key(period.key) == period
    for bad in ("2025-M6", "2025-Q02", "2025-Q5", "2025-M13", "2025-H2", "25-Q1", "2025", "x-Q1", "2025-Q", ""):
        with pytest.raises(ValueError):
            period_from_key(bad)


@pytest.mark.parametrize("cadence", list(Cadence))
def test_previous_period_undoes_next_period(cadence):
    for period in periods_between(cadence, date(2024, 1, 1), date(2026, 12, 31)):
        assert previous_period(next_period(period)) == period


@pytest.mark.parametrize("cadence, today, key", [
    ("monthly", date(2025, 6, 14), "2025-M05"),     # June's cut-off day is not over on the 14th
    ("monthly", date(2025, 6, 15), "2025-M06"),
    ("quarterly", date(2025, 6, 15), "2025-Q2"),
    ("quarterly", date(2025, 8, 1), "2025-Q2"),
    ("quarterly", date(2025, 1, 10), "2024-Q4"),
    ("half_yearly", date(2025, 6, 15), "2025-H1"),
    ("half_yearly", date(2025, 6, 14), "2024-H1"),
    ("nine_months", date(2025, 12, 31), "2025-9M"),
    ("yearly", date(2025, 12, 15), "2025-Y"),
    ("yearly", date(2025, 12, 14), "2024-Y"),
])
def test_the_last_cut_off_is_the_latest_period_whose_cut_off_day_is_over(cadence, today, key):
    assert last_cut_off(cadence, today).key == key
