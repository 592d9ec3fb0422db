"""organisation and records

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_kind', sa.String(length=40), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by', sa.String(length=100), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_owner_id'), ['owner_id'], unique=False)

    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number_symbol', sa.String(length=100), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('doc_type', sa.Enum('quyet_dinh', 'chi_thi', 'quy_che', 'ke_hoach', 'cong_van', 'cong_dien', 'thong_bao_ket_luan', 'khac', name='document_type', native_enum=False, length=40), nullable=False),
    sa.Column('issuer', sa.String(length=300), nullable=False),
    sa.Column('signer', sa.String(length=300), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('registered_by', sa.String(length=100), nullable=False),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('number_symbol', 'issued_on')
    )
    op.create_table('units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=60), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.Enum('ppc', 'provincial_office', 'department', 'district', 'sub_unit', 'commune', 'other_agency', name='unit_kind', native_enum=False, length=40), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units_parent_id'), ['parent_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('full_name', sa.String(length=300), nullable=False),
    sa.Column('email', sa.String(length=300), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('password_hash', sa.String(length=300), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_unit_id'), ['unit_id'], unique=False)

    op.create_table('periodic_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('period_key', sa.String(length=20), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('unit_id', 'period_key')
    )
    op.create_table('tracked_tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('parent_task_id', sa.Integer(), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('lead_unit_id', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('update_cadence', sa.String(length=20), nullable=True),
    sa.Column('expected_output', sa.Text(), nullable=False),
    sa.Column('tracking_specialist_id', sa.Integer(), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('in_progress', 'no_deadline', 'awaiting_confirmation', 'returned', 'completed_on_time', 'completed_late', 'completed_no_deadline', 'cancelled', name='task_status', native_enum=False, length=40), nullable=False),
    sa.Column('urge_count', sa.Integer(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], ),
    sa.ForeignKeyConstraint(['lead_unit_id'], ['units.id'], ),
    sa.ForeignKeyConstraint(['parent_task_id'], ['tracked_tasks.id'], ),
    sa.ForeignKeyConstraint(['tracking_specialist_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('tracked_tasks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tracked_tasks_deadline'), ['deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracked_tasks_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracked_tasks_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tracked_tasks_parent_task_id'), ['parent_task_id'], unique=False)
        batch_op.create_index('ix_tracked_tasks_unit_status', ['lead_unit_id', 'status'], unique=False)

    op.create_table('user_roles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('tracking_specialist', 'office_leader', 'ppc_leader', 'unit_focal_point', 'unit_leader', 'process_analyst', 'admin', name='role', native_enum=False, length=40), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'role')
    )
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_roles_user_id'), ['user_id'], unique=False)

    op.create_table('feedbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('provider_unit_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instances.id'], ),
    sa.ForeignKeyConstraint(['provider_unit_id'], ['units.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['tracked_tasks.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('feedbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedbacks_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedbacks_task_id'), ['task_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_code', sa.String(length=60), nullable=True),
    sa.Column('role', sa.String(length=40), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['task_id'], ['tracked_tasks.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_notifications_recipient', ['unit_code', 'role', 'user_id'], unique=False)

    op.create_table('progress_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=40), nullable=False),
    sa.Column('work_done', sa.Text(), nullable=False),
    sa.Column('difficulties', sa.Text(), nullable=False),
    sa.Column('proposals', sa.Text(), nullable=False),
    sa.Column('report_document', sa.String(length=200), nullable=False),
    sa.Column('period_key', sa.String(length=20), nullable=True),
    sa.Column('submitted_by', sa.String(length=100), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tracked_tasks.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('progress_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_progress_updates_submitted_at'), ['submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_progress_updates_task_id'), ['task_id'], unique=False)

    op.create_table('task_coordinators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tracked_tasks.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('task_id', 'unit_id')
    )
    with op.batch_alter_table('task_coordinators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_coordinators_task_id'), ['task_id'], unique=False)

    op.create_table('directions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feedback_id', sa.Integer(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('notice_number', sa.String(length=100), nullable=False),
    sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['feedback_id'], ['feedbacks.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('directions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_directions_feedback_id'), ['feedback_id'], unique=False)

    op.create_table('urging_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('feedback_id', sa.Integer(), nullable=True),
    sa.Column('number_symbol', sa.String(length=100), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('issued_by', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['feedback_id'], ['feedbacks.id'], ),
    sa.ForeignKeyConstraint(['task_id'], ['tracked_tasks.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('urging_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_urging_documents_task_id'), ['task_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('urging_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_urging_documents_task_id'))

    op.drop_table('urging_documents')
    with op.batch_alter_table('directions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_directions_feedback_id'))

    op.drop_table('directions')
    with op.batch_alter_table('task_coordinators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_coordinators_task_id'))

    op.drop_table('task_coordinators')
    with op.batch_alter_table('progress_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_progress_updates_task_id'))
        batch_op.drop_index(batch_op.f('ix_progress_updates_submitted_at'))

    op.drop_table('progress_updates')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_recipient')
        batch_op.drop_index(batch_op.f('ix_notifications_instance_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_created_at'))

    op.drop_table('notifications')
    with op.batch_alter_table('feedbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedbacks_task_id'))
        batch_op.drop_index(batch_op.f('ix_feedbacks_instance_id'))

    op.drop_table('feedbacks')
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_roles_user_id'))

    op.drop_table('user_roles')
    with op.batch_alter_table('tracked_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tracked_tasks_unit_status')
        batch_op.drop_index(batch_op.f('ix_tracked_tasks_parent_task_id'))
        batch_op.drop_index(batch_op.f('ix_tracked_tasks_instance_id'))
        batch_op.drop_index(batch_op.f('ix_tracked_tasks_document_id'))
        batch_op.drop_index(batch_op.f('ix_tracked_tasks_deadline'))

    op.drop_table('tracked_tasks')
    op.drop_table('periodic_reports')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_unit_id'))

    op.drop_table('users')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_units_parent_id'))

    op.drop_table('units')
    op.drop_table('documents')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_owner_id'))

    op.drop_table('attachments')

