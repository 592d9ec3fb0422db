"""Restricted evaluation of the Python found in BPMN diagrams (conditions, timers, script tasks).

Diagrams are edited by analysts in a browser, so their code is untrusted. Every expression or
script is parsed, checked against the rules below, compiled once (cached) and run with a small
allow-listed ``__builtins__`` plus the project functions handed in by the caller.

What this can NOT stop (static checks cannot decide these): CPU-burning loops such as
``while True: pass`` or ``sum(range(10**8))``, and memory blow-ups from sizes that are not a
literal repetition, e.g. ``n = 10**8`` then ``'a' * n``, ``'x'.ljust(10**9)``,
``'%0999999999d' % 1``, ``list(range(10**8))``. Only literal ``**``/``<<``/repetition bombs are
refused. Callers must run workflows under a time/memory limit (worker process, timeout).
"""
import ast
import builtins
import functools
import operator
from collections.abc import Callable, Iterable

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment

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
    # Attribute nodes, and class patterns `case str(__class__=c)`, which do getattr() too.
    attrs = [node.attr] if isinstance(node, ast.Attribute) else getattr(node, "kwd_attrs", [])
    for attr in attrs:
        if attr.startswith("_") or attr in FORBIDDEN_ATTRS:
            yield f"attribute '{attr}' is not allowed"


def _analyse(source, mode, exempt):
    """(code object or None, problems tuple) for source; non-text is refused before caching."""
    if not isinstance(source, str):
        return None, (f"script must be text, not {source.__class__.__name__}",)
    return _analyse_text(source, mode, exempt)


@functools.lru_cache(maxsize=4096)
def _analyse_text(source, mode, exempt):
    """Parse, check and compile; cached so hot conditions skip all of it after the first call."""
    if len(source) > MAX_SOURCE_CHARS:
        return None, (f"script is too long ({len(source)} characters, limit {MAX_SOURCE_CHARS})",)
    if mode == "eval":
        source = source.lstrip(" \t")  # eval() of a string does the same
    try:
        # ast.parse NFKC-normalises identifiers ('ｅval' -> 'eval'), so names are checked as run.
        tree = ast.parse(source, "<string>", mode)
    except SyntaxError as e:
        return None, (f"syntax error at line {e.lineno or 1}: {e.msg}",)
    except (ValueError, RecursionError, MemoryError) as e:  # null bytes, absurd nesting
        return None, (f"syntax error at line 1: {e}",)
    nodes = list(ast.walk(tree))  # breadth-first: every child comes after its parent
    if len(nodes) > MAX_NODES:
        return None, (f"script is too complex ({len(nodes)} syntax nodes, limit {MAX_NODES})",)
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
        return None, tuple(dict.fromkeys(f"{p} (line {w[0]})" for w, p in sorted(found)))
    try:
        # '<string>' is the filename SpiffWorkflow looks for when reporting the failing line.
        return compile(tree, "<string>", mode), ()
    except SyntaxError as e:  # e.g. 'return' outside function, 'break' outside loop
        return None, (f"syntax error at line {e.lineno or 1}: {e.msg}",)
    except (ValueError, RecursionError, MemoryError) as e:
        return None, (f"syntax error at line 1: {e}",)


def check_source(source: str, mode: str = "exec", allowed_functions: Iterable[str] = ()) -> list[str]:
    """Return the problems that make source unsafe (empty list when safe)."""
    if mode not in ("exec", "eval"):
        raise ValueError(f"mode must be 'exec' or 'eval', not {mode!r}")
    return list(_analyse(source, mode, frozenset(allowed_functions))[1])


class SandboxEnvironment(TaskDataEnvironment):
    """Script environment for SpiffWorkflow that checks, caches and runs code with restricted builtins."""

    def __init__(self, functions: dict[str, Callable] | None = None):
        """Keep the project functions; they are fixed for the life of the environment."""
        functions = dict(functions or {})
        bad = [n for n in functions if not isinstance(n, str) or not n.isidentifier() or n.startswith("_")]
        if bad:  # such names could never be called from a diagram, so it is a caller bug
            raise ValueError(f"invalid function names for the sandbox: {bad}")
        super().__init__(functions)
        self._exempt = frozenset(functions)

    def _code(self, source, mode):
        code, problems = _analyse(source, mode, self._exempt)
        if problems:
            raise UnsafeScript(problems)
        return code

    def evaluate(self, expression, context, external_context=None):
        """Evaluate an expression against task data (context), like TaskDataEnvironment.evaluate."""
        code = self._code(expression, "eval")
        self._prepare_context(context)
        my_globals = {**self.globals, **(external_context or {}), **context}
        my_globals["__builtins__"] = _SAFE_BUILTINS  # last: a data key '__builtins__' can't widen it
        return eval(code, my_globals)

    def execute(self, script, context, external_context=None):
        """Run a script with task data as globals, like TaskDataEnvironment.execute."""
        code = self._code(script, "exec")
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        self._prepare_context(context)
        context.update(self.globals)
        context.update(external_context)
        context["__builtins__"] = _SAFE_BUILTINS  # after the data, for the same reason as above
        try:
            exec(code, context)
        finally:
            # removes __builtins__, the functions and any callables the script defined
            self._remove_globals_and_functions_from_context(context, external_context)
        return True

    def call_service(self, context, **kwargs):
        """Service tasks are not supported by this engine."""
        raise UnsafeScript(["service tasks are not supported"])


def make_script_engine(functions: dict[str, Callable] | None = None) -> PythonScriptEngine:
    """A SpiffWorkflow PythonScriptEngine using SandboxEnvironment."""
    return PythonScriptEngine(environment=SandboxEnvironment(functions))
