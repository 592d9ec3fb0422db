"""Bearer tokens for the JSON API: issued by an admin to a user, stored only as a hash."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from engine.core import audit
from engine.core.errors import NotFound
from engine.core.secret_tokens import token_hash
from engine.core.tables import Base, UTCDateTime
from engine.regulation import organisation

PREFIX = "cddh_"


class ApiToken(Base):
    """A token's hash and whom it acts for; the token itself is shown once, at issue."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    issued_by: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Issued:
    """A freshly issued token (the only time its value is known)."""

    id: int
    token: str
    username: str


def issue(ctx, username: str, name: str, actor: str) -> Issued:
    """Issue a token acting for `username`."""
    token = PREFIX + secrets.token_urlsafe(32)
    with ctx.unit_of_work() as session:
        user = organisation.user_by_username(session, username)
        row = ApiToken(token_hash=token_hash(token), user_id=user.id, name=name, issued_by=actor, issued_at=ctx.now())
        session.add(row)
        session.flush()
        audit.record(session, at=ctx.now(), actor=actor, action="api_token_issued",
                     summary={"token_id": row.id, "for": username, "name": name})
        return Issued(row.id, token, username)


def revoke(ctx, token_id: int, actor: str) -> None:
    """Revoke a token; requests with it fail from now on."""
    with ctx.unit_of_work() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound("token_not_found", token=token_id)
        row.revoked_at = ctx.now()
        audit.record(session, at=ctx.now(), actor=actor, action="api_token_revoked", summary={"token_id": token_id})


def user_for(session, token: str) -> organisation.UserView | None:
    """The active user a presented token acts for, or None."""
    if not token.startswith(PREFIX):
        return None
    user_id = session.scalar(select(ApiToken.user_id).where(ApiToken.token_hash == token_hash(token),
                                                             ApiToken.revoked_at.is_(None)))
    return organisation.active_user(session, user_id) if user_id is not None else None
