"""issue 15: timer workers' heartbeats, read by /ready

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('worker_heartbeats',
    sa.Column('worker_id', sa.String(length=200), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('passes', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('worker_id')
    )
    op.create_index(op.f('ix_worker_heartbeats_beat_at'), 'worker_heartbeats', ['beat_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_worker_heartbeats_beat_at'), table_name='worker_heartbeats')
    op.drop_table('worker_heartbeats')
