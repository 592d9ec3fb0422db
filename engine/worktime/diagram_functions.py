"""The project functions that diagram expressions, conditions and timers may call.

Timer texts are Python expressions evaluated when the timer is armed (docs/spiffworkflow.md, trap 1) and must return
an ISO 8601 string. Every duration comes from a named setting, never from a number in a
diagram; every deadline is counted from an explicit event time kept in task data, so that a
timer re-armed after a setting changes is counted from the same event, not from the re-arm.
"""
from __future__ import annotations

import ast
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from engine.core import clock
from engine.core.errors import InvalidInput
from engine.worktime.calendar import TZ, WorkingCalendar
from engine.worktime.timer_settings import TimerSetting


class DiagramFunctions:
    """Builds the allow-listed functions over a calendar and a lookup of timer settings."""

    def __init__(self, calendar: Callable[[], WorkingCalendar], setting: Callable[[str], TimerSetting]):
        self._calendar = calendar
        self._setting = setting

    def as_dict(self) -> dict[str, Callable[..., Any]]:
        """The functions by the names diagrams use."""
        return {"now": self.now, "deadline": self.deadline, "reminder": self.reminder,
                "after_date": self.after_date, "before_date": self.before_date}

    def now(self) -> str:
        """The current instant (from the engine clock) as an ISO string, to record an event time."""
        return clock.now().astimezone(TZ).isoformat()

    def deadline(self, setting: str, since: str) -> str:
        """The instant the named duration ends, counted from the event time `since` (ISO)."""
        return self._setting(setting).end_after(_parse(since), self._calendar()).isoformat()

    def reminder(self, deadline_setting: str, before_setting: str, since: str) -> str:
        """When to remind: `before_setting` working days before the end of `deadline_setting`."""
        calendar = self._calendar()
        end = self._setting(deadline_setting).end_after(_parse(since), calendar)
        return _remind_before(calendar, end, self._setting(before_setting).value)

    def after_date(self, setting: str, day: str) -> str:
        """End of the N-th working day after a deadline date (Art. 8.1.a: update at the latest 1 working day after)."""
        calendar = self._calendar()
        # Art. 148.5 first: a deadline on a day off runs to the end of the next working day;
        # the N working days are counted after that day, as engine/periods.update_due does.
        last = (calendar.deadline_end(date.fromisoformat(str(day)[:10])).astimezone(TZ)
                - timedelta(microseconds=1)).date()
        for _ in range(self._setting(setting).value):
            last = calendar.first_working_day_after(last)
        return calendar.deadline_end(last).isoformat()

    def before_date(self, setting: str, day: str) -> str:
        """Start of the working day from which N working days remain until a deadline date (reminders)."""
        calendar = self._calendar()
        end = calendar.deadline_end(date.fromisoformat(str(day)[:10]))
        return _remind_before(calendar, end, self._setting(setting).value)


def _remind_before(calendar: WorkingCalendar, end: datetime, before: int) -> str:
    # A deadline ends at 24:00 of its last day. Remind at the start of the working day from
    # which `before` working days remain, that day and the last day included.
    last_day = (end.astimezone(TZ) - timedelta(microseconds=1)).date()
    day = calendar.subtract_working_days(last_day, before - 1) if before > 0 else last_day
    return datetime.combine(day, time.min, TZ).isoformat()


def settings_referenced(expression: str) -> set[str]:
    """Names of the timer settings an expression passes to deadline() or reminder()."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        return set()
    return {arg.value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in ("deadline", "reminder", "after_date", "before_date")
            for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            and arg is not node.args[-1]}


def _parse(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as error:
        raise InvalidInput("not_iso_datetime", value=repr(value)) from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=TZ)
