"""Step waits for the process heatmap (issue 14): when each user task became ready, for whom, due when,
and when and how its wait ended (engine/process/step_waits.py, docs/reports.md)

The tasks waiting now are copied from ready_tasks (ready since their row was written); the audit log does
not say when earlier tasks became ready, so the heatmap's history starts with this migration.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'step_waits',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('instance_id', sa.Integer(), nullable=False),
        sa.Column('process_id', sa.String(200), nullable=False),
        sa.Column('task_id', sa.String(36), nullable=False),
        sa.Column('bpmn_id', sa.String(200), nullable=False),
        sa.Column('assignee', sa.String(200), nullable=True),
        sa.Column('ready_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ended', sa.String(20), nullable=True),
    )
    op.create_index('ix_step_waits_process_done', 'step_waits', ['process_id', 'done_at'])
    op.create_index('ix_step_waits_instance_task', 'step_waits', ['instance_id', 'task_id'])
    op.execute("INSERT INTO step_waits (instance_id, process_id, task_id, bpmn_id, assignee, ready_at, due_at) "
               "SELECT r.instance_id, i.process_id, r.task_id, r.bpmn_id, r.assignee, r.created_at, r.due_at "
               "FROM ready_tasks r JOIN process_instances i ON i.id = r.instance_id")


def downgrade() -> None:
    op.drop_index('ix_step_waits_instance_task', table_name='step_waits')
    op.drop_index('ix_step_waits_process_done', table_name='step_waits')
    op.drop_table('step_waits')
