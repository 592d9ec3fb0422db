"""analysts' drafts and version comments; lanes route to roles by an explicit attribute, not by label

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
import json

import sqlalchemy as sa
from alembic import op
from lxml import etree

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# Until now a lane reached the people of a role by its label; these were the labels the engine knew.
# Lanes now carry spiffworkflow:role, and query tables and stored specs hold the role itself.
LEGACY_LANE_ROLES = {
    "Chuyên viên theo dõi": "tracking_specialist",
    "Lãnh đạo Văn phòng": "office_leader",
    "Lãnh đạo UBND tỉnh": "ppc_leader",
    "Đầu mối đơn vị": "unit_focal_point",
    "Thủ trưởng đơn vị": "unit_leader",
}
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
ROLE_ATTRIBUTE = "{http://spiffworkflow.org/bpmn/schema/1.0/core}role"


def upgrade() -> None:
    op.create_table('process_drafts',
    sa.Column('process_id', sa.String(length=200), nullable=False),
    sa.Column('bpmn_xml', sa.LargeBinary(), nullable=False),
    sa.Column('forms', sa.JSON(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('process_id')
    )
    with op.batch_alter_table('definition_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment', sa.Text(), nullable=False, server_default=''))

    bind = op.get_bind()
    for name, role in LEGACY_LANE_ROLES.items():
        bind.execute(sa.text("UPDATE ready_tasks SET lane = :role WHERE lane = :name"), {"role": role, "name": name})
    versions = bind.execute(sa.text("SELECT id, spec_json, bpmn_xml FROM definition_versions")).all()
    for id_, spec_json, bpmn_xml in versions:
        bind.execute(sa.text("UPDATE definition_versions SET spec_json = :s, bpmn_xml = :x WHERE id = :i"),
                     {"s": _spec_with_roles(spec_json), "x": _xml_with_roles(bytes(bpmn_xml)), "i": id_})


def _spec_with_roles(spec_json: str) -> str:
    dct = json.loads(spec_json)
    if not isinstance(dct, dict) or "spec" not in dct:  # not a stored spec this migration knows: leave it
        return spec_json
    for spec in [dct["spec"], *dct.get("subprocess_specs", {}).values()]:
        for task_spec in spec.get("task_specs", {}).values():
            if task_spec.get("lane") in LEGACY_LANE_ROLES:
                task_spec["lane"] = LEGACY_LANE_ROLES[task_spec["lane"]]
    return json.dumps(dct)


def _xml_with_roles(xml: bytes) -> bytes:
    # The stored XML was validated at deploy; parsed without entities or network all the same.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        tree = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError:
        return xml
    changed = False
    for lane in tree.iter(f"{{{BPMN}}}lane"):
        role = LEGACY_LANE_ROLES.get(lane.get("name") or "")
        if role and lane.get(ROLE_ATTRIBUTE) is None:
            lane.set(ROLE_ATTRIBUTE, role)
            changed = True
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8") if changed else xml


def downgrade() -> None:
    with op.batch_alter_table('definition_versions', schema=None) as batch_op:
        batch_op.drop_column('comment')
    op.drop_table('process_drafts')
