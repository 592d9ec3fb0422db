"""Calls from diagram code: built-ins and methods checked for size before they run, Python versions of
the higher-order built-ins (a checkpoint per item), and the `_sb` namespace instrumented code reaches."""
from __future__ import annotations

import types

from engine.bpmn.budget.guards import (
    AUG_HELPERS,
    BINOP_HELPERS,
    _bits,
    _check_binop,
    _too_big,
    _too_many_bits,
    aug_item,
    cmp,
    cmp_in,
    fmt,
    key,
    slice_,
    star,
    tick,
)
from engine.bpmn.budget.limits import (
    AUG_ITEM,
    CALL,
    CMP,
    CMP_IN,
    FMT,
    INT_BITS,
    KEY,
    SLICE,
    STAR,
    TICK,
    _current,
    _now,
    _walk,
)

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


