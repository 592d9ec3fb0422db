"""Diagram code runs under a time and memory budget; hostile texts the engine evaluates are refused at deploy.

The run-time tests drive tests/bpmn/runaway.bpmn: its `go` task takes `case` and `n`, and the
gateway sends the instance to a script, a property or a condition that would run (almost) forever
or eat memory. Each must put that instance in error within its budget, naming the element, and
hold nobody else up. Settings come from the environment as in production (Config.from_env).
"""
from __future__ import annotations

import copy
import threading
import time

import pytest

from engine.app.bootstrap import open_context, seed_reference_data
from engine.bpmn.validation import validate_bpmn
from engine.core.config import Config
from engine.core.errors import DeployRefused, DiagramError
from engine.process import instances
from engine.process.definitions import deploy_bytes
from engine.process.tables import InstanceStatus
from tests.helpers import BPMN, csrf_token

TIME_LIMIT = 1.0
MARGIN = 2.5  # scheduling and a full garbage collection on a loaded CI machine; a runaway never ends


def _context(database_url, clock, **env):
    # DEMO_DATA=1: seeding gives the demo users their public password (open_context builds no demo data).
    config = Config.from_env({"DATABASE_URL": database_url, "DEPLOY_ON_START": "0", "DEMO_DATA": "1", **env})
    context = open_context(config, clock)
    seed_reference_data(context)
    return context


@pytest.fixture
def bctx(database_url, clock):
    """An engine context whose diagram code gets TIME_LIMIT seconds and 40 MB."""
    context = _context(database_url, clock, DIAGRAM_TIME_LIMIT=str(TIME_LIMIT), DIAGRAM_MEMORY_LIMIT="40000000")
    for name in ("runaway.bpmn", "three_step.bpmn"):
        deploy_bytes(context, (BPMN / name).read_bytes(), name, "tester")
    yield context
    context.db.dispose()


def _started(ctx, process_id="runaway", data=None):
    view = instances.start_instance(ctx, process_id, data or {}, actor="tester")
    return view.id, instances.list_ready_tasks(ctx, instance_id=view.id)[0].task_id


def _run_case(ctx, case, n):
    """Complete `go` with (case, n); the DiagramError it raises, the instance afterwards, the seconds taken."""
    instance_id, go = _started(ctx)
    began = time.monotonic()
    with pytest.raises(DiagramError) as info:
        instances.complete_task(ctx, instance_id, go, {"case": case, "n": n}, actor="tester")
    return info.value, instances.get_instance(ctx, instance_id), time.monotonic() - began


def test_endless_loop_in_a_script_task_puts_the_instance_in_error_within_the_budget(bctx):
    error, instance, seconds = _run_case(bctx, "spin", 0)
    assert seconds < TIME_LIMIT + MARGIN
    assert error.bpmn_id == "spin" and "time budget" in str(error) and "DIAGRAM_TIME_LIMIT" in str(error)
    assert instance.status is InstanceStatus.ERROR and "spin" in instance.error_message


def test_sum_of_a_huge_range_in_a_due_date_is_refused_before_it_runs(bctx):
    # The text is fine to the static checks; the size comes from task data at run time.
    error, instance, seconds = _run_case(bctx, "due", 10**12)
    assert seconds < TIME_LIMIT + MARGIN
    assert error.bpmn_id == "review" and "range of 1000000000000 items" in str(error)
    assert instance.status is InstanceStatus.ERROR


def test_a_gateway_condition_that_loops_is_stopped_at_the_budget(bctx):
    error, instance, seconds = _run_case(bctx, "condition", 100_000)  # 10**10 iterations
    assert seconds < TIME_LIMIT + MARGIN
    assert error.bpmn_id == "route" and "time budget" in str(error)
    assert instance.status is InstanceStatus.ERROR


def test_memory_built_up_in_a_script_is_stopped_at_the_memory_budget(database_url, clock):
    # Plenty of time, 40 MB of memory: 300,000 strings of 1 KB would take 300 MB.
    ctx = _context(database_url, clock, DIAGRAM_TIME_LIMIT="20", DIAGRAM_MEMORY_LIMIT="40000000")
    try:
        deploy_bytes(ctx, (BPMN / "runaway.bpmn").read_bytes(), "runaway.bpmn", "tester")
        error, instance, _ = _run_case(ctx, "hoard", 300_000)
    finally:
        ctx.db.dispose()
    assert error.bpmn_id == "hoard" and "memory budget" in str(error) and "DIAGRAM_MEMORY_LIMIT" in str(error)
    assert instance.status is InstanceStatus.ERROR


def test_task_data_too_big_to_save_is_refused_after_the_script(bctx):
    # 2,000 references to one row of 1,000 values: small in memory, 2 million values once saved.
    error, instance, _ = _run_case(bctx, "bomb", 2_000)
    assert error.bpmn_id == "bomb" and "task data" in str(error)
    assert instance.status is InstanceStatus.ERROR


def test_correct_code_still_runs_under_the_budget(bctx):
    instance_id, go = _started(bctx)
    view = instances.complete_task(bctx, instance_id, go, {"case": "hoard", "n": 1000}, actor="tester")
    assert view.status is InstanceStatus.COMPLETED


@pytest.mark.parametrize("other", ["complete_another_task", "sign_in"])
def test_a_runaway_diagram_holds_up_nobody_beyond_its_budget(bctx, other):
    from web import create_app

    client = create_app(bctx, {"TESTING": True, "SECRET_KEY": "test"}).test_client()
    token = csrf_token(client)
    runaway_id, go = _started(bctx)
    other_id, receive = _started(bctx, "three_step", {"unit": "u1"})
    outcome = {}

    def run_away():
        try:
            instances.complete_task(bctx, runaway_id, go, {"case": "spin", "n": 0}, actor="tester")
        except Exception as error:  # noqa: BLE001 - recorded for the assertions below
            outcome["error"] = error

    thread = threading.Thread(target=run_away, daemon=True)
    thread.start()
    time.sleep(0.3)  # the runaway is inside its script, holding its transaction
    began = time.monotonic()
    if other == "sign_in":
        response = client.post("/login", data={"username": "dm.sotuphap", "password": "demo123",
                                                "csrf_token": token})
        assert response.status_code == 302
    else:
        instances.complete_task(bctx, other_id, receive, {}, actor="tester")
    waited = time.monotonic() - began
    thread.join(TIME_LIMIT + MARGIN)
    assert not thread.is_alive(), "the runaway script is still running"
    assert waited < TIME_LIMIT + MARGIN
    assert isinstance(outcome.get("error"), DiagramError) and "time budget" in str(outcome["error"])
    assert instances.get_instance(bctx, runaway_id).status is InstanceStatus.ERROR


# ---- texts the engine evaluates itself are checked at validate and deploy -------------------

@pytest.mark.parametrize(("name", "element", "words"), [
    ("invalid_assignee_dunder.bpmn", "handle", ["assignee", "attribute '__class__' is not allowed"]),
    ("invalid_due_date_range.bpmn", "review", ["dueDate", "range of 1000000000000 items"]),
])
def test_unsafe_property_expressions_are_refused_at_validate(name, element, words):
    definitions, problems = validate_bpmn((BPMN / name).read_bytes(), name, functions=["now"])
    assert definitions == [] and [p.element_id for p in problems] == [element]
    assert all(word in problems[0].message for word in words), problems[0].message


@pytest.mark.parametrize(("name", "element"), [("invalid_assignee_dunder.bpmn", "handle"),
                                               ("invalid_due_date_range.bpmn", "review")])
def test_unsafe_property_expressions_are_refused_at_deploy(ctx, name, element):
    with pytest.raises(DeployRefused) as info:
        deploy_bytes(ctx, (BPMN / name).read_bytes(), name, "tester")
    assert [p.element_id for p in info.value.problems] == [element]


# ---- the guards, without a database -----------------------------------------------------------

def _env(seconds=0.3, memory_bytes=50_000_000, max_items=100_000, **functions):
    from engine.bpmn.budget import Limits
    from engine.bpmn.sandbox import SandboxEnvironment

    return SandboxEnvironment(functions, Limits(seconds, memory_bytes, max_items))


def _budget_error():
    from engine.bpmn.budget import BudgetExceeded

    return BudgetExceeded


# Loops the checkpoints must stop, even where a handler tries to swallow the first stop.
ENDLESS = [
    "while True: pass",
    "while 1:\n    try:\n        while True: pass\n    except:\n        pass",
    "try:\n    while True: pass\nfinally:\n    while True: pass",
    "while True:\n    try:\n        x = [0 for i in range(10**5)]\n    except:\n        continue",
    "f = lambda n: f(n - 1) + f(n - 1) if n else 0\nr = f(60)",
    "def f(n):\n    return f(n - 1) + f(n - 1) if n else 0\nr = f(60)",
    "r = any(a * b < 0 for a in range(10**5) for b in range(10**5))",
    "r = [x for x in map(lambda v: v, range(10**5)) for y in range(10**5)]",
]


@pytest.mark.parametrize("source", ENDLESS)
def test_endless_code_is_stopped_at_the_deadline_whatever_catches_it(source):
    began = time.monotonic()
    with pytest.raises(_budget_error(), match="time budget"):
        _env().execute(source, {})
    assert time.monotonic() - began < 0.3 + MARGIN


# One C call that would run for hours or build gigabytes: refused before it starts (sizes from data).
HUGE = [
    ("sum(range(n))", 10**12), ("list(map(range, [n]))", 10**12), ("sum(map(sum, map(range, [n])))", 10**12),
    ("'a' * n", 10**9), ("n * [0]", 10**9), ("'x'.ljust(n)", 10**9), ("str.zfill('1', n)", 10**9),
    ("list(map('x'.center, [n]))", 10**9), ("'%0*d' % (n, 1)", 10**9), ("2 ** n", 10**9), ("1 << n", 10**9),
    ("round(5, -n)", 10**8), ("n.to_bytes(n, 'big')", 10**9), ("('x' * 1000).replace('x', 'y' * n)", 10**6),
    ("''.join(['x' * 1000] * n)", 10**5), ("sum([[0]] * 1000, [])", 0), ("'ab\\t'.expandtabs(n)", 10**9),
    ("'a'.translate({97: 'b' * n})", 10**9),
]


@pytest.mark.parametrize(("source", "n"), HUGE)
def test_an_operation_that_would_build_too_much_is_refused_before_it_runs(source, n):
    began = time.monotonic()
    with pytest.raises(_budget_error()):
        _env().evaluate(source, {"n": n})
    assert time.monotonic() - began < MARGIN  # refused at once: run, it would take hours


_SHARED = "a = [0] * 10\n" + "".join(f"{x} = [{y}] * 10\n" for y, x in zip("abcdefgh", "bcdefghi", strict=True))


_TUPLES = "t = (0,) * 10\n" + "t = (t,) * 10\n" * 8


@pytest.mark.parametrize("use", [
    "s = str(i)", "s = f'{i}'", "s = '%s' % (i,)", "r = i == [[[[[[[[[[0] * 10] * 10] * 10] * 10] * 10]]]]]",
    "r = i in [[i[0]] * 10]", "r = sorted([i, list(i)])", "r = max(i, list(i))", "r = [i].index(list(i))",
    _TUPLES + "d = {t: 1}", _TUPLES + "s = set([t])", _TUPLES + "r = t in {}", _TUPLES + "r = {}.get(t)",
])
def test_a_small_value_that_is_huge_to_walk_is_not_compared_printed_or_hashed(use):
    # i is 10**9 zeros reached through shared lists: a few hundred bytes, hours to print or compare.
    began = time.monotonic()
    with pytest.raises(_budget_error(), match="items"):
        _env().execute(_SHARED + use, {})
    assert time.monotonic() - began < MARGIN  # refused at once: run, it would take hours


@pytest.mark.parametrize("source", [
    "x = [1]\nwhile True:\n    x.extend(x)",
    "x = []\nwhile True:\n    x.append(str(len(x)) * 100)",
    "r = list(zip(*[range(10**5)] * 10**5))",
    "a = list(range(10**5))\nb = [a[:] for i in range(10**5)]",
])
def test_memory_growth_is_stopped_at_the_memory_budget(source):
    with pytest.raises(_budget_error(), match="memory budget"):
        _env(seconds=30, memory_bytes=30_000_000).execute(source, {})


@pytest.mark.parametrize("source", [
    "row = ['x'] * 1000\ntable = [row for i in range(2000)]",  # 2 million values once serialized
    "a = []\nfor i in range(200):\n    a = [a]",  # deeper than the serializer goes
    "a = []\na.append(a)",  # a cycle
])
def test_task_data_the_serializer_cannot_write_is_refused_after_the_script(source):
    with pytest.raises(_budget_error(), match="task data"):
        _env().execute(source, {})


def test_an_expression_that_grows_task_data_in_place_is_measured_too():
    with pytest.raises(_budget_error(), match="task data"):
        _env().evaluate("rows.extend([rows[0]] * 5000) or True", {"rows": [["x"] * 1000]})


def test_data_named_like_a_checkpoint_cannot_replace_it():
    data = {"_sb": None, "_sb_tick": lambda: True}
    with pytest.raises(_budget_error()):
        _env().execute("while True: pass", data)


def _busy(seconds: float) -> None:
    """A diagram function that runs (not waits) for `seconds` of this thread's CPU time."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_the_code_of_one_step_shares_one_time_budget():
    from engine.bpmn import budget

    env = _env(seconds=0.5, nap=_busy)
    with budget.scope(0.5):
        env.execute("nap(0.3)", {})
        env.execute("nap(0.3)", {})  # checked before the nap: 0.2 s were left
        with pytest.raises(budget.BudgetExceeded, match="used it all"):
            env.evaluate("len(x) + 1", {"x": []})
        assert env.evaluate("x", {"x": 1}) == 1  # no loop, call or operator: bounded by its length, not checked
    assert env.evaluate("len(x) + 1", {"x": []}) == 1  # a new step, a new budget


_CHAIN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="chain" isExecutable="true">
    <bpmn:startEvent id="start" />
    {scripts}
    <bpmn:endEvent id="end" />
    {flows}
  </bpmn:process>
</bpmn:definitions>"""


def test_waiting_is_not_charged_to_the_budget_only_running_is():
    # A step whose thread waits (for the GIL among a web worker's threads, a busy machine, the database in
    # a diagram function) is not a runaway: 1.5 s of waiting under a 0.5 s budget passes.
    from engine.bpmn import budget

    env = _env(seconds=0.5, nap=time.sleep)
    with budget.scope(0.5):
        env.execute("nap(0.5)\nnap(0.5)\nnap(0.5)\nx = [i for i in range(1000)]", {})
        assert env.evaluate("len(x) + 1", {"x": []}) == 1


def test_a_chain_of_scripts_each_under_the_limit_is_stopped_when_the_step_is_over_it():
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

    from engine.bpmn import runtime
    from engine.bpmn.budget import Limits
    from engine.bpmn.sandbox import make_script_engine
    from engine.bpmn.serialization import ProcessSpecs

    names = ["start", "s1", "s2", "s3", "s4", "end"]
    scripts = "".join(f'<bpmn:scriptTask id="{n}"><bpmn:script>nap(0.3)\nnap(0)</bpmn:script></bpmn:scriptTask>'
                      for n in names[1:-1])
    flows = "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}" />'
                    for i, (a, b) in enumerate(zip(names, names[1:], strict=False)))
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(_CHAIN.format(scripts=scripts, flows=flows).encode())
    specs = ProcessSpecs(parser.get_spec("chain"), parser.get_subprocess_specs("chain"), {})
    engine = make_script_engine({"nap": _busy}, Limits(seconds=1.0))
    with pytest.raises(DiagramError) as info:
        runtime.new_workflow(specs, engine, {})  # 0.3 s each: the fourth runs past 1 s in all
    assert info.value.bpmn_id == "s4" and "time budget" in str(info.value)


@pytest.mark.parametrize(("source", "message"), [
    ("sum(range(10**12))", "range of 1000000000000 items is too large"),
    ("'%0999999999d' % 1", "% formatting is too large"),
    ("f'{x:>999999999}'", "format width or precision is too large"),
    ("f'{x:>{w}}'", "computed format spec"),
])
def test_literal_bombs_are_refused_by_the_static_check(source, message):
    from engine.bpmn.sandbox import check_source

    assert any(message in problem for problem in check_source(source, "eval")), check_source(source, "eval")


def test_augmented_assignment_to_an_attribute_is_refused():
    from engine.bpmn.sandbox import check_source

    assert check_source("x.y += 1") == ["augmented assignment to an attribute or a slice is not allowed"]


ORDINARY = [
    ("total = 0\nfor n in amounts:\n    total += n * 2\nitems['a'] += 1\nnames += ['z']",
     {"amounts": [1, 2], "items": {"a": 1}, "names": ["y"]},
     {"amounts": [1, 2], "items": {"a": 2}, "names": ["y", "z"], "total": 6, "n": 2}),
    ("s = f'{x!r:>6}|{y:.2f}|{x}' + '%5d|%-3s|' % (7, 'ab') + '-' * 3\nt = s[1:4] + s[::-1][:2]",
     {"x": "a", "y": 2.5}, None),
    ("r = sorted(v, key=lambda p: -p, reverse=True)\nm = max(v, key=lambda p: p % 3)\nn = min([], default=0)",
     {"v": [3, 1, 2, 5]}, None),
    ("r = list(map(str, filter(None, [0, 1, 2])))\nz = list(zip(range(2), 'ab'))\nw = dict(zip('ab', [1, 2]))",
     {}, None),
    ("s = {n % 3 for n in range(10)}\nd = {k: v for k, v in [('a', 1), ('b', 2)]}\nt = {(1, 2): 'x'}[(1, 2)]",
     {}, None),
    ("match kind:\n    case str():\n        r = 'text'\n    case _:\n        r = 'other'", {"kind": "a"}, None),
    ("try:\n    r = 1 / 0\nexcept:\n    r = -1\nfinally:\n    done = True", {}, None),
    ("r = ' Ab '.strip().lower().replace('a', 'x').ljust(4, '.').split('.')\nj = ','.join(str(i) for i in r)",
     {}, None),
    ("r = 2 ** 10 + pow_ if (pow_ := 3) else 0\nb = 1 << 8\nq = round(2.675, 2)\nu = [*range(3), *[4]]",
     {}, None),
    ("r = a == [1, [2, 3]] and 2 in a[1] and (1, 2) in {(1, 2)} and 'x' in {'x': 1} and a[0] < 2 < 3",
     {"a": [1, [2, 3]]}, None),
]


@pytest.mark.parametrize(("source", "data", "expected"), ORDINARY)
def test_ordinary_code_gives_the_same_results_as_plain_python(source, data, expected):
    mine, plain = copy.deepcopy(data), copy.deepcopy(data)
    _env().execute(source, mine)
    exec(source, plain)  # noqa: S102 - the reference: the same text as plain Python
    plain.pop("__builtins__")
    assert mine == plain
    if expected is not None:
        assert mine == expected


def test_a_multi_instance_cardinality_over_the_limit_is_refused_before_its_tasks_are_made():
    from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser

    from engine.bpmn import runtime
    from engine.bpmn.budget import Limits
    from engine.bpmn.sandbox import make_script_engine
    from engine.bpmn.serialization import ProcessSpecs

    xml = _CHAIN.format(scripts='<bpmn:userTask id="each"><bpmn:multiInstanceLoopCharacteristics>'
                                '<bpmn:loopCardinality>n</bpmn:loopCardinality>'
                                '</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>',
                        flows='<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="each" />'
                              '<bpmn:sequenceFlow id="f2" sourceRef="each" targetRef="end" />')
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(xml.encode())
    specs = ProcessSpecs(parser.get_spec("chain"), parser.get_subprocess_specs("chain"), {})
    engine = make_script_engine({}, Limits(max_items=1000))
    workflow, _ = runtime.new_workflow(specs, engine, {"n": 3})
    assert len(runtime.open_work(workflow)[0]) == 3
    began = time.monotonic()
    with pytest.raises(DiagramError) as info:
        runtime.new_workflow(specs, engine, {"n": 10**7})  # ten million user tasks
    assert time.monotonic() - began < MARGIN  # ten million tasks would take hours to make
    assert info.value.bpmn_id == "each" and "cardinality of 10000000" in str(info.value)
