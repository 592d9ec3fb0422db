"""Tests for engine.sandbox: diagram code is untrusted, so hostile code must be refused."""
import ast
import builtins
import datetime

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import sandbox
from engine.bpmn.sandbox import ALLOWED_BUILTINS, SandboxEnvironment, UnsafeScript, check_source, make_script_engine


def parse_date(text):
    return datetime.datetime.fromisoformat(text)


@pytest.fixture
def env():
    return SandboxEnvironment({"parse_date": parse_date, "double": lambda n: n * 2})


# ---- ordinary code works -------------------------------------------------------------

def test_arithmetic_and_comparisons_evaluate(env):
    assert env.evaluate("a + 1", {"a": 41}) == 42
    assert env.evaluate("approved == True and amount >= 5_000_000", {"approved": True, "amount": 6e6})
    assert env.evaluate("  divmod(7, 2) ", {}) == (3, 1)  # leading spaces are fine, as in eval()


def test_comprehensions_and_allowed_builtins_work(env):
    data = {"items": [{"n": 3}, {"n": 1}, {"n": 2}]}
    assert env.evaluate("[i['n'] for i in items if i['n'] > 1]", data) == [3, 2]
    assert env.evaluate("{i['n']: str(i['n']) for i in items}", data) == {3: "3", 1: "1", 2: "2"}
    assert env.evaluate("max(len(items), abs(-2), round(2.6))", data) == 3
    assert env.evaluate("list(zip(range(2), map(str, filter(bool, [0, 1, 2]))))", data) == \
        [(0, "1"), (1, "2")]
    assert env.evaluate("sorted(i['n'] for i in items)", data) == [1, 2, 3]


def test_allowed_project_function_can_be_called(env):
    assert env.evaluate("double(21)", {}) == 42


def test_script_new_variables_land_in_task_data_and_functions_are_removed(env):
    data = {"amount": 10}
    assert env.execute("total = double(amount)\nnames = [str(n) for n in range(total // 10)]\n"
                       "helper = lambda v: v + 1\nbumped = helper(total)", data) is True
    assert data == {"amount": 10, "total": 20, "names": ["0", "1"], "bumped": 21}


def test_datetime_strings_work(env):
    data = {"due": "2024-05-01T08:30:00", "today": "2024-04-30"}
    assert env.evaluate("due[:10] > today", data) is True
    assert env.evaluate("parse_date(due).year == 2024 and parse_date(due).hour == 8", data)
    env.execute("deadline = parse_date(due).isoformat()", data)
    assert data["deadline"] == "2024-05-01T08:30:00"


def test_lambda_and_try_are_allowed(env):
    data = {}
    env.execute("f = lambda x, y=2: x * y\nr = f(3)\ntry:\n    z = 1 / 0\nexcept:\n    z = -1", data)
    assert data == {"r": 6, "z": -1}


# ---- hostile code is refused, statically and at run time ------------------------------

HOSTILE_EXPRESSIONS = [
    "().__class__.__bases__[0].__subclasses__()",
    "getattr(x, '__cl' + 'ass__')",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "(i for i in []).gi_frame.f_back.f_globals",
    "__import__('os').system('id')",
    "__builtins__['__import__']('os')",
    "exec('import os')", "eval('1')", "compile('1', 's', 'eval')", "type(x)", "vars()",
    "globals()", "locals()", "dir()", "open('/etc/passwd')", "setattr(x, 'a', 1)",
    "delattr(x, 'a')", "breakpoint()", "input()", "help()", "memoryview(b'')", "object()",
    "super()", "classmethod(x)", "staticmethod(x)", "property(x)",
    "'{0.__class__}'.format(x)", "'{0.__class__}'.format", "'{a}'.format_map({'a': x})",
    "str.format('{0.__class__}', x)", "str.mro()", "x.func_globals", "x._private",
    "(lambda f=().__class__: f)()", "f'{x.__class__}'", "f'{x.__class__!r}'",
    "ｅval('1')",
] + [f"x.{attr}" for attr in ("gi_frame", "gi_code", "f_globals", "f_locals", "f_builtins",
                              "f_back", "f_code", "tb_frame", "tb_next", "cr_frame", "cr_code",
                              "ag_frame", "ag_code", "mro")]

HOSTILE_SCRIPTS = [
    "import os", "import os as o", "from os import system", "global x\nx = 1",
    "def f():\n    y = 1\n    def g():\n        nonlocal y\n", "class A:\n    pass",
    "@double\ndef f():\n    pass", "with x:\n    pass", "def g():\n    yield 1",
    "def g():\n    yield from []", "async def g():\n    pass",
    "try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    f = e.__traceback__.tb_frame.f_back",
    "match x:\n    case str(__class__=c):\n        pass", "_x = 1", "def f(_a):\n    pass",
    "x: int = 1", "exec('import os')",
]


@pytest.mark.parametrize("source", HOSTILE_EXPRESSIONS)
def test_hostile_expression_is_refused(env, source):
    assert check_source(source, "eval")
    assert check_source(source, "exec")
    with pytest.raises(UnsafeScript) as info:
        env.evaluate(source, {"x": 1})
    assert info.value.problems and all(isinstance(p, str) for p in info.value.problems)
    data = {"x": 1}
    with pytest.raises(UnsafeScript):
        env.execute(source, data)
    assert data == {"x": 1}


@pytest.mark.parametrize("source", HOSTILE_SCRIPTS)
def test_hostile_script_is_refused(env, source):
    assert check_source(source, "exec")
    data = {"x": 1}
    with pytest.raises(UnsafeScript):
        env.execute(source, data)
    assert data == {"x": 1}


def test_problem_messages_are_plain_and_carry_line_numbers():
    assert check_source("a = 1\nimport os") == ["import is not allowed (line 2)"]
    assert check_source("eval('1')", "eval") == ["name 'eval' is not allowed (line 1)"]
    assert str(UnsafeScript(["a", "b"])) == "a; b"


def test_unicode_identifiers_are_checked_after_normalisation(env):
    # Python NFKC-normalises identifiers, so 'ｅval' (fullwidth e) *is* eval once parsed.
    assert ast.parse("ｅval", mode="eval").body.id == "eval"
    assert check_source("ｅval('1')", "eval") == ["name 'eval' is not allowed (line 1)"]
    assert check_source("x.＿＿class＿＿", "eval")  # fullwidth low lines normalise to '_'
    with pytest.raises(UnsafeScript):
        env.evaluate("ｅxec('import os')", {})


@pytest.mark.parametrize("source", ["10 ** 10 ** 10", "'a' * 10 ** 9", "[0] * 10 ** 9",
                                    "10 ** 9 * 'ab'", "x ** 1000", "1 << 10 ** 9",
                                    "((10 ** 100) ** 100) ** 100"])
def test_huge_constants_are_refused_without_hanging(env, source):
    assert check_source(source, "eval")
    with pytest.raises(UnsafeScript):
        env.evaluate(source, {"x": 2})


def test_small_constants_are_fine(env):
    assert env.evaluate("2 ** 10 + 1.5 ** -2", {}) == 1024 + 1.5 ** -2
    assert env.evaluate("'-' * 20 + str(10 ** 6)", {}) == "-" * 20 + "1000000"


def test_size_limits_are_enforced():
    assert "too long" in check_source("a = 1\n" * 5000)[0]
    assert "too complex" in check_source("[" + ", ".join(["a"] * 5000) + "]", "eval")[0]
    assert check_source("-" * 5000 + "1", "eval")  # too deep for the parser: a problem, not a crash


def test_syntax_error_is_reported_not_raised():
    assert check_source("x = (1,", "exec")[0].startswith("syntax error at line 1:")
    assert check_source("a ==", "eval")[0].startswith("syntax error at line 1:")
    assert check_source("return 1") == ["syntax error at line 1: 'return' outside function"]
    assert check_source("a\x00")[0].startswith("syntax error")


def test_builtins_data_key_does_not_widen_builtins(env):
    hostile = {"__builtins__": vars(builtins), "x": 1}
    with pytest.raises(NameError):
        env.evaluate("print(x)", dict(hostile))  # print is not allow-listed
    data = dict(hostile)
    with pytest.raises(NameError):
        env.execute("y = chr(65)", data)
    assert "__builtins__" not in data
    assert env.evaluate("len([x])", dict(hostile)) == 1


def test_only_allow_listed_builtins_exist(env):
    assert env.evaluate("[abs, len, zip][1]([1, 2])", {}) == 2
    for name in ("print", "Exception", "chr", "iter", "next", "bytearray", "frozenset"):
        with pytest.raises(NameError):
            env.evaluate(f"{name}()", {})
    assert "isinstance" not in ALLOWED_BUILTINS and "getattr" not in ALLOWED_BUILTINS


def test_task_data_cannot_overwrite_project_functions(env):
    with pytest.raises(ValueError, match="overwrites a predefined"):
        env.execute("y = 1", {"double": 5})


def test_project_function_named_like_forbidden_builtin_is_usable():
    env = SandboxEnvironment({"type": lambda doc: doc["kind"]})
    assert env.evaluate("type(doc)", {"doc": {"kind": "cv"}}) == "cv"
    with pytest.raises(ValueError):
        SandboxEnvironment({"_secret": print})


def test_service_tasks_are_refused(env):
    with pytest.raises(UnsafeScript, match="service tasks"):
        env.call_service({}, operation_name="x")


def test_checked_code_is_cached(env):
    # Speed itself is measured in bench/engine.py, not here.
    env.evaluate("a + 1", {"a": 1})
    hits = sandbox._analyse_text.cache_info().hits
    env.evaluate("a + 1", {"a": 2})
    assert sandbox._analyse_text.cache_info().hits == hits + 1


# ---- end to end through SpiffWorkflow -------------------------------------------------

BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d1"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="proc" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script" />
    <bpmn:scriptTask id="script" name="Script">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


def _workflow(script):
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(BPMN.format(script=script).encode("utf-8"))
    spec = parser.get_spec("proc")
    subprocess_specs = parser.get_subprocess_specs("proc")
    return BpmnWorkflow(spec, subprocess_specs,
                        script_engine=make_script_engine({"double": lambda n: n * 2}))


def _chain(exc):
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def test_bpmn_script_task_with_import_raises_and_task_is_in_error():
    workflow = _workflow("import os\nos.system('id')")
    # What actually happens in SpiffWorkflow 3.2.0: the task is put in ERROR *and* the
    # WorkflowTaskException propagates out of do_engine_steps, chained to UnsafeScript.
    with pytest.raises(WorkflowTaskException) as info:
        workflow.do_engine_steps()
    assert info.value.error_type == "UnsafeScript"
    unsafe = [e for e in _chain(info.value) if isinstance(e, UnsafeScript)]
    assert unsafe and unsafe[0].problems == ["import is not allowed (line 1)"]
    task = workflow.get_next_task(spec_name="script", state=TaskState.ERROR)
    assert task is not None and task.state == TaskState.ERROR
    assert not workflow.is_completed()


def test_bpmn_safe_script_task_completes():
    workflow = _workflow("total = double(21)\nlabel = 'ok-' + str(total)")
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert workflow.data == {"total": 42, "label": "ok-42"}


def test_bpmn_runtime_error_reports_script_line():
    workflow = _workflow("a = 1\nb = a / 0")
    with pytest.raises(WorkflowTaskException) as info:
        workflow.do_engine_steps()
    assert info.value.line_number == 2  # compiled as '<string>', so SpiffWorkflow finds the line
