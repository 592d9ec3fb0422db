"""Deadline reminders whatever step (issue 13, item 1): which deadline a task was reminded of and flagged overdue for

The reminder and the overdue timers now hang on every step the unit holds, so the actions note on the
tracked task the deadline each notice went out for and send it once per deadline. Tasks already
reminded or flagged (a notice of that kind for their instance) are noted for their current deadline,
so running work is not told again.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tracked_tasks') as batch_op:
        batch_op.add_column(sa.Column('deadline_reminded_for', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('overdue_flagged_for', sa.Date(), nullable=True))
    for column, kind in (('deadline_reminded_for', 'deadline_reminder'), ('overdue_flagged_for', 'overdue')):
        op.execute(sa.text(
            f"UPDATE tracked_tasks SET {column} = deadline WHERE deadline IS NOT NULL AND EXISTS ("
            "SELECT 1 FROM notifications n WHERE n.instance_id = tracked_tasks.instance_id AND n.kind = :kind)")
            .bindparams(kind=kind))


def downgrade() -> None:
    with op.batch_alter_table('tracked_tasks') as batch_op:
        batch_op.drop_column('overdue_flagged_for')
        batch_op.drop_column('deadline_reminded_for')
