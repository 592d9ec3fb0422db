"""Assemble the engine for a process (web app, worker, CLI): context, schema, deployed diagrams."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.core.clock import Clock
from engine.core.config import Config
from engine.process.context import EngineContext, build_context


def diagram_functions(ctx: EngineContext) -> dict[str, Callable[..., Any]]:
    """The project functions that diagram expressions, conditions and timers may call.

    They read the timer settings and the calendar from the database, inside the unit of work
    that evaluates the expression, so an admin's change applies to the next timer armed.
    """
    from engine.process.context import current_session
    from engine.worktime import timer_settings
    from engine.worktime.diagram_functions import DiagramFunctions

    return DiagramFunctions(calendar=lambda: ctx.calendars.get(current_session()),
                            setting=lambda name: timer_settings.get(current_session(), name)).as_dict()


def diagram_function_names() -> set[str]:
    """Names of the allow-listed diagram functions (for validation without a database)."""
    from engine.worktime.diagram_functions import DiagramFunctions

    return set(DiagramFunctions(None, None).as_dict())


def open_context(config: Config | None = None, clock: Clock | None = None) -> EngineContext:
    """A ready-to-use engine context for the configured database."""
    from engine.bpmn.contract import Contract
    from engine.process.actions import declared_reads
    from engine.regulation import (
        deadline_actions,
        notifications,
        organisation,
        process_inputs,
        reporting,
        task_actions,
    )

    ctx = build_context(config, clock)
    ctx.functions = diagram_functions(ctx)
    ctx.actions = {**task_actions.ACTIONS, **deadline_actions.ACTIONS, **reporting.ACTIONS}
    ctx.contract = Contract(roles=frozenset(role.value for role in organisation.LANE_ROLES),
                            actions=declared_reads(ctx.actions), start_data=process_inputs.START_DATA,
                            functions=frozenset(ctx.functions))
    ctx.step_hooks = [notifications.after_step]
    return ctx


def seed_reference_data(ctx: EngineContext, actor: str = "seed") -> dict[str, int]:
    """Insert the shipped settings, calendar overrides and organisation that the database lacks yet.

    New users get the organisation file's demo password in demo mode only (DEMO_DATA=1); otherwise
    none until an admin sets one: `python -m engine users set-password USER`.
    """
    from engine.regulation import organisation
    from engine.worktime import calendar_overrides, timer_settings
    from engine.worktime.calendar import load_overrides

    folder = ctx.config.processes_dir
    with ctx.unit_of_work() as session:
        now = ctx.now()
        counts = {
            "timer_settings": timer_settings.seed(
                session, timer_settings.load_seed(folder / "settings" / "timers.json"), actor, now),
            "calendar_overrides": calendar_overrides.seed(
                session, load_overrides(folder / "calendar" / "vn-public-service.json"), actor, now),
        }
        counts.update(organisation.seed_organisation(session, folder / "org" / "ben-tre-2023.json", now,
                                                     demo=ctx.config.demo_data))
        return counts


def default_bpmn_files(config: Config) -> list[Path]:
    """Every diagram shipped in the processes folder, in a stable order."""
    return sorted(config.processes_dir.glob("*.bpmn"))


def prepare(config: Config | None = None, clock: Clock | None = None, actor: str = "startup") -> EngineContext:
    """Migrate the schema, deploy the shipped diagrams when configured to, and return the context."""
    from engine.app.migrations import upgrade
    from engine.process.definitions import deploy_files

    config = config or Config.from_env()
    upgrade(config.database_url)
    ctx = open_context(config, clock)
    seed_reference_data(ctx)
    if config.deploy_on_start:
        deploy_files(ctx, default_bpmn_files(config), actor=actor)
    if config.demo_data:
        from engine.app import demo
        from engine.worktime.calendar import TZ

        if not demo.has_records(ctx):
            demo.build_demo(ctx, ctx.now().astimezone(TZ).date())
    return ctx
