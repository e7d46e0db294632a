"""inspections, signatures, checked items, found hazards, spot-check findings, enforcement,
accidents, accountability records

Revision ID: 0007
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0004"
branch_labels = None
depends_on = None

PathType = sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")


def upgrade():
    op.create_table('accidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('deaths', sa.Integer(), nullable=False),
    sa.Column('injuries', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant_path', PathType, nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_accidents_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_accidents_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accidents'))
    )
    with op.batch_alter_table('accidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accidents_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accidents_tenant_path'), ['tenant_path'], unique=False)
        batch_op.create_index('ix_accidents_tenant_path_occurred_on', ['tenant_path', 'occurred_on'], unique=False)

    op.create_table('inspections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('unit_name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('inspected_on', sa.Date(), nullable=False),
    sa.Column('partners', sa.String(length=300), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('content_sha256', sa.String(length=64), nullable=True),
    sa.Column('signed_at', sa.DateTime(), nullable=True),
    sa.Column('amends_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant_path', PathType, nullable=False),
    sa.ForeignKeyConstraint(['amends_id'], ['inspections.id'], name=op.f('fk_inspections_amends_id_inspections')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_inspections_created_by_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_inspections_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['unit_id'], ['tenants.id'], name=op.f('fk_inspections_unit_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspections'))
    )
    with op.batch_alter_table('inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspections_amends_id'), ['amends_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspections_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index('ix_inspections_tenant_id_inspected_on', ['tenant_id', 'inspected_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspections_tenant_path'), ['tenant_path'], unique=False)
        batch_op.create_index('ix_inspections_tenant_path_inspected_on', ['tenant_path', 'inspected_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspections_unit_id'), ['unit_id'], unique=False)
        batch_op.create_index('ix_inspections_unit_id_status_inspected_on', ['unit_id', 'status', 'inspected_on'], unique=False)

    op.create_table('accountability_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('measure', sa.String(length=24), nullable=False),
    sa.Column('subject_unit_id', sa.Integer(), nullable=False),
    sa.Column('subject_unit_name', sa.String(length=100), nullable=False),
    sa.Column('subject_person', sa.String(length=64), nullable=False),
    sa.Column('subject_post', sa.String(length=64), nullable=False),
    sa.Column('subject_user_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requirement', sa.Text(), nullable=False),
    sa.Column('basis', sa.JSON(), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('accident_id', sa.Integer(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('document_number', sa.String(length=64), nullable=False),
    sa.Column('issuer', sa.String(length=100), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant_path', PathType, nullable=False),
    sa.ForeignKeyConstraint(['accident_id'], ['accidents.id'], name=op.f('fk_accountability_records_accident_id_accidents')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_accountability_records_created_by_id_users')),
    sa.ForeignKeyConstraint(['enterprise_id'], ['tenants.id'], name=op.f('fk_accountability_records_enterprise_id_tenants')),
    sa.ForeignKeyConstraint(['subject_unit_id'], ['tenants.id'], name=op.f('fk_accountability_records_subject_unit_id_tenants')),
    sa.ForeignKeyConstraint(['subject_user_id'], ['users.id'], name=op.f('fk_accountability_records_subject_user_id_users')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_accountability_records_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accountability_records'))
    )
    with op.batch_alter_table('accountability_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accountability_records_enterprise_id'), ['enterprise_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accountability_records_subject_unit_id'), ['subject_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accountability_records_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accountability_records_tenant_path'), ['tenant_path'], unique=False)
        batch_op.create_index('ix_accountability_records_tenant_path_decided_on', ['tenant_path', 'decided_on'], unique=False)

    op.create_table('inspection_findings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant_path', PathType, nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_inspection_findings_inspection_id_inspections')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_inspection_findings_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_findings')),
    sa.UniqueConstraint('inspection_id', 'code', name='uq_inspection_findings_inspection_code')
    )
    with op.batch_alter_table('inspection_findings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_findings_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_findings_tenant_path'), ['tenant_path'], unique=False)

    op.create_table('inspection_signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=True),
    sa.Column('content_sha256', sa.String(length=64), nullable=True),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant_path', PathType, nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_inspection_signatures_inspection_id_inspections')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_inspection_signatures_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_inspection_signatures_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_signatures')),
    sa.UniqueConstraint('inspection_id', 'user_id', name='uq_inspection_signatures_inspection_user')
    )
    with op.batch_alter_table('inspection_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_signatures_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_signatures_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_signatures_tenant_path'), ['tenant_path'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_signatures_user_id'), ['user_id'], unique=False)

    op.create_table('inspection_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('standard_item_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant_path', PathType, nullable=False),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_inspection_items_inspection_id_inspections')),
    sa.ForeignKeyConstraint(['standard_item_id'], ['standard_items.id'], name=op.f('fk_inspection_items_standard_item_id_standard_items')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_inspection_items_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_items')),
    sa.UniqueConstraint('inspection_id', 'standard_item_id', name='uq_inspection_items_inspection_item')
    )
    with op.batch_alter_table('inspection_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_items_standard_item_id'), ['standard_item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_items_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_items_tenant_path'), ['tenant_path'], unique=False)

    op.create_table('enforcement_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('hazard_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('persons', sa.Integer(), nullable=False),
    sa.Column('person_names', sa.String(length=300), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('document_number', sa.String(length=100), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('override_reason', sa.String(length=500), nullable=False),
    sa.Column('published_case', sa.Boolean(), nullable=False),
    sa.Column('dangerous_operation_crime', sa.Boolean(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant_path', PathType, nullable=False),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazards.id'], name=op.f('fk_enforcement_actions_hazard_id_hazards')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_enforcement_actions_inspection_id_inspections')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_enforcement_actions_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enforcement_actions'))
    )
    with op.batch_alter_table('enforcement_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enforcement_actions_hazard_id'), ['hazard_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enforcement_actions_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enforcement_actions_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enforcement_actions_tenant_path'), ['tenant_path'], unique=False)

    op.create_table('inspection_hazards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('inspection_id', sa.Integer(), nullable=False),
    sa.Column('hazard_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant_path', PathType, nullable=False),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazards.id'], name=op.f('fk_inspection_hazards_hazard_id_hazards')),
    sa.ForeignKeyConstraint(['inspection_id'], ['inspections.id'], name=op.f('fk_inspection_hazards_inspection_id_inspections')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_inspection_hazards_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_hazards')),
    sa.UniqueConstraint('hazard_id', name=op.f('uq_inspection_hazards_hazard_id'))
    )
    with op.batch_alter_table('inspection_hazards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_hazards_inspection_id'), ['inspection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_hazards_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_hazards_tenant_path'), ['tenant_path'], unique=False)


def downgrade():
    op.drop_table("inspection_hazards")
    op.drop_table("enforcement_actions")
    op.drop_table("inspection_items")
    op.drop_table("inspection_signatures")
    op.drop_table("inspection_findings")
    op.drop_table("accountability_records")
    op.drop_table("inspections")
    op.drop_table("accidents")
