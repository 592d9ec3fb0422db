"""Accent- and case-insensitive Vietnamese search: the folded form both the stored search columns and
the typed query are reduced to, so "dat dai", "Đất Đai" and "đất đai" all find "đất đai".

Folding here, not in SQL: neither SQLite nor a stock PostgreSQL has a Vietnamese-aware unaccent, so
each searchable row keeps its folded text in a column (`search_text`) written when the row is, and a
query is folded the same way before a plain LIKE.
"""
from __future__ import annotations

import unicodedata

# "đ" is a letter of its own, not "d" with a combining mark: NFD leaves it whole.
_LETTERS = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str | None) -> str:
    """Lower case, without diacritics (đ -> d), whitespace collapsed to single spaces."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", text.translate(_LETTERS).casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.split())


def like_pattern(query: str | None) -> str | None:
    """The LIKE pattern (escape character "\\") finding the folded query anywhere, or None for a blank query."""
    folded = fold(query)
    if not folded:
        return None
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
