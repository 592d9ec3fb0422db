"""Try a diagram before deploying it: a dry run in a throwaway database, with its own clock.

An analyst starts a draft (BPMN XML and its forms) with sample data, answers each user task from its
form and moves the run's clock to fire timers; the run shows the path taken, the ready tasks and the
waiting timers with their due dates. Everything runs on the real engine code, with the real timer
settings and working-day calendar copied in, but in a database of its own (a SQLite file per run,
engine/app/dry_run_store.py): the real database is only ever read. Domain actions do not run: each
records "action X would run here with this data" in the run's log instead (the run's audit log, so a
step that fails records nothing of it), and so do the "a task is ready for you" notices.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from engine.app.dry_run_store import EXPIRES_AFTER, DryRunNotFound, RunMeta, RunStore
from engine.app.dry_run_view import DryRunView, read_view
from engine.core import audit
from engine.core.clock import FixedClock
from engine.core.errors import DiagramError, Forbidden, InvalidInput
from engine.process import definitions, instances, timers
from engine.process.actions import ActionContext
from engine.process.tables import ProcessDraft, WaitingTimer
from engine.regulation import access
from engine.worktime.calendar import TZ
from engine.worktime.tables import CalendarOverrideRow, TimerSettingRow

WOULD_RUN, WOULD_NOTIFY, CLOCK_MOVED = "dry_run_action", "dry_run_notice", "dry_run_clock"
NEXT_TIMER, NEXT_WORKING_DAY = "next_timer", "next_working_day"
MAX_FIRINGS = 200          # timers fired by one move of the clock (a cycle timer could fire forever)
MAX_AHEAD = timedelta(days=3 * 366)
TICK = timedelta(microseconds=1)  # a timer fires once the clock is past its due time
_COPIED = (TimerSettingRow, CalendarOverrideRow)  # what timers and due dates read from the real database

__all__ = ["DryRunNotFound", "DryRunView", "DryRunSource", "source_of", "start_dry_run", "dry_run_state",
           "dry_run_diagram", "complete_dry_run_task", "advance_dry_run_clock", "end_dry_run", "NEXT_TIMER",
           "NEXT_WORKING_DAY", "EXPIRES_AFTER"]


def start_dry_run(ctx, process_id: str, bpmn: bytes, forms: dict[str, str], start_data: dict[str, Any],
                  actor: access.Actor, start_at: datetime | None = None) -> DryRunView:
    """Deploy a draft into a new throwaway database and start `process_id` with `start_data`.

    DeployRefused (with its located problems) for a diagram that does not deploy; InvalidInput when
    the file has no such process or the start itself fails (the diagram's error is named).
    """
    _allowed(actor)
    now = _aware(start_at) if start_at is not None else ctx.now()
    store = _store(ctx)
    meta = store.create(actor.username, process_id, now, ctx.now())
    try:
        run = _open(ctx, store, meta)
        try:
            _make_schema(ctx, run)
            deployed = definitions.deploy_bytes(run, bpmn, f"{process_id}.bpmn", actor.username,
                                                forms=dict(forms), comment="dry run")
            if process_id not in {d.process_id for d in deployed}:
                raise InvalidInput("dry_run_process_missing", process=process_id)
            try:
                view = instances.start_instance(run, process_id, dict(start_data), actor.username)
            except DiagramError as error:
                raise InvalidInput("dry_run_start_failed", error=str(error)) from error
            meta = dataclasses.replace(meta, instance_id=view.id)
            store.save(meta)
            return read_view(ctx, run, meta)
        finally:
            run.db.dispose()
    except BaseException:
        store.delete(meta.run_id)
        raise


@dataclass(frozen=True)
class DryRunSource:
    """What a dry run of a process tries when no diagram is given: its saved draft, else its latest version."""

    process_id: str
    bpmn: bytes
    forms: dict[str, str]
    draft: bool                  # True: the saved draft; False: the latest deployed version
    version: int | None


def source_of(ctx, process_id: str) -> DryRunSource:
    """The saved draft of a process, else its latest deployed version (DefinitionNotFound: neither)."""
    with ctx.unit_of_work(readonly=True) as session:
        draft = session.get(ProcessDraft, process_id)
        if draft is not None:
            return DryRunSource(process_id, bytes(draft.bpmn_xml), dict(draft.forms or {}), True, draft.base_version)
        row = definitions.latest_version(session, process_id)
        forms = json.loads(row.spec_json).get("forms") or {}
        return DryRunSource(process_id, bytes(row.bpmn_xml), dict(forms), False, row.version)


def dry_run_state(ctx, run_id: str, actor: access.Actor) -> DryRunView:
    """What a run shows now: path taken, ready tasks with forms and due dates, waiting timers, log."""
    with _running(ctx, run_id, actor) as (_, meta, run):
        return read_view(ctx, run, meta)


def dry_run_diagram(ctx, run_id: str, actor: access.Actor) -> bytes:
    """The BPMN XML a run is trying (for the viewer)."""
    with _running(ctx, run_id, actor) as (_, meta, run), run.unit_of_work(readonly=True) as session:
        return bytes(definitions.latest_version(session, meta.process_id).bpmn_xml)


def complete_dry_run_task(ctx, run_id: str, task_id: str, form_data: dict[str, Any],
                          actor: access.Actor) -> DryRunView:
    """Complete a ready task of the run with data checked by its form (FormInvalid: 422 per field).

    A diagram that fails on the way is shown, not raised: the run's instance is in error and its log says why.
    """
    with _running(ctx, run_id, actor) as (_, meta, run):
        # A diagram error is marked on the run's instance by complete_task, with its message: shown, not raised.
        with contextlib.suppress(DiagramError):
            instances.complete_task(run, meta.instance_id, task_id, form_data, actor.username)
        return read_view(ctx, run, meta)


def advance_dry_run_clock(ctx, run_id: str, until: datetime | str | None, actor: access.Actor) -> DryRunView:
    """Move the run's clock forward and fire the timers due on the way, each at its own due time.

    `until`: an instant (after the run's now, at most three years on), "next_timer" (the earliest waiting
    timer's due time), "next_working_day" (the same time on the next working day of the real calendar),
    or None (fire what is due now, the clock unmoved).
    """
    with _running(ctx, run_id, actor) as (store, meta, run):
        start = run.now()
        target = _target(run, meta, until)
        with run.unit_of_work() as session:
            audit.record(session, at=start, actor=actor.username, action=CLOCK_MOVED,
                         instance_id=meta.instance_id, summary={"from": start.isoformat(),
                                                                "to": target.isoformat()})
        for _ in range(MAX_FIRINGS):
            due = _next_due(run, meta.instance_id)
            if due is None or due >= target:
                break
            # SpiffWorkflow fires a timer once "now" is past its due time, not at it.
            run.clock.set(max(due + TICK, run.now()))
            report = timers.fire_due_timers(run, actor="timer")
            if not report.fired:
                break  # failed (the instance is in error, the log says why) or nothing could move
        run.clock.set(max(target, run.now()))
        meta = dataclasses.replace(meta, now=run.now())
        store.save(meta)
        return read_view(ctx, run, meta)


def end_dry_run(ctx, run_id: str, actor: access.Actor) -> None:
    """End a run: its throwaway database and files are deleted."""
    _allowed(actor)
    store = _store(ctx)
    with store.opened(run_id, actor.username, ctx.now()) as meta:
        store.delete(meta.run_id)


def recording_actions(names) -> dict[str, Any]:
    """An action registry with the real names whose actions only log that they would run."""

    def recorder(name: str):
        def record(action: ActionContext) -> None:
            audit.record(action.session, at=action.now, actor=action.actor, action=WOULD_RUN,
                         instance_id=action.instance_id, bpmn_id=action.bpmn_id,
                         summary={"action": name, "data": audit.summarize(action.data)})

        return record

    return {name: recorder(name) for name in names}


def record_notices(session, view) -> None:
    """Step hook of a run: log who the real product would tell that a task is theirs."""
    for task in view.next_tasks:
        audit.record(session, at=view.updated_at, actor="system", action=WOULD_NOTIFY, instance_id=view.id,
                     bpmn_id=task.bpmn_id, summary={"role": task.lane, "unit": task.assignee})


def _allowed(actor: access.Actor) -> None:
    if not access.may_edit_diagrams(actor):
        raise Forbidden("dry_run_forbidden")


@contextlib.contextmanager
def _running(ctx, run_id: str, actor: access.Actor) -> Iterator[tuple[RunStore, RunMeta, Any]]:
    """A run of this actor, locked for the request, with an engine context on its database (disposed after)."""
    _allowed(actor)
    store = _store(ctx)
    with store.opened(run_id, actor.username, ctx.now()) as meta:
        run = _open(ctx, store, meta)
        try:
            yield store, meta, run
        finally:
            run.db.dispose()


def _store(ctx) -> RunStore:
    return RunStore(ctx.config.dry_runs_dir, ctx.config.database_url)


def _open(ctx, store: RunStore, meta: RunMeta):
    """An engine context on a run's database, at the run's clock, with recording actions."""
    from engine.app.bootstrap import open_context

    config = dataclasses.replace(ctx.config, database_url=store.database_url(meta.run_id), deploy_on_start=False,
                                 demo_data=False, workflow_cache_size=0)
    run = open_context(config, FixedClock(meta.now))
    run.actions = recording_actions(ctx.actions)  # the real names: an unknown action is still refused
    run.step_hooks = [record_notices]
    return run


def _make_schema(ctx, run) -> None:
    """Every table, and the settings and calendar overrides of the real database copied in."""
    from engine.app.schema import metadata

    metadata.create_all(run.db.engine)
    with ctx.unit_of_work(readonly=True) as session:
        copies = {model: [{c.key: getattr(row, c.key) for c in model.__table__.columns}
                          for row in session.scalars(select(model))] for model in _COPIED}
    with run.unit_of_work() as session:
        for model, rows in copies.items():
            if rows:
                session.execute(insert(model), rows)


def _target(run, meta: RunMeta, until: datetime | str | None) -> datetime:
    now = run.now()
    if until is None:
        return now
    if until == NEXT_TIMER:
        due = _next_due(run, meta.instance_id)
        if due is None:
            raise InvalidInput("dry_run_no_timer")
        return max(due + TICK, now)
    if until == NEXT_WORKING_DAY:
        with run.unit_of_work(readonly=True) as session:
            calendar = run.calendars.get(session)
        local = now.astimezone(TZ)
        day = calendar.first_working_day_after(local.date())
        return datetime.combine(day, local.timetz())
    if not isinstance(until, datetime):
        raise InvalidInput("dry_run_until_invalid")
    until = _aware(until)
    if until < now:
        raise InvalidInput("dry_run_clock_backwards")
    if until - now > MAX_AHEAD:
        raise InvalidInput("dry_run_clock_too_far")
    return until


def _next_due(run, instance_id: int | None) -> datetime | None:
    with run.unit_of_work(readonly=True) as session:
        return session.scalar(select(WaitingTimer.due_at).where(WaitingTimer.instance_id == instance_id)
                              .order_by(WaitingTimer.due_at).limit(1))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=TZ)
