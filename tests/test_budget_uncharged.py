"""What diagram code sets off without owning is not charged to its time budget (engine/bpmn/budget):
a full garbage collection walks the whole process's heap, and a cache filled on first use (a calendar
year) serves every step after. On a slow machine either could use a step's whole second and put a
correct instance in error, which CI once saw (a timer's `after_date` in task_followup)."""
from __future__ import annotations

import gc
import time

import pytest

from engine.bpmn import budget
from engine.bpmn.sandbox import SandboxEnvironment
from engine.worktime import calendar

SECONDS = 0.5


def _busy(seconds: float) -> None:
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def _env(**functions) -> SandboxEnvironment:
    return SandboxEnvironment(functions, budget.Limits(seconds=SECONDS))


def _step(env: SandboxEnvironment) -> None:
    # One step: a function call, then code that passes checkpoints once the deadline has passed.
    with budget.scope(SECONDS):
        env.execute("work()\nx = [i for i in range(1000)]", {})
        env.evaluate("len(x) + 1", {"x": []})


def test_work_inside_uncharged_is_not_charged_and_the_same_work_outside_is():
    def fill_cache():
        with budget.uncharged():
            _busy(SECONDS + 0.2)

    _step(_env(work=fill_cache))
    with pytest.raises(budget.BudgetExceeded, match="time budget"):
        _step(_env(work=lambda: _busy(SECONDS + 0.2)))


class _Slow:
    """Garbage in a reference cycle whose finalizer runs for a while inside the collection."""

    def __init__(self):
        self.me = self

    def __del__(self):
        _busy(SECONDS + 0.2)


@pytest.fixture
def no_automatic_collection():
    gc.collect()
    gc.disable()  # the collection must happen where the test calls it, not at a random allocation
    yield
    gc.enable()


@pytest.mark.usefixtures("no_automatic_collection")
def test_a_full_collection_is_not_charged_but_a_young_one_is():
    _Slow()
    _step(_env(work=lambda: gc.collect(2)))
    _Slow()
    with pytest.raises(budget.BudgetExceeded, match="time budget"):
        _step(_env(work=lambda: gc.collect(0)))  # what the running code just made: its own


def test_the_first_step_to_need_a_calendar_year_does_not_pay_for_building_it(monkeypatch):
    real = calendar.statutory_holidays

    def slow_machine(year):
        _busy(SECONDS + 0.2)
        return real(year)

    monkeypatch.setattr(calendar, "statutory_holidays", slow_machine)
    shared = calendar.WorkingCalendar()
    _step(_env(work=lambda: shared.is_working_day(calendar.date(2031, 5, 2))))
    assert not shared.is_working_day(calendar.date(2031, 5, 1))  # built, and kept
