"""The audit log as admins and the Office read it: filtered, newest first, paged by key, exported as rows.

Filters: the person (the actor's username), the unit (the actor's unit and the units below it, as the
organisation stands now), the procedure (the process id of the entry's instance), the action and a
period of days in Vietnam's time. Paging is by key, never by offset: a page is the entries before the
last one seen, in the order (at, id) descending, so a deep page costs what the first one does (one
index range, docs/admin.md "Audit log") and entries written meanwhile neither repeat nor skip one.
Rows carry names beside codes: the actor's full name and unit, the procedure's name.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Integer, bindparam, func, or_, select, tuple_, union_all
from sqlalchemy.orm import Session

from engine.core.audit import AuditEntry
from engine.core.errors import InvalidInput
from engine.core.tables import UTCDateTime
from engine.process.tables import DefinitionVersion, ProcessInstance
from engine.regulation import organisation
from engine.regulation.organisation import Unit, User
from engine.worktime.calendar import TZ

PAGE_SIZE, MAX_PAGE_SIZE = 50, 500
EXPORT_LIMIT = 100_000  # rows in one CSV file: more is refused, asking for a narrower filter
EXPORT_CHUNK = 1000
_TEXT_CHARS = 200
_MERGED_PEOPLE = 200  # a unit with more people is filtered by a list instead (SQLite joins at most 500 selects)
_A = AuditEntry.__table__.c


@dataclass(frozen=True)
class AuditFilter:
    """What to keep; None keeps everything. `start` and `end` are days, both included."""

    actor: str | None = None
    unit: str | None = None
    process: str | None = None
    action: str | None = None
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class AuditRow:
    """One entry with names: who (full name, unit), what (action code), on which instance of which procedure."""

    id: int
    at: datetime
    actor: str
    actor_name: str | None
    actor_unit: str | None
    action: str
    instance_id: int | None
    process_id: str | None
    process_name: str | None
    task_id: str | None
    bpmn_id: str | None
    summary: dict


@dataclass(frozen=True)
class AuditPage:
    """A page of entries, newest first, and the key of the next (older) page, None at the end."""

    items: list[AuditRow]
    next: str | None


@dataclass(frozen=True)
class Choice:
    """A value a filter may take and its name."""

    value: str
    name: str


@dataclass(frozen=True)
class AuditChoices:
    """The filters' choices: people, units and procedures by name; the actions are the catalog's."""

    people: list[Choice]
    units: list[Choice]
    processes: list[Choice]


def make_filter(actor=None, unit=None, process=None, action=None, start=None, end=None) -> AuditFilter:
    """A filter from text as a query string gives it (empty means no filter); InvalidInput when it does not fit."""
    values = {}
    for name, value in (("actor", actor), ("unit", unit), ("process", process), ("action", action)):
        value = (value or "").strip()
        if len(value) > _TEXT_CHARS:
            raise InvalidInput("audit_filter_too_long", field=name, max=_TEXT_CHARS)
        values[name] = value or None
    days = {name: _day(name, value) for name, value in (("from", start), ("to", end))}
    if days["from"] and days["to"] and days["from"] > days["to"]:
        raise InvalidInput("audit_period_reversed")
    return AuditFilter(**values, start=days["from"], end=days["to"])


def search(ctx, wanted: AuditFilter, after: str | None = None, limit: int = PAGE_SIZE) -> AuditPage:
    """The entries matching `wanted`, newest first, `limit` of them after the key `after` (a page's `next`)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    key = parse_key(after) if after else None
    with ctx.unit_of_work(readonly=True) as session:
        rows = _fetch(session, wanted, key, limit + 1)
        items = _named(session, rows[:limit])
    more = len(rows) > limit
    return AuditPage(items, page_key(items[-1]) if more and items else None)


def export(ctx, wanted: AuditFilter, limit: int | None = None) -> Iterator[AuditRow]:
    """Every entry matching `wanted`, newest first, for a file: refused (InvalidInput) up front when more than
    `limit` match. Read in chunks by key, each in a short transaction of its own, so a long download holds
    no transaction open and the memory used stays one chunk's."""
    limit = limit or EXPORT_LIMIT
    with ctx.unit_of_work(readonly=True) as session:
        matching, _ = _where(session, wanted)
        counted = select(func.count()).select_from(select(_A.id).where(*matching).limit(limit + 1).subquery())
        if session.scalar(counted) > limit:
            raise InvalidInput("audit_export_too_large", max=limit)
    return _chunks(ctx, wanted)


def _chunks(ctx, wanted: AuditFilter) -> Iterator[AuditRow]:
    key = None
    while True:
        with ctx.unit_of_work(readonly=True) as session:
            rows = _named(session, _fetch(session, wanted, key, EXPORT_CHUNK))
        yield from rows
        if len(rows) < EXPORT_CHUNK:
            return
        key = (rows[-1].at, rows[-1].id)


def choices(ctx) -> AuditChoices:
    """The people (by full name), units (by name) and procedures (by name) the filters offer."""
    with ctx.unit_of_work(readonly=True) as session:
        # Two people of one name are told apart by their units, not by their login names.
        people = [Choice(u, f"{n} ({unit})") for u, n, unit in session.execute(
            select(User.username, User.full_name, Unit.name).join(Unit, Unit.id == User.unit_id)
            .order_by(User.full_name, User.username))]
        units = [Choice(c, n) for c, n in session.execute(select(Unit.code, Unit.name).order_by(Unit.name, Unit.code))]
        names = _process_names(session, None)
    return AuditChoices(people, units, [Choice(p, names[p] or p) for p in sorted(names, key=lambda p: names[p] or p)])


def page_key(row: AuditRow) -> str:
    """The key of the page after this row: its instant and id."""
    return f"{row.at.isoformat()}_{row.id}"


def parse_key(text: str) -> tuple[datetime, int]:
    """(at, id) from a page key; InvalidInput when it is not one."""
    at, _, number = str(text).rpartition("_")
    try:
        instant, entry = datetime.fromisoformat(at), int(number)
    except ValueError:
        raise InvalidInput("audit_key_invalid") from None
    if instant.tzinfo is None or not 0 < entry < 2**63:
        raise InvalidInput("audit_key_invalid")
    return instant, entry


def _fetch(session: Session, wanted: AuditFilter, key: tuple[datetime, int] | None, limit: int) -> list:
    where, people = _where(session, wanted, split_people=True)
    if key is not None:
        # A row value, (at, id) < key: both databases walk the (at, id) indexes from the key backwards (SQLite
        # would scan the whole index for the same test spelled with OR).
        at, entry = key
        where.append(tuple_(_A.at, _A.id) < tuple_(bindparam("key_at", at, type_=UTCDateTime()),
                                                     bindparam("key_id", entry, type_=Integer())))
    columns = (_A.id, _A.at, _A.actor, _A.action, _A.instance_id, _A.task_id, _A.bpmn_id, _A.summary)
    if people is None:
        stmt = select(*columns).where(*where).order_by(_A.at.desc(), _A.id.desc()).limit(limit)
        return session.execute(stmt).all()
    if not people:
        return []
    # A unit's people: one ordered range of the (actor, at, id) index per person, `limit` rows each, merged.
    # Without this the database fetches and sorts every entry of the unit's people for each page.
    parts = [select(*columns).where(_A.actor == person, *where).order_by(_A.at.desc(), _A.id.desc()).limit(limit)
             .subquery() for person in people]
    merged = union_all(*(select(part) for part in parts)).subquery()
    stmt = select(merged).order_by(merged.c.at.desc(), merged.c.id.desc()).limit(limit)
    return session.execute(stmt).all()


def _where(session: Session, wanted: AuditFilter, split_people: bool = False) -> tuple[list, list[str] | None]:
    """The conditions of a filter; with `split_people`, a unit's people are returned apart (if not too many)
    instead of as a condition."""
    where, people = [], None
    if wanted.actor:
        where.append(_A.actor == wanted.actor)
    if wanted.action:
        where.append(_A.action == wanted.action)
    if wanted.unit:
        unit = session.scalar(select(Unit.code).where(or_(Unit.code == wanted.unit, Unit.name == wanted.unit))
                              .order_by(Unit.code).limit(1))
        if unit is None:
            raise InvalidInput("audit_unit_unknown", unit=wanted.unit)
        codes = organisation.subtree_codes(session, unit)
        members = select(User.username).join(Unit, Unit.id == User.unit_id).where(Unit.code.in_(codes))
        found = list(session.scalars(members.order_by(User.username))) if split_people else []
        if split_people and len(found) <= _MERGED_PEOPLE:
            people = found
        else:
            where.append(_A.actor.in_(members))
    if wanted.process:
        instances = select(ProcessInstance.id).where(ProcessInstance.process_id == wanted.process)
        # SQLite keeps no statistics (the application never runs ANALYZE): it would take the instance_id
        # index, fetch every entry of the procedure and sort them for each page (0.3 s at a million rows).
        # `+ 0` hides that index, so it walks (at, id) from the key and keeps the procedure's entries, which
        # are common. PostgreSQL chooses by its statistics.
        column = _A.instance_id + 0 if session.get_bind().dialect.name == "sqlite" else _A.instance_id
        where.append(column.in_(instances))
    if wanted.start:
        where.append(_A.at >= datetime.combine(wanted.start, time(), TZ))
    if wanted.end:
        where.append(_A.at < datetime.combine(wanted.end + timedelta(days=1), time(), TZ))
    return where, people


def _named(session: Session, rows) -> list[AuditRow]:
    actors = {row.actor for row in rows}
    people = {u: (n, unit) for u, n, unit in session.execute(
        select(User.username, User.full_name, Unit.name).join(Unit, Unit.id == User.unit_id)
        .where(User.username.in_(actors)))} if actors else {}
    instance_ids = {row.instance_id for row in rows if row.instance_id is not None}
    processes = dict(session.execute(select(ProcessInstance.id, ProcessInstance.process_id)
                                     .where(ProcessInstance.id.in_(instance_ids))).all()) if instance_ids else {}
    names = _process_names(session, set(processes.values())) if processes else {}
    out = []
    for row in rows:
        name, unit = people.get(row.actor, (None, None))
        process = processes.get(row.instance_id)
        out.append(AuditRow(id=row.id, at=_aware(row.at), actor=row.actor, actor_name=name, actor_unit=unit,
                            action=row.action, instance_id=row.instance_id, process_id=process,
                            process_name=names.get(process), task_id=row.task_id, bpmn_id=row.bpmn_id,
                            summary=row.summary or {}))
    return out


def _process_names(session: Session, process_ids: set[str] | None) -> dict[str, str | None]:
    """Each process id's name in its latest version."""
    stmt = select(DefinitionVersion.process_id, DefinitionVersion.name).order_by(DefinitionVersion.version)
    if process_ids is not None:
        stmt = stmt.where(DefinitionVersion.process_id.in_(process_ids))
    return dict(session.execute(stmt).all())  # the latest version's name comes last and stays


def _aware(value: datetime) -> datetime:
    # Rows read through the Core table keep UTCDateTime's conversion; a naive value is UTC all the same.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _day(name: str, value) -> date | None:
    if value is None or not str(value).strip():
        return None
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput("audit_day_invalid", field=name, value=str(value)[:40]) from None
