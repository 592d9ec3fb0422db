"""Logging for operations: one JSON object per line (LOG_FORMAT=json, the default) or plain text.

A line carries the time (UTC, ISO 8601), the level, the logger and the message, then every field a
caller passed in `extra=` (a request's id, user, route, status and duration; a timer pass's counts),
so a log collector can filter on them without parsing sentences. Entry points call `configure` once;
nothing is configured at import time.
"""
from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update((key, value) for key, value in vars(record).items() if key not in _STANDARD)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """A record as a readable line, its extra fields after the message as key=value."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{key}={value}" for key, value in vars(record).items() if key not in _STANDARD)
        text = super().format(record)
        return f"{text} {extras}" if extras else text


def configure(log_format: str = "json", level: str = "INFO") -> None:
    """Send every logger's records to standard error in `log_format` ("json" or "text") from `level` up."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter() if log_format == "text" else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Werkzeug's access log: web/request_log.py writes a better line. Alembic says which dialect at each
    # connection; SpiffWorkflow logs every state change of every task with the task's data (names, content).
    for noisy in ("werkzeug", "alembic", "spiff"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
