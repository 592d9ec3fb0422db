"""A unit picked in a form (web/templates/_unit_picker.html): the code the picker put in the hidden field,
or the name typed in `<field>_name` when the script did not run or the name was typed whole; either way
the form answers a name that fits no unit with a message and keeps what was typed."""
from __future__ import annotations

import re

from flask import flash, g

from engine.core.errors import InvalidInput
from engine.read.unit_choices import UnitChoice, code_for, fold, name_of, unit_choices

from .i18n import error_text

_SEPARATORS = re.compile(r"[;,]")


def picked(form, field: str, choices: list[UnitChoice], required: bool = False) -> str:
    """The code of the unit picked in `field` ("" when none was given and none is required)."""
    typed, code = (form.get(f"{field}_name") or "").strip(), (form.get(field) or "").strip()
    if typed and code and fold(name_of(choices, code)) == fold(typed):
        return code  # the picker's choice: two units of the same name stay apart
    if typed or code:
        return code_for(choices, typed or code)
    if required:
        raise InvalidInput("unit_required")
    return ""


def picked_many(form, field: str, choices: list[UnitChoice]) -> tuple[str, ...]:
    """The codes of the units picked in `field` (names separated by ";"), in the order written."""
    typed = [part.strip() for part in _SEPARATORS.split(form.get(f"{field}_name") or "") if part.strip()]
    codes = [part.strip() for part in (form.get(field) or "").split(",") if part.strip()]
    if not typed:
        return tuple(code_for(choices, code) for code in codes)
    named = {fold(name_of(choices, code)): code for code in codes}
    return tuple(named.get(fold(part)) or code_for(choices, part) for part in typed)


def unit_filter(ctx, args) -> str | None:
    """A list's unit filter (the task list, the inbox): the unit picked by name among those the viewer may
    see (kept in g.filter_units for the picker); a name that fits none is said so and does not filter."""
    g.filter_units = unit_choices(ctx, within=g.actor.unit_codes)
    try:
        return picked(args, "unit", g.filter_units) or None
    except InvalidInput as error:
        flash(error_text(error), "error")
        return None
