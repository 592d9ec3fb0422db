"""`python -m engine check`: do the query tables agree with the saved workflows?

Every step writes an instance's workflow state and its query-table rows (ready_tasks, waiting_timers) and
the tracked task's status in one transaction (engine/process/steps.py), so after any crash (kill -9 of a
worker in the middle of completions) they must still agree. This restores each instance's workflow, as
a step would, and compares what it has open with the rows: nothing is written.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.process import instance_store as store
from engine.process.context import EngineContext
from engine.process.steps import load_workflow, snapshot
from engine.process.tables import InstanceStatus, ProcessInstance, ReadyTask, WaitingTimer
from engine.regulation.records import TrackedTask

BATCH = 200  # instances restored per read transaction
_I, _READY, _TIMERS, _TRACKED = (ProcessInstance.__table__, ReadyTask.__table__, WaitingTimer.__table__,
                                 TrackedTask.__table__)
# The query tables list open work only while an instance runs or is held (suspended); ending, failing
# or cancelling it clears them (engine/process/instance_store.clear_snapshot).
_LISTED = (InstanceStatus.RUNNING, InstanceStatus.SUSPENDED)
_ENDED = (InstanceStatus.COMPLETED, InstanceStatus.CANCELLED)


@dataclass(frozen=True)
class Disagreement:
    """One thing the database says that an instance's workflow does not."""

    instance_id: int
    kind: str      # ready_task_missing, ready_task_stray, ready_task_differs, timer_missing, timer_stray,
    #                timer_differs, status, tracked_task_status, unreadable
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """For `--json`."""
        return asdict(self)


@dataclass
class CheckReport:
    """How many instances were checked and what disagrees."""

    instances: int
    disagreements: list[Disagreement]


def check_database(ctx: EngineContext, batch: int = BATCH) -> CheckReport:
    """Compare every instance's workflow with its query-table rows and its tracked task, batch by batch."""
    found: list[Disagreement] = []
    checked, after = 0, 0
    while True:
        with ctx.unit_of_work(readonly=True) as session:
            _one_snapshot(session)
            rows = session.connection().execute(
                select(*(_I.c[name] for name in store.InstanceRow.__dataclass_fields__))
                .where(_I.c.id > after).order_by(_I.c.id).limit(batch)).all()
            if not rows:
                return CheckReport(checked, found)
            ids = [row.id for row in rows]
            ready, timers, tracked = _rows_of(session, ids)
            for row in rows:
                found.extend(check_instance(ctx, session, store.InstanceRow(**row._mapping),
                                            ready[row.id], timers[row.id], tracked[row.id]))
            checked, after = checked + len(rows), ids[-1]


def _one_snapshot(session: Session) -> None:
    # The instance rows and their query rows must be read at one moment, or a step committed between
    # the two reads of a live database would show as a disagreement.
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _rows_of(session: Session, ids: list[int]):
    connection = session.connection()
    ready, timers, tracked = defaultdict(list), defaultdict(list), defaultdict(list)
    for row in connection.execute(select(_READY).where(_READY.c.instance_id.in_(ids))):
        ready[row.instance_id].append(row)
    for row in connection.execute(select(_TIMERS).where(_TIMERS.c.instance_id.in_(ids))):
        timers[row.instance_id].append(row)
    for row in connection.execute(select(_TRACKED.c.id, _TRACKED.c.instance_id, _TRACKED.c.status)
                                  .where(_TRACKED.c.instance_id.in_(ids))):
        tracked[row.instance_id].append(row)
    return ready, timers, tracked


def check_instance(ctx: EngineContext, session: Session, row: store.InstanceRow, ready_rows, timer_rows,
                   tracked_rows) -> list[Disagreement]:
    """What disagrees between one instance's workflow and its rows."""
    found: list[Disagreement] = []

    def say(kind: str, detail: str) -> None:
        found.append(Disagreement(row.id, kind, detail))

    for task in tracked_rows:
        # A tracked task stays open exactly while its workflow can still move (engine/regulation/task_actions.py
        # closes it as the workflow ends; an admin's cancel closes both, engine/regulation/instance_cancel.py).
        if task.status.is_open and row.status in _ENDED or not task.status.is_open and row.status in _LISTED:
            say("tracked_task_status",
                f"tracked task {task.id} is {task.status.value} but the instance is {row.status.value}")
    try:
        _, workflow = load_workflow(ctx, session, row)
        expected = snapshot(workflow) if row.status in _LISTED else store.EMPTY
    except Exception as error:  # noqa: BLE001 - any failure to restore is what this check reports
        say("unreadable", f"the saved workflow cannot be restored: {type(error).__name__}: {error}")
        return found
    completed = workflow.is_completed()
    if row.status is InstanceStatus.COMPLETED and not completed:
        say("status", "the instance is completed but its workflow is not")
    if row.status in _LISTED and completed:
        say("status", f"the instance is {row.status.value} but its workflow is completed")
    _compare(say, "ready_task", {t.task_id: asdict(t) for t in expected.ready},
             {r.task_id: {name: getattr(r, name) for name in ("task_id", "bpmn_id", "name", "lane", "assignee",
                                                              "due_at")} for r in ready_rows})
    _compare(say, "timer", {t.task_id: asdict(t) for t in expected.timers},
             {r.task_id: {"task_id": r.task_id, "bpmn_id": r.bpmn_id, "due_at": r.due_at} for r in timer_rows})
    return found


def _compare(say, kind: str, expected: dict[str, dict], stored: dict[str, dict]) -> None:
    table = "ready_tasks" if kind == "ready_task" else "waiting_timers"
    for task_id, values in expected.items():
        row = stored.get(task_id)
        if row is None:
            say(f"{kind}_missing", f"{values['bpmn_id']} ({task_id}) is open in the workflow, no {table} row")
            continue
        differs = [f"{name}: row {row[name]!s}, workflow {value!s}" for name, value in values.items()
                   if row[name] != value]
        if differs:
            say(f"{kind}_differs", f"{values['bpmn_id']} ({task_id}): " + "; ".join(differs))
    for task_id, row in stored.items():
        if task_id not in expected:
            say(f"{kind}_stray", f"{table} row {row['bpmn_id']} ({task_id}) is not open in the workflow")
