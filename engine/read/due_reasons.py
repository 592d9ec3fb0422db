"""Why a step is due when it is (issue 13, item 11): a step whose due date is not the task's deadline says
so next to it ("2 ngày làm việc kể từ ngày giao nhiệm vụ: Đơn vị xem xét nhiệm vụ mới nhận").

Nothing here is written per step: the reason is read from the step's own `dueDate` expression in its
deployed diagram, `deadline("<setting>", <since>)` or `after_date("<setting>", <day>)`, and the named
timer setting's current value, description and legal basis (processes/settings/timers.json, the admin
console). A step whose due date is anything else (the task's deadline itself, a period's update date)
has no reason to give, and neither has one whose base the catalog cannot name (`due_base.<name>`):
a code is never shown instead."""
from __future__ import annotations

import ast
from dataclasses import dataclass

from sqlalchemy import select

from engine.bpmn import elements
from engine.core import i18n
from engine.core.errors import InvalidInput
from engine.process.steps import specs_of
from engine.process.tables import ProcessInstance
from engine.worktime import timer_settings
from engine.worktime.timer_settings import DurationUnit

# The diagram functions whose first argument names a setting and whose second is where counting starts.
_FUNCTIONS = ("deadline", "after_date")


@dataclass(frozen=True)
class DueRule:
    """What a step's dueDate expression says: a function, the setting it names, the data it counts from."""

    function: str
    setting: str
    base: str


@dataclass(frozen=True)
class DueReason:
    """The reason shown beside a step's due date, in any language."""

    rule: DueRule
    value: int
    unit: str
    description: str      # "Vietnamese / English", as the settings file and the admin console keep it
    legal_basis: str

    def text(self, lang: str = i18n.DEFAULT_LANGUAGE) -> str:
        """E.g. "thời hạn của nhiệm vụ cộng 1 ngày làm việc: Cập nhật tiến độ... (Điều 8.1.a QĐ 08/2023/QĐ-UBND)"."""
        parts = [part.strip() for part in self.description.split(" / ", 1)]
        why = parts[1] if lang == "en" and len(parts) > 1 else parts[0]
        return i18n.text(f"due_reason.{self.rule.function}", lang, n=self.value,
                         unit=i18n.text(f"due_unit.{self.unit}", lang),
                         base=i18n.text(f"due_base.{self.rule.base}", lang), why=why, basis=self.legal_basis)


def rule_of(expression: str | None) -> DueRule | None:
    """The rule of a dueDate expression of the form function("setting", name), else None."""
    try:
        call = ast.parse(expression or "", mode="eval").body
    except SyntaxError:
        return None
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in _FUNCTIONS
            and len(call.args) == 2 and not call.keywords and isinstance(call.args[0], ast.Constant)
            and isinstance(call.args[0].value, str) and isinstance(call.args[1], ast.Name)):
        return None
    return DueRule(call.func.id, call.args[0].value, call.args[1].id)


def for_steps(ctx, steps: set[tuple[int, str]]) -> dict[tuple[int, str], DueReason]:
    """(instance id, BPMN id) -> the reason of that step's due date, for the steps that have one."""
    found: dict[tuple[int, str], DueReason] = {}
    if not steps:
        return found
    with ctx.unit_of_work(readonly=True) as session:
        versions = dict(session.execute(select(ProcessInstance.id, ProcessInstance.definition_id).where(
            ProcessInstance.id.in_({instance for instance, _ in steps}))).all())
        rules = {definition: _rules(ctx, session, definition) for definition in set(versions.values())}
        reasons: dict[DueRule, DueReason | None] = {}  # a page's steps share a few rules: a query each
        for instance, bpmn_id in steps:
            rule = rules.get(versions.get(instance), {}).get(bpmn_id)
            if rule is not None and rule not in reasons:
                reasons[rule] = _reason(session, rule)
            reason = reasons[rule] if rule else None
            if reason is not None:
                found[(instance, bpmn_id)] = reason
    return found


def _rules(ctx, session, definition_id: int) -> dict[str, DueRule]:
    specs, _ = specs_of(ctx, session, definition_id)  # cached per deployed version
    rules = {spec.name: rule_of(elements.properties(spec).get("dueDate")) for spec in elements.task_specs(specs)}
    return {bpmn_id: rule for bpmn_id, rule in rules.items() if rule}


def _reason(session, rule: DueRule) -> DueReason | None:
    if not i18n.has(f"due_base.{rule.base}"):
        return None
    try:
        setting = timer_settings.get(session, rule.setting)
    except InvalidInput:  # a setting removed since the version was deployed: nothing to explain with
        return None
    # after_date() always counts working days, whatever the setting's unit says.
    unit = DurationUnit.WORKING_DAYS.value if rule.function == "after_date" else setting.unit.value
    return DueReason(rule, setting.value, unit, setting.description, setting.legal_basis)
