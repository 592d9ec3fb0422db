"""What the finished steps of an instance were completed with, by whom and when, read from the audit log.

The audit log's `complete_task` entries are the record of completions (no table of their own): each names
the task, the person, the time and a summary of the submitted data. The summary cuts long values
(engine.core.audit.summarize); the finished task's own data, still in the workflow, gives them back whole.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.bpmn import runtime
from engine.core.audit import AuditEntry

_CUT = "…"  # what engine.core.audit marks a cut value with


@dataclass(frozen=True)
class StepRecord:
    """A finished user task: what it was completed with (`data`, in its form's field order when it has a
    form), by whom (a username) and when."""

    task_id: str
    bpmn_id: str | None
    name: str | None
    by: str
    at: datetime
    form: Any            # engine.bpmn.forms.Form or None
    data: dict[str, Any]


def completed_steps(session: Session, workflow, forms: dict, instance_id: int) -> list[StepRecord]:
    """The user tasks completed in this instance, oldest first (`forms`: the deployed version's forms)."""
    stmt = (select(AuditEntry).where(AuditEntry.instance_id == instance_id, AuditEntry.action == "complete_task")
            .order_by(AuditEntry.id))
    return [_record(entry, workflow, forms) for entry in session.scalars(stmt)]


def _record(entry: AuditEntry, workflow, forms: dict) -> StepRecord:
    summary = dict(entry.summary or {})
    step = runtime.step_of(workflow, entry.task_id) if entry.task_id else None
    name, form = None, None
    if step is not None:
        name, filename, own_data = step
        form = forms.get(filename) if filename else None
        summary = {key: _whole(value, own_data.get(key)) for key, value in summary.items()}
    if form is not None:  # the form's order first, then anything else submitted
        order = [f.name for f in form.fields]
        summary = {**{k: summary[k] for k in order if k in summary},
                   **{k: v for k, v in summary.items() if k not in order}}
    return StepRecord(entry.task_id, entry.bpmn_id, name, entry.actor, entry.at, form, summary)


def _whole(kept: Any, own: Any) -> Any:
    # A cut text is replaced by the task's own value only when that value is the one that was cut.
    if isinstance(kept, str) and kept.endswith(_CUT) and isinstance(own, str) and own.startswith(kept[:-1]):
        return own
    return kept
