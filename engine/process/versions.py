"""Use cases on the versions of one process: history, deploy with a comment, diff, roll back.

A deployed version never changes. The newest version is what new instances start on (everywhere in
the engine: `instance_store.latest_definition_id`), so rolling back to version K deploys K's diagram
and forms again as a new version N+1 whose comment says so: one rule for "which version starts new
instances", and the history keeps who rolled back, when and why. Moving running instances between
versions is in `instance_migration.py`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.bpmn.diff import DiagramDiff, ElementDiff, diff_bpmn, executable_process_ids
from engine.bpmn.validation import Problem
from engine.bpmn.xmlsafe import XmlRejected
from engine.core import i18n
from engine.core.db import retried
from engine.core.errors import Conflict, DefinitionNotFound, DeployRefused, InvalidInput, NotFound
from engine.process import definitions, drafts
from engine.process.context import EngineContext
from engine.process.tables import DefinitionVersion, InstanceStatus, ProcessInstance

MAX_COMMENT = 2000


@dataclass(frozen=True)
class VersionView:
    """One deployed version of a process as its history shows it."""

    process_id: str
    version: int
    name: str | None
    deployed_at: datetime
    deployed_by: str
    comment: str
    source_file: str
    running: int     # instances running on it now
    latest: bool     # new instances start on it


@dataclass(frozen=True)
class VersionDiff:
    """What changed from version `a` to version `b` of a process, element by element."""

    process_id: str
    a: int
    b: int
    added: tuple[ElementDiff, ...]
    removed: tuple[ElementDiff, ...]
    changed: tuple[ElementDiff, ...]
    moved: tuple[ElementDiff, ...]


@retried
def list_versions(ctx: EngineContext, process_id: str) -> list[VersionView]:
    """The versions of a process, newest first, with their running instances; DefinitionNotFound if none."""
    with ctx.unit_of_work(readonly=True) as session:
        views = _views(session, process_id)
        if not views:
            raise DefinitionNotFound(process_id)
        return views


def deploy_version(ctx: EngineContext, process_id: str, bpmn: bytes, forms: dict[str, str] | None,
                   comment: str, actor: str, draft_saved_at: datetime | None = None,
                   lang: str = "en") -> VersionView:
    """Deploy a diagram of `process_id` as its next version, with the analyst's comment.

    The forms the diagram names come from `forms` (file name -> JSON Schema text), and for any file
    not given there from those stored with the latest version. Refused: an unknown process
    (DefinitionNotFound), a missing or over-long comment (InvalidInput), a diagram whose executable
    process is not `process_id` or that deploy refuses (DeployRefused, with the located problems;
    nothing stored), content equal to the latest version's (Conflict). Afterwards the process's draft
    is removed when it holds exactly what was deployed, or, from the workbench, when it is the draft
    the analyst was editing (`draft_saved_at`: when it was saved as they last saw it).
    """
    comment = _comment(comment)
    with ctx.unit_of_work(readonly=True) as session:
        latest = definitions.latest_version(session, process_id)
        stored = definitions.stored_forms(latest)
    _check_process_id(ctx, bpmn, process_id)
    merged = {**stored, **(forms or {})}
    view = _deploy(ctx, process_id, bpmn, merged, f"{process_id}.bpmn", comment, actor, lang)
    with ctx.unit_of_work() as session:  # the draft is not the deploy: keeping it by mistake loses nothing
        if draft_saved_at is not None and drafts.drop_if_saved_at(session, process_id, draft_saved_at):
            return view
        if not drafts.drop_if_deployed(session, process_id, bpmn, forms if forms is not None else stored):
            drafts.drop_if_deployed(session, process_id, bpmn, merged)
    return view


def roll_back(ctx: EngineContext, process_id: str, to_version: int, comment: str, actor: str) -> VersionView:
    """Make new instances start on version `to_version` again: its diagram and forms become the next
    version, commented "roll back to v<K>: <comment>". Running instances stay where they are."""
    comment = _comment(comment)
    with ctx.unit_of_work(readonly=True) as session:
        target = _version(session, process_id, to_version)
        latest = definitions.latest_version(session, process_id)
        if latest.content_hash == target.content_hash:
            raise Conflict("roll_back_already_latest", process=process_id, version=to_version,
                           latest=latest.version)
        bpmn, forms, filename = bytes(target.bpmn_xml), definitions.stored_forms(target), target.source_file
    text = i18n.text("versions.roll_back_comment", i18n.DEFAULT_LANGUAGE, version=to_version, comment=comment)
    return _deploy(ctx, process_id, bpmn, forms, filename, text[:MAX_COMMENT + 100], actor)


@retried
def diff_versions(ctx: EngineContext, process_id: str, a: int, b: int) -> VersionDiff:
    """Elements added, removed, changed and only moved from version `a` to version `b`."""
    with ctx.unit_of_work(readonly=True) as session:
        old, new = bytes(_version(session, process_id, a).bpmn_xml), bytes(_version(session, process_id, b).bpmn_xml)
    found: DiagramDiff = diff_bpmn(old, new, max_bytes=ctx.config.max_bpmn_bytes)
    return VersionDiff(process_id, a, b, found.added, found.removed, found.changed, found.moved)


@retried
def version_xml(ctx: EngineContext, process_id: str, version: int) -> bytes:
    """The BPMN XML of one version (for the viewer)."""
    with ctx.unit_of_work(readonly=True) as session:
        return bytes(_version(session, process_id, version).bpmn_xml)


def version_row(session: Session, process_id: str, version: int) -> DefinitionVersion:
    """One version of a process, or NotFound naming both."""
    return _version(session, process_id, version)


def _version(session: Session, process_id: str, version: int) -> DefinitionVersion:
    row = session.scalars(select(DefinitionVersion).where(DefinitionVersion.process_id == process_id,
                                                          DefinitionVersion.version == version)).first()
    if row is None:
        if session.scalar(select(DefinitionVersion.id).where(DefinitionVersion.process_id == process_id).limit(1)):
            raise NotFound("version_not_found", process=process_id, version=version)
        raise DefinitionNotFound(process_id)
    return row


def _views(session: Session, process_id: str) -> list[VersionView]:
    running = (select(ProcessInstance.definition_id, func.count().label("n"))
               .where(ProcessInstance.process_id == process_id, ProcessInstance.status == InstanceStatus.RUNNING)
               .group_by(ProcessInstance.definition_id).subquery())
    rows = session.execute(
        select(DefinitionVersion.process_id, DefinitionVersion.version, DefinitionVersion.name,
               DefinitionVersion.deployed_at, DefinitionVersion.deployed_by, DefinitionVersion.comment,
               DefinitionVersion.source_file, func.coalesce(running.c.n, 0))
        .outerjoin(running, running.c.definition_id == DefinitionVersion.id)
        .where(DefinitionVersion.process_id == process_id)
        .order_by(DefinitionVersion.version.desc())).all()
    return [VersionView(p, v, name, at, by, comment or "", source, n, i == 0)
            for i, (p, v, name, at, by, comment, source, n) in enumerate(rows)]


def _deploy(ctx: EngineContext, process_id: str, bpmn: bytes, forms: dict[str, str], filename: str,
            comment: str, actor: str, lang: str = "en") -> VersionView:
    deployed = definitions.deploy_bytes(ctx, bpmn, filename, actor, forms=forms, comment=comment, lang=lang)
    mine = next(d for d in deployed if d.process_id == process_id)
    if not mine.created:
        raise Conflict("version_unchanged", process=process_id, version=mine.version)
    with ctx.unit_of_work(readonly=True) as session:
        return next(v for v in _views(session, process_id) if v.version == mine.version)


def _check_process_id(ctx: EngineContext, bpmn: bytes, process_id: str) -> None:
    # A diagram of another process would deploy as that process: refuse it, naming what it holds.
    try:
        found = executable_process_ids(bpmn, max_bytes=ctx.config.max_bpmn_bytes)
    except XmlRejected:
        return  # deploy reports unsafe or malformed XML with its line
    if found and found != [process_id]:
        others = ", ".join(f"'{p}'" for p in found)
        raise DeployRefused([Problem(f"{process_id}.bpmn", None, next((p for p in found if p != process_id), None),
                                     f"the diagram's executable process is {others}, not '{process_id}'")])


def _comment(comment: str) -> str:
    text = (comment or "").strip()
    if not text:
        raise InvalidInput("version_comment_required")
    if len(text) > MAX_COMMENT:
        raise InvalidInput("version_comment_too_long", limit=MAX_COMMENT)
    return text


def forms_as_text(forms: dict[str, object] | None) -> dict[str, str] | None:
    """Forms sent as JSON objects (the API), as the JSON Schema texts a version stores."""
    if forms is None:
        return None
    return {str(name): value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=2)
            for name, value in forms.items()}
