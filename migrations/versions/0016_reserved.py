"""(reserved for issue 13 item 2 (PPC leader directions); filled in by the change that needs it, left a no-op if none does)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
