"""Read models: the inbox, the tracked-task lists and pages, the reporting-round pages. Queries
only (claims excepted), from the query tables and records, never by restoring a workflow; each
applies the scope that `engine.regulation.access` gives."""
