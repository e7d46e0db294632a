"""inspections carry a copy of the inspecting unit's path; dispatch roll-ups

The dispatch figures count what a node and the units below it did: a range on the unit's path
instead of `unit_id IN (every node of the subtree)`. Spot-check findings and enforcement actions
lose their path-copy index: they are only reached through their inspection, and PostgreSQL,
estimating a small path range at one row, re-scanned a district through it once per inspection
when joining them (bench/dispatch_national.py: 25 ms of a 60 ms district). The roll-up table keeps the figures of the
large levels (national, province, city) counted at most an hour ago.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

PathType = sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")


def upgrade():
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_path", PathType, nullable=True))
    op.execute("UPDATE inspections SET unit_path = (SELECT path FROM tenants WHERE tenants.id = inspections.unit_id)")
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.alter_column("unit_path", existing_type=PathType, nullable=False)
        batch_op.drop_index("ix_inspections_unit_id_status_inspected_on")
        batch_op.create_index("ix_inspections_unit_path_inspected_on", ["unit_path", "inspected_on", "status", "kind"],
                              unique=False)
    for table in ("inspection_findings", "enforcement_actions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_tenant_path")

    op.create_table("dispatch_rollups",
    sa.Column("id", sa.Integer(), nullable=False),
    sa.Column("span_start", sa.Date(), nullable=False),
    sa.Column("span_end", sa.Date(), nullable=False),
    sa.Column("figures", sa.JSON(), nullable=False),
    sa.Column("computed_at", sa.DateTime(), nullable=False),
    sa.Column("tenant_id", sa.Integer(), nullable=False),
    sa.Column("tenant_path", PathType, nullable=False),
    sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_dispatch_rollups_tenant_id_tenants")),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_rollups")),
    sa.UniqueConstraint("tenant_id", "span_start", "span_end", name="uq_dispatch_rollups_unit_span")
    )
    with op.batch_alter_table("dispatch_rollups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dispatch_rollups_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dispatch_rollups_tenant_path"), ["tenant_path"], unique=False)


def downgrade():
    op.drop_table("dispatch_rollups")
    for table in ("inspection_findings", "enforcement_actions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_tenant_path", ["tenant_path"], unique=False)
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.drop_index("ix_inspections_unit_path_inspected_on")
        batch_op.create_index("ix_inspections_unit_id_status_inspected_on", ["unit_id", "status", "inspected_on"],
                              unique=False)
        batch_op.drop_column("unit_path")
