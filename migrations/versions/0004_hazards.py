"""hazards and tips: determination standards, the hazard ledger, hazard photos, public tips

Revision ID: 0004
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
# Hazard and tip photos are uploads (portal.uploads, revision 0005): its parent, so the graph
# keeps one head (see 0008).
down_revision = "0005"
branch_labels = None
depends_on = None

PathType = sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")


def upgrade():
    op.create_table('tip_throttle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tip_throttle'))
    )
    with op.batch_alter_table('tip_throttle', schema=None) as batch_op:
        batch_op.create_index('ix_tip_throttle_address_created', ['address_hash', 'created_at'], unique=False)

    op.create_table('standards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('document_number', sa.String(length=100), nullable=False),
    sa.Column('issuer', sa.String(length=100), nullable=False),
    sa.Column('industries', sa.JSON(), nullable=False),
    sa.Column('completeness', sa.String(length=300), nullable=False),
    sa.Column('partial', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant_path', PathType, nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_standards_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standards')),
    sa.UniqueConstraint('code', name=op.f('uq_standards_code'))
    )
    with op.batch_alter_table('standards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standards_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_standards_tenant_path'), ['tenant_path'], unique=False)

    op.create_table('standard_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('standard_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('label', sa.String(length=40), nullable=False),
    sa.Column('heading', sa.String(length=300), nullable=False),
    sa.Column('text', sa.String(length=1000), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant_path', PathType, nullable=False),
    sa.ForeignKeyConstraint(['standard_id'], ['standards.id'], name=op.f('fk_standard_items_standard_id_standards')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_standard_items_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_items')),
    sa.UniqueConstraint('code', name=op.f('uq_standard_items_code'))
    )
    with op.batch_alter_table('standard_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_standard_items_standard_id'), ['standard_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_standard_items_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_standard_items_tenant_path'), ['tenant_path'], unique=False)

    op.create_table('hazards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('industry', sa.String(length=32), nullable=False),
    sa.Column('standard_item_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('found_at', sa.Date(), nullable=False),
    sa.Column('found_by_unit_id', sa.Integer(), nullable=False),
    sa.Column('on_the_spot', sa.Boolean(), nullable=False),
    sa.Column('fix_owner', sa.String(length=64), nullable=False),
    sa.Column('fix_measures', sa.String(length=1000), nullable=False),
    sa.Column('fix_funds', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('fix_deadline', sa.Date(), nullable=True),
    sa.Column('fix_contingency', sa.String(length=1000), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rectified_on', sa.Date(), nullable=True),
    sa.Column('accepted_on', sa.Date(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('listed_by_id', sa.Integer(), nullable=True),
    sa.Column('listed_level', sa.String(length=16), nullable=True),
    sa.Column('listed_document_number', sa.String(length=100), nullable=True),
    sa.Column('listed_tracker_id', sa.Integer(), nullable=True),
    sa.Column('listed_deadline', sa.Date(), nullable=True),
    sa.Column('listed_on', sa.Date(), nullable=True),
    sa.Column('delisted_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant_path', PathType, nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_hazards_created_by_id_users')),
    sa.ForeignKeyConstraint(['found_by_unit_id'], ['tenants.id'], name=op.f('fk_hazards_found_by_unit_id_tenants')),
    sa.ForeignKeyConstraint(['listed_by_id'], ['tenants.id'], name=op.f('fk_hazards_listed_by_id_tenants')),
    sa.ForeignKeyConstraint(['listed_tracker_id'], ['users.id'], name=op.f('fk_hazards_listed_tracker_id_users')),
    sa.ForeignKeyConstraint(['standard_item_id'], ['standard_items.id'], name=op.f('fk_hazards_standard_item_id_standard_items')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_hazards_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hazards'))
    )
    with op.batch_alter_table('hazards', schema=None) as batch_op:
        batch_op.create_index('ix_hazards_figures', ['level', 'tenant_path', 'found_at', 'source', 'accepted_on',
                                                     'listed_on', 'listed_level', 'closed_on', 'status',
                                                     'fix_deadline'], unique=False)
        batch_op.create_index('ix_hazards_listed', ['tenant_path', 'id'], unique=False,
                              sqlite_where=sa.text('listed_by_id IS NOT NULL'),
                              postgresql_where=sa.text('listed_by_id IS NOT NULL'))
        batch_op.create_index('ix_hazards_status', ['status', 'tenant_path', 'fix_deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazards_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazards_tenant_path'), ['tenant_path'], unique=False)
        batch_op.create_index('ix_hazards_tenant_path_id', ['tenant_path', 'id'], unique=False)

    op.create_table('hazard_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hazard_id', sa.Integer(), nullable=False),
    sa.Column('upload_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant_path', PathType, nullable=False),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazards.id'], name=op.f('fk_hazard_photos_hazard_id_hazards')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_hazard_photos_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_hazard_photos_upload_id_uploads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_hazard_photos'))
    )
    with op.batch_alter_table('hazard_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_hazard_photos_hazard_id'), ['hazard_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazard_photos_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hazard_photos_tenant_path'), ['tenant_path'], unique=False)

    op.create_table('tips',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_digest', sa.String(length=64), nullable=False),
    sa.Column('enterprise_name', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('reporter_name', sa.String(length=64), nullable=False),
    sa.Column('contact', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=False),
    sa.Column('enterprise_id', sa.Integer(), nullable=True),
    sa.Column('hazard_id', sa.Integer(), nullable=True),
    sa.Column('verified_on', sa.Date(), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('reward', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('reward_named', sa.Boolean(), nullable=True),
    sa.Column('rewarded_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant_path', PathType, nullable=False),
    sa.ForeignKeyConstraint(['enterprise_id'], ['tenants.id'], name=op.f('fk_tips_enterprise_id_tenants')),
    sa.ForeignKeyConstraint(['hazard_id'], ['hazards.id'], name=op.f('fk_tips_hazard_id_hazards')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tips_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['users.id'], name=op.f('fk_tips_verified_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tips')),
    sa.UniqueConstraint('code_digest', name=op.f('uq_tips_code_digest'))
    )
    with op.batch_alter_table('tips', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tips_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tips_tenant_path'), ['tenant_path'], unique=False)
        batch_op.create_index('ix_tips_tenant_path_id', ['tenant_path', 'id'], unique=False)

    op.create_table('tip_photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tip_id', sa.Integer(), nullable=False),
    sa.Column('upload_id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('tenant_path', PathType, nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_tip_photos_tenant_id_tenants')),
    sa.ForeignKeyConstraint(['tip_id'], ['tips.id'], name=op.f('fk_tip_photos_tip_id_tips')),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_tip_photos_upload_id_uploads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tip_photos'))
    )
    with op.batch_alter_table('tip_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_tip_photos_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_tip_photos_tenant_path'), ['tenant_path'], unique=False)
        batch_op.create_index(batch_op.f('ix_tip_photos_tip_id'), ['tip_id'], unique=False)


def downgrade():
    with op.batch_alter_table('tip_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tip_photos_tip_id'))
        batch_op.drop_index(batch_op.f('ix_tip_photos_tenant_path'))
        batch_op.drop_index(batch_op.f('ix_tip_photos_tenant_id'))

    op.drop_table('tip_photos')
    with op.batch_alter_table('tips', schema=None) as batch_op:
        batch_op.drop_index('ix_tips_tenant_path_id')
        batch_op.drop_index(batch_op.f('ix_tips_tenant_path'))
        batch_op.drop_index(batch_op.f('ix_tips_tenant_id'))

    op.drop_table('tips')
    with op.batch_alter_table('hazard_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hazard_photos_tenant_path'))
        batch_op.drop_index(batch_op.f('ix_hazard_photos_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_hazard_photos_hazard_id'))

    op.drop_table('hazard_photos')
    with op.batch_alter_table('hazards', schema=None) as batch_op:
        batch_op.drop_index('ix_hazards_tenant_path_id')
        batch_op.drop_index(batch_op.f('ix_hazards_tenant_path'))
        batch_op.drop_index(batch_op.f('ix_hazards_tenant_id'))
        batch_op.drop_index('ix_hazards_status')
        batch_op.drop_index('ix_hazards_listed')
        batch_op.drop_index('ix_hazards_figures')

    op.drop_table('hazards')
    with op.batch_alter_table('standard_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standard_items_tenant_path'))
        batch_op.drop_index(batch_op.f('ix_standard_items_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_standard_items_standard_id'))

    op.drop_table('standard_items')
    with op.batch_alter_table('standards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_standards_tenant_path'))
        batch_op.drop_index(batch_op.f('ix_standards_tenant_id'))

    op.drop_table('standards')
    with op.batch_alter_table('tip_throttle', schema=None) as batch_op:
        batch_op.drop_index('ix_tip_throttle_address_created')

    op.drop_table('tip_throttle')
