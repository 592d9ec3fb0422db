"""Bring a database's schema up to date with the Alembic migrations in `migrations/`."""
from __future__ import annotations

from alembic import command
from alembic.config import Config as AlembicConfig

from engine.core.config import ROOT
from engine.core.db import ensure_sqlite_folder


def alembic_config(database_url: str) -> AlembicConfig:
    """An Alembic configuration for `database_url` without needing an alembic.ini."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply every migration not yet applied."""
    ensure_sqlite_folder(database_url)
    command.upgrade(alembic_config(database_url), revision)
