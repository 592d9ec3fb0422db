"""How random secrets (API tokens, sign-in sessions, set-password links) are kept: only their hash."""
from __future__ import annotations

import hashlib


def token_hash(token: str) -> str:
    """The stored form of a random token. A fast hash is right here: the token is 256 random bits, not a
    guessable password. Any text hashes (a lone surrogate from a hostile request included), never raises."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
