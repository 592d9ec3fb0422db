"""The budget's limits, the code running now (per thread), its deadline and memory, and the
walk that measures values and task data. See the package's doc."""
from __future__ import annotations

import contextlib
import gc
import os
import threading
import time
from dataclasses import dataclass

INT_BITS = 10_000            # largest integer `*`, `**` or `<<` may build (about 3,000 digits)
MAX_DEPTH = 100              # deepest nesting of the task data diagram code may leave
MEMORY_SAMPLE_SECONDS = 0.001

# Instrumented code reaches the guards as attributes of one global, `_sb` (a name diagram code cannot
# write: names starting with '_' are refused), which the sandbox sets after the task data.
NAMESPACE = "_sb"
TICK, CALL, AUG_ITEM, SLICE, STAR, FMT, CMP, CMP_IN, KEY = (
    "tick", "call", "aug_item", "slice", "star", "fmt", "cmp", "cmp_in", "key")


@dataclass(frozen=True)
class Limits:
    """What one piece of diagram code may use (engine/core/config.py: DIAGRAM_*)."""

    seconds: float = 1.0
    memory_bytes: int = 100_000_000
    max_items: int = 100_000

    @property
    def max_chars(self) -> int:
        """Longest text one operation may build."""
        return self.max_items * 10

    @classmethod
    def from_config(cls, config) -> Limits:
        """The limits set in the engine's settings."""
        return cls(config.diagram_time_limit, config.diagram_memory_limit, config.diagram_max_items)


class BudgetExceeded(Exception):
    """Diagram code ran over its time or memory budget, or tried to build or walk something too big."""

    def __init__(self, message: str):
        super().__init__(message)  # args[0] is a str: SpiffWorkflow builds its message from it


# ---- the code running now, per thread --------------------------------------------------------

class _State(threading.local):
    run: _Run | None = None      # the expression or script running in this thread
    scope: _Scope | None = None  # the step it is charged to
    uncharged: float = 0.0       # CPU seconds this thread spent on work that was not the diagram's
    exempt_since: float | None = None  # CPU clock when such work began, while it runs
    gc_owner: bool = False       # the running full collection began the exemption


_state = _State()
# The deadline is watched on the wall clock, which is cheap to read at every checkpoint, but charged in
# the thread's CPU time: a step that waited (for the GIL among a web worker's threads, for a busy
# machine, for the database inside a diagram function) did not run, and a slow machine is not a fault
# of the diagram. When the wall deadline passes, the CPU spent decides: over the budget, it fails; under,
# the deadline moves by what is left. A runaway burns CPU, so it is still stopped.
_now = time.monotonic
_cpu = time.thread_time


def _charged() -> float:
    """CPU seconds this thread has run, less the work that is never the diagram's (`uncharged`)."""
    return _cpu() - _state.uncharged


@contextlib.contextmanager
def uncharged():
    """Engine work that diagram code sets off but does not own is not charged to it: a cache filled
    on first use (a calendar year built from the `holidays` package) costs the first step that needs
    it, on a slow machine enough to fail it, and nothing to the steps after."""
    owner = _exempt()
    try:
        yield
    finally:
        if owner:
            _charge_again()


def _exempt() -> bool:
    # True if this call starts the exemption; inside one already (a collection during a cache fill),
    # the outer one counts the time, so it is not taken off twice.
    if _state.exempt_since is not None:
        return False
    _state.exempt_since = _cpu()
    return True


def _charge_again() -> None:
    _state.uncharged += _cpu() - _state.exempt_since
    _state.exempt_since = None


def _watch_full_collections(phase: str, info: dict) -> None:
    # A full collection (generation 2) walks every object of the process, which the diagram did not
    # make: in a worker with a large heap it takes hundreds of ms, whichever code happened to trigger
    # it. Younger generations hold mostly what the running code just allocated, and stay charged.
    if info.get("generation") != 2:
        return
    if phase == "start":
        _state.gc_owner = _exempt()
    elif _state.gc_owner:
        _state.gc_owner = False
        _charge_again()


_watching = {"lock": threading.Lock(), "installed": False}


def _watch() -> None:
    # Installed on first use rather than at import (no code at import time), once per process; the
    # flag keeps the check off the list on every expression.
    if not _watching["installed"]:
        with _watching["lock"]:
            if not _watching["installed"]:
                gc.callbacks.append(_watch_full_collections)
                _watching["installed"] = True


class _Scope:
    __slots__ = ("remaining", "seconds")

    def __init__(self, seconds: float):
        self.remaining = self.seconds = seconds


class scope:  # noqa: N801 - used as a function: `with budget.scope(seconds):`
    """All the diagram code run inside shares `seconds` (one instance step); an inner scope joins the outer."""

    __slots__ = ("seconds", "outermost")

    def __init__(self, seconds: float):
        self.seconds, self.outermost = seconds, False

    def __enter__(self) -> None:
        self.outermost = _state.scope is None
        if self.outermost:
            _state.scope = _Scope(self.seconds)

    def __exit__(self, *_exc) -> None:
        if self.outermost:
            _state.scope = None


class _Run:
    """One expression or script being run: its deadline, its memory baseline, whether it failed."""

    __slots__ = ("limits", "started", "cpu_started", "allowed", "deadline", "seconds", "mem_next", "mem_base",
                 "failure", "outer", "soonest")

    def __init__(self, limits: Limits, outer: _Run | None):
        now = _now()
        budget = _state.scope
        self.limits, self.started, self.cpu_started, self.outer = limits, now, _charged(), outer
        self.seconds = limits.seconds if budget is None else min(limits.seconds, budget.seconds)
        self.allowed = left = limits.seconds if budget is None else min(limits.seconds, budget.remaining)
        self.deadline = now + left
        self.mem_next, self.mem_base, self.failure = now + MEMORY_SAMPLE_SECONDS, None, None
        self.soonest = min(self.deadline, self.mem_next)  # before this instant a checkpoint has nothing to do

    def check(self) -> bool:
        """Raise BudgetExceeded if the time or memory is spent (and from then on, every time)."""
        if self.failure is not None:
            raise BudgetExceeded(self.failure)
        now = _now()
        if now > self.deadline:
            unspent = self.allowed - self.spent()
            if unspent <= 0:
                self.fail(f"diagram code ran over its time budget ({self.seconds:g} s, DIAGRAM_TIME_LIMIT)")
            self.deadline = now + unspent  # it waited more than it ran: watch again when it could be spent
            self.soonest = min(self.deadline, self.mem_next)
        if now >= self.mem_next:
            self.mem_next = now + MEMORY_SAMPLE_SECONDS
            self.soonest = min(self.deadline, self.mem_next)
            resident = _resident_bytes()
            if self.mem_base is None:
                self.mem_base = resident
            elif resident - self.mem_base > self.limits.memory_bytes:
                self.fail(f"diagram code ran over its memory budget "
                          f"({self.limits.memory_bytes / 1e6:g} MB, DIAGRAM_MEMORY_LIMIT)")
        return True

    def spent(self) -> float:
        """CPU seconds this thread has run for the code since it began (see `_cpu`, `uncharged`)."""
        return _charged() - self.cpu_started

    def fail(self, message: str):
        """Remember the failure and raise it."""
        self.failure = message
        self.soonest = float("-inf")  # every later checkpoint takes the slow path and raises again
        raise BudgetExceeded(message)


def begin(limits: Limits) -> _Run:
    """Start the budget of one expression or script in this thread; pair with `end`."""
    _watch()
    run = _Run(limits, _state.run)
    if run.deadline <= run.started:
        raise BudgetExceeded(f"diagram code ran over its time budget ({run.seconds:g} s, DIAGRAM_TIME_LIMIT): "
                             "the diagram code of this step has used it all")
    _state.run = run
    return run


def end(run: _Run) -> None:
    """Close the budget opened by `begin`, charging the time spent to the scope in effect."""
    _state.run = run.outer
    budget = _state.scope
    if budget is not None:
        budget.remaining -= run.spent()


def _current() -> _Run:
    run = _state.run
    if run is None:  # a lambda kept somewhere and called later, outside any budget
        raise BudgetExceeded("diagram code can only run inside the sandbox")
    return run


_statm = {"pid": None, "fd": None}
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _resident_bytes() -> int:
    """The process's resident memory (Linux /proc; elsewhere its peak, which only grows)."""
    pid = os.getpid()
    if _statm["pid"] != pid:  # first use, or a forked child: /proc/self was resolved at open
        try:
            _statm["fd"] = os.open("/proc/self/statm", os.O_RDONLY)
        except OSError:
            _statm["fd"] = None
        _statm["pid"] = pid
    if _statm["fd"] is not None:
        return int(os.pread(_statm["fd"], 128, 0).split()[1]) * _PAGE
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ---- walking a value as a comparison, a hash, str() or the serializer would -------------------

def _walk(value, limits: Limits, what: str) -> None:
    """Refuse `value` if `what` (comparing, printing...) would visit more than max_items values."""
    kind = type(value)
    if kind not in _CONTAINERS:
        return
    nodes, chars, stack = 0, 0, [value]  # counted as pushed, so a huge list is refused before it is pushed
    max_nodes, max_chars = limits.max_items, limits.max_chars
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bytes:
            chars += len(item)
            if chars > max_chars:
                break
        elif kind is dict:
            nodes += 2 * len(item)
            if nodes > max_nodes:
                break
            stack.extend(item)
            stack.extend(item.values())
        elif kind in _CONTAINERS:
            nodes += len(item)
            if nodes > max_nodes:
                break
            stack.extend(item)
    else:
        return
    _current().fail(f"{what} a value of more than {limits.max_items} items (or {max_chars} characters) "
                    "is not allowed (DIAGRAM_MAX_ITEMS)")


_CONTAINERS = frozenset((list, tuple, dict, set, frozenset))


def check_data(data: dict, limits: Limits) -> None:
    """Refuse task data bigger than the serializer should ever write (counted as written, per reference)."""
    max_nodes, max_chars = limits.max_items * 10, limits.memory_bytes
    nodes, chars, stack = 0, 0, [(data, 0)]
    problem = None
    while stack and problem is None:
        item, depth = stack.pop()
        kind = type(item)
        if kind is str or kind is bytes:
            chars += len(item)
        elif kind in _CONTAINERS:
            if depth >= MAX_DEPTH:
                problem = f"nested more than {MAX_DEPTH} levels deep"
                break
            nodes += len(item) * (2 if kind is dict else 1)
            if nodes <= max_nodes:
                children = [*item, *item.values()] if kind is dict else item
                stack.extend((child, depth + 1) for child in children)
        if nodes > max_nodes:
            problem = f"more than {max_nodes} values (10 x DIAGRAM_MAX_ITEMS)"
        elif chars > max_chars:
            problem = f"more than {max_chars} characters of text (DIAGRAM_MEMORY_LIMIT)"
    if problem:
        raise BudgetExceeded(f"the task data left by diagram code is too large to save: {problem}")


