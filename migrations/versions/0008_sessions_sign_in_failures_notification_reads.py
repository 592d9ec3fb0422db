"""sign-in sessions and failures in the database; notifications read per person and addressed to a unit

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sign_in_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index('ix_sign_in_sessions_user_address', ['user_id', 'address'], unique=False)

    op.create_table('sign_in_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sign_in_failures_at'), ['at'], unique=False)
        batch_op.create_index('ix_sign_in_failures_username_at', ['username', 'at'], unique=False)
        batch_op.create_index('ix_sign_in_failures_address_at', ['address', 'at'], unique=False)

    op.create_table('notification_reads',
    sa.Column('notification_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('notification_id', 'user_id')
    )

    # A role-addressed notification without a unit meant the province's own business: it now names the
    # unit concerned (the PPC for its leaders, else the Office), or it would reach no one.
    for roles, kind in (("= 'ppc_leader'", 'ppc'), ("<> 'ppc_leader'", 'provincial_office')):
        op.execute(f"""
            UPDATE notifications SET unit_code = (
                SELECT code FROM units WHERE kind = '{kind}' ORDER BY active DESC, id LIMIT 1)
            WHERE unit_code IS NULL AND user_id IS NULL AND role IS NOT NULL AND role {roles}""")
    # Read state was shared: what one recipient read was read for all. Keep it read for the people who
    # saw it so: the addressee, or the people of the unit named (and of the units right below it, the
    # Office's divisions). A read row for someone who is not a recipient is never consulted.
    op.execute("""
        INSERT INTO notification_reads (notification_id, user_id, read_at)
        SELECT id, user_id, read_at FROM notifications WHERE read_at IS NOT NULL AND user_id IS NOT NULL""")
    op.execute("""
        INSERT INTO notification_reads (notification_id, user_id, read_at)
        SELECT DISTINCT n.id, u.id, n.read_at
        FROM notifications n
        JOIN units named ON named.code = n.unit_code
        JOIN units m ON m.id = named.id OR m.parent_id = named.id
        JOIN users u ON u.unit_id = m.id
        WHERE n.read_at IS NOT NULL AND n.user_id IS NULL""")
    op.execute("ALTER TABLE notifications DROP COLUMN read_at")  # SQLite 3.35+ drops it in place


def downgrade() -> None:
    op.add_column('notifications', sa.Column('read_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("""
        UPDATE notifications SET read_at = (
            SELECT MIN(r.read_at) FROM notification_reads r WHERE r.notification_id = notifications.id)""")
    op.drop_table('notification_reads')

    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_failures_address_at')
        batch_op.drop_index('ix_sign_in_failures_username_at')
        batch_op.drop_index(batch_op.f('ix_sign_in_failures_at'))
    op.drop_table('sign_in_failures')

    with op.batch_alter_table('sign_in_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_sessions_user_address')
        batch_op.drop_index(batch_op.f('ix_sign_in_sessions_expires_at'))
    op.drop_table('sign_in_sessions')
