"""一企一码: the codes an enterprise has been given, one in force at a time

Revision ID: 0026
Revises: (see down_revision)
"""
import sqlalchemy as sa
from alembic import op

from tenants import rls
from tenants.models import PathType

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "enterprise_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("tenant_path", PathType, nullable=False),
        sa.ForeignKeyConstraint(["issued_by_id"], ["users.id"], name="fk_enterprise_codes_issued_by_id_users"),
        sa.ForeignKeyConstraint(["revoked_by_id"], ["users.id"], name="fk_enterprise_codes_revoked_by_id_users"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_enterprise_codes_tenant_id_tenants"),
        sa.PrimaryKeyConstraint("id", name="pk_enterprise_codes"),
        sa.UniqueConstraint("token", name="uq_enterprise_codes_token"),
    )
    op.create_index("ix_enterprise_codes_tenant_id", "enterprise_codes", ["tenant_id"])
    op.create_index("ix_enterprise_codes_tenant_path", "enterprise_codes", ["tenant_path"])
    op.create_index("uq_enterprise_codes_in_force", "enterprise_codes", ["tenant_id"], unique=True,
                    sqlite_where=sa.text("revoked_at IS NULL"), postgresql_where=sa.text("revoked_at IS NULL"))
    rls.protect(op, ("enterprise_codes",))


def downgrade():
    rls.unprotect(op, ("enterprise_codes",))
    op.drop_table("enterprise_codes")
