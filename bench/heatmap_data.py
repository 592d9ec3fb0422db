"""The step waits of the dashboard benchmark's tasks, for the heatmap's measurement (bench/dashboard.py).

bench/dashboard_data.py writes each task_followup instance's audit rows as the engine would (start, the
completions, cancel) but not `step_waits`, which the engine writes beside `ready_tasks` at each step
(engine/process/step_waits.py). `add_step_waits` derives them from those rows, as the steps would have:
each completion ends the wait that began with the entry before it (the start or the previous completion;
a timer firing readies nothing), a cancel ends the open wait as cancelled, and a running instance waits at
the step after its last entry. Assignees and due times follow task_followup: the lead unit receives and
reports (due 2 days after receipt, and the day after the deadline), the Office handles a return and
confirms (no due time).
"""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text

from engine.process.step_waits import epoch
from engine.worktime.calendar import TZ

OFFICE = "vp-ubnd"
_NEXT = {None: "review_receipt", "review_receipt": "report_completion", "handle_return": "report_completion",
         "report_completion": "confirm_completion", "report_completion_open": "confirm_completion"}
_COLUMNS = ("instance_id", "process_id", "task_id", "bpmn_id", "assignee", "ready_at", "due_at", "done_at", "ended",
            "ready_epoch", "done_epoch")
_BATCH = 20_000


def add_step_waits(ctx, url: str) -> int:
    """Write the step waits of every task_followup instance from its audit rows; how many rows were written."""
    engine = ctx.db.engine
    with engine.connect() as conn:
        tasks = {row[0]: (row[1], row[2], row[3]) for row in conn.execute(text(
            "SELECT t.instance_id, u.code, t.deadline, t.status FROM tracked_tasks t "
            "JOIN units u ON u.id = t.lead_unit_id"))}
        running = {row[0] for row in conn.execute(text(
            "SELECT id FROM process_instances WHERE process_id = 'task_followup' AND status = 'running'"))}
        entries = conn.execute(text(
            "SELECT instance_id, at, action, bpmn_id, task_id FROM audit_log WHERE instance_id IS NOT NULL "
            "AND action IN ('start', 'complete_task', 'cancel') ORDER BY instance_id, id"))
        rows = list(_waits(entries, tasks, running))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for first in range(0, len(rows), _BATCH):
            batch = rows[first:first + _BATCH]
            if url.startswith("postgresql"):
                with cursor.copy(f"COPY step_waits ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
            else:
                cursor.executemany(f"INSERT INTO step_waits ({', '.join(_COLUMNS)}) VALUES "
                                   f"({', '.join('?' * len(_COLUMNS))})", [_sqlite(row) for row in batch])
        raw.commit()
    finally:
        raw.close()
    if url.startswith("postgresql"):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE step_waits"))
    return len(rows)


def _waits(entries, tasks, running):
    current, ready_at, last_step, n = None, None, None, 0
    for instance_id, at, action, bpmn_id, _ in entries:
        at = _aware(at)
        if instance_id != current:
            if current is not None and current in running:
                yield _open(current, tasks, last_step, ready_at, n)
            current, ready_at, last_step, n = instance_id, at, None, 0
        if action == "complete_task":
            n += 1
            yield _wait(instance_id, tasks, bpmn_id, ready_at, at, "done", n)
            ready_at, last_step = at, bpmn_id
        elif action == "cancel":
            n += 1
            yield _wait(instance_id, tasks, _next(last_step, tasks[instance_id]), ready_at, at, "cancelled", n)
    if current is not None and current in running:
        yield _open(current, tasks, last_step, ready_at, n)


def _next(last_step, task) -> str:
    if last_step == "review_receipt" and task[2] == "returned":
        return "handle_return"
    step = _NEXT[last_step]
    return "report_completion_open" if step == "report_completion" and task[1] is None else step


def _open(instance_id, tasks, last_step, ready_at, n):
    step = _NEXT.get(last_step) and _next(last_step, tasks[instance_id])
    return _wait(instance_id, tasks, step or "confirm_completion", ready_at, None, None, n + 1)


def _wait(instance_id, tasks, bpmn_id, ready_at, done_at, ended, n):
    unit, deadline, _ = tasks[instance_id]
    assignee = OFFICE if bpmn_id in ("handle_return", "confirm_completion") else unit
    due = None
    if bpmn_id == "review_receipt":
        due = ready_at + timedelta(days=2)
    elif bpmn_id == "report_completion" and deadline is not None:
        day = deadline if isinstance(deadline, date) else date.fromisoformat(str(deadline))
        due = datetime.combine(day + timedelta(days=2), time.min, TZ)
    return (instance_id, "task_followup", f"{instance_id}-{n}", bpmn_id, assignee, ready_at, due, done_at, ended,
            epoch(ready_at), epoch(done_at))


def _aware(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _sqlite(row: tuple) -> tuple:
    # As the column type writes on SQLite: naive UTC with microseconds.
    return tuple(value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(value, datetime) else value
                 for value in row)


def heatmap_task_followup(ctx):
    """The heatmap of task_followup for the province, this quarter (the step waits derived on the first call,
    a warm-up one, from the audit rows bench/dashboard_data.py wrote)."""
    from engine.read import heatmap
    from engine.worktime.periods import Cadence, period_containing

    if not getattr(ctx, "_bench_step_waits", False):
        add_step_waits(ctx, ctx.config.database_url)
        object.__setattr__(ctx, "_bench_step_waits", True)
    quarter = period_containing(Cadence.QUARTERLY, ctx.now().astimezone(TZ).date())
    return heatmap.heatmap(ctx, "task_followup", quarter, None)
