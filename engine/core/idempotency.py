"""Idempotency keys on the API's writes (docs/operations.md, "Sending a write again").

A client that lost the answer to a write (its connection dropped, the web worker was killed) cannot know
whether the write happened. It sends the same request again with the same `Idempotency-Key` header, and
gets the first answer instead of a second write: one progress report, one feedback, not two.

The key is claimed inside the request's first write transaction (`Database.transaction` calls `take`):
if that transaction commits, the key is taken together with the write; if it rolls back, so does the
claim, and the request sent again runs afresh. The answer is kept afterwards, in a small transaction of
its own (`answered`). A worker killed between the two leaves a key without an answer: the request sent
again gets 409 `request_already_applied`, which tells the truth (the write happened, once) and asks the
client to read the result. Two copies of a request running at once: the second waits on the key's unique
index and gets the same 409. Keys are per user, kept for KEEP (the timer worker forgets older ones).
"""
from __future__ import annotations

import contextvars
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, Text, UniqueConstraint, delete, exc, insert, select, update
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.core.errors import Conflict, InvalidInput
from engine.core.tables import Base, UTCDateTime

KEEP = timedelta(hours=24)
_KEY = re.compile(r"[\x21-\x7e]{1,200}")  # visible ASCII, as a header carries it safely


class IdempotencyKey(Base):
    """A key a user sent with a write, the request it came with, and the answer, once known."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("actor", "key", name="uq_idempotency_keys_actor_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))    # sha256 of method, path and body
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[int | None] = mapped_column(Integer)     # None: written, answer not kept (yet)
    body: Mapped[str | None] = mapped_column(Text)


@dataclass
class Claim:
    """A request with a key, being served: taken once its first write transaction has committed."""

    actor: str
    key: str
    fingerprint: str
    at: datetime
    taken: bool = False


@dataclass(frozen=True)
class Earlier:
    """What the same user sent earlier with the same key."""

    fingerprint: str
    status: int | None
    body: str | None


_claim: contextvars.ContextVar[Claim | None] = contextvars.ContextVar("idempotency_claim", default=None)


def checked_key(key: str) -> str:
    """The key as sent, if it is one: 1 to 200 visible ASCII characters."""
    if not _KEY.fullmatch(key):
        raise InvalidInput("idempotency_key_invalid")
    return key


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests the same request: method, path with its query, and body."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def serving(claim: Claim) -> contextvars.Token:
    """Serve the current request under `claim`; pair with `served`."""
    return _claim.set(claim)


def served(token: contextvars.Token) -> None:
    """The request is answered: later transactions of this thread claim nothing."""
    _claim.reset(token)


def pending() -> Claim | None:
    """The claim the next write transaction must take, if any."""
    claim = _claim.get()
    return None if claim is None or claim.taken else claim


def take(session: Session, claim: Claim) -> None:
    """Claim the key in the write transaction `session` begins (first thing, so a copy of the request
    running at once waits here, not after doing its work)."""
    try:
        session.execute(insert(IdempotencyKey).values(actor=claim.actor, key=claim.key,
                                                      fingerprint=claim.fingerprint, created_at=claim.at))
    except exc.IntegrityError as error:
        raise Conflict("request_already_applied") from error


def recorded(ctx, actor: str, key: str) -> Earlier | None:
    """The request this user sent earlier with this key (kept at least KEEP), if any."""
    with ctx.unit_of_work(readonly=True) as session:
        row = session.execute(select(IdempotencyKey.fingerprint, IdempotencyKey.status, IdempotencyKey.body)
                              .where(IdempotencyKey.actor == actor, IdempotencyKey.key == key)).one_or_none()
    return None if row is None else Earlier(*row)


def answered(ctx, claim: Claim, status: int, body: str) -> None:
    """Keep the answer to a request whose write committed, for the same request sent again."""
    with ctx.unit_of_work() as session:
        if session.get_bind().dialect.name == "postgresql":
            # Not worth waiting for the disk: lost in a crash, the answer only turns a replay into a 409.
            session.execute(sql("SET LOCAL synchronous_commit TO OFF"))
        session.execute(update(IdempotencyKey).where(IdempotencyKey.actor == claim.actor,
                                                     IdempotencyKey.key == claim.key).values(status=status, body=body))


def forget_old(ctx) -> int:
    """Remove the keys older than KEEP (the timer worker's pass); how many."""
    with ctx.unit_of_work() as session:
        return session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < ctx.now() - KEEP)).rowcount
