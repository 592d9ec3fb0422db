"""PPC leader directions (issue 13, item 2): who gave a direction, on which day, and whether it was given
in the system (the PPC leader answered the Office's request) or outside it (recorded by the Office)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Directions written before were typed by the Office leader on the PPC's behalf: outside the system,
    # by someone not recorded.
    with op.batch_alter_table('directions') as batch_op:
        batch_op.add_column(sa.Column('given_by', sa.String(200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('given_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('outside_system', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('recorded_by', sa.String(100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('directions') as batch_op:
        for name in ('recorded_by', 'outside_system', 'given_on', 'given_by'):
            batch_op.drop_column(name)
