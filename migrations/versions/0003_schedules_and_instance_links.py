"""schedules and instance links

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.String(length=200), nullable=False),
    sa.Column('cadence', sa.String(length=20), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('next_period', sa.String(length=20), nullable=False),
    sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('grace_setting', sa.String(length=100), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('cycles_started', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['process_instances.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedules_next_run_at'), ['next_run_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_schedules_parent_id'), ['parent_id'], unique=False)

    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('schedule_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('business_key', sa.String(length=100), nullable=True))
        batch_op.create_index(batch_op.f('ix_process_instances_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instances_schedule_id'), ['schedule_id'], unique=False)
        batch_op.create_foreign_key('fk_process_instances_parent_id', 'process_instances', ['parent_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.drop_constraint('fk_process_instances_parent_id', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_process_instances_schedule_id'))
        batch_op.drop_index(batch_op.f('ix_process_instances_parent_id'))
        batch_op.drop_column('business_key')
        batch_op.drop_column('schedule_id')
        batch_op.drop_column('parent_id')

    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedules_parent_id'))
        batch_op.drop_index(batch_op.f('ix_schedules_next_run_at'))

    op.drop_table('schedules')

