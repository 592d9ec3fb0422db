"""A calendar or timer settings assumed for a moment: "what would the due dates be if ...".

Admins see, before they save a setting or a calendar override, which running timers and ready tasks'
due dates it would move. The diagram functions read the calendar and the settings through the unit
of work in progress (engine/worktime/diagram_functions.py); inside `assuming(...)` they read the
assumed ones instead, so the same evaluation that apply runs gives the preview, and nothing is written.
The assumption lives in a context variable: other threads and requests never see it.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.worktime.calendar import WorkingCalendar
    from engine.worktime.timer_settings import TimerSetting


@dataclass(frozen=True)
class Assumption:
    """A calendar (None: the real one) and settings by name (missing: the real ones) to use instead."""

    calendar: WorkingCalendar | None = None
    settings: dict[str, TimerSetting] = field(default_factory=dict)


_assumed: contextvars.ContextVar[Assumption | None] = contextvars.ContextVar("assumed", default=None)


@contextlib.contextmanager
def assuming(assumption: Assumption) -> Iterator[None]:
    """Within this block the calendar and settings of `assumption` replace the stored ones."""
    token = _assumed.set(assumption)
    try:
        yield
    finally:
        _assumed.reset(token)


def calendar() -> WorkingCalendar | None:
    """The assumed calendar, if one is in effect."""
    assumed = _assumed.get()
    return assumed.calendar if assumed is not None else None


def setting(name: str) -> TimerSetting | None:
    """The assumed value of a setting, if one is in effect."""
    assumed = _assumed.get()
    return assumed.settings.get(name) if assumed is not None else None
