"""(reserved for issue 13 items 10-12 (forms); filled in by the change that needs it, left a no-op if none does)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
