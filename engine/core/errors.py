"""Domain errors. The web layer maps them to HTTP codes in one place; the CLI prints them."""
from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine reports to users."""

    code = "engine_error"


class NotFound(EngineError):
    """Something asked for by id does not exist."""

    code = "not_found"


class DefinitionNotFound(NotFound):
    """No deployed version of this process."""

    def __init__(self, process_id: str):
        super().__init__(f"no deployed process '{process_id}'")
        self.process_id = process_id


class InstanceNotFound(NotFound):
    """No instance with this id."""

    def __init__(self, instance_id: int):
        super().__init__(f"no process instance {instance_id}")
        self.instance_id = instance_id


class TaskNotFound(NotFound):
    """No task with this id in the instance."""

    def __init__(self, task_id: str):
        super().__init__(f"no task '{task_id}' in this instance")
        self.task_id = task_id


class Conflict(EngineError):
    """The request raced another change, or the object is not in a state that allows it."""

    code = "conflict"


class TaskNotReady(Conflict):
    """The task exists but cannot be completed now (already completed, cancelled, waiting)."""

    def __init__(self, task_id: str, state: str):
        super().__init__(f"task '{task_id}' cannot be completed: it is {state.lower()}")
        self.task_id, self.state = task_id, state


class ConcurrentUpdate(Conflict):
    """Someone else changed the instance between our read and our write."""

    def __init__(self, instance_id: int):
        super().__init__(f"process instance {instance_id} was changed by someone else; reload and retry")
        self.instance_id = instance_id


class InstanceNotActive(Conflict):
    """The instance is completed, cancelled or in error."""

    def __init__(self, instance_id: int, status: str):
        super().__init__(f"process instance {instance_id} is {status}")
        self.instance_id, self.status = instance_id, status


class InvalidInput(EngineError):
    """Data given by a user does not fit."""

    code = "invalid_input"


class DiagramError(EngineError):
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


class DeployRefused(EngineError):
    """A BPMN file cannot be deployed; `problems` says why, one line each."""

    code = "invalid_bpmn"

    def __init__(self, problems: list):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems
