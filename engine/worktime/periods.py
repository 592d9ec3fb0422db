"""Reporting periods of the periodic updates (Art. 8.1.b) and self-inspection reports (Art. 17.1).

Boundaries are computed on the calendar, never as ISO 8601 repeating durations: `R/P1M` in most timer
implementations adds a fixed span and drifts off month ends (31 Jan + P1M lands on 28 Feb, then 28 Mar).
Each period also carries its data window (chốt số liệu) per Decree 09/2019/NĐ-CP Art. 12.

Only the first half of a year has a 6-month report and only January-September a 9-month report: the
rest of the year is covered by the annual report. So a HALF_YEARLY period is always 1 Jan-30 Jun, a
NINE_MONTHS period always 1 Jan-30 Sep, and a day after that span belongs to next year's period.
"""
from __future__ import annotations

import calendar as _gregorian
import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from engine.core.i18n import Message
from engine.worktime.calendar import TZ, WorkingCalendar

# Decree 09/2019 Art. 12 cuts data off on the 14th and starts the next window on the 15th.
_CUTOFF_DAY = 14
_ROMAN = ("I", "II", "III", "IV")


class Cadence(str, enum.Enum):
    """How often a periodic update or report recurs (Art. 8.1.b, Art. 17.1)."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    NINE_MONTHS = "nine_months"
    YEARLY = "yearly"

    @property
    def label_key(self) -> str:
        """Its label's key in the catalog."""
        return f"cadence.{self.value}"


# For each cadence: number of periods in a year and the months (first, last) of period `index`.
_PER_YEAR = {
    Cadence.MONTHLY: 12,
    Cadence.QUARTERLY: 4,
    Cadence.HALF_YEARLY: 1,
    Cadence.NINE_MONTHS: 1,
    Cadence.YEARLY: 1,
}


def _months(cadence: Cadence, index: int) -> tuple[int, int]:
    if cadence is Cadence.MONTHLY:
        return index, index
    if cadence is Cadence.QUARTERLY:
        return 3 * index - 2, 3 * index
    return 1, {Cadence.HALF_YEARLY: 6, Cadence.NINE_MONTHS: 9, Cadence.YEARLY: 12}[cadence]


@dataclass(frozen=True)
class Period:
    """One reporting period: its calendar span and its Decree 09/2019 Art. 12 data window."""

    cadence: Cadence
    year: int
    index: int  # month 1-12, quarter 1-4, or 1 for the 6-month, 9-month and annual periods
    start: date
    end: date
    data_from: date
    data_to: date

    @property
    def label(self) -> str:
        """Vietnamese label as used in report titles, e.g. "Quý II/2025"."""
        return self.caption.text("vi")

    @property
    def caption(self) -> Message:
        """The label in any language ("Quý II/2025", "Quarter II/2025"), from the catalog."""
        return Message(f"period.{self.cadence.value}", {"index": self.index, "roman": _ROMAN[(self.index - 1) % 4],
                                                          "year": self.year})

    @property
    def key(self) -> str:
        """Stable identifier that sorts chronologically within a cadence, e.g. "2025-Q2"."""
        if self.cadence is Cadence.MONTHLY:
            return f"{self.year}-M{self.index:02d}"
        if self.cadence is Cadence.QUARTERLY:
            return f"{self.year}-Q{self.index}"
        return {
            Cadence.HALF_YEARLY: f"{self.year}-H1",
            Cadence.NINE_MONTHS: f"{self.year}-9M",
            Cadence.YEARLY: f"{self.year}-Y",
        }[self.cadence]


def _period(cadence: Cadence, year: int, index: int) -> Period:
    # The single place where a Period is built, so every instance is consistent with its cadence.
    if not 1 <= index <= _PER_YEAR[cadence]:
        raise ValueError(f"{cadence.value} period index must be 1..{_PER_YEAR[cadence]}, got {index}")
    first, last = _months(cadence, index)
    start = date(year, first, 1)
    end = date(year, last, _gregorian.monthrange(year, last)[1])
    # The window opens on the 15th of the month before the first month (December of the previous year
    # for January), so consecutive monthly and quarterly windows tile without gaps.
    data_from = date(year - 1, 12, 15) if first == 1 else date(year, first - 1, _CUTOFF_DAY + 1)
    data_to = date(year, last, _CUTOFF_DAY)
    return Period(cadence, year, index, start, end, data_from, data_to)


def period_containing(cadence: Cadence | str, day: date) -> Period:
    """The first period of the cadence whose last day is on or after `day` (its span contains `day`)."""
    cadence = Cadence(cadence)  # admin settings arrive as plain strings
    if isinstance(day, datetime):
        # A datetime is a date too; reduce it to its local date instead of silently using its UTC date.
        day = (day.replace(tzinfo=TZ) if day.tzinfo is None else day.astimezone(TZ)).date()
    if cadence is Cadence.MONTHLY:
        return _period(cadence, day.year, day.month)
    if cadence is Cadence.QUARTERLY:
        return _period(cadence, day.year, (day.month - 1) // 3 + 1)
    # One period a year that may end before December: past its end, the next one is next year's.
    current = _period(cadence, day.year, 1)
    return current if day <= current.end else _period(cadence, day.year + 1, 1)


_KEY_SUFFIXES = {"H1": Cadence.HALF_YEARLY, "9M": Cadence.NINE_MONTHS, "Y": Cadence.YEARLY}


def period_from_key(key: str) -> Period:
    """The period a key names ("2025-M06", "2025-Q2", "2025-H1", "2025-9M", "2025-Y"); ValueError if none."""
    year, _, rest = key.partition("-")
    if not (year.isdigit() and len(year) == 4 and rest):
        raise ValueError(f"not a period key: {key!r}")
    if rest in _KEY_SUFFIXES:
        return _period(_KEY_SUFFIXES[rest], int(year), 1)
    cadence = {"M": Cadence.MONTHLY, "Q": Cadence.QUARTERLY}.get(rest[0])
    if cadence is None or not rest[1:].isdigit():
        raise ValueError(f"not a period key: {key!r}")
    period = _period(cadence, int(year), int(rest[1:]))
    if period.key != key:   # "2025-M6" or "2025-Q02": one spelling per period
        raise ValueError(f"not a period key: {key!r}")
    return period


def next_period(period: Period) -> Period:
    """The period of the same cadence that follows `period`."""
    if period.index < _PER_YEAR[period.cadence]:
        return _period(period.cadence, period.year, period.index + 1)
    return _period(period.cadence, period.year + 1, 1)


def previous_period(period: Period) -> Period:
    """The period of the same cadence that precedes `period`."""
    if period.index > 1:
        return _period(period.cadence, period.year, period.index - 1)
    return _period(period.cadence, period.year - 1, _PER_YEAR[period.cadence])


def last_cut_off(cadence: Cadence | str, today: date) -> Period:
    """The latest period of the cadence whose data cut-off day (data_to) is over by `today`."""
    period = period_containing(cadence, today)
    while period.data_to >= today:
        period = previous_period(period)
    return period


def periods_between(cadence: Cadence | str, start: date, end: date) -> list[Period]:
    """The periods of the cadence whose last day falls in [start, end], in order (empty if end < start)."""
    result = []
    period = period_containing(cadence, start)  # the first period ending on or after start
    while period.end <= end:
        result.append(period)
        period = next_period(period)
    return result


def update_due(period: Period, calendar: WorkingCalendar, grace_setting_days: int = 0) -> datetime:
    """When the periodic update for `period` is due, as an aware datetime in Asia/Ho_Chi_Minh."""
    if grace_setting_days < 0:
        raise ValueError("grace_setting_days must be >= 0")
    # The period's last day is the deadline date; on a day off it moves to the end of the next working
    # day (Civil Code Art. 148.5).
    due = calendar.deadline_end(period.end)
    if grace_setting_days > 0:
        # Grace is counted after the moved deadline, not after the raw end date: counted from a day off,
        # 1 grace day could land on the very day the move already gave, making the setting a no-op.
        # `due` is 00:00 of the following day, so the moved deadline's own date is one microsecond back.
        moved_day = (due - timedelta(microseconds=1)).date()
        due = calendar.add_working_days(datetime.combine(moved_day, time(0), tzinfo=TZ), grace_setting_days)
    return due
