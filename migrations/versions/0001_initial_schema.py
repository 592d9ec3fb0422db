"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-28

The audit log is made append-only in the database itself, so no code path can rewrite it.
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('bpmn_id', sa.String(length=200), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_instance_id'), ['instance_id'], unique=False)

    op.create_table('definition_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('source_file', sa.String(length=500), nullable=False),
    sa.Column('bpmn_xml', sa.LargeBinary(), nullable=False),
    sa.Column('spec_json', sa.Text(), nullable=False),
    sa.Column('deployed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deployed_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('process_id', 'version')
    )
    with op.batch_alter_table('definition_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_definition_versions_process_id'), ['process_id'], unique=False)

    op.create_table('process_instances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('process_id', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('running', 'completed', 'cancelled', 'error', name='instance_status', native_enum=False, length=20), nullable=False),
    sa.Column('state_json', sa.Text(), nullable=False),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('started_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['definition_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_instances_definition_id'), ['definition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instances_process_id'), ['process_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_process_instances_status'), ['status'], unique=False)

    op.create_table('ready_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('bpmn_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=True),
    sa.Column('lane', sa.String(length=200), nullable=True),
    sa.Column('assignee', sa.String(length=200), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id', 'task_id')
    )
    with op.batch_alter_table('ready_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_ready_tasks_due_at', ['due_at'], unique=False)
        batch_op.create_index('ix_ready_tasks_lane_assignee', ['lane', 'assignee'], unique=False)

    op.create_table('waiting_timers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('bpmn_id', sa.String(length=200), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_id', 'task_id')
    )
    with op.batch_alter_table('waiting_timers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waiting_timers_due_at'), ['due_at'], unique=False)

    _make_audit_log_append_only()


def _make_audit_log_append_only() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
        """)
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log
                BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
            """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    with op.batch_alter_table('waiting_timers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_waiting_timers_due_at'))

    op.drop_table('waiting_timers')
    with op.batch_alter_table('ready_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_ready_tasks_lane_assignee')
        batch_op.drop_index('ix_ready_tasks_due_at')

    op.drop_table('ready_tasks')
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_instances_status'))
        batch_op.drop_index(batch_op.f('ix_process_instances_process_id'))
        batch_op.drop_index(batch_op.f('ix_process_instances_definition_id'))

    op.drop_table('process_instances')
    with op.batch_alter_table('definition_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_definition_versions_process_id'))

    op.drop_table('definition_versions')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_instance_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
