"""reporting rounds, the cadences opened automatically, and the units' report document

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('reporting_rounds',
    sa.Column('period_key', sa.String(length=20), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consolidation_instance_id', sa.Integer(), nullable=True),
    sa.Column('opened_by', sa.String(length=200), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consolidated_by', sa.String(length=200), nullable=True),
    sa.Column('consolidated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['consolidation_instance_id'], ['process_instances.id'], ),
    sa.PrimaryKeyConstraint('period_key')
    )
    op.create_table('reporting_plans',
    sa.Column('cadence', sa.String(length=20), nullable=False),
    sa.Column('changed_by', sa.String(length=200), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('cadence')
    )
    with op.batch_alter_table('periodic_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_document', sa.String(length=100), nullable=True))

    # Rounds opened before this table existed: one row per period that has reports, from the
    # reports' deadline and the consolidation instance (its starter and start time).
    op.execute("""
        INSERT INTO reporting_rounds (period_key, due_at, consolidation_instance_id, opened_by, opened_at, summary)
        SELECT r.period_key, MIN(r.due_at), c.id, COALESCE(c.started_by, 'system'), COALESCE(c.created_at, MIN(r.due_at)), ''
        FROM periodic_reports r
        LEFT JOIN process_instances c
          ON c.process_id = 'periodic_report_consolidation' AND c.business_key = r.period_key
        GROUP BY r.period_key, c.id, c.started_by, c.created_at
    """)
    # Rounds already consolidated: who and when from the audit entry, the text from the leader's notice.
    op.execute("""
        UPDATE reporting_rounds SET
          consolidated_by = (SELECT a.actor FROM audit_log a WHERE a.action = 'reports_consolidated'
                             AND a.instance_id = reporting_rounds.consolidation_instance_id ORDER BY a.id DESC LIMIT 1),
          consolidated_at = (SELECT a.at FROM audit_log a WHERE a.action = 'reports_consolidated'
                             AND a.instance_id = reporting_rounds.consolidation_instance_id ORDER BY a.id DESC LIMIT 1),
          summary = COALESCE((SELECT n.body FROM notifications n WHERE n.kind = 'reports_consolidated'
                              AND n.instance_id = reporting_rounds.consolidation_instance_id ORDER BY n.id DESC LIMIT 1), '')
    """)


def downgrade() -> None:
    with op.batch_alter_table('periodic_reports', schema=None) as batch_op:
        batch_op.drop_column('report_document')

    op.drop_table('reporting_plans')
    op.drop_table('reporting_rounds')
