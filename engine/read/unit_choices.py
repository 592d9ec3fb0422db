"""The units a person may pick in a form (a task's lead unit and coordinators, a delegated part's unit,
the task list's unit filter), and what they typed turned back into a unit's code.

People pick units by name; forms still submit the code. A name typed without the picker's help (no
script, or typed whole) is matched here accent- and case-insensitively ("so tu phap" is "Sở Tư pháp"),
so a form never fails on a name and nothing typed is lost (issue 13, item 6).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select

from engine.core.errors import InvalidInput
from engine.regulation.organisation import Unit, UnitKind, subtree_codes

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class UnitChoice:
    """A unit as a picker offers it."""

    code: str
    name: str
    kind: UnitKind


def fold(text: str) -> str:
    """Text as a search compares it: no accents (đ as d), lower case, single spaces."""
    decomposed = unicodedata.normalize("NFD", text or "").replace("đ", "d").replace("Đ", "D")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", plain).strip().lower()


def unit_choices(ctx, *, below: str | None = None, within: frozenset[str] | None = None) -> list[UnitChoice]:
    """Active units by name: all of them, or only those strictly below `below` (where a part may be
    delegated), or only those in `within` (the units a person may see)."""
    with ctx.unit_of_work(readonly=True) as session:
        units = list(session.scalars(select(Unit).where(Unit.active.is_(True))))
        if below is not None:
            allowed = set(subtree_codes(session, below)) - {below}
            units = [unit for unit in units if unit.code in allowed]
    if within is not None:
        units = [unit for unit in units if unit.code in within]
    return sorted((UnitChoice(unit.code, unit.name, UnitKind(unit.kind)) for unit in units),
                  key=lambda choice: (fold(choice.name), choice.code))


def search(choices: list[UnitChoice], query: str, limit: int = 20) -> list[UnitChoice]:
    """The choices whose name or code holds every word of the query (accents and case ignored)."""
    words = fold(query).split()
    return [c for c in choices if all(word in f"{fold(c.name)} {c.code}" for word in words)][:limit]


def code_for(choices: list[UnitChoice], typed: str) -> str:
    """The code of the unit typed (its code, or its name written with or without accents); InvalidInput
    naming what was typed when no unit among the choices, or more than one, goes by it."""
    text = (typed or "").strip()
    if any(choice.code == text for choice in choices):
        return text
    matches = [choice for choice in choices if fold(choice.name) == fold(text)]
    if len(matches) == 1:
        return matches[0].code
    raise InvalidInput("unit_name_ambiguous" if matches else "unit_name_unknown", unit=text[:100])


def name_of(choices: list[UnitChoice], code: str) -> str:
    """The name to show for a code a form carries (the code itself when it is not among the choices)."""
    return next((choice.name for choice in choices if choice.code == code), code)
