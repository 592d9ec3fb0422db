"""API tokens as the admin console sees them: the list (whose, what for, by whom, when, revoked), issuing
one (its value shown once) and revoking one, each audited. Issuing is `api_tokens.issue`, after checking
the admin's input; revoking refuses a token revoked already (its first revocation stands).

When a token was last used is not known: checking a token is a read on every API request, and writing
a "last used" instant there would turn each into a write (see the report of issue 12).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from engine.core import audit
from engine.core.errors import Conflict, InvalidInput, NotFound
from engine.regulation import api_tokens
from engine.regulation.api_tokens import ApiToken
from engine.regulation.organisation import User

NAME_CHARS = 200


@dataclass(frozen=True)
class TokenRow:
    """One issued token (never its value)."""

    id: int
    name: str
    username: str
    full_name: str
    issued_by: str
    issued_by_name: str
    issued_at: datetime
    revoked_at: datetime | None


def list_tokens(ctx, include_revoked: bool = True) -> list[TokenRow]:
    """Every token, newest first, with the names of whom it acts for and who issued it."""
    with ctx.unit_of_work(readonly=True) as session:
        stmt = select(ApiToken, User).join(User, User.id == ApiToken.user_id)
        if not include_revoked:
            stmt = stmt.where(ApiToken.revoked_at.is_(None))
        found = session.execute(stmt.order_by(ApiToken.issued_at.desc(), ApiToken.id.desc())).all()
        issuers = {t.issued_by for t, _ in found}
        names = dict(session.execute(select(User.username, User.full_name).where(User.username.in_(issuers))).all())
    return [TokenRow(id=t.id, name=t.name, username=u.username, full_name=u.full_name, issued_by=t.issued_by,
                     issued_by_name=names.get(t.issued_by, t.issued_by), issued_at=t.issued_at,
                     revoked_at=t.revoked_at) for t, u in found]


def issue_token(ctx, username: str, name: str, actor: str) -> api_tokens.Issued:
    """Issue a token acting for an active user, named for what it is for; the value is returned once."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_CHARS:
        raise InvalidInput("token_name_invalid", max=NAME_CHARS)
    username = username.strip() if isinstance(username, str) else ""
    try:
        return api_tokens.issue(ctx, username, name.strip(), actor)
    except NotFound:  # the user named in the input: the input does not fit
        raise InvalidInput("token_user_unknown", user=username[:100]) from None


def revoke_token(ctx, token_id: int, actor: str) -> TokenRow:
    """Revoke a token (requests with it get 401 from now on), in one transaction; audited. A token
    revoked already is a Conflict: its first revocation stands."""
    with ctx.unit_of_work() as session:
        now = ctx.now()
        done = session.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                               .values(revoked_at=now)).rowcount
        if not done:
            if session.get(ApiToken, token_id) is None:
                raise NotFound("token_not_found", token=token_id)
            raise Conflict("token_already_revoked", token=token_id)
        audit.record(session, at=now, actor=actor, action="api_token_revoked", summary={"token_id": token_id})
    return next(t for t in list_tokens(ctx) if t.id == token_id)
