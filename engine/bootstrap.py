"""Assemble the engine for a process (web app, worker, CLI): context, schema, deployed diagrams."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .clock import Clock
from .config import Config
from .context import EngineContext, build_context


def working_calendar(config: Config):
    """The working-day calendar from the shipped overrides file."""
    from .calendar import WorkingCalendar, load_overrides

    return WorkingCalendar(load_overrides(config.processes_dir / "calendar" / "vn-public-service.json"))


def diagram_functions(config: Config) -> dict[str, Callable[..., Any]]:
    """The project functions that diagram expressions, conditions and timers may call."""
    from .diagram_functions import DiagramFunctions
    from .errors import InvalidInput
    from .timer_settings import load_seed

    calendar = working_calendar(config)
    settings = {s.name: s for s in load_seed(config.processes_dir / "settings" / "timers.json")}

    def setting(name: str):
        if name not in settings:
            raise InvalidInput(f"no timer setting named '{name}'")
        return settings[name]

    return DiagramFunctions(lambda: calendar, setting).as_dict()


def diagram_function_names() -> set[str]:
    """Names of the allow-listed diagram functions (for validation without a database)."""
    from .diagram_functions import DiagramFunctions

    return set(DiagramFunctions(None, None).as_dict())


def open_context(config: Config | None = None, clock: Clock | None = None) -> EngineContext:
    """A ready-to-use engine context for the configured database."""
    ctx = build_context(config, clock)
    ctx.functions = diagram_functions(ctx.config)
    return ctx


def default_bpmn_files(config: Config) -> list[Path]:
    """Every diagram shipped in the processes folder, in a stable order."""
    return sorted(config.processes_dir.glob("*.bpmn"))


def prepare(config: Config | None = None, clock: Clock | None = None, actor: str = "startup") -> EngineContext:
    """Migrate the schema, deploy the shipped diagrams when configured to, and return the context."""
    from .definitions import deploy_files
    from .migrations import upgrade

    config = config or Config.from_env()
    upgrade(config.database_url)
    ctx = open_context(config, clock)
    if config.deploy_on_start:
        deploy_files(ctx, default_bpmn_files(config), actor=actor)
    return ctx
