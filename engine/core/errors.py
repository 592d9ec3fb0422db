"""Domain errors. The web layer maps them to HTTP codes in one place; the CLI prints them.

An error carries a message key and parameters, not a text: `InvalidInput("unit_not_below", unit=code)`
reads "error.unit_not_below" from the catalog (engine/core/messages). `str(error)` is the Vietnamese
text (the command line, logs, stored records); `error.text("en")` the English one.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from engine.core import i18n
from engine.core.i18n import DEFAULT_LANGUAGE, Message


class EngineError(Exception):
    """Base of every error the engine reports to users: `code` for programs, `key` and `params` for people."""

    code = "engine_error"

    def __init__(self, key: str, /, **params: Any):
        super().__init__(key)
        self.key, self.params = key, params

    def text(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """The message in `lang` ("vi" or "en")."""
        return i18n.text(f"error.{self.key}", lang, **self.params)

    def __str__(self) -> str:
        return self.text()


class NotFound(EngineError):
    """Something asked for by id does not exist."""

    code = "not_found"


class DefinitionNotFound(NotFound):
    """No deployed version of this process."""

    def __init__(self, process_id: str):
        super().__init__("definition_not_found", process=process_id)
        self.process_id = process_id


class InstanceNotFound(NotFound):
    """No instance with this id."""

    def __init__(self, instance_id: int):
        super().__init__("instance_not_found", instance=instance_id)
        self.instance_id = instance_id


class TaskNotFound(NotFound):
    """No task with this id in the instance."""

    def __init__(self, task_id: str):
        super().__init__("task_not_found", task=task_id)
        self.task_id = task_id


class Forbidden(EngineError):
    """The access rules (engine/regulation/access.py) say no to this person; the key says why."""

    code = "forbidden"


class Conflict(EngineError):
    """The request raced another change, or the object is not in a state that allows it."""

    code = "conflict"


class TaskNotReady(Conflict):
    """The task exists but cannot be completed now (already completed, cancelled, waiting)."""

    def __init__(self, task_id: str, state: str):
        super().__init__("task_not_ready", task=task_id, state=state.lower())
        self.task_id, self.state = task_id, state


class ConcurrentUpdate(Conflict):
    """Someone else changed the instance between our read and our write."""

    def __init__(self, instance_id: int):
        super().__init__("concurrent_update", instance=instance_id)
        self.instance_id = instance_id


class InstanceNotActive(Conflict):
    """The instance is completed, cancelled or in error."""

    def __init__(self, instance_id: int, status: str):
        super().__init__("instance_not_active", instance=instance_id, status=status)
        self.instance_id, self.status = instance_id, status


class InvalidInput(EngineError):
    """Data given by a user does not fit."""

    code = "invalid_input"


class FieldErrors(InvalidInput):
    """Several fields do not fit: `problems` maps a field name to its message; the text names each field."""

    def __init__(self, problems: Mapping[str, Message]):
        super().__init__("fields_invalid")
        self.problems = dict(problems)

    def text(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """One "field: message" per problem, in `lang`, the field named by its label ("Nhiệm vụ 1 - Thời
        hạn" for "tasks[0].deadline"; a field with no label keeps its name)."""
        return "; ".join(_problem_text(field, message, lang) for field, message in self.problems.items())


def field_label(field: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """A field as the person filling the form knows it: the catalog's "field.<name>", a list item
    counted from 1 ("tasks[0].deadline" -> "Nhiệm vụ 1 - Thời hạn"); the name itself when not labelled."""
    item = re.fullmatch(r"([a-z_]+)\[(\d+)\](?:\.([a-z_]+))?", field)
    if item is None or not i18n.has(f"field.{item[1]}"):
        return i18n.text(f"field.{field}", lang) if i18n.has(f"field.{field}") else field
    label = f"{field_label(item[1], lang)} {int(item[2]) + 1}"
    return f"{label} - {field_label(item[3], lang)}" if item[3] else label


def _problem_text(field: str, message: Message, lang: str) -> str:
    # A message that names its field itself ("{field}: ngày không hợp lệ") is given the label, not a prefix.
    label = field_label(field, lang)
    if "field" in message.params:
        return Message(message.key, {**message.params, "field": label}).text(lang)
    return f"{label}: {message.text(lang)}"


class TechnicalError(EngineError):
    """An error whose text is technical and English in every language (a diagram's author or an
    analyst reads it): SpiffWorkflow's words, a validator's findings. Pages give it a translated heading."""

    def __init__(self, message: str):
        super().__init__("technical", message=message)
        self.message = message

    def text(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """The technical message as it is."""
        return self.message


class DiagramError(TechnicalError):
    """An expression, script or timer of a diagram failed at run time."""

    code = "diagram_error"

    def __init__(self, message: str, bpmn_id: str | None = None):
        super().__init__(message)
        self.bpmn_id = bpmn_id

    @classmethod
    def from_spiff(cls, error: Exception) -> DiagramError:
        """Turn a SpiffWorkflow exception into a one-line message naming the element."""
        task = getattr(error, "task", None)
        bpmn_id = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
        cause = error.__cause__ or getattr(error, "exception", None) or error.__context__
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        if cause is not None and str(cause) and str(cause) not in message:
            message = f"{message}: {type(cause).__name__}: {str(cause).splitlines()[0]}"
        where = f"element '{bpmn_id}': " if bpmn_id else ""
        return cls(f"{where}{message}", bpmn_id)


class DeployRefused(TechnicalError):
    """A BPMN file cannot be deployed; `problems` says why, one line each."""

    code = "invalid_bpmn"

    def __init__(self, problems: list):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class Unavailable(EngineError):
    """The database failed for a moment (connection lost, deadlock, lock timeout; engine/core/transient.py).

    Never the fault of an instance, which is left as it was: try again after `retry_after` seconds.
    `safe_to_retry` is False when the failure hit the commit itself, so the work may have been saved.
    """

    code = "unavailable"

    def __init__(self, retry_after: int = 1, safe_to_retry: bool = True):
        super().__init__("unavailable" if safe_to_retry else "unavailable_maybe_saved", seconds=retry_after)
        self.retry_after, self.safe_to_retry = retry_after, safe_to_retry
