"""Workflows of recently stepped instances, kept in memory between their steps.

Restoring a workflow from its JSON costs more than running a step of it, and an instance is
usually stepped again soon (a task page, then its submit; a chain of timers). An entry holds
the workflow as it was saved at one row_version, with the query-table rows written for it. It
is only used when the database still holds that row_version: every write of an instance bumps
it (instance_store.update_instance), so another process's step or a cancel makes the entry
stale and it is thrown away.

An entry is taken out while a step runs, so no two threads ever share a workflow object, and it
is put back only after the step's transaction commits: a rolled-back step leaves nothing here.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CachedWorkflow:
    """A workflow as saved at `row_version`, and what the query tables hold for it."""

    row_version: int
    workflow: Any
    snapshot: Any     # instance_store.Snapshot


class WorkflowCache:
    """A bounded, thread-safe map instance id -> CachedWorkflow, least recently used out first."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._entries: OrderedDict[int, CachedWorkflow] = OrderedDict()
        self._lock = threading.Lock()

    def has(self, instance_id: int) -> bool:
        """Whether an entry (perhaps stale) is held for the instance."""
        return instance_id in self._entries

    def take(self, instance_id: int) -> CachedWorkflow | None:
        """Remove and return the entry of an instance, if any; the caller checks its row_version."""
        with self._lock:
            return self._entries.pop(instance_id, None)

    def put(self, instance_id: int, entry: CachedWorkflow) -> None:
        """Keep an entry after its transaction committed, evicting the least recently used."""
        if self.capacity <= 0:
            return
        with self._lock:
            held = self._entries.get(instance_id)
            if held is not None and held.row_version > entry.row_version:
                return  # a later step's commit got here first; its entry stays
            self._entries[instance_id] = entry
            self._entries.move_to_end(instance_id)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
