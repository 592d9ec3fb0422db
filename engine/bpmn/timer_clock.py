"""SpiffWorkflow's timers read "now" from the engine's clock in effect, not the machine's.

SpiffWorkflow calls `datetime.now(timezone.utc)` inside its timer module and offers no hook
(docs/spiffworkflow.md, trap 3), so `install()` swaps that module's `datetime` for a subclass
whose `now()` asks `engine.core.clock`.
"""
from __future__ import annotations

import threading
from datetime import datetime

from engine.core import clock


class _ClockDatetime(datetime):
    """A datetime class whose now() reads the clock in effect."""

    @classmethod
    def now(cls, tz=None):  # noqa: D401 - mirrors datetime.now
        instant = clock.now()
        return instant.astimezone(tz) if tz is not None else instant.astimezone().replace(tzinfo=None)


_install_lock = threading.Lock()


def install() -> None:
    """Route SpiffWorkflow's timer module through the clock in effect (idempotent)."""
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    if timer.datetime is _ClockDatetime:
        return
    with _install_lock:
        timer.datetime = _ClockDatetime
