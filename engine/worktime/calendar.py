"""Working days of Vietnamese public servants and deadlines counted in them.

Counting follows the Civil Code 2015 (Art. 147: the day of the event is not counted; Art. 148.5: a
deadline on a day off moves to the next working day). Days off follow the Labour Code 2019 (Art.
111-112) as computed by the `holidays` package, plus the schedules the Government announces each year,
kept as data (`Override`) because swaps are political decisions that no formula can derive.
"""
from __future__ import annotations

import enum
import json
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

from engine.bpmn import budget

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
STATUTORY_SOURCE = "Bộ luật Lao động 2019, Điều 112"

# The Art. 112 holidays as `holidays` names them in Vietnamese. The package also carries its own copy of
# announced swaps (one of them, 31 Aug 2026, unconfirmed) and 24 Nov from 2026 (a Party resolution, not
# yet law). Those are not statutory: swaps belong in the overrides table, each with its document, and an
# admin adds 24 Nov when it becomes law. A whitelist rather than a blacklist, so that whatever the
# package adds in a later version never silently becomes a day off (a test guards against renames).
STATUTORY_NAMES = frozenset({
    "Tết Dương lịch",
    "29 Tết",
    "Giao thừa Tết Nguyên Đán",
    "Tết Nguyên Đán",
    "Mùng hai Tết Nguyên Đán",
    "Mùng ba Tết Nguyên Đán",
    "Mùng bốn Tết Nguyên Đán",
    "Mùng năm Tết Nguyên Đán",
    "Mùng sáu Tết Nguyên Đán",
    "Ngày Giỗ Tổ Hùng Vương",
    "Ngày Chiến thắng",
    "Ngày Quốc tế Lao động",
    "Quốc khánh",
})
# Labels the package appends to compensatory (Art. 111.3) and estimated lunar dates.
_NAME_SUFFIXES = (" (nghỉ bù, dự kiến)", " (nghỉ bù)", " (dự kiến)")


class OverrideKind(str, enum.Enum):
    """Direction of an announced change against the statutory base."""

    DAY_OFF = "day_off"
    WORKING_DAY = "working_day"


@dataclass(frozen=True)
class Override:
    """One announced change against the statutory base (an extra day off or a make-up working day)."""

    day: date
    kind: OverrideKind
    reason: str
    source: str


@dataclass(frozen=True)
class DayOff:
    """A day that breaks the Mon-Fri rule: a weekday off (DAY_OFF) or a weekend working day (WORKING_DAY)."""

    day: date
    kind: OverrideKind
    reason: str
    source: str


def load_overrides(path: str | Path) -> list[Override]:
    """Read the seed JSON file (a list under "overrides" of date, kind, reason, source)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    result = []
    for entry in data["overrides"]:
        reason, source = entry.get("reason", "").strip(), entry.get("source", "").strip()
        if not reason or not source:
            raise ValueError(f"override {entry.get('date')} needs a reason and a source")
        result.append(Override(date.fromisoformat(entry["date"]), OverrideKind(entry["kind"]), reason, source))
    return result


def statutory_holidays(year: int) -> dict[date, str]:
    """The Labour Code Art. 112 holidays of a year, compensatory days included, as the package names them."""
    package = holidays.VN(years=year, language="vi")
    result = {}
    for day in package:
        kept = [n for n in package.get_list(day) if _base_name(n) in STATUTORY_NAMES]
        if kept:
            result[day] = "; ".join(kept)
    return result


def _base_name(name: str) -> str:
    for suffix in _NAME_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _local_date(value: date | datetime) -> date:
    # A datetime is a date too, and would silently miss every set lookup: always reduce to the local date.
    if isinstance(value, datetime):
        return (value.replace(tzinfo=TZ) if value.tzinfo is None else value.astimezone(TZ)).date()
    return value


def _end_of(day: date) -> datetime:
    # 24:00 of a day is represented as 00:00 of the next, so comparisons with "now" need no special case.
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=TZ)


@dataclass(frozen=True)
class _Year:
    working: tuple[date, ...]  # sorted, for bisect
    working_set: frozenset[date]
    exceptions: tuple[DayOff, ...]


class WorkingCalendar:
    """Working days of Vietnamese public servants: statutory holidays from `holidays` (VN) plus announced overrides."""

    def __init__(self, overrides: Iterable[Override] = ()):
        self._overrides: dict[date, Override] = {}
        for override in overrides:
            if override.day in self._overrides:
                raise ValueError(f"two overrides for {override.day.isoformat()}")
            self._overrides[override.day] = override
        self._years: dict[int, _Year] = {}

    def is_working_day(self, day: date) -> bool:
        """Whether public offices work on this day."""
        day = _local_date(day)
        return day in self._year(day.year).working_set

    def days_off(self, year: int) -> list[DayOff]:
        """Every weekday off and every weekend working day of a year, with reason and source."""
        return list(self._year(year).exceptions)

    def add_working_days(self, event: datetime, n: int) -> datetime:
        """End (24:00 local) of the n-th working day after the event's day (Civil Code Art. 147)."""
        return _end_of(self.working_day_deadline(event, n))

    def working_day_deadline(self, event: datetime, n: int) -> date:
        """Date of the n-th working day after the event's local date (the event day itself when n == 0)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        day = _local_date(event)
        return day if n == 0 else self._nth_after(day, n)

    def first_working_day_after(self, day: date) -> date:
        """First working day strictly after day ("1 working day after the deadline")."""
        return self._nth_after(_local_date(day), 1)

    def deadline_end(self, day: date) -> datetime:
        """End of a deadline fixed as a date: 24:00 of it, or of the next working day if it is off (Art. 148.5)."""
        day = _local_date(day)
        return _end_of(day if self.is_working_day(day) else self.first_working_day_after(day))

    def subtract_working_days(self, day: date, n: int) -> date:
        """The n-th working day before day (day itself when n == 0)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        day = _local_date(day)
        if n == 0:
            return day
        year = day.year
        while True:
            working = self._year(year).working
            i = bisect_left(working, day)  # working days strictly before day, in this year
            if n <= i:
                return working[i - n]
            n -= i
            year -= 1

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days in (start, end]; negative when end is before start."""
        start, end = _local_date(start), _local_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            bisect_right(w, end) - bisect_right(w, start)
            for w in (self._year(y).working for y in range(start.year, end.year + 1))
        )

    def _nth_after(self, day: date, n: int) -> date:
        year = day.year
        while True:
            working = self._year(year).working
            i = bisect_right(working, day)  # first working day after day, in this year
            if i + n <= len(working):
                return working[i + n - 1]
            n -= len(working) - i
            year += 1

    def _year(self, year: int) -> _Year:
        # Built on first use and kept: building costs a `holidays` run and a pass over 365 days.
        cached = self._years.get(year)
        if cached is None:
            with budget.uncharged():  # a cache: the first diagram step to need the year does not pay
                cached = self._years[year] = self._build_year(year)
        return cached

    def _build_year(self, year: int) -> _Year:
        statutory = statutory_holidays(year)
        working, exceptions = [], []
        day = date(year, 1, 1)
        while day.year == year:
            weekday = day.weekday() < 5
            override = self._overrides.get(day)
            if override is not None:
                works = override.kind is OverrideKind.WORKING_DAY
            else:
                works = weekday and day not in statutory
            if works:
                working.append(day)
            if works != weekday:
                # The announced document is the more precise source, even when the statute also applies.
                exceptions.append(
                    DayOff(day, override.kind, override.reason, override.source)
                    if override is not None
                    else DayOff(day, OverrideKind.DAY_OFF, statutory[day], STATUTORY_SOURCE)
                )
            day += timedelta(days=1)
        return _Year(tuple(working), frozenset(working), tuple(exceptions))
