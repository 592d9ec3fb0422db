"""Every table of the product, for Alembic and for checks that models and migrations agree."""
from __future__ import annotations

from . import api_tokens, organisation, records  # noqa: F401 - importing registers their tables on Base
from .models import Base

metadata = Base.metadata
