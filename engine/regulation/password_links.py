"""One-time set-password links: an admin hands a user a link instead of a password.

The link carries a random token; only its SHA-256 is stored (like a session's or an API token's), with
an expiry. It works once: the first use sets the password and marks the link used (a conditional
UPDATE, so two uses at the same moment cannot both win), ends the user's open sessions and is audited
with the user as the actor. A newer link replaces an older unused one (the older lapses), and
deactivating a user lapses theirs. The token is shown once, to the admin who made it.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from engine.core import audit
from engine.core.errors import InvalidInput, NotFound
from engine.core.secret_tokens import token_hash
from engine.core.tables import Base, UTCDateTime
from engine.regulation import organisation, sign_ins
from engine.regulation.access import PASSWORD_CHARS

LINK_LIFETIME = timedelta(hours=72)  # long enough to reach someone over a weekend, short enough to lapse
TOKEN_CHARS = 43                     # secrets.token_urlsafe(32)


class PasswordLink(Base):
    """A set-password link: whose, made by whom and when, until when, and when it was used."""

    __tablename__ = "password_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class IssuedLink:
    """A fresh link's token (the only time it is known), whose it is and until when it works."""

    token: str
    username: str
    full_name: str
    expires_at: datetime


@dataclass(frozen=True)
class LinkHolder:
    """Whom a valid link sets the password for (shown on the page it opens)."""

    username: str
    full_name: str
    expires_at: datetime


def create_link(ctx, username: str, actor: str, lifetime: timedelta = LINK_LIFETIME) -> IssuedLink:
    """Make a one-time link for an active user (an older unused one lapses); audited, the token never."""
    token = secrets.token_urlsafe(32)
    with ctx.unit_of_work() as session:
        user = organisation.user_by_username(session, username)
        now = ctx.now()
        lapsed = session.execute(update(PasswordLink).where(
            PasswordLink.user_id == user.id, PasswordLink.used_at.is_(None), PasswordLink.expires_at > now)
            .values(expires_at=now)).rowcount
        row = PasswordLink(token_hash=token_hash(token), user_id=user.id, created_by=actor, created_at=now,
                           expires_at=now + lifetime)
        session.add(row)
        session.flush()
        audit.record(session, at=now, actor=actor, action="password_link_created", summary={
            "user": username, "link_id": row.id, "expires_at": row.expires_at.isoformat(), "replaced": lapsed})
        return IssuedLink(token, user.username, user.full_name, row.expires_at)


def link_holder(ctx, token: str) -> LinkHolder:
    """Whom a link is for while it is unused and unexpired; NotFound("password_link_invalid") otherwise."""
    with ctx.unit_of_work(readonly=True) as session:
        link, user = _valid(session, token, ctx.now())
        return LinkHolder(user.username, user.full_name, link.expires_at)


def use_link(ctx, token: str, password: str) -> str:
    """Set the password through a link, once: the link is spent, the user's sessions end; audited as the
    user. Returns the username. A used, lapsed or unknown link is NotFound("password_link_invalid")."""
    shortest, longest = PASSWORD_CHARS
    if not isinstance(password, str) or len(password) < shortest:
        raise InvalidInput("password_too_short", min=shortest)
    if len(password) > longest:
        raise InvalidInput("password_too_long", max=longest)
    with ctx.unit_of_work() as session:
        now = ctx.now()
        link, user = _valid(session, token, now)
        spent = session.execute(update(PasswordLink).where(
            PasswordLink.id == link.id, PasswordLink.used_at.is_(None), PasswordLink.expires_at > now)
            .values(used_at=now)).rowcount
        if spent != 1:  # another use won the race
            raise NotFound("password_link_invalid")
        organisation.set_password(session, user.username, password)
        ended = sign_ins.end_sessions(session, user.id, now)
        audit.record(session, at=now, actor=user.username, action="password_set_by_link",
                     summary={"user": user.username, "link_id": link.id, "sessions_ended": ended})
        return user.username


def _valid(session, token: str, now: datetime):
    if not isinstance(token, str) or len(token) != TOKEN_CHARS:
        raise NotFound("password_link_invalid")
    found = session.execute(select(PasswordLink, organisation.User)
                            .join(organisation.User, organisation.User.id == PasswordLink.user_id)
                            .where(PasswordLink.token_hash == token_hash(token))).first()
    if found is None:
        raise NotFound("password_link_invalid")
    link, user = found
    if link.used_at is not None or link.expires_at <= now or not user.active:
        raise NotFound("password_link_invalid")
    return link, user
