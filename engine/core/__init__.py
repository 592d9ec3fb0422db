"""What every layer stands on: configuration from the environment, domain errors, the clock,
the database and its transactions, the declarative base of every table, and the append-only
audit log. Knows nothing of BPMN or of the regulation."""
