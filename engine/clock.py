"""The one source of "now" for the engine, SpiffWorkflow's own timer code included.

SpiffWorkflow reads `datetime.now(timezone.utc)` inside its timer module and offers no hook
(trap 3), so `install()` swaps that module's `datetime` for a subclass whose `now()` asks the
clock in effect. The clock in effect is a context variable: each use case sets it for its
duration, so tests, the CLI and the timer worker each decide what "now" is.
"""
from __future__ import annotations

import contextlib
import contextvars
import threading
from datetime import datetime, timedelta, timezone
from typing import Iterator, Protocol


class Clock(Protocol):
    """Anything that can tell the current instant as an aware datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """Return the current instant in UTC."""
        return datetime.now(timezone.utc)


class FixedClock:
    """A clock that only moves when told to: for tests and on-demand timer runs."""

    def __init__(self, at: datetime):
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at

    def now(self) -> datetime:
        """Return the instant this clock is set to."""
        return self._at

    def set(self, at: datetime) -> None:
        """Move the clock to an instant."""
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward."""
        self._at += delta


SYSTEM_CLOCK = SystemClock()
_current: contextvars.ContextVar[Clock] = contextvars.ContextVar("clock", default=SYSTEM_CLOCK)


def now() -> datetime:
    """Return "now" from the clock in effect."""
    return _current.get().now()


@contextlib.contextmanager
def in_effect(clock: Clock) -> Iterator[Clock]:
    """Make `clock` the source of "now" for the code run inside the block."""
    install()
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)


class _ClockDatetime(datetime):
    """A datetime class whose now() reads the clock in effect."""

    @classmethod
    def now(cls, tz=None):  # noqa: D401 - mirrors datetime.now
        instant = _current.get().now()
        return instant.astimezone(tz) if tz is not None else instant.astimezone().replace(tzinfo=None)


_install_lock = threading.Lock()


def install() -> None:
    """Route SpiffWorkflow's timer module through the clock in effect (idempotent)."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    if timer.datetime is _ClockDatetime:
        return
    with _install_lock:
        timer.datetime = _ClockDatetime
