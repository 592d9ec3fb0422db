"""Sign-in sessions and failed sign-ins, kept in the database so every process of the app shares them.

A session is a random token (its SHA-256 only is stored, like an API token's) that a person's cookie
carries; it ends when they sign out, when an admin ends it, or when it expires. Failed sign-ins are
rows counted by the limit that `access.sign_in` applies, then removed once out of its window. The
rules (how many, how long) are in `access`; this module keeps the rows.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.core.secret_tokens import token_hash
from engine.core.tables import Base, UTCDateTime
from engine.regulation.organisation import User

USERNAME_CHARS = 100  # as users.username: a longer name is nobody's
ADDRESS_CHARS = 64    # an IPv6 address with a zone fits


class SignInSession(Base):
    """A signed-in browser: whose, from where, until when; `ended_at` once signed out or ended by an admin."""

    __tablename__ = "sign_in_sessions"
    __table_args__ = (Index("ix_sign_in_sessions_user_address", "user_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    address: Mapped[str] = mapped_column(String(ADDRESS_CHARS))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SignInFailure(Base):
    """One failed sign-in (username as typed, cut to its column), kept while the limit's window counts it."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_username_at", "username", "at"),
                      Index("ix_sign_in_failures_address_at", "address", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    username: Mapped[str] = mapped_column(String(USERNAME_CHARS))
    address: Mapped[str] = mapped_column(String(ADDRESS_CHARS))


@dataclass(frozen=True)
class Failures:
    """Failed sign-ins since an instant: for this username from this address, from this address, for this username."""

    pair: int
    address: int
    username: int


def cut_address(address: str | None) -> str:
    """The address as stored: at most ADDRESS_CHARS characters, '' when unknown."""
    return (address or "")[:ADDRESS_CHARS]


def failures_since(session: Session, username: str, address: str, since: datetime) -> Failures:
    """Count the failures since `since` (three indexed counts)."""
    f = SignInFailure
    recent = f.at >= since

    def count(*where) -> int:
        return session.scalar(select(func.count()).select_from(f).where(recent, *where))

    return Failures(pair=count(f.username == username, f.address == address),
                    address=count(f.address == address), username=count(f.username == username))


def record_failure(session: Session, username: str, address: str, at: datetime) -> None:
    """Count one failed sign-in."""
    session.add(SignInFailure(at=at, username=username[:USERNAME_CHARS], address=address))


def known_address(session: Session, username: str, address: str, since: datetime) -> bool:
    """Whether this user has signed in from this address since `since`."""
    return session.scalar(select(SignInSession.id).join(User, User.id == SignInSession.user_id).where(
        User.username == username, SignInSession.address == address, SignInSession.created_at >= since)
        .limit(1)) is not None


def forget(session: Session, failures_before: datetime, sessions_before: datetime) -> None:
    """Remove failures older than the window and sessions expired long ago: the tables stay small."""
    session.execute(delete(SignInFailure).where(SignInFailure.at < failures_before))
    session.execute(delete(SignInSession).where(SignInSession.expires_at < sessions_before))


def open_session(session: Session, user_id: int, address: str, now: datetime, expires_at: datetime) -> str:
    """Start a session; returns its token (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    session.add(SignInSession(token_hash=token_hash(token), user_id=user_id, address=address, created_at=now,
                              expires_at=expires_at))
    return token


def session_username(session: Session, token: str, now: datetime) -> str | None:
    """The username of a session that has neither ended nor expired, else None."""
    return session.scalar(select(User.username).join(SignInSession, SignInSession.user_id == User.id).where(
        SignInSession.token_hash == token_hash(token), SignInSession.ended_at.is_(None),
        SignInSession.expires_at > now))


def end_session(session: Session, token: str, now: datetime) -> str | None:
    """End one session; the username it was for, or None if it had already ended or expired."""
    username = session_username(session, token, now)
    if username is not None:
        session.execute(update(SignInSession).where(SignInSession.token_hash == token_hash(token)).values(ended_at=now))
    return username


def end_sessions(session: Session, user_id: int, now: datetime) -> int:
    """End every session of a user not ended yet (expired ones too: the clock may be another's); how many."""
    return session.execute(update(SignInSession).where(
        SignInSession.user_id == user_id, SignInSession.ended_at.is_(None)).values(ended_at=now)).rowcount
