"""Restricted evaluation of the Python found in BPMN diagrams (conditions, timers, script tasks).

Diagrams are edited by analysts in a browser, so their code is untrusted. Every expression or
script is parsed, checked against the rules below, compiled once (cached) and run with a small
allow-listed ``__builtins__`` plus the project functions handed in by the caller.

Static checks cannot decide what runs long or builds big (``while True: pass``, ``n = 10**8``
then ``'a' * n``): they refuse only literal bombs (``10**10**10``, ``'a' * 10**9``,
``range(10**12)``, huge format widths). Everything else runs under a time and memory budget:
the checked tree is rewritten by `engine.bpmn.budget.instrument` (checkpoints in loops, calls
and handlers; guards on operations that can build or walk a lot) and each run is bounded by
`budget.Limits` (DIAGRAM_TIME_LIMIT, DIAGRAM_MEMORY_LIMIT, DIAGRAM_MAX_ITEMS).
"""
import ast
import builtins
import functools
import operator
import re
from collections.abc import Callable, Iterable

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

from engine.bpmn import budget

MAX_SOURCE_CHARS = 20_000
MAX_NODES = 5_000
MAX_EXPONENT = 100        # constant exponents above this are refused (10**9 kinds of things)
MAX_INT_BITS = 10_000     # folded constant integers larger than this are refused
MAX_REPEAT = 100_000      # 'a' * N / [0] * N literals longer than this are refused

ALLOWED_BUILTINS = (
    "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "int", "len",
    "list", "map", "max", "min", "range", "reversed", "round", "set", "sorted", "str", "sum",
    "tuple", "zip",
)
# True/False/None are keywords already; listed so the mapping is self-explanatory.
_SAFE_BUILTINS = {name: getattr(builtins, name) for name in ALLOWED_BUILTINS}
_SAFE_BUILTINS.update({"True": True, "False": False, "None": None})
# What diagram code actually gets: map, filter, zip, sorted, min and max pass a checkpoint per item.
_BUDGET_BUILTINS = {**_SAFE_BUILTINS, **budget.REPLACED_BUILTINS}

# Named so the analyst gets a clear message instead of a NameError at run time.
FORBIDDEN_NAMES = frozenset((
    "open", "exec", "eval", "compile", "getattr", "setattr", "delattr", "hasattr", "globals",
    "locals", "vars", "dir", "type", "breakpoint", "input", "help", "memoryview", "object",
    "super", "classmethod", "staticmethod", "property", "exit", "quit",
))
# Attributes that reach frames, code, the class hierarchy, or do attribute walking by string
# ('{0.__class__}'.format(x)). Anything starting with '_' is refused as well.
FORBIDDEN_ATTRS = frozenset((
    "gi_frame", "gi_code", "gi_yieldfrom", "f_globals", "f_locals", "f_builtins", "f_back",
    "f_code", "tb_frame", "tb_next", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code",
    "ag_await", "mro", "format", "format_map", "func_globals", "func_code",
))
_FORBIDDEN_NODES = {
    ast.Import: "import", ast.ImportFrom: "import", ast.Global: "global", ast.Nonlocal: "nonlocal",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.Await: "await",
    ast.AsyncFunctionDef: "async", ast.AsyncFor: "async", ast.AsyncWith: "async",
    ast.ClassDef: "class definition", ast.With: "with",
    # module-level annotations would store __annotations__ (holding classes) into task data
    ast.AnnAssign: "variable annotation",
}
_FOLD_OPS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
}


class UnsafeScript(Exception):
    """A diagram script or expression uses something the sandbox forbids."""

    def __init__(self, problems):
        self.problems = list(problems)
        # args[0] must be a str: SpiffWorkflow builds its message with `":" + err.args[0]`.
        super().__init__("; ".join(self.problems))


class _TooBig(Exception):
    pass


class _Seq:
    """A str/bytes/list/tuple literal whose length (not value) is known while folding."""
    __slots__ = ("n",)

    def __init__(self, n):
        self.n = n


def _fold(node, vals):
    """Constant value of node (number or _Seq), None if unknown; raise _TooBig for huge results."""
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, (str, bytes)):
            return _Seq(len(v))
        return v if isinstance(v, (int, float)) else None
    if isinstance(node, (ast.List, ast.Tuple)):
        return _Seq(len(node.elts))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range":
        _fold_range(node, vals)
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = vals.get(id(node.operand))
        return (-v if isinstance(node.op, ast.USub) else v) if isinstance(v, (int, float)) else None
    if not isinstance(node, ast.BinOp):
        return None
    a, b, op = vals.get(id(node.left)), vals.get(id(node.right)), type(node.op)
    a_num, b_num = isinstance(a, (int, float)), isinstance(b, (int, float))
    if op is ast.Pow and b_num:
        if abs(b) > MAX_EXPONENT:  # refused even when the base is data: x ** 10**9
            raise _TooBig(f"power with exponent {b} is too large")
        if isinstance(a, int) and isinstance(b, int) and a.bit_length() * b > MAX_INT_BITS:
            raise _TooBig("constant power is too large")
    if op is ast.LShift and isinstance(b, int) and b > MAX_INT_BITS:
        raise _TooBig(f"shift by {b} is too large")
    if op is ast.Mult:
        seq, n = (a, b) if isinstance(a, _Seq) else (b, a)
        if isinstance(seq, _Seq) and isinstance(n, int):
            if seq.n * n > MAX_REPEAT:
                raise _TooBig(f"repeating a literal {n} times is too large")
            return _Seq(max(seq.n * n, 0))
    if op is ast.Mod and isinstance(node.left, ast.Constant) and isinstance(node.left.value, (str, bytes)):
        text = node.left.value if isinstance(node.left.value, str) else node.left.value.decode("latin-1")
        if any(int(n) > MAX_REPEAT for n in re.findall(r"%[^a-zA-Z%]*?(\d+)", text)):
            raise _TooBig("width or precision in % formatting is too large")
    if op is ast.Add and isinstance(a, _Seq) and isinstance(b, _Seq):
        return _Seq(a.n + b.n)
    if a_num and b_num and op in _FOLD_OPS:
        try:
            r = _FOLD_OPS[op](a, b)
        except (ArithmeticError, ValueError):  # 1/0, float overflow: leave it to run time
            return None
        if isinstance(r, int) and r.bit_length() > MAX_INT_BITS:
            raise _TooBig("constant is too large")
        return r
    return None


def _fold_range(node, vals):
    """Raise _TooBig for range(<constants>) longer than MAX_REPEAT (sum(range(10**12)))."""
    args = [vals.get(id(a)) for a in node.args]
    if node.keywords or not 1 <= len(args) <= 3 or not all(isinstance(a, int) for a in args):
        return
    try:
        size = len(range(*args))
    except (ValueError, OverflowError):  # step 0 is range()'s own error; OverflowError: over 2**63
        size = None if 0 in args[2:] else float("inf")
    if size is not None and size > MAX_REPEAT:
        raise _TooBig(f"range of {size if size != float('inf') else 'over 2**63'} items is too large")


def _node_problems(node, exempt):
    """Yield the rule violations of one AST node (without looking at its children)."""
    kind = _FORBIDDEN_NODES.get(type(node))
    if kind or (isinstance(node, ast.comprehension) and node.is_async):
        yield f"{kind or 'async'} is not allowed"
    if getattr(node, "decorator_list", None):
        yield "decorators are not allowed"
    names = []
    if isinstance(node, ast.Name):
        names = [node.id]
    elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        names = [node.name]
    elif isinstance(node, ast.arg):
        names = [node.arg]
    elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
        names = [node.name]
    elif isinstance(node, ast.MatchMapping):
        names = [node.rest]
    elif isinstance(node, ast.keyword) and node.arg and node.arg.startswith("_"):
        names = [node.arg]  # keyword names are not look-ups, so only the '_' rule applies
    for name in filter(None, names):
        if name.startswith("_"):
            yield f"name '{name}' is not allowed (names starting with '_' are reserved)"
        elif name in FORBIDDEN_NAMES and name not in exempt:
            yield f"name '{name}' is not allowed"
    if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
        parts = node.format_spec.values
        if not all(isinstance(p, ast.Constant) for p in parts):
            yield "a computed format spec is not allowed"
        elif any(int(n) > MAX_REPEAT for p in parts for n in re.findall(r"\d+", str(p.value))):
            yield "format width or precision is too large"
    # Attribute nodes, and class patterns `case str(__class__=c)`, which do getattr() too.
    attrs = [node.attr] if isinstance(node, ast.Attribute) else getattr(node, "kwd_attrs", [])
    for attr in attrs:
        if attr.startswith("_") or attr in FORBIDDEN_ATTRS:
            yield f"attribute '{attr}' is not allowed"


def _analyse(source, mode, exempt):
    """(code object or None, problems, may change data, calls guards) for source; non-text is refused before caching."""
    if not isinstance(source, str):
        return None, (f"script must be text, not {source.__class__.__name__}",), False, False
    return _analyse_text(source, mode, exempt)


@functools.lru_cache(maxsize=4096)
def _analyse_text(source, mode, exempt):
    """Parse, check, instrument and compile; cached so hot conditions skip all of it after the first call."""
    if len(source) > MAX_SOURCE_CHARS:
        return None, (f"script is too long ({len(source)} characters, limit {MAX_SOURCE_CHARS})",), False, False
    if mode == "eval":
        source = source.lstrip(" \t")  # eval() of a string does the same
    try:
        # ast.parse NFKC-normalises identifiers ('ｅval' -> 'eval'), so names are checked as run.
        tree = ast.parse(source, "<string>", mode)
    except SyntaxError as e:
        return None, (f"syntax error at line {e.lineno or 1}: {e.msg}",), False, False
    except (ValueError, RecursionError, MemoryError) as e:  # null bytes, absurd nesting
        return None, (f"syntax error at line 1: {e}",), False, False
    nodes = list(ast.walk(tree))  # breadth-first: every child comes after its parent
    if len(nodes) > MAX_NODES:
        return None, (f"script is too complex ({len(nodes)} syntax nodes, limit {MAX_NODES})",), False, False
    found, vals = [], {}
    for node in reversed(nodes):  # children first, so constant folding needs one pass only
        where = (getattr(node, "lineno", 1), getattr(node, "col_offset", 0))
        found.extend((where, p) for p in _node_problems(node, exempt))
        try:
            v = _fold(node, vals)
        except _TooBig as e:
            found.append((where, str(e)))
            v = None
        if v is not None:
            vals[id(node)] = v
    if found:  # in source order, without duplicates
        return None, tuple(dict.fromkeys(f"{p} (line {w[0]})" for w, p in sorted(found))), False, False
    # Only an attribute can reach a method that changes data in place (x.append) from an expression.
    mutates = mode == "exec" or any(isinstance(node, ast.Attribute) for node in nodes)
    try:
        tree = budget.instrument(tree)
        # '<string>' is the filename SpiffWorkflow looks for when reporting the failing line.
        return compile(tree, "<string>", mode), (), mutates, budget.guarded(tree)
    except budget.Refused as e:
        return None, (str(e),), False, False
    except SyntaxError as e:  # e.g. 'return' outside function, 'break' outside loop
        return None, (f"syntax error at line {e.lineno or 1}: {e.msg}",), False, False
    except (ValueError, RecursionError, MemoryError) as e:
        return None, (f"syntax error at line 1: {e}",), False, False


def check_source(source: str, mode: str = "exec", allowed_functions: Iterable[str] = ()) -> list[str]:
    """Return the problems that make source unsafe (empty list when safe)."""
    if mode not in ("exec", "eval"):
        raise ValueError(f"mode must be 'exec' or 'eval', not {mode!r}")
    return list(_analyse(source, mode, frozenset(allowed_functions))[1])


class SandboxEnvironment(TaskDataEnvironment):
    """Script environment for SpiffWorkflow that checks, caches and runs code with restricted builtins,
    under a time and memory budget (engine/bpmn/budget/)."""

    def __init__(self, functions: dict[str, Callable] | None = None, limits: budget.Limits | None = None):
        """Keep the project functions and the limits; they are fixed for the life of the environment."""
        functions = dict(functions or {})
        bad = [n for n in functions if not isinstance(n, str) or not n.isidentifier() or n.startswith("_")]
        if bad:  # such names could never be called from a diagram, so it is a caller bug
            raise ValueError(f"invalid function names for the sandbox: {bad}")
        super().__init__(functions)
        self._exempt = frozenset(functions)
        self.limits = limits or budget.Limits()

    def _code(self, source, mode):
        code, problems, mutates, guarded = _analyse(source, mode, self._exempt)
        if problems:
            raise UnsafeScript(problems)
        return code, mutates, guarded

    def evaluate(self, expression, context, external_context=None):
        """Evaluate an expression against task data (context), like TaskDataEnvironment.evaluate."""
        code, mutates, guarded = self._code(expression, "eval")
        self._prepare_context(context)
        my_globals = {**self.globals, **(external_context or {}), **context}
        my_globals["__builtins__"] = _BUDGET_BUILTINS  # last: a data key '__builtins__' can't widen it
        if not guarded:  # `lead_unit`, `decision == "urge"`: bounded by its length (budget.guarded)
            return eval(code, my_globals)
        my_globals[budget.NAMESPACE] = budget.GUARDS  # after the data: no data key can stand in for it
        run = budget.begin(self.limits)
        try:
            value = eval(code, my_globals)
        finally:
            budget.end(run)
        if mutates:  # x.append(...) in an expression changes the task data in place
            budget.check_data(context, self.limits)
        return value

    def execute(self, script, context, external_context=None):
        """Run a script with task data as globals, like TaskDataEnvironment.execute."""
        code, _, guarded = self._code(script, "exec")
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        self._prepare_context(context)
        context.update(self.globals)
        context.update(external_context)
        context[budget.NAMESPACE] = budget.GUARDS  # after the data: no data key can stand in for it
        context["__builtins__"] = _BUDGET_BUILTINS  # after the data, for the same reason as above
        try:
            run = budget.begin(self.limits) if guarded else None
            try:
                exec(code, context)
            finally:
                if run is not None:
                    budget.end(run)
        finally:
            # removes __builtins__, the functions, the guards and any callables the script defined
            context.pop(budget.NAMESPACE, None)
            self._remove_globals_and_functions_from_context(context, external_context)
        budget.check_data(context, self.limits)  # what the serializer will have to write
        return True

    def call_service(self, context, **kwargs):
        """Service tasks are not supported by this engine."""
        raise UnsafeScript(["service tasks are not supported"])


class SandboxScriptEngine(PythonScriptEngine):
    """SpiffWorkflow's script engine on a SandboxEnvironment; a multi-instance cardinality is bounded too."""

    def evaluate(self, task, expression, external_context=None):
        """Evaluate as PythonScriptEngine does; refuse a cardinality over DIAGRAM_MAX_ITEMS (that many tasks)."""
        value = super().evaluate(task, expression, external_context)
        limit = self.environment.limits.max_items
        if (isinstance(value, int) and value > limit
                and expression == getattr(getattr(task, "task_spec", None), "cardinality", None)):
            error = budget.BudgetExceeded(f"a multi-instance cardinality of {value} is over the limit of {limit} "
                                          "(DIAGRAM_MAX_ITEMS)")
            raise WorkflowTaskException(str(error), task=task, exception=error)
        return value


def make_script_engine(functions: dict[str, Callable] | None = None,
                       limits: budget.Limits | None = None) -> PythonScriptEngine:
    """A SpiffWorkflow script engine using SandboxEnvironment (default limits unless given)."""
    return SandboxScriptEngine(environment=SandboxEnvironment(functions, limits))
