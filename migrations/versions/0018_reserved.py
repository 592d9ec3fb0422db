"""The dashboard's index (issue 14): tracked tasks by completion time, covering what the counts read

A data window's counts (engine/regulation/statistics.py) read the tasks still open (completed_at NULL) and
those closed since the window's start: two ranges of this index, read without the table.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_tracked_tasks_window', 'tracked_tasks',
                    ['completed_at', 'assigned_at', 'lead_unit_id', 'status', 'deadline', 'urge_count'])


def downgrade() -> None:
    op.drop_index('ix_tracked_tasks_window', table_name='tracked_tasks')
