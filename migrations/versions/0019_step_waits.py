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

from engine.core.tables import UTCDateTime

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
        sa.Column('ready_epoch', sa.BigInteger(), nullable=False),
        sa.Column('done_epoch', sa.BigInteger(), nullable=True),
    )
    op.create_index('ix_step_waits_process_done', 'step_waits', ['process_id', 'done_at', 'ended', 'bpmn_id',
                                                                 'assignee', 'ready_epoch', 'done_epoch', 'due_at'])
    op.create_index('ix_step_waits_instance_task', 'step_waits', ['instance_id', 'task_id'])
    # The tasks waiting now, ready since their row was written (ready_epoch as the model computes it).
    ready = sa.table('ready_tasks', sa.column('instance_id'), sa.column('task_id'), sa.column('bpmn_id'),
                     sa.column('assignee'), sa.column('created_at', UTCDateTime()), sa.column('due_at', UTCDateTime()))
    instances = sa.table('process_instances', sa.column('id'), sa.column('process_id'))
    rows = op.get_bind().execute(
        sa.select(ready.c.instance_id, instances.c.process_id, ready.c.task_id, ready.c.bpmn_id, ready.c.assignee,
                  ready.c.created_at, ready.c.due_at)
        .join_from(ready, instances, instances.c.id == ready.c.instance_id)).all()
    waits = sa.table('step_waits', *(sa.column(name) for name in (
        'instance_id', 'process_id', 'task_id', 'bpmn_id', 'assignee', 'ready_epoch')),
        sa.column('ready_at', UTCDateTime()), sa.column('due_at', UTCDateTime()))
    if rows:
        op.bulk_insert(waits, [{"instance_id": r[0], "process_id": r[1], "task_id": r[2], "bpmn_id": r[3],
                                "assignee": r[4], "ready_at": r[5], "due_at": r[6],
                                "ready_epoch": int(r[5].timestamp())} for r in rows])


def downgrade() -> None:
    op.drop_index('ix_step_waits_instance_task', table_name='step_waits')
    op.drop_index('ix_step_waits_process_done', table_name='step_waits')
    op.drop_table('step_waits')
