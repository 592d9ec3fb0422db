"""Use cases on an analyst's draft of a process: open it for editing, save it, discard it.

A draft is work in progress, not a version: saving never checks the diagram beyond what keeps the
server safe (size, safe XML, forms that are JSON), so an analyst never loses work to a validation
error; the checks run on demand and before deploy (definitions.check_draft). There is one draft per
process, shared by the analysts, who see who saved it last and from which version it started.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from engine.bpmn.xmlsafe import XmlRejected, parse_xml
from engine.core import audit
from engine.core.errors import DefinitionNotFound, InvalidInput
from engine.process.context import EngineContext
from engine.process.definitions import latest_version, stored_forms
from engine.process.tables import ProcessDraft

PROCESS_ID = re.compile(r"[a-z][a-z0-9_]{1,60}")
MAX_FORMS = 200
MAX_FORM_CHARS = 200_000


@dataclass(frozen=True)
class DraftView:
    """What the modeler opens: the draft if one is saved, else the latest version's content."""

    process_id: str
    bpmn_xml: bytes
    forms: dict[str, str]
    base_version: int | None
    latest_version: int | None
    updated_at: datetime | None
    updated_by: str | None
    saved: bool
    name: str | None = None  # the process's name in its latest version (its id until one is deployed)


def new_process_id_ok(process_id: str) -> bool:
    """Whether a new process may have this id: lowercase letters, digits and '_', 2-61 characters."""
    return bool(PROCESS_ID.fullmatch(process_id or ""))


def open_for_editing(ctx: EngineContext, process_id: str) -> DraftView:
    """The saved draft of a process, or its latest version's diagram and forms; DefinitionNotFound if neither."""
    with ctx.unit_of_work(readonly=True) as session:
        return _view(session, process_id)


def save_draft(ctx: EngineContext, process_id: str, bpmn_xml: bytes, forms: dict[str, str], actor: str) -> DraftView:
    """Keep the analyst's work. Refused (InvalidInput) only when unsafe or too large to keep."""
    if not new_process_id_ok(process_id):
        raise InvalidInput("process_id_invalid", process_id=process_id[:80])
    _check_keepable(ctx, bpmn_xml, forms)
    with ctx.unit_of_work() as session:
        row = session.get(ProcessDraft, process_id)
        if row is None:
            row = ProcessDraft(process_id=process_id, base_version=_latest_number(session, process_id))
            session.add(row)
        row.bpmn_xml, row.forms = bpmn_xml, dict(forms)
        row.updated_at, row.updated_by = ctx.now(), actor
        session.flush()
        return _view(session, process_id)


def discard_draft(ctx: EngineContext, process_id: str, actor: str) -> None:
    """Drop the saved draft (audited: it may be a colleague's work); DefinitionNotFound if there is none."""
    with ctx.unit_of_work() as session:
        row = session.get(ProcessDraft, process_id)
        if row is None:
            raise DefinitionNotFound(process_id)
        audit.record(session, at=ctx.now(), actor=actor, action="draft_discarded",
                     summary={"process_id": process_id, "saved_by": row.updated_by})
        session.delete(row)


def drop_if_deployed(session: Session, process_id: str, bpmn_xml: bytes, forms: dict[str, str]) -> bool:
    """After a deploy: remove the draft when it holds exactly what was deployed (True if removed)."""
    row = session.get(ProcessDraft, process_id)
    if row is None or bytes(row.bpmn_xml) != bytes(bpmn_xml) or dict(row.forms or {}) != dict(forms):
        return False
    session.delete(row)
    return True


def drop_if_saved_at(session: Session, process_id: str, saved_at: datetime) -> bool:
    """After a deploy from the workbench: remove the draft the analyst was editing (with whatever they
    changed since saving it), unless someone saved it again meanwhile (True if removed)."""
    row = session.get(ProcessDraft, process_id)
    if row is None or row.updated_at != saved_at:
        return False
    session.delete(row)
    return True


def _view(session: Session, process_id: str) -> DraftView:
    draft = session.get(ProcessDraft, process_id)
    try:
        row = latest_version(session, process_id)
    except DefinitionNotFound:
        if draft is None:
            raise
        row = None  # a new process, drafted but never deployed
    latest, name = (row.version, row.name) if row is not None else (None, None)
    if draft is not None:
        return DraftView(process_id, bytes(draft.bpmn_xml), dict(draft.forms or {}), draft.base_version, latest,
                         draft.updated_at, draft.updated_by, saved=True, name=name)
    return DraftView(process_id, bytes(row.bpmn_xml), stored_forms(row), row.version, row.version,
                     row.deployed_at, row.deployed_by, saved=False, name=name)


def _latest_number(session: Session, process_id: str) -> int | None:
    try:
        return latest_version(session, process_id).version
    except DefinitionNotFound:
        return None


def _check_keepable(ctx: EngineContext, bpmn_xml: bytes, forms: dict[str, str]) -> None:
    try:
        parse_xml(bpmn_xml, max_bytes=ctx.config.max_bpmn_bytes)  # no entity, no DTD, bounded size
    except XmlRejected as error:
        raise InvalidInput("draft_xml_rejected", reason=error.message) from error
    if len(forms) > MAX_FORMS:
        raise InvalidInput("draft_too_many_forms", limit=MAX_FORMS)
    for name, text in forms.items():
        if not re.fullmatch(r"[\w.-]{1,200}\.json", name) or not isinstance(text, str):
            raise InvalidInput("draft_form_name_invalid", name=str(name)[:80])
        if len(text) > MAX_FORM_CHARS:
            raise InvalidInput("draft_form_too_large", name=name, limit=MAX_FORM_CHARS)
        try:
            json.loads(text)
        except ValueError as error:
            raise InvalidInput("draft_form_not_json", name=name, reason=str(error)[:200]) from error
