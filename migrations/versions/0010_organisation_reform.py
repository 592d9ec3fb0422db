"""organisation changes: a merged or retired unit keeps its row and says where its work went

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A unit merged into another (or retired, its work given to another) stays, inactive, so that the
    # records made while it existed keep showing its name (docs/regulation.md, "Organisation changes").
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key('fk_units_merged_into_id_units', 'units', ['merged_into_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_constraint('fk_units_merged_into_id_units', type_='foreignkey')
        batch_op.drop_column('retired_at')
        batch_op.drop_column('merged_into_id')
