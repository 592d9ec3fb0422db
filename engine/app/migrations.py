"""Bring a database's schema up to date with the Alembic migrations in `migrations/`."""
from __future__ import annotations

import functools

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory

from engine.core.config import ROOT
from engine.core.db import ensure_sqlite_folder


def alembic_config(database_url: str) -> AlembicConfig:
    """An Alembic configuration for `database_url` without needing an alembic.ini."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


@functools.cache
def head_revision() -> str:
    """The newest migration this code ships (read from migrations/ once per process)."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply every migration not yet applied."""
    ensure_sqlite_folder(database_url)
    command.upgrade(alembic_config(database_url), revision)
