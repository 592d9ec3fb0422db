"""The engine: runs the regulation's BPMN diagrams and keeps the records they produce; no Flask.

Layers, each a package importing only those below it (checked by import-linter, `.importlinter`):

    app         bootstrap, worker loop, command line, demo data, migrations, schema
    read        inbox and list queries: what people see, from query tables
    regulation  Decision 08/2023: organisation, access rules, records, procedures' actions, reports
    process     deployed definitions, instances and their steps, timers, schedules
    worktime    working-day calendar, periods, named timer settings, functions diagrams call
    bpmn        the only code that touches SpiffWorkflow: parse, validate, run, serialize, sandbox
    core        configuration, errors, clock, database, table base, audit log

See docs/architecture.md.
"""
