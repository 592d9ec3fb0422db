"""The organisation as data: units in a tree, users in units, roles; nothing here is code-bound.

In 2025 Bến Tre merged into Vĩnh Long and the district tier was abolished: an admin restructures
by editing these rows (move a unit, deactivate one), never by changing code.
"""
from __future__ import annotations

import enum
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from sqlalchemy import Boolean, ForeignKey, Row, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from engine.core import audit
from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.core.tables import Base, UTCDateTime, enum_column


class UnitKind(str, enum.Enum):
    """What kind of body a unit is (Art. 1 of the Regulation as amended)."""

    PROVINCIAL_PEOPLES_COMMITTEE = "ppc"          # UBND tỉnh (its leadership)
    PROVINCIAL_OFFICE = "provincial_office"      # Văn phòng UBND tỉnh
    DEPARTMENT = "department"                    # sở, ban, ngành tỉnh
    DISTRICT = "district"                        # UBND huyện, thành phố
    SUB_UNIT = "sub_unit"                        # phòng, ban, đơn vị trực thuộc
    COMMUNE = "commune"                          # UBND xã, phường, thị trấn
    OTHER_AGENCY = "other_agency"                # cơ quan, tổ chức khác

    @property
    def label_key(self) -> str:
        """Its label's key in the catalog."""
        return f"unit_kind.{self.value}"


class Role(str, enum.Enum):
    """What a user may do (docs/regulation.md, "Unit kinds and roles")."""

    TRACKING_SPECIALIST = "tracking_specialist"  # chuyên viên theo dõi (Văn phòng)
    OFFICE_LEADER = "office_leader"              # Chánh / Phó Chánh Văn phòng
    PPC_LEADER = "ppc_leader"                    # Chủ tịch / Phó Chủ tịch UBND tỉnh
    UNIT_FOCAL_POINT = "unit_focal_point"        # đầu mối đơn vị
    UNIT_LEADER = "unit_leader"                  # thủ trưởng đơn vị
    PROCESS_ANALYST = "process_analyst"
    ADMIN = "admin"


# The roles a diagram's lane may name (spiffworkflow:role): a lane's label is for people to read and may
# change freely; its role decides who receives its tasks (docs/workbench.md, "The diagram contract").
LANE_ROLES: tuple[Role, ...] = (Role.TRACKING_SPECIALIST, Role.OFFICE_LEADER, Role.PPC_LEADER,
                                Role.UNIT_FOCAL_POINT, Role.UNIT_LEADER)


class Unit(Base):
    """A body in the tree: the Provincial Office, a department, a district, a commune, ..."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[UnitKind] = mapped_column(enum_column(UnitKind, "unit_kind", 40))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Merged or retired (engine/regulation/reorganisation.py): the row stays, inactive, so records made while
    # the unit existed keep its name; its work went to `merged_into_id`.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class User(Base):
    """A person who signs in; belongs to one unit."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(300))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UserRole(Base):
    """A role held by a user."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role", 40))


_CODE = re.compile(r"[a-z0-9-]{2,60}")


@dataclass(frozen=True)
class UnitView:
    """A unit as screens and use cases see it."""

    id: int
    code: str
    name: str
    kind: UnitKind
    parent_code: str | None
    active: bool


@dataclass(frozen=True)
class UserView:
    """A user with the unit they belong to and the roles they hold."""

    id: int
    username: str
    full_name: str
    unit_code: str
    unit_kind: UnitKind
    roles: frozenset[Role]


def seed_organisation(session: Session, path: Path, now: datetime, demo: bool = False) -> dict[str, int]:
    """Insert units and users of the seed file that are not there yet (by code / username); never overwrite.

    An admin's restructuring is kept. In demo mode new users get the file's public demo password, hashed
    once per run; otherwise none: they cannot sign in until an admin sets one (access.set_password).
    """
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    ids: dict[str, int] = dict(session.execute(select(Unit.code, Unit.id)).all())
    pending, added = [item for item in raw.get("units", []) if item["code"] not in ids], 0
    while pending:  # parents before children, whatever the order of the file
        ready = [item for item in pending if item.get("parent") is None or item["parent"] in ids]
        if not ready:
            codes = ", ".join(item["code"] for item in pending)
            raise InvalidInput("seed_units_unresolved", codes=codes)
        for item in ready:
            unit = Unit(code=_valid_code(item["code"]), name=_valid_name(item["name"]), active=True,
                        kind=_unit_kind(item["kind"]), parent_id=ids.get(item.get("parent")))
            session.add(unit)
            session.flush()
            ids[unit.code], added = unit.id, added + 1
        pending = [item for item in pending if item not in ready]
    known = set(session.scalars(select(User.username)))
    new_users = [item for item in raw.get("users", []) if item["username"] not in known]
    password = raw.get("demo_password") if new_users and demo else None
    password_hash = generate_password_hash(password) if password else None
    for item in new_users:
        if item["unit"] not in ids:
            raise InvalidInput("seed_user_unit_unknown", user=item["username"], unit=item["unit"])
        user = User(username=item["username"], full_name=item["full_name"], email=item.get("email"),
                    unit_id=ids[item["unit"]], password_hash=password_hash, active=True, created_at=now)
        session.add(user)
        session.flush()
        roles = {_role(role) for role in item["roles"]}
        session.add_all(UserRole(user_id=user.id, role=role) for role in roles)
    return {"units": added, "users": len(new_users)}


def unit_by_code(session: Session, code: str) -> Unit:
    """The unit with this code, or NotFound."""
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound("unit_not_found", unit=code)
    return unit


def user_by_username(session: Session, username: str, include_inactive: bool = False) -> UserView:
    """The user with this username; NotFound too when the user or their unit is inactive, unless asked."""
    user, unit = _user_and_unit(session, username)
    if user is None or not (include_inactive or (user.active and unit.active)):
        raise NotFound("user_not_found", user=username)
    return _user_view(session, user, unit)


def active_user(session: Session, user_id: int) -> UserView | None:
    """The user with this id if both they and their unit are active, else None."""
    found = session.execute(select(User, Unit).join(Unit, User.unit_id == Unit.id).where(User.id == user_id)).first()
    if found is None or not (found[0].active and found[1].active):
        return None
    return _user_view(session, *found)


def verify_password(session: Session, username: str, password: str) -> UserView | None:
    """The user if the password is right and both the user and their unit are active, else None."""
    user, unit = _user_and_unit(session, username)
    if user is None or not user.password_hash:
        check_password_hash(_dummy_hash(), password)  # as slow as a real check: timing tells nothing
        return None
    valid = check_password_hash(user.password_hash, password) and user.active and unit.active
    return _user_view(session, user, unit) if valid else None


def set_password(session: Session, username: str, password: str) -> UserView:
    """Store a new password's hash for a user (deactivated ones too); NotFound for an unknown username."""
    user, unit = _user_and_unit(session, username)
    if user is None:
        raise NotFound("user_not_found", user=username)
    user.password_hash = generate_password_hash(password)
    return _user_view(session, user, unit)


def subtree_codes(session: Session, code: str) -> list[str]:
    """The unit and every unit below it, inactive ones included (their tasks still roll up), top down."""
    return UnitTree(session).subtree(code)


class UnitTree:
    """Every unit, read once as plain rows: a request's questions of the tree (whose subtree, which Office,
    what name) answered without a query each. Rows carry Unit's column names."""

    def __init__(self, session: Session):
        self.children = _children(session)
        self.by_code = {unit.code: unit for units in self.children.values() for unit in units}

    def subtree(self, code: str) -> list[str]:
        """As subtree_codes; NotFound for an unknown code."""
        top = self.by_code.get(code)
        if top is None:
            raise NotFound("unit_not_found", unit=code)
        return [unit.code for unit in _walk(self.children, [top])]


def holders(session: Session, unit_code: str, role: Role | str) -> list[UserView]:
    """Active users of an active unit holding the role, by username (whom to notify)."""
    unit, role = unit_by_code(session, unit_code), _role(role)
    users = session.scalars(select(User).join(UserRole, UserRole.user_id == User.id).where(
        User.unit_id == unit.id, User.active.is_(True), UserRole.role == role).order_by(User.username))
    return [_user_view(session, user, unit) for user in users] if unit.active else []


def members(session: Session, unit_code: str) -> list[UserView]:
    """Active users of an active unit, whatever their roles, by username."""
    unit = unit_by_code(session, unit_code)
    users = session.scalars(select(User).where(User.unit_id == unit.id, User.active.is_(True)).order_by(User.username))
    return [_user_view(session, user, unit) for user in users] if unit.active else []


def list_units(ctx) -> list[UnitView]:
    """Every unit, inactive ones included, top down: each parent before its children, siblings by code."""
    with ctx.unit_of_work(readonly=True) as session:
        children = _children(session)
        units = list(_walk(children, children[None]))
    codes = {unit.id: unit.code for unit in units}
    return [_unit_view(unit, codes.get(unit.parent_id)) for unit in units]


def move_unit(ctx, code: str, new_parent_code: str | None, actor: str) -> UnitView:
    """Put a unit (with everything below it) under another active parent; None makes it a root."""
    with ctx.unit_of_work() as session:
        _lock_units(session)
        unit = unit_by_code(session, code)
        node = parent = unit_by_code(session, new_parent_code) if new_parent_code else None
        if parent is not None and not parent.active:
            raise Conflict("unit_inactive_no_move", unit=new_parent_code)
        while node is not None:
            if node.id == unit.id:
                raise Conflict("unit_own_parent" if node is parent else "unit_below_itself", unit=code,
                               parent=new_parent_code)
            node = session.get(Unit, node.parent_id) if node.parent_id else None
        old_code = _code_of(session, unit.parent_id)
        if old_code != new_parent_code:
            unit.parent_id = parent.id if parent else None
            audit.record(session, at=ctx.now(), actor=actor, action="unit_moved",
                         summary={"unit": code, "from": old_code, "to": new_parent_code})
        return _unit_view(unit, new_parent_code)


def deactivate_unit(ctx, code: str, actor: str) -> UnitView:
    """Mark a unit inactive (its users can no longer sign in); refused while active units are below it."""
    with ctx.unit_of_work() as session:
        _lock_units(session)
        unit = unit_by_code(session, code)
        if not unit.active:
            raise Conflict("unit_already_inactive", unit=code)
        below = list(session.scalars(select(Unit.code).where(Unit.parent_id == unit.id, Unit.active.is_(True))))
        if below:
            raise Conflict("unit_has_active_units", unit=code, below=", ".join(sorted(below)))
        users = session.scalar(select(User.id).where(User.unit_id == unit.id, User.active.is_(True)).limit(1))
        unit.active = False
        audit.record(session, at=ctx.now(), actor=actor, action="unit_deactivated",
                     summary={"unit": code, "had_active_users": users is not None})
        return _unit_view(unit, _code_of(session, unit.parent_id))


def add_unit(ctx, code: str, name: str, kind: UnitKind | str, parent_code: str | None, actor: str) -> UnitView:
    """Create a unit under an active parent (None: a new root, e.g. a merged province's PPC)."""
    code, name, kind = _valid_code(code), _valid_name(name), _unit_kind(kind)
    with ctx.unit_of_work() as session:
        _lock_units(session)
        parent = unit_by_code(session, parent_code) if parent_code else None
        if parent is not None and not parent.active:
            raise Conflict("unit_inactive_no_add", unit=parent_code)
        if session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
            raise Conflict("unit_code_taken", unit=code)
        unit = Unit(code=code, name=name, kind=kind, parent_id=parent.id if parent else None, active=True)
        session.add(unit)
        session.flush()
        audit.record(session, at=ctx.now(), actor=actor, action="unit_added",
                     summary={"unit": code, "name": name, "kind": kind.value, "parent": parent_code})
        return _unit_view(unit, parent_code)


def _children(session: Session) -> dict[int | None, list[Row]]:
    """Units by parent id, each list by code: plain rows (read-only), cheaper than loading entities."""
    children: dict[int | None, list[Row]] = defaultdict(list)
    for unit in session.execute(select(*Unit.__table__.columns).order_by(Unit.code)):
        children[unit.parent_id].append(unit)
    return children


def _walk(children: dict[int | None, list[Row]], tops: list) -> Iterator[Row]:
    stack, seen = list(reversed(tops)), set()
    while stack:
        unit = stack.pop()
        if unit.id not in seen:
            seen.add(unit.id)
            yield unit
            stack.extend(reversed(children[unit.id]))


def _lock_units(session: Session) -> None:
    # Changes to the tree go one at a time (two concurrent moves could close a loop together); locking
    # in id order cannot deadlock, and FOR NO KEY UPDATE still lets rows that refer to units be written.
    session.execute(select(Unit.id).order_by(Unit.id).with_for_update(key_share=True))


def _code_of(session: Session, unit_id: int | None) -> str | None:
    return session.get(Unit, unit_id).code if unit_id is not None else None


def _user_and_unit(session: Session, username: str) -> tuple[User | None, Unit | None]:
    stmt = select(User, Unit).join(Unit, User.unit_id == Unit.id).where(User.username == username)
    return tuple(session.execute(stmt).first() or (None, None))


def _unit_view(unit: Unit, parent_code: str | None) -> UnitView:
    return UnitView(id=unit.id, code=unit.code, name=unit.name, kind=UnitKind(unit.kind),
                    parent_code=parent_code, active=bool(unit.active))


def _user_view(session: Session, user: User, unit: Unit) -> UserView:
    roles = frozenset(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
    return UserView(id=user.id, username=user.username, full_name=user.full_name, unit_code=unit.code,
                    unit_kind=UnitKind(unit.kind), roles=roles)


def _valid_code(code) -> str:
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise InvalidInput("unit_code_invalid", code=repr(code))
    return code


def _valid_name(name) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 300:
        raise InvalidInput("unit_name_invalid")
    return name.strip()


def _unit_kind(value) -> UnitKind:
    try:
        return UnitKind(value)
    except ValueError:
        raise InvalidInput("unit_kind_unknown", value=value, allowed=", ".join(k.value for k in UnitKind)) from None


def _role(value) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput("role_unknown", value=value, allowed=", ".join(r.value for r in Role)) from None


@cache
def _dummy_hash() -> str:
    return generate_password_hash("not-a-real-password")


def effective_roles(user: UserView) -> set[str]:
    """The roles a user acts in: a unit's focal point also follows the parts it delegated.

    The task_followup lane "Chuyên viên theo dõi" is the task's follower: the Office's tracking
    specialist for a top-level task, the delegating unit's focal point for a delegated part.
    """
    roles = {role.value for role in user.roles}
    if Role.UNIT_FOCAL_POINT in user.roles and user.unit_kind is not UnitKind.PROVINCIAL_OFFICE:
        roles.add(Role.TRACKING_SPECIALIST.value)
    return roles
