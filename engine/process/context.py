"""What every use case is handed: the database, the clock, the codec and the diagram functions."""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from engine.bpmn import timer_clock
from engine.bpmn.contract import Contract
from engine.bpmn.serialization import WorkflowCodec
from engine.core import clock as clocks
from engine.core.config import Config
from engine.core.db import Database
from engine.process.workflow_cache import WorkflowCache
from engine.worktime.calendar_overrides import CalendarCache


@dataclass
class EngineContext:
    """Long-lived services shared by the use cases of one process (web app, worker, CLI)."""

    db: Database
    config: Config
    clock: clocks.Clock = field(default_factory=lambda: clocks.SYSTEM_CLOCK)
    functions: dict[str, Callable[..., Any]] = field(default_factory=dict)
    codec: WorkflowCodec = field(default_factory=WorkflowCodec)
    calendars: CalendarCache = field(default_factory=CalendarCache)
    actions: dict[str, Callable[..., None]] = field(default_factory=dict)
    # What deploy holds diagrams to: lanes' roles, actions' data, processes' start data (engine/bpmn/contract.py).
    contract: Contract = field(default_factory=Contract)
    # Called with (session, InstanceView) after every step, in its transaction: how the layers above
    # (notifications) follow steps without the step code knowing them.
    step_hooks: list[Callable[[Session, Any], None]] = field(default_factory=list)
    workflows: WorkflowCache = field(default=None)  # type: ignore[assignment]  # sized from config
    _script_engine: Any = field(default=None, init=False, repr=False)

    def __post_init__(self):
        timer_clock.install()  # SpiffWorkflow's timers must read this context's clock
        if self.workflows is None:
            self.workflows = WorkflowCache(self.config.workflow_cache_size)

    @property
    def script_engine(self):
        """The sandboxed script engine, with the allow-listed functions (built once)."""
        if self._script_engine is None:
            from engine.bpmn.budget import Limits
            from engine.bpmn.sandbox import make_script_engine

            self._script_engine = make_script_engine(self.functions, Limits.from_config(self.config))
        return self._script_engine

    def now(self):
        """The current instant on this context's clock."""
        return self.clock.now()

    @contextlib.contextmanager
    def unit_of_work(self, readonly: bool = False) -> Iterator[Session]:
        """A transaction during which "now", SpiffWorkflow's included, comes from this clock."""
        with clocks.in_effect(self.clock), self.db.transaction(readonly=readonly) as session:
            token = _session.set(session)
            try:
                yield session
            finally:
                _session.reset(token)


_session: contextvars.ContextVar[Session] = contextvars.ContextVar("session")


def current_session() -> Session:
    """The session of the unit of work in progress (diagram functions read settings through it)."""
    try:
        return _session.get()
    except LookupError:
        raise RuntimeError("no unit of work in progress") from None


def build_context(config: Config | None = None, clock: clocks.Clock | None = None) -> EngineContext:
    """Connect to the configured database and prepare the engine's services."""
    config = config or Config.from_env()
    return EngineContext(db=Database(config.database_url), config=config,
                         clock=clock or clocks.SYSTEM_CLOCK)
