"""Import an organisation change file: new units, and a mapping from old units to new ones (merge,
retire, rename, move), previewed then applied in one transaction (docs/regulation.md, "Organisation
changes"; the 2025 reform's sample is processes/org/reform-2025-vinh-long.json).

The file's units are created first (parents before children, whatever their order), then the mapping's
entries run in the file's order, each as the single change of the same name would (reorganisation.py),
so an entry may hand work to a unit the file creates, or to one an earlier entry received work in.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.core import audit
from engine.core.errors import FieldErrors, InvalidInput
from engine.core.i18n import Message
from engine.process.context import EngineContext
from engine.regulation import reorganisation
from engine.regulation.organisation import Unit, UnitKind, _valid_code, _valid_name, unit_by_code
from engine.regulation.reorganisation import ChangeReport, UnitChange

FORMAT = "org-change/1"
ACTIONS = ("merge", "retire", "rename", "move")
_ALLOWED = {"merge": {"new", "users", "with_sub_units"}, "retire": {"new", "users"}, "rename": {"name"},
            "move": {"parent"}}


@dataclass(frozen=True)
class NewUnit:
    """A unit the file creates."""

    code: str
    name: str
    kind: str
    parent: str | None


@dataclass(frozen=True)
class Entry:
    """One line of the mapping: what becomes of an old unit."""

    old: str
    action: str
    new: str | None = None
    name: str | None = None
    parent: str | None = None
    users: str | None = None
    with_sub_units: bool = False


@dataclass(frozen=True)
class ChangeFile:
    """An organisation change file, checked."""

    title: str
    effective_on: str
    legal_basis: str
    units: tuple[NewUnit, ...]
    mapping: tuple[Entry, ...]


def parse(raw: Any) -> ChangeFile:
    """Check a decoded change file; FieldErrors naming every entry that does not fit (nothing is run)."""
    if not isinstance(raw, dict):
        raise InvalidInput("org_file_not_json")
    if raw.get("format") != FORMAT:
        raise InvalidInput("org_file_format", format=FORMAT)
    problems: dict[str, Message] = {}
    units, mapping = [], []
    for i, item in enumerate(_list(raw, "units", problems)):
        where = f"units[{i}]"
        if not isinstance(item, dict):
            problems[where] = Message("org.file_not_object")
            continue
        try:
            kind = UnitKind(item.get("kind")).value
            units.append(NewUnit(_valid_code(item.get("code")), _valid_name(item.get("name")), kind,
                                 _optional_code(item.get("parent"))))
        except (InvalidInput, ValueError) as error:
            problems[where] = _problem(error)
    for i, item in enumerate(_list(raw, "mapping", problems)):
        where = f"mapping[{i}]"
        try:
            mapping.append(_entry(item))
        except InvalidInput as error:
            problems[where] = _problem(error)
    if not units and not mapping and not problems:
        problems["mapping"] = Message("org.file_empty")
    if problems:
        raise FieldErrors(problems)
    return ChangeFile(str(raw.get("title") or ""), str(raw.get("effective_on") or ""),
                      str(raw.get("legal_basis") or ""), tuple(units), tuple(mapping))


def import_changes(ctx: EngineContext, raw: Any, actor: str, reason: str = "", *, apply: bool = True) -> ChangeReport:
    """Run a change file: preview it (rolled back) or apply it in one transaction, audited."""
    changes = parse(raw)
    return reorganisation.run_change(ctx, apply, lambda session, report: _run(ctx, session, report, changes, actor,
                                                                              reason))


def _run(ctx: EngineContext, session: Session, report: ChangeReport, changes: ChangeFile, actor: str,
         reason: str) -> None:
    why = reason.strip() or changes.title
    _create(ctx, session, report, changes.units, actor)
    for entry in changes.mapping:
        if entry.action == "rename":
            reorganisation.rename_in(ctx, session, report, entry.old, entry.name, actor, why)
        elif entry.action == "move":
            _move(ctx, session, report, entry, actor)
        else:
            users = entry.users or ("move" if entry.action == "merge" else "deactivate")
            reorganisation.hand_over(ctx, session, report, entry.old, entry.new,
                                     "merged" if entry.action == "merge" else "retired", actor, why, users,
                                     entry.with_sub_units)
    audit.record(session, at=ctx.now(), actor=actor, action="organisation_imported", summary={
        "title": changes.title, "effective_on": changes.effective_on, "units": len(changes.units),
        "mapping": len(changes.mapping), **({"reason": reason.strip()} if reason.strip() else {})})


def _create(ctx: EngineContext, session: Session, report: ChangeReport, units: tuple[NewUnit, ...],
            actor: str) -> None:
    ids: dict[str, int] = dict(session.execute(select(Unit.code, Unit.id)).all())
    taken = [unit.code for unit in units if unit.code in ids]
    if taken:
        raise FieldErrors({"units": Message("error.unit_code_taken", {"unit": ", ".join(taken)})})
    pending = list(units)
    while pending:  # parents before children
        ready = [u for u in pending if u.parent is None or u.parent in ids]
        if not ready:
            raise FieldErrors({"units": Message("error.seed_units_unresolved",
                                                {"codes": ", ".join(u.code for u in pending)})})
        for unit in ready:
            if unit.parent is not None and not unit_by_code(session, unit.parent).active:
                raise FieldErrors({"units": Message("error.unit_inactive_no_add", {"unit": unit.parent})})
            row = Unit(code=unit.code, name=unit.name, kind=UnitKind(unit.kind), active=True,
                       parent_id=ids.get(unit.parent))
            session.add(row)
            session.flush()
            ids[unit.code] = row.id
            report.units.append(UnitChange("created", unit.code, unit.name, parent=unit.parent))
            audit.record(session, at=ctx.now(), actor=actor, action="unit_added",
                         summary={"unit": unit.code, "name": unit.name, "kind": unit.kind, "parent": unit.parent})
        pending = [u for u in pending if u not in ready]


def _move(ctx: EngineContext, session: Session, report: ChangeReport, entry: Entry, actor: str) -> None:
    unit, parent = unit_by_code(session, entry.old), unit_by_code(session, entry.parent)
    if not parent.active:
        raise InvalidInput("unit_inactive_no_move", unit=entry.parent)
    node = parent
    while node is not None:
        if node.id == unit.id:
            raise InvalidInput("unit_below_itself", unit=entry.old, parent=entry.parent)
        node = session.get(Unit, node.parent_id) if node.parent_id else None
    old_parent = session.get(Unit, unit.parent_id).code if unit.parent_id else None
    if old_parent != parent.code:
        unit.parent_id = parent.id
        report.units.append(UnitChange("moved", unit.code, unit.name, parent=parent.code, old_parent=old_parent))
        audit.record(session, at=ctx.now(), actor=actor, action="unit_moved",
                     summary={"unit": unit.code, "from": old_parent, "to": parent.code})


def _entry(item: Any) -> Entry:
    if not isinstance(item, dict):
        raise InvalidInput("org_file_invalid", where="", problem=Message("org.file_not_object"))
    action = item.get("action")
    if action not in ACTIONS:
        raise InvalidInput("org_file_invalid", where="action",
                           problem=Message("org.file_action_unknown", {"allowed": ", ".join(ACTIONS)}))
    extra = set(item) - {"old", "action", "note"} - _ALLOWED[action]
    if extra:
        raise InvalidInput("org_file_invalid", where=", ".join(sorted(extra)),
                           problem=Message("org.file_field_not_for_action", {"action": action}))
    needed = {"merge": "new", "retire": "new", "rename": "name", "move": "parent"}[action]
    entry = Entry(old=_valid_code(item.get("old")), action=action, new=_optional_code(item.get("new")),
                  name=_valid_name(item["name"]) if action == "rename" else None,
                  parent=_optional_code(item.get("parent")), users=item.get("users"),
                  with_sub_units=item.get("with_sub_units", False))
    if getattr(entry, needed) is None:
        raise InvalidInput("org_file_invalid", where=needed, problem=Message("error.required"))
    if entry.users is not None and entry.users not in reorganisation.USER_MODES:
        raise InvalidInput("unit_users_mode_unknown", value=str(entry.users),
                           allowed=", ".join(reorganisation.USER_MODES))
    if not isinstance(entry.with_sub_units, bool):
        raise InvalidInput("org_file_invalid", where="with_sub_units", problem=Message("org.file_not_boolean"))
    return entry


def _list(raw: dict, name: str, problems: dict) -> list:
    value = raw.get(name, [])
    if not isinstance(value, list):
        problems[name] = Message("org.file_not_list")
        return []
    return value


def _optional_code(value: Any) -> str | None:
    return None if value is None else _valid_code(value)


def _problem(error: Exception) -> Message:
    if isinstance(error, InvalidInput):
        return Message(f"error.{error.key}", dict(error.params))
    return Message("org.file_kind_unknown", {"allowed": ", ".join(k.value for k in UnitKind)})
