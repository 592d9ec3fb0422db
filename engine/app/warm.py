"""Warming a new process before it takes work, so that its first users do not pay for its caches.

A fresh web worker (a start, an upgrade, gunicorn replacing a dead worker) otherwise loads on its first
requests what every later request finds cached: each deployed diagram's restored specs (50 to 150 ms
each), the working calendar (a `holidays` import and a pass over each year: about 300 ms) and the
sandboxed script engine. Measured with bench/load.py: when 50 people's first requests met four cold
workers, they waited a second; see docs/operations.md, "Warm-up".
"""
from __future__ import annotations

import logging
import time
from datetime import date

from sqlalchemy import func, select

from engine.process.context import EngineContext
from engine.process.steps import specs_of
from engine.process.tables import DefinitionVersion, InstanceStatus, ProcessInstance

log = logging.getLogger(__name__)


def warm(ctx: EngineContext) -> dict[str, int]:
    """Load the diagrams in use (the newest version of each process, and every version an unfinished
    instance runs on), the calendar of last, this and next year, and the script engine.

    Never raises: warming only saves time. A worker that gunicorn starts while the database is away (a
    restart, a replaced worker) must still start: a worker failing to boot makes gunicorn stop them all.
    The caches then fill on first use, and /ready says whether the database answers."""
    began = time.perf_counter()
    try:
        return _warm(ctx, began)
    except Exception as error:  # noqa: BLE001  (any failure here only means colder first requests)
        log.warning("warm-up skipped: %s", error, extra={"event": "warm_up", "failed": type(error).__name__})
        return {"definitions": 0, "ms": round((time.perf_counter() - began) * 1000)}


def _warm(ctx: EngineContext, began: float) -> dict[str, int]:
    with ctx.unit_of_work(readonly=True) as session:
        top = (select(DefinitionVersion.process_id, func.max(DefinitionVersion.version).label("version"))
               .group_by(DefinitionVersion.process_id).subquery())
        newest = select(DefinitionVersion.id).join(top, (DefinitionVersion.process_id == top.c.process_id)
                                                   & (DefinitionVersion.version == top.c.version))
        running = (select(ProcessInstance.definition_id).distinct()
                   .where(ProcessInstance.status.in_([InstanceStatus.RUNNING, InstanceStatus.SUSPENDED])))
        in_use = set(session.scalars(newest)) | set(session.scalars(running))
        for definition_id in sorted(in_use):
            specs_of(ctx, session, definition_id)
        calendar = ctx.calendars.get(session)
        this_year = ctx.now().year
        for year in (this_year - 1, this_year, this_year + 1):
            calendar.is_working_day(date(year, 6, 1))  # builds the year
    ctx.script_engine  # noqa: B018  (built on first use)
    warmed = {"definitions": len(in_use), "ms": round((time.perf_counter() - began) * 1000)}
    log.info("warmed up: %d diagrams in %d ms", warmed["definitions"], warmed["ms"],
             extra={"event": "warm_up", **warmed})
    return warmed
