"""Every table of the product, for Alembic and for checks that models and migrations agree."""
from __future__ import annotations

# Importing a package's tables registers them on Base; each package owns its own.
from engine.core import audit, idempotency  # noqa: F401
from engine.core.tables import Base
from engine.process import step_waits  # noqa: F401
from engine.process import tables as process_tables  # noqa: F401
from engine.regulation import api_tokens, organisation, password_links, records, sign_ins  # noqa: F401
from engine.worktime import tables as worktime_tables  # noqa: F401

metadata = Base.metadata
