"""What the analyst's modeler offers in its lists: roles, timer settings, actions, forms, functions.

The properties panel lets an analyst choose these rather than type them, so a diagram names only
what the engine knows (the same lists deploy checks against: engine/bpmn/contract.py).
"""
from __future__ import annotations

import inspect
from typing import Any

from sqlalchemy import and_, func, select

from engine.core import i18n
from engine.process.definitions import stored_forms
from engine.process.tables import DefinitionVersion
from engine.regulation.organisation import LANE_ROLES
from engine.regulation.process_inputs import START_DATA
from engine.worktime import timer_settings


def catalog(ctx, lang: str = i18n.DEFAULT_LANGUAGE) -> dict[str, Any]:
    """The lists of the modeler, JSON-ready, labels in `lang`."""
    settings = [{"name": s.name, "label": _in_language(s.description, lang), "value": s.value, "unit": s.unit.value,
                 "unit_label": i18n.text(f"duration_unit.{s.unit.value}", lang) if i18n.has(
                     f"duration_unit.{s.unit.value}") else s.unit.value,
                 "legal_basis": s.legal_basis} for s, _, _ in timer_settings.list_settings(ctx)]
    return {
        "roles": [{"value": r.value, "label": i18n.text(f"role.{r.value}", lang)} for r in LANE_ROLES],
        "settings": settings,
        "actions": [{"name": name, "label": _label(f"action.{name}", name, lang),
                     "reads": ctx.contract.actions.get(name, {})} for name in sorted(ctx.actions)],
        "forms": _known_forms(ctx),
        "functions": [{"name": name, "signature": _signature(fn)} for name, fn in sorted(ctx.functions.items())],
        "start_data": {pid: dict(fields) for pid, fields in sorted(START_DATA.items())},
    }


def _known_forms(ctx) -> list[str]:
    """The forms stored with the latest version of each process."""
    with ctx.unit_of_work(readonly=True) as session:
        newest = (select(DefinitionVersion.process_id, func.max(DefinitionVersion.version).label("version"))
                  .group_by(DefinitionVersion.process_id).subquery())
        rows = session.scalars(select(DefinitionVersion).join(newest, and_(
            newest.c.process_id == DefinitionVersion.process_id, newest.c.version == DefinitionVersion.version)))
        return sorted({name for row in rows for name in stored_forms(row)})


def _in_language(text: str, lang: str) -> str:
    # A setting's description is written "Vietnamese / English" (processes/settings/timers.json).
    vi, _, en = text.partition(" / ")
    return (en or vi) if lang == "en" else vi


def _label(key: str, fallback: str, lang: str) -> str:
    return i18n.text(key, lang) if i18n.has(key) else fallback


def _signature(fn) -> str:
    try:
        return str(inspect.signature(fn))
    except (TypeError, ValueError):
        return "(...)"
