"""timer settings and calendar overrides

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('calendar_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day'),
    sqlite_autoincrement=True
    )
    op.create_table('timer_settings',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('timer_setting_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('old_value', sa.Integer(), nullable=False),
    sa.Column('old_unit', sa.String(length=20), nullable=False),
    sa.Column('new_value', sa.Integer(), nullable=False),
    sa.Column('new_unit', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_by', sa.String(length=200), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['name'], ['timer_settings.name'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('timer_setting_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timer_setting_changes_name'), ['name'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('timer_setting_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timer_setting_changes_name'))

    op.drop_table('timer_setting_changes')
    op.drop_table('timer_settings')
    op.drop_table('calendar_overrides')

