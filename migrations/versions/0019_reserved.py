"""(reserved for issue 14 reports and heatmap; filled in by the change that needs it, left a no-op if none does)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
