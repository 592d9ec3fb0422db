"""The time and memory budget that diagram code runs under (docs/spiffworkflow.md, trap 9).

A Python thread cannot be stopped from outside, a trace hook sees no event inside one C call
(`sum(range(10**12))`) and none in a loop that jumps to itself (`while True: pass`). So the
budget is kept from inside the diagram code, which the sandbox compiles through `instrument()`:

- **Checkpoints.** A call to `_sb.tick()` starts every loop iteration (`while`, `for`, each `for`
  of a comprehension or generator), every function and lambda call, every `except` and `finally`
  block. Every call, binary operator, slice, `*`/`**` unpacking and f-string field also passes a
  checkpoint first. A checkpoint raises `BudgetExceeded` once the deadline has passed or once the
  process's resident memory has grown by more than the memory budget since the code started
  (sampled at most once a millisecond, so a quick expression never reads it). After the first
  one, every checkpoint raises again: an `except:` or a `finally:` cannot swallow it.
- **Deadline.** `Limits.seconds` per expression or script, and the same seconds in all for the
  diagram code run inside one `scope()` (engine/bpmn/runtime.py opens one each time it advances
  an instance or lists its open tasks), so a chain of scripts each just under the limit is
  stopped too, while a transaction that steps many instances gets a budget for each.
- **Sizes.** What one C call could build or walk is checked before it runs: a `range`, a
  repetition (`'x' * n`, `[0] * n`), `**`, `<<`, `%` formatting, padding (`ljust`, `zfill`...),
  `replace`, `join`, `translate`, `to_bytes`, `sum` of non-numbers; and a comparison, hash key,
  `str()`, f-string field or sort whose operand would take more than `max_items` values to walk
  (shared sub-lists make a small object huge to compare or print). Higher-order built-ins (`map`,
  `filter`, `zip`, `sorted`, `min`, `max`) are replaced by Python versions that pass a checkpoint
  per item, so a built-in handed to them is checked as if called directly.
- **Task data.** After a script (or an expression that may change data) the task data is measured
  as the serializer would write it: at most 10 x `max_items` values, `memory_bytes` of text, 100
  levels.

The time is the thread's CPU time (limits.py, `_cpu`): diagram functions' computing counts, waiting
(for the GIL, a busy machine, the database) does not, so a slow moment is not a fault of the diagram.
Nor does work the diagram sets off without owning it (`uncharged`): a full garbage collection, which
walks the whole process's heap, and a cache filled on first use (a calendar year).
Not bounded (docs/spiffworkflow.md, trap 9 lists them): SpiffWorkflow's own work between texts, a
single C operation that is slow on inputs that passed these checks (sorting 100,000 values takes a
few ms), hashing inside `update()`/`union()`, and memory is counted process-wide (another thread
allocating at the same moment counts too).
"""
from __future__ import annotations

from engine.bpmn.budget.calls import GUARDS, REPLACED_BUILTINS
from engine.bpmn.budget.limits import (
    NAMESPACE,
    BudgetExceeded,
    Limits,
    begin,
    check_data,
    end,
    scope,
    uncharged,
)
from engine.bpmn.budget.rewrite import Refused, guarded, instrument

__all__ = ["GUARDS", "NAMESPACE", "REPLACED_BUILTINS", "BudgetExceeded", "Limits", "Refused", "begin",
           "check_data", "end", "guarded", "instrument", "scope", "uncharged"]
