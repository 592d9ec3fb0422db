"""(reserved for issue 13 item 1 (reminders whatever step); filled in by the change that needs it, left a no-op if none does)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
