"""Every setting of the product, read from the environment with a documented default.

The README lists the same table; keep them in step.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # engine/core/config.py -> the repository


@dataclass(frozen=True)
class Config:
    """Settings read once from the environment (see `from_env`)."""

    database_url: str = f"sqlite:///{ROOT / 'var' / 'app.db'}"
    processes_dir: Path = ROOT / "processes"
    max_bpmn_bytes: int = 5_000_000
    secret_key: str = field(default="", repr=False)
    deploy_on_start: bool = True
    demo_data: bool = False                  # fill an empty database with the demo province at start
    secure_cookies: bool = False             # set behind HTTPS: cookies only travel encrypted
    attachments_dir: Path = ROOT / "var" / "attachments"
    dry_runs_dir: Path = ROOT / "var" / "dry-runs"   # analysts' dry runs: a throwaway SQLite file each
    max_attachment_bytes: int = 20_000_000
    smtp_host: str = ""                      # empty: e-mail delivery is off
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = False
    mail_from: str = "cddh@localhost"
    workflow_cache_size: int = 500           # instances kept restored in memory; 0 turns it off
    # Diagram code (engine/bpmn/budget/): seconds for one expression or script and for all of a
    # transaction's; growth of resident memory while one runs; items one operation may build or walk.
    diagram_time_limit: float = 1.0
    diagram_memory_limit: int = 100_000_000
    diagram_max_items: int = 100_000
    log_format: str = "json"                 # "json" (one object per line) or "text"
    log_level: str = "INFO"
    # /ready fails when no timer worker has finished a pass for this long (docs/operations.md).
    worker_stale_seconds: int = 60

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        """Build the settings from environment variables (defaults above)."""
        env = os.environ if env is None else env
        base = cls()
        return cls(
            database_url=env.get("DATABASE_URL", base.database_url),
            processes_dir=Path(env.get("PROCESSES_DIR", base.processes_dir)),
            max_bpmn_bytes=int(env.get("MAX_BPMN_BYTES", base.max_bpmn_bytes)),
            secret_key=env.get("SECRET_KEY", ""),
            deploy_on_start=env.get("DEPLOY_ON_START", "1") not in ("0", "false", "no"),
            demo_data=env.get("DEMO_DATA", "0") in ("1", "true", "yes"),
            secure_cookies=env.get("SECURE_COOKIES", "0") in ("1", "true", "yes"),
            attachments_dir=Path(env.get("ATTACHMENTS_DIR", base.attachments_dir)),
            dry_runs_dir=Path(env.get("DRY_RUNS_DIR", base.dry_runs_dir)),
            max_attachment_bytes=int(env.get("MAX_ATTACHMENT_BYTES", base.max_attachment_bytes)),
            smtp_host=env.get("SMTP_HOST", base.smtp_host),
            smtp_port=int(env.get("SMTP_PORT", base.smtp_port)),
            smtp_user=env.get("SMTP_USER", base.smtp_user),
            smtp_password=env.get("SMTP_PASSWORD", ""),
            smtp_starttls=env.get("SMTP_STARTTLS", "0") in ("1", "true", "yes"),
            mail_from=env.get("MAIL_FROM", base.mail_from),
            workflow_cache_size=int(env.get("WORKFLOW_CACHE_SIZE", base.workflow_cache_size)),
            diagram_time_limit=float(env.get("DIAGRAM_TIME_LIMIT", base.diagram_time_limit)),
            diagram_memory_limit=int(env.get("DIAGRAM_MEMORY_LIMIT", base.diagram_memory_limit)),
            diagram_max_items=int(env.get("DIAGRAM_MAX_ITEMS", base.diagram_max_items)),
            log_format=env.get("LOG_FORMAT", base.log_format),
            log_level=env.get("LOG_LEVEL", base.log_level),
            worker_stale_seconds=int(env.get("WORKER_STALE_SECONDS", base.worker_stale_seconds)),
        )
