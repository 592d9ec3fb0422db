"""Workflow state <-> JSON, with the process spec stored once per definition version.

SpiffWorkflow's default serializer embeds the whole spec in every saved instance; storing it
once and handing it back at load time roughly halves the cost of a persisted step
(docs/spiffworkflow.md, "Cost, and why specs are stored once"). Restored specs are cached per
definition version: they are never mutated by running workflows, so one object can serve every
instance of a version.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG


@dataclass(frozen=True)
class ProcessSpecs:
    """Everything a deployed version runs on: its spec, its subprocesses' specs, its forms."""

    spec: Any
    subprocess_specs: dict[str, Any]
    forms: dict[str, Any] = field(default_factory=dict)   # file name -> engine.forms.Form


class _SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Writes a workflow without its specs; reads one back given the specs."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct, specs: ProcessSpecs | None = None):
        if specs is None:
            raise ValueError("restoring a workflow needs its process specs")
        workflow = self.target_class(specs.spec, specs.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class WorkflowCodec:
    """Serializes specs (once per version) and workflow states (every step)."""

    def __init__(self):
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = _SpecFreeWorkflowConverter
        self._serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
        self._specs: dict[int, tuple[ProcessSpecs, int]] = {}
        self._lock = threading.Lock()

    def dump_specs(self, spec, subprocess_specs: dict, forms: dict[str, str] | None = None) -> str:
        """JSON of a parsed process spec, its subprocess specs and its forms (file name -> text)."""
        registry = self._serializer.registry
        return json.dumps({
            "spec": registry.convert(spec),
            "subprocess_specs": {name: registry.convert(s) for name, s in subprocess_specs.items()},
            "forms": forms or {},
            "serializer_version": self._serializer.VERSION,
        })

    def cached(self, definition_id: int) -> tuple[ProcessSpecs, int] | None:
        """(specs, version number) of a definition version already restored, else None."""
        return self._specs.get(definition_id)

    def load_specs(self, definition_id: int, spec_json: str, version: int = 0) -> ProcessSpecs:
        """Restore (once, then from cache) the specs stored for a definition version."""
        cached = self._specs.get(definition_id)
        if cached is not None:
            return cached[0]
        dct = json.loads(spec_json)
        registry = self._serializer.registry
        from engine.bpmn.forms import form_from_json

        specs = ProcessSpecs(
            spec=registry.restore(dct["spec"]),
            subprocess_specs={name: registry.restore(s) for name, s in dct["subprocess_specs"].items()},
            forms={name: form_from_json(name, text) for name, text in dct.get("forms", {}).items()},
        )
        with self._lock:
            return self._specs.setdefault(definition_id, (specs, version))[0]

    def dump_state(self, workflow: BpmnWorkflow) -> str:
        """JSON of a workflow's state, without its specs."""
        return self._serializer.serialize_json(workflow)

    @staticmethod
    def missing_elements(state_json: str, specs: ProcessSpecs) -> list[str]:
        """The elements a saved state has tasks for that these specs lack (a state saved under another
        version, whose elements were renamed or removed since): it cannot be restored on them."""
        dct = json.loads(state_json)
        known = set(specs.spec.task_specs)
        for subprocess_spec in specs.subprocess_specs.values():
            known.update(subprocess_spec.task_specs)
        used = {task["task_spec"] for task in dct["tasks"].values()}
        for subprocess in dct.get("subprocesses", {}).values():
            used.update(task["task_spec"] for task in subprocess["tasks"].values())
        return sorted(used - known)

    def load_state(self, state_json: str, specs: ProcessSpecs) -> BpmnWorkflow:
        """Restore a workflow from its state and its definition version's specs."""
        dct = json.loads(state_json)
        self._serializer.migrate(dct)
        return self._serializer.from_dict(dct, specs=specs)
