"""The time and memory budget that diagram code runs under (docs/spiffworkflow.md, trap 9).

A Python thread cannot be stopped from outside, a trace hook sees no event inside one C call
(`sum(range(10**12))`) and none in a loop that jumps to itself (`while True: pass`). So the
budget is kept from inside the diagram code, which the sandbox compiles through `instrument()`:

- **Checkpoints.** A call to `_sb.tick()` starts every loop iteration (`while`, `for`, each `for`
  of a comprehension or generator), every function and lambda call, every `except` and `finally`
  block. Every call, binary operator, slice, `*`/`**` unpacking and f-string field also passes a
  checkpoint first. A checkpoint raises `BudgetExceeded` once the deadline has passed or once the
  process's resident memory has grown by more than the memory budget since the code started
  (sampled at most once a millisecond, so a quick expression never reads it). After the first
  one, every checkpoint raises again: an `except:` or a `finally:` cannot swallow it.
- **Deadline.** `Limits.seconds` per expression or script, and the same seconds in all for the
  diagram code run inside one `scope()` (engine/bpmn/runtime.py opens one each time it advances
  an instance or lists its open tasks), so a chain of scripts each just under the limit is
  stopped too, while a transaction that steps many instances gets a budget for each.
- **Sizes.** What one C call could build or walk is checked before it runs: a `range`, a
  repetition (`'x' * n`, `[0] * n`), `**`, `<<`, `%` formatting, padding (`ljust`, `zfill`...),
  `replace`, `join`, `translate`, `to_bytes`, `sum` of non-numbers; and a comparison, hash key,
  `str()`, f-string field or sort whose operand would take more than `max_items` values to walk
  (shared sub-lists make a small object huge to compare or print). Higher-order built-ins (`map`,
  `filter`, `zip`, `sorted`, `min`, `max`) are replaced by Python versions that pass a checkpoint
  per item, so a built-in handed to them is checked as if called directly.
- **Task data.** After a script (or an expression that may change data) the task data is measured
  as the serializer would write it: at most 10 x `max_items` values, `memory_bytes` of text, 100
  levels.

The time is wall-clock: diagram functions (trusted code, reading the calendar and settings) count.
Not bounded (docs/spiffworkflow.md, trap 9 lists them): SpiffWorkflow's own work between texts, a
single C operation that is slow on inputs that passed these checks (sorting 100,000 values takes a
few ms), hashing inside `update()`/`union()`, and memory is counted process-wide (another thread
allocating at the same moment counts too).
"""
from __future__ import annotations

import ast
import operator
import os
import re
import threading
import time
import types
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


_state = _State()
_now = time.monotonic


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

    __slots__ = ("limits", "started", "deadline", "seconds", "mem_next", "mem_base", "failure", "outer", "soonest")

    def __init__(self, limits: Limits, outer: _Run | None):
        now = _now()
        budget = _state.scope
        self.limits, self.started, self.outer = limits, now, outer
        self.seconds = limits.seconds if budget is None else min(limits.seconds, budget.seconds)
        left = limits.seconds if budget is None else min(limits.seconds, budget.remaining)
        self.deadline = now + left
        self.mem_next, self.mem_base, self.failure = now + MEMORY_SAMPLE_SECONDS, None, None
        self.soonest = min(self.deadline, self.mem_next)  # before this instant a checkpoint has nothing to do

    def check(self) -> bool:
        """Raise BudgetExceeded if the time or memory is spent (and from then on, every time)."""
        if self.failure is not None:
            raise BudgetExceeded(self.failure)
        now = _now()
        if now > self.deadline:
            self.fail(f"diagram code ran over its time budget ({self.seconds:g} s, DIAGRAM_TIME_LIMIT)")
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

    def fail(self, message: str):
        """Remember the failure and raise it."""
        self.failure = message
        self.soonest = float("-inf")  # every later checkpoint takes the slow path and raises again
        raise BudgetExceeded(message)


def begin(limits: Limits) -> _Run:
    """Start the budget of one expression or script in this thread; pair with `end`."""
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
        budget.remaining -= _now() - run.started


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


# ---- the guards that instrumented code calls ----------------------------------------------------

def tick() -> bool:
    """The checkpoint at loops, calls, handlers: raise if the budget is spent."""
    run = _state.run
    if run is not None and _now() < run.soonest:  # the common case, kept short: it runs every iteration
        return True
    return _current().check()


def _too_big(limits: Limits, what: str, size, limit: int):
    """Refuse an operation whose result would be `size` (items, characters or bits) over `limit`."""
    if limit == limits.max_items:
        unit, setting = "items", " (DIAGRAM_MAX_ITEMS)"
    else:
        unit, setting = "characters", " (10 x DIAGRAM_MAX_ITEMS)"
    _current().fail(f"{what} of {size} {unit} is over the limit of {limit}{setting}")


def _too_many_bits(what: str, bits: int):
    _current().fail(f"{what} of {bits} bits is over the limit of {INT_BITS}")


def _bits(number) -> int:
    return number.bit_length() if isinstance(number, int) else 0


def _check_binop(limits: Limits, name: str, a, b) -> None:
    if name == "Mult":
        if isinstance(a, int) and isinstance(b, int):
            if _bits(a) + _bits(b) > INT_BITS:
                _too_many_bits("a product", _bits(a) + _bits(b))
            return
        seq, times = (a, b) if isinstance(b, int) else (b, a)
        if isinstance(times, int) and isinstance(seq, (str, bytes, list, tuple)):
            limit = limits.max_chars if isinstance(seq, (str, bytes)) else limits.max_items
            if len(seq) * times > limit:
                _too_big(limits, "a repetition", len(seq) * times, limit)
    elif name == "Add":
        if isinstance(a, (str, bytes, list, tuple)) and isinstance(b, (str, bytes, list, tuple)):
            limit = limits.max_chars if isinstance(a, (str, bytes)) else limits.max_items
            if len(a) + len(b) > limit:
                _too_big(limits, "a concatenation", len(a) + len(b), limit)
    elif name == "Pow":
        if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1 and _bits(a) * b > INT_BITS:
            _too_many_bits("a power", _bits(a) * b)
    elif name == "LShift":
        if isinstance(a, int) and isinstance(b, int) and a and _bits(a) + b > INT_BITS:
            _too_many_bits("a shift", _bits(a) + b)
    elif name == "Mod" and isinstance(a, (str, bytes)):
        _check_percent(limits, a, b)


_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?.")


def _check_percent(limits: Limits, text, args) -> None:
    pattern = _PERCENT if isinstance(text, str) else re.compile(_PERCENT.pattern.encode())
    star = "*" if isinstance(text, str) else b"*"
    total = 0
    for width, precision in pattern.findall(text):
        if star in (width, precision):
            _current().fail("a computed width in % formatting is not allowed")
        total += int(width or 0) + int(precision or 0)
    if total > limits.max_chars:
        _too_big(limits, "%-formatting widths", total, limits.max_chars)
    _walk(args, limits, "formatting")


_BINOPS = {name: getattr(operator, attr) for name, attr in (
    ("Add", "add"), ("Sub", "sub"), ("Mult", "mul"), ("Div", "truediv"), ("FloorDiv", "floordiv"),
    ("Mod", "mod"), ("Pow", "pow"), ("LShift", "lshift"), ("RShift", "rshift"), ("BitOr", "or_"),
    ("BitXor", "xor"), ("BitAnd", "and_"), ("MatMult", "matmul"))}
_AUGOPS = {name: getattr(operator, "i" + fn.__name__.rstrip("_")) for name, fn in _BINOPS.items()}


_NUMBERS = frozenset((int, float, bool))
_SMALL = 1 << 64


def _small(a, b, name: str) -> bool:
    """True when `a <op> b` is arithmetic on numbers whose result is small whatever they are."""
    if type(a) not in _NUMBERS or type(b) not in _NUMBERS:
        return False
    if name == "Mult":
        return type(a) is float or type(b) is float or (-_SMALL < a < _SMALL and -_SMALL < b < _SMALL)
    if name == "Pow":
        return type(a) is float or type(b) is float or (-_SMALL < a < _SMALL and -64 <= b <= 64)
    if name == "LShift":
        return -_SMALL < a < _SMALL and b <= 64
    return True


def _guarded(name: str, operation):
    if name in ("Mult", "Pow", "LShift"):
        def guarded(a, b):
            if _small(a, b, name):
                return operation(a, b)
            run = _current()
            run.check()
            _check_binop(run.limits, name, a, b)
            return operation(a, b)
    else:  # numbers cannot grow big through these: only text and collections are checked
        def guarded(a, b):
            if type(a) in _NUMBERS and type(b) in _NUMBERS:
                return operation(a, b)
            run = _current()
            run.check()
            _check_binop(run.limits, name, a, b)
            return operation(a, b)
    guarded.__name__ = guarded.__qualname__ = f"{operation.__name__}_checked"
    return guarded


BINOP_HELPERS = {name: _guarded(name, operation) for name, operation in _BINOPS.items()}
AUG_HELPERS = {f"i{name}": _guarded(name, operation) for name, operation in _AUGOPS.items()}


def aug_item(name: str, target, key, value) -> None:
    """`target[key] <op>= value`, evaluating target and key once."""
    target[key] = AUG_HELPERS[f"i{name}"](target[key], value)


def slice_(value, lower, upper, step):
    """`value[lower:upper:step]` (a copy: a checkpoint first)."""
    tick()
    return value[lower:upper:step]


def star(value):
    """The operand of `*value` or `**value` (a copy: a checkpoint first)."""
    tick()
    return value


def fmt(value):
    """An f-string field: refused if printing it would walk too much."""
    tick()
    if type(value) in _CONTAINERS:
        _walk(value, _current().limits, "formatting")
    return value


def cmp(value):
    """An operand of a comparison: refused if comparing it would walk too much."""
    if type(value) in _CONTAINERS:
        _walk(value, _current().limits, "comparing")
    return value


def cmp_in(value):
    """The right operand of `in`: a list or tuple is scanned (and walked); a dict or set is hashed."""
    if type(value) is list or type(value) is tuple:
        _walk(value, _current().limits, "comparing")
    return value


def key(value):
    """A dict key, set element or subscript: a tuple is hashed all the way down."""
    if type(value) is tuple:
        _walk(value, _current().limits, "hashing")
    return value


# ---- calls: built-ins and methods that can build or walk a lot ---------------------------------

def call(function, /, *args, **kwargs):
    """Call `function` after a checkpoint and, for a built-in that can build or walk a lot, a size check."""
    run = _current()
    if _now() >= run.soonest:
        run.check()
    kind = type(function)
    if kind is types.BuiltinFunctionType:  # also a bound method of a built-in type: 'x'.ljust
        owner = function.__self__
        if owner is _BUILTINS_MODULE:
            checker = _FUNCTION_CHECKS.get(function.__name__)
        else:
            checker = _METHOD_CHECKS.get(function.__name__)
            if checker is not None:
                args = checker(run.limits, owner, args, kwargs)
                return function(*args, **kwargs)
    elif kind is types.MethodDescriptorType:  # unbound: str.ljust(text, 10)
        checker = _METHOD_CHECKS.get(function.__name__)
        if checker is not None and args:
            args = (args[0], *checker(run.limits, args[0], args[1:], kwargs))
            return function(*args, **kwargs)
        checker = None
    elif kind is type:
        checker = _TYPE_CHECKS.get(function)
    else:
        checker = None
    if checker is not None:
        args = checker(run.limits, args, kwargs)
    return function(*args, **kwargs)


_BUILTINS_MODULE = len.__self__  # the builtins module: its functions are bound to it


def _arg(args, kwargs, index, name, default=None):
    return args[index] if len(args) > index else kwargs.get(name, default)


def _check_range(limits, args, kwargs):
    try:
        size = len(range(*args, **kwargs))
    except OverflowError:
        size = float("inf")
    except TypeError:
        return args  # range() itself says what is wrong
    if size > limits.max_items:
        _too_big(limits, "a range", size if size != float("inf") else "over 2**63", limits.max_items)
    return args


def _check_str(limits, args, kwargs):
    if len(args) == 1 and not kwargs:
        _walk(args[0], limits, "printing")
    return args


def _check_collection(limits, args, kwargs):
    # set(...) / dict(...) hash every element: walk them once, from a list (the iterable may be one-shot).
    if len(args) == 1 and not isinstance(args[0], (dict, str, bytes, range)):
        items = list(args[0])
        _walk(items, limits, "hashing")
        return (items,)
    return args


def _check_sum(limits, args, kwargs):
    start = _arg(args, kwargs, 1, "start", 0)
    if not isinstance(start, (int, float)):
        _current().fail("sum() adds numbers only (joining lists this way takes quadratic time)")
    return args


def _check_pow(limits, args, kwargs):
    base, exponent, modulus = _arg(args, kwargs, 0, "base"), _arg(args, kwargs, 1, "exp"), _arg(args, kwargs, 2, "mod")
    if modulus is None:
        _check_binop(limits, "Pow", base, exponent)
    elif _bits(exponent) > INT_BITS or _bits(modulus) > INT_BITS:
        _too_many_bits("a modular power", max(_bits(exponent), _bits(modulus)))
    return args


def _check_round(limits, args, kwargs):
    digits = _arg(args, kwargs, 1, "ndigits")
    if isinstance(digits, int) and abs(digits) > INT_BITS:
        _current().fail(f"rounding to {digits} digits is not allowed (at most {INT_BITS})")
    return args


_FUNCTION_CHECKS = {"sum": _check_sum, "pow": _check_pow, "round": _check_round}
_TYPE_CHECKS = {range: _check_range, str: _check_str, set: _check_collection, frozenset: _check_collection,
                dict: _check_collection}


def _text_method(check):
    def checked(limits, owner, args, kwargs):
        if isinstance(owner, (str, bytes)):
            size = check(owner, args, kwargs)
            if size > limits.max_chars:
                _too_big(limits, "a text", size, limits.max_chars)
        return args
    return checked


def _padding(owner, args, kwargs):
    width = _arg(args, kwargs, 0, "width", 0)
    return width if isinstance(width, int) else 0


def _expandtabs(owner, args, kwargs):
    size = _arg(args, kwargs, 0, "tabsize", 8)
    tab = "\t" if isinstance(owner, str) else b"\t"
    return len(owner) + owner.count(tab) * max(size if isinstance(size, int) else 0, 0)


def _replace(owner, args, kwargs):
    old, new, count = _arg(args, kwargs, 0, "old"), _arg(args, kwargs, 1, "new"), _arg(args, kwargs, 2, "count", -1)
    if not isinstance(old, (str, bytes)) or not isinstance(new, (str, bytes)) or len(new) <= len(old):
        return len(owner)
    times = owner.count(old) if old else len(owner) + 1
    if isinstance(count, int) and count >= 0:
        times = min(times, count)
    return len(owner) + times * (len(new) - len(old))


def _translate(owner, args, kwargs):
    table = _arg(args, kwargs, 0, "table")
    if not isinstance(table, dict):
        return len(owner)
    longest = max((len(v) for v in table.values() if isinstance(v, (str, bytes))), default=1)
    return len(owner) * max(longest, 1)


def _join(limits, owner, args, kwargs):
    if not isinstance(owner, (str, bytes)) or len(args) != 1 or kwargs:
        return args
    parts = list(args[0])
    size = sum(len(p) for p in parts if isinstance(p, (str, bytes))) + len(owner) * max(len(parts) - 1, 0)
    if size > limits.max_chars:
        _too_big(limits, "a joined text", size, limits.max_chars)
    return (parts,)


def _to_bytes(limits, owner, args, kwargs):
    length = _arg(args, kwargs, 0, "length", 1)
    if isinstance(owner, int) and isinstance(length, int) and length > limits.max_chars:
        _too_big(limits, "a byte string", length, limits.max_chars)
    return args


def _walk_args(limits, owner, args, kwargs):
    # list.index/count/remove compare; dict.get/pop/setdefault and set.add/discard hash.
    for value in (*args, *kwargs.values()):
        _walk(value, limits, "comparing")
    return args


def _walk_all(limits, owner, args, kwargs):
    if isinstance(owner, list):
        _walk(owner, limits, "comparing")
    return _walk_args(limits, owner, args, kwargs)


def _sort(limits, owner, args, kwargs):
    if isinstance(owner, list):
        sort_key = kwargs.get("key")
        _walk(owner if sort_key is None else [call(sort_key, item) for item in owner], limits, "sorting")
    return args


_METHOD_CHECKS = {
    **dict.fromkeys(("ljust", "rjust", "center", "zfill"), _text_method(_padding)),
    "expandtabs": _text_method(_expandtabs), "replace": _text_method(_replace),
    "translate": _text_method(_translate), "join": _join, "to_bytes": _to_bytes,
    **dict.fromkeys(("get", "pop", "setdefault", "add", "discard", "fromkeys"), _walk_args),
    **dict.fromkeys(("index", "count", "remove"), _walk_all), "sort": _sort,
}


# ---- Python versions of the higher-order built-ins: a checkpoint per item ----------------------

def safe_map(function, iterable, /, *iterables):
    """map(): each call goes through `call`, so a built-in is checked as if called directly."""
    if not iterables:
        for item in iterable:
            yield call(function, item)
    else:
        for items in safe_zip(iterable, *iterables):
            yield call(function, *items)


def safe_filter(function, iterable, /):
    """filter(), with a checkpoint per item."""
    for item in iterable:
        if (call(function, item) if function is not None else tick() and item):
            yield item


def safe_zip(*iterables, strict=False):
    """zip(), with a checkpoint per tuple (zip(*rows) builds a tuple as long as `rows`)."""
    for items in zip(*iterables, strict=strict):
        tick()
        yield items


def _keyed(items: list, sort_key, what: str) -> list:
    keys = items if sort_key is None else [call(sort_key, item) for item in items]
    _walk(keys, _current().limits, what)
    return keys


def safe_sorted(iterable, /, *, key=None, reverse=False):
    """sorted(), refused if comparing the items would walk too much."""
    tick()
    items = list(iterable)
    keys = _keyed(items, key, "sorting")
    if key is None:
        return sorted(items, reverse=reverse)
    return [items[i] for i in sorted(range(len(items)), key=keys.__getitem__, reverse=reverse)]


def _extreme(pick, args, kwargs):
    tick()
    pick_key = kwargs.pop("key", None)
    has_default, default = "default" in kwargs, kwargs.pop("default", None)
    if kwargs:
        return pick(*args, **kwargs)  # let the built-in report the unexpected keyword
    items = list(args[0]) if len(args) == 1 else list(args)
    if not items and has_default:
        return default
    keys = _keyed(items, pick_key, "comparing")
    if not items:
        return pick(items)  # the built-in's error for an empty sequence
    return items[pick(range(len(items)), key=keys.__getitem__)]


def safe_min(*args, **kwargs):
    """min(), refused if comparing the items would walk too much."""
    return _extreme(min, args, kwargs)


def safe_max(*args, **kwargs):
    """max(), refused if comparing the items would walk too much."""
    return _extreme(max, args, kwargs)


GUARDS = types.ModuleType("diagram_guards", "What instrumented diagram code calls, as `_sb.<name>`.")
for _name, _guard in {TICK: tick, CALL: call, AUG_ITEM: aug_item, SLICE: slice_, STAR: star, FMT: fmt, CMP: cmp,
                      CMP_IN: cmp_in, KEY: key, **BINOP_HELPERS, **AUG_HELPERS}.items():
    setattr(GUARDS, _name, _guard)
del _name, _guard
REPLACED_BUILTINS = {"map": safe_map, "filter": safe_filter, "zip": safe_zip, "sorted": safe_sorted,
                     "min": safe_min, "max": safe_max}


# ---- the rewrite ------------------------------------------------------------------------------

class Refused(Exception):
    """A construct the budget cannot guard (reported like any other sandbox problem)."""


def instrument(tree: ast.AST) -> ast.AST:
    """Insert the checkpoints and route the risky operations through the guards (see the module doc)."""
    return ast.fix_missing_locations(_Instrument().visit(tree))


def guarded(tree: ast.AST) -> bool:
    """Whether instrumented code calls any guard. Code that calls none has no loop, call, operator on
    data, slice or comparison of two data values: it runs in time bounded by its length and needs no budget."""
    return any(isinstance(node, ast.Name) and node.id == NAMESPACE for node in ast.walk(tree))


def _scalar(node: ast.AST) -> bool:
    """A literal that compares with anything in constant time: a constant, or a display of constants."""
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(isinstance(e, ast.Constant) for e in node.elts)
    return isinstance(node, ast.Constant)


def _helper(name: str, args: list, at: ast.AST) -> ast.Call:
    guard = ast.Attribute(ast.Name(NAMESPACE, ast.Load()), name, ast.Load())
    return ast.copy_location(ast.Call(guard, args, []), at)


def _tick_statement(at: ast.AST) -> ast.Expr:
    return ast.copy_location(ast.Expr(_helper(TICK, [], at)), at)


def _none(node, at):
    return node if node is not None else ast.copy_location(ast.Constant(None), at)


class _Instrument(ast.NodeTransformer):
    """Children first, then the node: a helper call built here is never visited again."""

    def _ticked_body(self, node):
        self.generic_visit(node)
        node.body.insert(0, _tick_statement(node))
        return node

    visit_While = visit_For = visit_FunctionDef = visit_ExceptHandler = _ticked_body

    def visit_Try(self, node):
        self.generic_visit(node)
        if node.finalbody:
            node.finalbody.insert(0, _tick_statement(node.finalbody[0]))
        return node

    visit_TryStar = visit_Try

    def visit_comprehension(self, node):
        self.generic_visit(node)
        node.ifs.insert(0, _helper(TICK, [], node.iter))
        return node

    def visit_Lambda(self, node):
        self.generic_visit(node)
        node.body = ast.copy_location(ast.BoolOp(ast.And(), [_helper(TICK, [], node.body), node.body]), node.body)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        node.args.insert(0, node.func)
        node.func = ast.copy_location(ast.Attribute(ast.Name(NAMESPACE, ast.Load()), CALL, ast.Load()), node)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if all(isinstance(side, ast.Constant) and isinstance(side.value, (int, float, complex))
               for side in (node.left, node.right)):
            return node  # numbers folded by the compiler; the sandbox's static checks bound them
        return _helper(type(node.op).__name__, [node.left, node.right], node)

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        name, target = type(node.op).__name__, node.target
        if isinstance(target, ast.Name):
            loaded = ast.copy_location(ast.Name(target.id, ast.Load()), target)
            call = _helper(f"i{name}", [loaded, node.value], node)
            return ast.copy_location(ast.Assign([target], call), node)
        if isinstance(target, ast.Subscript) and not isinstance(target.slice, ast.Slice):
            obj = target.value
            return ast.copy_location(ast.Expr(_helper(AUG_ITEM, [ast.Constant(name), obj, target.slice, node.value],
                                                      node)), node)
        raise Refused("augmented assignment to an attribute or a slice is not allowed")

    def visit_Subscript(self, node):
        self.generic_visit(node)
        index = node.slice
        if isinstance(index, ast.Slice):
            if isinstance(node.ctx, ast.Load):
                return _helper(SLICE, [node.value, _none(index.lower, node), _none(index.upper, node),
                                       _none(index.step, node)], node)
        elif not isinstance(index, ast.Constant) and not (
                isinstance(index, ast.Tuple) and any(isinstance(e, ast.Slice) for e in index.elts)):
            node.slice = _helper(KEY, [index], index)
        return node

    def visit_Starred(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = _helper(STAR, [node.value], node.value)
        return node

    def visit_Dict(self, node):
        self.generic_visit(node)
        for i, (k, v) in enumerate(zip(node.keys, node.values, strict=True)):
            if k is None:
                node.values[i] = _helper(STAR, [v], v)
            elif not isinstance(k, ast.Constant):
                node.keys[i] = _helper(KEY, [k], k)
        return node

    def visit_Set(self, node):
        self.generic_visit(node)
        node.elts = [e if isinstance(e, (ast.Constant, ast.Starred)) else _helper(KEY, [e], e) for e in node.elts]
        return node

    def visit_SetComp(self, node):
        self.generic_visit(node)
        node.elt = _helper(KEY, [node.elt], node.elt)
        return node

    def visit_DictComp(self, node):
        self.generic_visit(node)
        node.key = _helper(KEY, [node.key], node.key)
        return node

    def visit_FormattedValue(self, node):
        self.generic_visit(node)
        node.value = _helper(FMT, [node.value], node.value)
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        operands = [node.left, *node.comparators]
        if all(_scalar(a) or _scalar(b) for a, b in zip(operands, operands[1:], strict=False)):
            return node  # `decision == "urge"`, `0 < n < 10`, `x in ("a", "b")`: no deep walk possible
        if not isinstance(node.left, ast.Constant):
            node.left = _helper(CMP, [node.left], node.left)
        node.comparators = [
            c if isinstance(c, ast.Constant)
            else _helper(CMP_IN if isinstance(op, (ast.In, ast.NotIn)) else CMP, [c], c)
            for op, c in zip(node.ops, node.comparators, strict=True)]
        return node
