"""Every setting of the product, read from the environment with a documented default.

The README lists the same table; keep them in step.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Config:
    """Settings read once from the environment (see `from_env`)."""

    database_url: str = f"sqlite:///{ROOT / 'var' / 'app.db'}"
    processes_dir: Path = ROOT / "processes"
    max_bpmn_bytes: int = 5_000_000
    secret_key: str = field(default="", repr=False)
    deploy_on_start: bool = True

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Config":
        """Build the settings from environment variables (defaults above)."""
        env = os.environ if env is None else env
        base = cls()
        return cls(
            database_url=env.get("DATABASE_URL", base.database_url),
            processes_dir=Path(env.get("PROCESSES_DIR", base.processes_dir)),
            max_bpmn_bytes=int(env.get("MAX_BPMN_BYTES", base.max_bpmn_bytes)),
            secret_key=env.get("SECRET_KEY", ""),
            deploy_on_start=env.get("DEPLOY_ON_START", "1") not in ("0", "false", "no"),
        )
