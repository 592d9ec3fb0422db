"""A year's announcement of days off and make-up working days, imported from a small CSV file.

Each line is `day,kind,reason,source` (a header line is allowed; the day as 2026-09-01 or 01/09/2026; the
kind `day_off` or `working_day`). The preview says of every line whether it adds an override, is already
there, or what is wrong with it, and which running due dates the whole file would move; the import is
all or nothing: one wrong line refuses the file (422 naming each line) and nothing is recorded.
"""
from __future__ import annotations

import csv
import enum
from dataclasses import dataclass
from datetime import date

from engine.core.errors import InvalidInput
from engine.core.i18n import Message
from engine.regulation.calendar_admin import apply_calendar, calendar_with, checked_override, preview_calendar
from engine.regulation.working_time import MoveView
from engine.worktime import calendar_overrides
from engine.worktime.calendar import Override, OverrideKind

MAX_CHARS, MAX_LINES = 50_000, 400
_HEADERS = {"day", "date", "ngày", "ngay"}


class LineStatus(str, enum.Enum):
    """What importing a line does."""

    ADD = "add"
    UNCHANGED = "unchanged"   # the same override is recorded already
    ERROR = "error"


@dataclass(frozen=True)
class ImportLine:
    """One line of the file and what importing it does (or what is wrong with it)."""

    line: int
    day: date | None
    kind: OverrideKind | None
    reason: str
    source: str
    status: LineStatus
    problem: Message | None


@dataclass(frozen=True)
class ImportResult:
    """The file's lines, how many overrides it adds, and the due dates it moves (or would move)."""

    lines: tuple[ImportLine, ...]
    added: int
    errors: int
    moved: tuple[MoveView, ...]
    applied: bool


class ImportRefused(InvalidInput):
    """The file has wrong lines: nothing was imported."""

    def __init__(self, lines: tuple[ImportLine, ...]):
        super().__init__("calendar_import_refused", count=sum(1 for x in lines if x.status is LineStatus.ERROR))
        self.lines = lines


def preview_import(ctx, text: str) -> ImportResult:
    """Every line checked, and the running due dates the file would move (when no line is wrong)."""
    with ctx.unit_of_work(readonly=True) as session:
        lines = _check(parse(text), calendar_overrides.stored(session))
        adds = _adds(lines)
        errors = sum(1 for x in lines if x.status is LineStatus.ERROR)
        moves = () if errors or not adds else tuple(preview_calendar(ctx, session, calendar_with(session, add=adds)))
        return ImportResult(lines, len(adds), errors, moves, False)


def apply_import(ctx, text: str, apply_to_running: bool, actor: str) -> ImportResult:
    """Record every new override of the file in one transaction (each audited), moving running due dates on
    request; ImportRefused (nothing recorded) if any line is wrong."""
    with ctx.unit_of_work() as session:
        lines = _check(parse(text), calendar_overrides.stored(session))
        if any(x.status is LineStatus.ERROR for x in lines):
            raise ImportRefused(lines)
        adds = _adds(lines)
        calendar = calendar_with(session, add=adds)
        for override in adds:
            calendar_overrides.add_in(session, override, actor, ctx.now())
        moved = apply_calendar(ctx, session, calendar, apply_to_running and bool(adds), actor, {
            "calendar": "import", "days": [o.day.isoformat() for o in adds]})
        return ImportResult(lines, len(adds), 0, moved, apply_to_running)


def parse(text: str) -> list[ImportLine]:
    """The lines of the file as given (status ADD or ERROR by their own content); InvalidInput if the file
    is empty, too long, or holds no line."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("calendar_import_empty")
    if len(text) > MAX_CHARS or text.count("\n") > MAX_LINES:
        raise InvalidInput("calendar_import_too_long", lines=MAX_LINES)
    lines = []
    for number, cells in enumerate(csv.reader(text.lstrip("\ufeff").splitlines()), start=1):
        cells = [c.strip() for c in cells]
        if not any(cells) or (not lines and cells[0].lower() in _HEADERS):
            continue
        lines.append(_line(number, cells))
    if not lines:
        raise InvalidInput("calendar_import_empty")
    return lines


def _line(number: int, cells: list[str]) -> ImportLine:
    day_text, kind_text, reason, source = (cells + ["", "", "", ""])[:4]
    if len(cells) > 4:
        return _error(number, None, reason, source, "admin_calendar.csv.columns", {"count": len(cells)})
    day = _day(day_text)
    if day is None:
        return _error(number, None, reason, source, "admin_calendar.csv.day", {"value": day_text})
    try:
        checked = checked_override(day, kind_text, reason, source)
    except InvalidInput as error:
        return _error(number, day, reason, source, f"error.{error.key}", error.params)
    return ImportLine(number, day, checked.kind, checked.reason, checked.source, LineStatus.ADD, None)


def _check(lines: list[ImportLine], stored: list[Override]) -> tuple[ImportLine, ...]:
    # Against the overrides recorded already and the file's earlier lines: the same one again is
    # unchanged; another override on a day that has one must be removed first (as on the page).
    known = {o.day: o for o in stored}
    seen: dict[date, int] = {}
    checked = []
    for x in lines:
        if x.status is LineStatus.ADD:
            old = known.get(x.day)
            if x.day in seen:
                x = _error(x.line, x.day, x.reason, x.source, "admin_calendar.csv.twice", {"line": seen[x.day]})
            elif old is not None and (old.kind, old.reason, old.source) == (x.kind, x.reason, x.source):
                x = ImportLine(x.line, x.day, x.kind, x.reason, x.source, LineStatus.UNCHANGED, None)
            elif old is not None:
                x = _error(x.line, x.day, x.reason, x.source, "error.override_exists", {"day": x.day.isoformat()})
            if x.day is not None:
                seen.setdefault(x.day, x.line)
        checked.append(x)
    return tuple(checked)


def _adds(lines) -> tuple[Override, ...]:
    return tuple(Override(x.day, x.kind, x.reason, x.source) for x in lines if x.status is LineStatus.ADD)


def _day(text: str) -> date | None:
    try:
        if "/" in text:
            day, month, year = text.split("/")
            return date(int(year), int(month), int(day))
        return date.fromisoformat(text)
    except (ValueError, OverflowError):
        return None


def _error(number, when, reason, source, key: str, params: dict | None = None) -> ImportLine:
    return ImportLine(number, when, None, reason, source, LineStatus.ERROR, Message(key, params or {}))
