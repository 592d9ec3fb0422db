"""What instrumented diagram code calls (`_sb.<name>`): the checkpoint and the guarded operators,
slices, unpacking, formatting and comparisons."""
from __future__ import annotations

import operator
import re

from engine.bpmn.budget.limits import (
    _CONTAINERS,
    INT_BITS,
    Limits,
    _current,
    _now,
    _state,
    _walk,
)

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
