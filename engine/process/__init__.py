"""Processes as the engine runs them, independent of the regulation: deployed definition versions,
instances and their steps (load, advance, save: one transaction each), the query tables of ready
tasks and waiting timers, the registry of named actions and after-step hooks that the layers above
fill in, firing due timers, re-arming them after a setting changes, and per-period schedules."""
