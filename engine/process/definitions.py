"""Use cases on process definitions: deploy BPMN files as versions, find the latest version."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.bpmn import contract, elements, lint
from engine.bpmn.forms import Form, form_from_json
from engine.bpmn.validation import Problem, validate_bpmn
from engine.bpmn.xmlsafe import XmlRejected, parse_xml
from engine.core import audit, i18n
from engine.core.errors import Conflict, DefinitionNotFound, DeployRefused
from engine.process.context import EngineContext
from engine.process.tables import DefinitionVersion, ProcessInstance
from engine.worktime import timer_settings
from engine.worktime.diagram_functions import settings_referenced


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


def deploy_bytes(ctx: EngineContext, data: bytes, filename: str, actor: str = "system",
                 forms_dir: Path | None = None, *, forms: dict[str, str] | None = None,
                 comment: str = "", lang: str = "en") -> list[Deployed]:
    """Validate a BPMN file and store each of its executable processes as a new version if changed.

    The forms its user tasks name come from `forms` (file name -> JSON Schema text: a draft's) or
    else from `forms_dir` (default: processes/forms), and are stored with the version, so a later
    edit of a form never changes a running version. Refused (DeployRefused, nothing stored) when any
    check of `check_draft` finds an error, worded in `lang` where the check has the words; warnings do
    not refuse.
    """
    source = _form_source(forms, forms_dir or ctx.config.processes_dir / "forms")
    parsed, form_texts, problems = _checked(ctx, data, filename, source, lang)
    if errors := [p for p in problems if p.severity == "error"]:
        raise DeployRefused(errors)
    # The forms are part of the content: a changed form alone makes a new version.
    content_hash = hashlib.sha256(data + json.dumps(form_texts, sort_keys=True).encode()).hexdigest()
    try:
        with ctx.unit_of_work() as session:
            problems = _unknown_settings(parsed, timer_settings.known_names(session), filename, lang)
            if problems:
                raise DeployRefused(problems)
            return [_store(ctx, session, definition, content_hash, filename, actor, form_texts, comment)
                    for definition in parsed]
    except IntegrityError as error:
        # Two deploys of the same process raced for the same version number.
        raise Conflict("deploy_concurrent", filename=filename) from error


def check_draft(ctx: EngineContext, data: bytes, forms: dict[str, str], filename: str = "draft.bpmn",
                lang: str = "en") -> list[Problem]:
    """Every problem a deploy of this diagram with these forms would refuse (severity "error"), and
    modelling lint (severity "warning"), errors first, by line. Never raises for a bad diagram.
    The contract's and the lint's messages are in `lang`; the validator's are English."""
    parsed, _, problems = _checked(ctx, data, filename, _form_source(forms, None), lang)
    if parsed:
        with ctx.unit_of_work(readonly=True) as session:
            problems += _unknown_settings(parsed, timer_settings.known_names(session), filename, lang)
    try:
        tree = parse_xml(data, max_bytes=ctx.config.max_bpmn_bytes)
    except XmlRejected:
        tree = None  # validate_bpmn reported it
    if tree is not None:
        problems += lint.lint(tree, filename, lang)
    return sorted(problems, key=lambda p: (p.severity != "error", p.line or 0))


def stored_forms(row: DefinitionVersion) -> dict[str, str]:
    """The forms stored with a deployed version: file name -> JSON Schema text."""
    return dict(json.loads(row.spec_json).get("forms") or {})


def _checked(ctx: EngineContext, data: bytes, filename: str, source,
             lang: str = "en") -> tuple[list, dict[str, str], list[Problem]]:
    """(parsed definitions, form texts, problems) of everything checked without the database."""
    parsed, problems = validate_bpmn(data, filename, functions=ctx.functions, max_bytes=ctx.config.max_bpmn_bytes,
                                     lang=lang)
    if problems:
        return [], {}, problems
    form_texts, loaded, problems = _forms(parsed, source, filename, lang)
    problems += _unknown_actions(parsed, set(ctx.actions), filename, lang)
    problems += contract.check(parse_xml(data, max_bytes=ctx.config.max_bpmn_bytes), filename, ctx.contract,
                               loaded, lang)
    return parsed, form_texts, problems


def _form_source(forms: dict[str, str] | None, folder: Path | None) -> Callable[[str], str | None]:
    """Where form texts come from: a draft's own forms, or the files of a folder."""
    if forms is not None:
        return forms.get

    def read(name: str) -> str | None:
        path = folder / name
        return path.read_text(encoding="utf-8") if Path(name).name == name and path.is_file() else None

    return read


def deploy_files(ctx: EngineContext, paths: list[Path], actor: str = "system") -> list[Deployed]:
    """Deploy several files; each file is validated and stored on its own, forms from beside it."""
    results = []
    for path in paths:
        results.extend(deploy_bytes(ctx, path.read_bytes(), path.name, actor, path.parent / "forms"))
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


def _elements(parsed):
    for definition in parsed:
        yield from elements.task_specs(definition)


def _forms(parsed, source, filename: str, lang: str = "en") -> tuple[dict[str, str], dict[str, Form], list[Problem]]:
    texts, loaded, problems = {}, {}, []
    for task_spec in _elements(parsed):
        name = elements.properties(task_spec).get("formJsonSchemaFilename")
        if not name or name in texts:
            continue
        text = source(name)
        if text is None:
            problems.append(Problem(filename, None, task_spec.bpmn_id, _say("form_not_found", lang, name=name)))
            continue
        try:
            loaded[name] = form_from_json(name, text)
        except ValueError as error:
            problems.append(Problem(filename, None, task_spec.bpmn_id,
                                    _say("form_invalid", lang, name=name, error=error)))
            continue
        texts[name] = text
    return texts, loaded, problems


def _unknown_actions(parsed, known: set[str], filename: str, lang: str = "en") -> list[Problem]:
    return [Problem(filename, None, task_spec.bpmn_id, _say("unknown_action", lang, action=action))
            for task_spec in _elements(parsed)
            if (action := elements.properties(task_spec).get("action")) and action not in known]


def _unknown_settings(parsed, known: set[str], filename: str, lang: str = "en") -> list[Problem]:
    # A timer (or a dueDate) that names a setting nobody defined would fail only when evaluated, in
    # production: refuse it at deploy time instead, naming the element.
    problems = []
    for task_spec in _elements(parsed):
        for what, expression in elements.engine_expressions(task_spec):
            problems += [Problem(filename, None, task_spec.bpmn_id,
                                 _say("unknown_setting", lang, what=_say(f"expression.{what}", lang), name=name))
                         for name in sorted(settings_referenced(expression) - known)]
    return problems


def _say(name: str, lang: str, /, **params) -> str:
    return i18n.text(f"validation.{name}", lang, **params)


def _store(ctx: EngineContext, session: Session, definition, content_hash: str, filename: str,
           actor: str, form_texts: dict[str, str], comment: str = "") -> Deployed:
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
        spec_json=ctx.codec.dump_specs(definition.spec, definition.subprocess_specs, form_texts),
        deployed_at=now, deployed_by=actor, comment=comment))
    session.flush()
    audit.record(session, at=now, actor=actor, action="deploy",
                 summary={"process_id": definition.process_id, "version": version, "file": filename,
                          "sha256": content_hash, "comment": comment})
    return Deployed(definition.process_id, version, created=True)


def diagram_of_instance(ctx: EngineContext, instance_id: int) -> bytes:
    """The BPMN XML of the version an instance runs on (for the viewer)."""
    with ctx.unit_of_work(readonly=True) as session:
        xml = session.scalar(select(DefinitionVersion.bpmn_xml)
                             .join(ProcessInstance, ProcessInstance.definition_id == DefinitionVersion.id)
                             .where(ProcessInstance.id == instance_id))
        if xml is None:
            from engine.core.errors import InstanceNotFound

            raise InstanceNotFound(instance_id)
        return xml
