"""The one source of "now" for the engine, SpiffWorkflow's own timer code included.

The clock in effect is a context variable: each use case sets it for its duration, so tests, the
CLI and the timer worker each decide what "now" is. SpiffWorkflow reads the time inside its timer
module with no hook (docs/spiffworkflow.md, trap 3); `engine.bpmn.timer_clock` routes it here.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that can tell the current instant as an aware datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """Return the current instant in UTC."""
        return datetime.now(UTC)


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
    token = _current.set(clock)
    try:
        yield clock
    finally:
        _current.reset(token)
