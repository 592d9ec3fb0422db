"""Users administered from the browser and the API: list, create, edit (name, unit, roles, e-mail),
deactivate and reactivate. Every change is audited with who made it, what changed and the reason given.

A unit is chosen by its name (the admin reads names, not codes); its code is accepted too, so scripts
may name it unambiguously. A deactivated user's sessions end at once; their API tokens stop working
(a token acts only for an active user, `api_tokens.user_for`); their pending set-password links lapse.
New users get no password: an admin types one, or hands them a one-time link (`password_links`);
demo passwords exist only in demo mode, from the seed file (`organisation.seed_organisation`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from engine.core import audit
from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.regulation import sign_ins
from engine.regulation.organisation import Role, Unit, User, UserRole
from engine.regulation.password_links import PasswordLink

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,99}")  # sign-in lowercases what is typed: lowercase only
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
FULL_NAME_CHARS, EMAIL_CHARS, REASON_CHARS = 300, 300, 1000


@dataclass(frozen=True)
class UserRow:
    """A user as the admin's list and page show them: names, not codes (the code is kept for links)."""

    username: str
    full_name: str
    email: str | None
    unit_code: str
    unit_name: str
    roles: list[Role]
    active: bool
    has_password: bool
    open_sessions: int
    created_at: datetime


@dataclass(frozen=True)
class UnitChoice:
    """An active unit an admin may put a user in: its name, with its parent's when two share a name."""

    code: str
    name: str
    label: str


def list_users(ctx, q: str = "", unit: str | None = None, status: str | None = None) -> list[UserRow]:
    """Users by full name: `q` in the username, full name or e-mail; `unit` (name or code) exactly;
    `status` "active" or "inactive"."""
    with ctx.unit_of_work(readonly=True) as session:
        stmt = select(User, Unit).join(Unit, Unit.id == User.unit_id)
        if q.strip():
            like = f"%{q.strip().lower()}%"
            stmt = stmt.where(or_(func.lower(User.username).like(like), func.lower(User.full_name).like(like),
                                  func.lower(User.email).like(like)))
        if unit:
            stmt = stmt.where(User.unit_id == _unit_named(session, unit, active_only=False).id)
        if status in ("active", "inactive"):
            stmt = stmt.where(User.active.is_(status == "active"))
        rows = session.execute(stmt.order_by(User.full_name, User.username).limit(1000)).all()
        return _rows(session, rows, ctx.now())


def get_user(ctx, username: str) -> UserRow:
    """One user, active or not; NotFound for an unknown username."""
    with ctx.unit_of_work(readonly=True) as session:
        return _row(session, username, ctx.now())


def unit_choices(ctx) -> list[UnitChoice]:
    """The active units, by name, for choosing a user's unit."""
    with ctx.unit_of_work(readonly=True) as session:
        units = list(session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.name, Unit.code)))
        names = {unit.id: unit.name for unit in session.scalars(select(Unit))}
    shared = {u.name for u in units if sum(other.name == u.name for other in units) > 1}
    return [UnitChoice(u.code, u.name, f"{u.name} ({names.get(u.parent_id, u.code)})" if u.name in shared else u.name)
            for u in units]


def create_user(ctx, *, username: str, full_name: str, unit: str, roles: list[str], actor: str,
                email: str | None = None) -> UserRow:
    """Create an active user without a password (set one, or hand out a set-password link); audited."""
    username = username.strip().lower() if isinstance(username, str) else username
    if not isinstance(username, str) or not USERNAME.fullmatch(username):
        raise InvalidInput("user_username_invalid", user=repr(username)[:120])
    name, mail, wanted = _full_name(full_name), _email(email), _roles(roles)
    with ctx.unit_of_work() as session:
        if session.scalar(select(User.id).where(func.lower(User.username) == username)) is not None:
            raise Conflict("user_username_taken", user=username)
        target = _unit_named(session, unit)
        user = User(username=username, full_name=name, email=mail, unit_id=target.id, password_hash=None,
                    active=True, created_at=ctx.now())
        session.add(user)
        session.flush()
        session.add_all(UserRole(user_id=user.id, role=role) for role in wanted)
        audit.record(session, at=ctx.now(), actor=actor, action="user_created", summary={
            "user": username, "full_name": name, "unit": target.code, "unit_name": target.name,
            "roles": [r.value for r in wanted]})
        return _row(session, username, ctx.now())


_UNSET = object()


def edit_user(ctx, username: str, *, actor: str, full_name=_UNSET, unit=_UNSET, roles=_UNSET, email=_UNSET,
              active=_UNSET, reason: str | None = None) -> UserRow:
    """Change what is given (full name, unit, roles, e-mail, active); audited with old and new values.

    Deactivating ends the user's sessions and lapses their set-password links. An admin can neither
    deactivate themselves nor drop their own admin role: the console must keep someone who can undo it.
    """
    reason = _reason(reason)
    with ctx.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == username).with_for_update())
        if user is None:
            raise NotFound("user_unknown", user=username)
        now, changes = ctx.now(), {}
        if full_name is not _UNSET and _full_name(full_name) != user.full_name:
            changes["full_name"] = [user.full_name, _full_name(full_name)]
            user.full_name = _full_name(full_name)
        if email is not _UNSET and _email(email) != user.email:
            changes["email"] = [user.email, _email(email)]
            user.email = _email(email)
        if unit is not _UNSET:
            target, old = _unit_named(session, unit), session.get(Unit, user.unit_id)
            if target.id != old.id:
                changes["unit"] = [old.name, target.name]
                user.unit_id = target.id
        if roles is not _UNSET:
            _change_roles(session, user, _roles(roles), actor, changes)
        if active is not _UNSET:
            if not isinstance(active, bool):
                raise InvalidInput("user_active_invalid")
            if active != user.active:
                if not active and username == actor:
                    raise Conflict("user_self_deactivate")
                changes["active"] = [user.active, active]
                user.active = active
                if not active:
                    changes["sessions_ended"] = sign_ins.end_sessions(session, user.id, now)
                    session.execute(update(PasswordLink).where(PasswordLink.user_id == user.id,
                                                               PasswordLink.used_at.is_(None),
                                                               PasswordLink.expires_at > now).values(expires_at=now))
        if changes:
            action = {(True, False): "user_deactivated", (False, True): "user_reactivated"}.get(
                tuple(changes["active"]) if "active" in changes else None, "user_changed")
            audit.record(session, at=now, actor=actor, action=action, summary={
                "user": username, "changes": changes, **({"reason": reason} if reason else {})})
        return _row(session, username, now)


def _change_roles(session: Session, user: User, wanted: list[Role], actor: str, changes: dict) -> None:
    held = set(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
    if held == set(wanted):
        return
    if user.username == actor and Role.ADMIN in held and Role.ADMIN not in wanted:
        raise Conflict("user_self_unadmin")
    for row in session.scalars(select(UserRole).where(UserRole.user_id == user.id, UserRole.role.not_in(wanted))):
        session.delete(row)
    session.add_all(UserRole(user_id=user.id, role=role) for role in wanted if role not in held)
    changes["roles"] = [sorted(r.value for r in held), [r.value for r in wanted]]


def _unit_named(session: Session, value, active_only: bool = True) -> Unit:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("user_unit_required")
    text = " ".join(value.split())
    found = list(session.scalars(select(Unit).where(Unit.name == text).order_by(Unit.code)))
    if not found:
        found = list(session.scalars(select(Unit).where(Unit.code == text)))
    if not found:
        raise InvalidInput("user_unit_unknown", unit=text)
    if active_only:
        if not any(u.active for u in found):
            raise InvalidInput("user_unit_inactive", unit=text)
        found = [u for u in found if u.active]
    if len(found) > 1:
        raise InvalidInput("user_unit_ambiguous", unit=text, codes=", ".join(u.code for u in found))
    return found[0]


def _roles(values) -> list[Role]:
    if not isinstance(values, (list, tuple)):
        raise InvalidInput("user_roles_invalid")
    wanted = []
    for value in values:
        try:
            role = Role(value)
        except ValueError:
            raise InvalidInput("role_unknown", value=str(value)[:60],
                               allowed=", ".join(r.value for r in Role)) from None
        if role not in wanted:
            wanted.append(role)
    return sorted(wanted, key=list(Role).index)


def _full_name(value) -> str:
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not text or len(text) > FULL_NAME_CHARS:
        raise InvalidInput("user_full_name_invalid", max=FULL_NAME_CHARS)
    return text


def _email(value) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or len(value.strip()) > EMAIL_CHARS or not EMAIL.fullmatch(value.strip()):
        raise InvalidInput("user_email_invalid", email=repr(value)[:120])
    return value.strip()


def _reason(value) -> str | None:
    if value is None or not str(value).strip():
        return None
    if not isinstance(value, str) or len(value) > REASON_CHARS:
        raise InvalidInput("user_reason_invalid", max=REASON_CHARS)
    return value.strip()


def _row(session: Session, username: str, now: datetime) -> UserRow:
    found = session.execute(select(User, Unit).join(Unit, Unit.id == User.unit_id)
                            .where(User.username == username)).first()
    if found is None:
        raise NotFound("user_unknown", user=username)
    return _rows(session, [found], now)[0]


def _rows(session: Session, found, now: datetime) -> list[UserRow]:
    ids = [user.id for user, _ in found]
    roles: dict[int, list[Role]] = {i: [] for i in ids}
    sessions: dict[int, int] = {}
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        held = select(UserRole.user_id, UserRole.role).where(UserRole.user_id.in_(chunk))
        for user_id, role in session.execute(held):
            roles[user_id].append(Role(role))
        s = sign_ins.SignInSession
        sessions.update(session.execute(select(s.user_id, func.count()).where(
            s.user_id.in_(chunk), s.ended_at.is_(None), s.expires_at > now).group_by(s.user_id)).all())
    return [UserRow(username=user.username, full_name=user.full_name, email=user.email, unit_code=unit.code,
                    unit_name=unit.name, roles=sorted(roles[user.id], key=list(Role).index), active=bool(user.active),
                    has_password=bool(user.password_hash), open_sessions=sessions.get(user.id, 0),
                    created_at=user.created_at) for user, unit in found]
