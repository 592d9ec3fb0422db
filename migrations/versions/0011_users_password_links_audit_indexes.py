"""issue 12: one-time set-password links; the audit log's indexes for paging by key (at, id), per person and action

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('password_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index(op.f('ix_password_links_user_id'), 'password_links', ['user_id'], unique=False)
    # Plain CREATE INDEX, not a batch operation: on SQLite a batch may copy the table, and the copy would
    # lose the triggers that keep the audit log append-only.
    op.create_index('ix_audit_log_at_id', 'audit_log', ['at', 'id'], unique=False)
    op.create_index('ix_audit_log_actor_at_id', 'audit_log', ['actor', 'at', 'id'], unique=False)
    op.create_index('ix_audit_log_action_at_id', 'audit_log', ['action', 'at', 'id'], unique=False)
    op.drop_index('ix_audit_log_at', table_name='audit_log')  # (at, id) serves every query it did


def downgrade() -> None:
    op.create_index('ix_audit_log_at', 'audit_log', ['at'], unique=False)
    op.drop_index('ix_audit_log_action_at_id', table_name='audit_log')
    op.drop_index('ix_audit_log_actor_at_id', table_name='audit_log')
    op.drop_index('ix_audit_log_at_id', table_name='audit_log')
    op.drop_index(op.f('ix_password_links_user_id'), table_name='password_links')
    op.drop_table('password_links')
