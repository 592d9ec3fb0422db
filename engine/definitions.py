"""Use cases on process definitions: deploy BPMN files as versions, find the latest version."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from . import audit, timer_settings
from .diagram_functions import settings_referenced
from .context import EngineContext
from .errors import Conflict, DefinitionNotFound, DeployRefused
from .models import DefinitionVersion, ProcessInstance
from .validation import Problem, validate_bpmn


@dataclass(frozen=True)
class Deployed:
    """The outcome of deploying one process of a file."""

    process_id: str
    version: int
    created: bool  # False when the content was already the latest version


@dataclass(frozen=True)
class DefinitionView:
    """What callers see of a deployed version."""

    id: int
    process_id: str
    version: int
    name: str | None
    content_hash: str
    source_file: str
    deployed_at: datetime
    deployed_by: str
    instance_count: int


def deploy_bytes(ctx: EngineContext, data: bytes, filename: str, actor: str = "system") -> list[Deployed]:
    """Validate a BPMN file and store each of its executable processes as a new version if changed."""
    parsed, problems = validate_bpmn(data, filename, functions=ctx.functions,
                                     max_bytes=ctx.config.max_bpmn_bytes)
    if problems:
        raise DeployRefused(problems)
    content_hash = hashlib.sha256(data).hexdigest()
    try:
        with ctx.unit_of_work() as session:
            problems = _unknown_settings(parsed, timer_settings.known_names(session), filename)
            if problems:
                raise DeployRefused(problems)
            return [_store(ctx, session, definition, content_hash, filename, actor) for definition in parsed]
    except IntegrityError as error:
        # Two deploys of the same process raced for the same version number.
        raise Conflict(f"{filename}: deployed concurrently by someone else; try again") from error


def deploy_files(ctx: EngineContext, paths: list[Path], actor: str = "system") -> list[Deployed]:
    """Deploy several files; each file is validated and stored on its own."""
    results = []
    for path in paths:
        results.extend(deploy_bytes(ctx, path.read_bytes(), path.name, actor))
    return results


def latest_version(session: Session, process_id: str) -> DefinitionVersion:
    """The newest deployed version of a process, or DefinitionNotFound."""
    stmt = (select(DefinitionVersion).where(DefinitionVersion.process_id == process_id)
            .order_by(DefinitionVersion.version.desc()).limit(1))
    row = session.scalars(stmt).first()
    if row is None:
        raise DefinitionNotFound(process_id)
    return row


def list_definitions(ctx: EngineContext) -> list[DefinitionView]:
    """Every deployed version, by process and newest version first, with its instance count."""
    with ctx.unit_of_work(readonly=True) as session:
        counts = (select(ProcessInstance.definition_id, func.count().label("n"))
                  .group_by(ProcessInstance.definition_id).subquery())
        stmt = (select(DefinitionVersion, func.coalesce(counts.c.n, 0))
                .outerjoin(counts, counts.c.definition_id == DefinitionVersion.id)
                .order_by(DefinitionVersion.process_id, DefinitionVersion.version.desc()))
        return [DefinitionView(d.id, d.process_id, d.version, d.name, d.content_hash, d.source_file,
                               d.deployed_at, d.deployed_by, n) for d, n in session.execute(stmt)]


def _unknown_settings(parsed, known: set[str], filename: str) -> list[Problem]:
    # A timer that names a setting nobody defined would fail only when armed, in production:
    # refuse it at deploy time instead, naming the element.
    problems = []
    for definition in parsed:
        for spec in [definition.spec, *definition.subprocess_specs.values()]:
            for task_spec in spec.task_specs.values():
                event = getattr(task_spec, "event_definition", None)
                if isinstance(event, TimerEventDefinition):
                    for name in sorted(settings_referenced(event.expression) - known):
                        problems.append(Problem(filename, None, task_spec.bpmn_id,
                                                f"timer reads unknown setting '{name}'"))
    return problems


def _store(ctx: EngineContext, session: Session, definition, content_hash: str, filename: str,
           actor: str) -> Deployed:
    try:
        latest = latest_version(session, definition.process_id)
    except DefinitionNotFound:
        latest = None
    if latest is not None and latest.content_hash == content_hash:
        return Deployed(definition.process_id, latest.version, created=False)
    version = (latest.version + 1) if latest else 1
    now = ctx.now()
    session.add(DefinitionVersion(
        process_id=definition.process_id, version=version, name=definition.name,
        content_hash=content_hash, source_file=filename, bpmn_xml=definition.xml,
        spec_json=ctx.codec.dump_specs(definition.spec, definition.subprocess_specs),
        deployed_at=now, deployed_by=actor))
    session.flush()
    audit.record(session, at=now, actor=actor, action="deploy",
                 summary={"process_id": definition.process_id, "version": version, "file": filename,
                          "sha256": content_hash})
    return Deployed(definition.process_id, version, created=True)
