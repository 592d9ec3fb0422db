"""Accent-insensitive search (issue 13, item 7): folded search columns on documents and tracked tasks

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

from engine.core.search_text import fold

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table('documents') as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('tracked_tasks') as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False, server_default=''))
    # Rows written before: fold them here, as the models fold new rows (engine/core/search_text.py).
    bind = op.get_bind()
    for table, source in (('documents', "number_symbol || ' ' || summary"), ('tracked_tasks', 'content')):
        last = 0
        while True:
            rows = bind.execute(sa.text(f"SELECT id, {source} FROM {table} WHERE id > :last ORDER BY id LIMIT {BATCH}"),
                                {"last": last}).all()
            if not rows:
                break
            bind.execute(sa.text(f"UPDATE {table} SET search_text = :folded WHERE id = :id"),
                         [{"id": row_id, "folded": fold(text)} for row_id, text in rows])
            last = rows[-1][0]


def downgrade() -> None:
    with op.batch_alter_table('tracked_tasks') as batch_op:
        batch_op.drop_column('search_text')
    with op.batch_alter_table('documents') as batch_op:
        batch_op.drop_column('search_text')
