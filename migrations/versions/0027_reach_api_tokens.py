"""API tokens: per unit, hashed at rest, acting through an account of their own

Revision ID: 0027
Revises: (see down_revision)
"""
import sqlalchemy as sa
from alembic import op

from tenants import rls
from tenants.models import PathType

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("tenant_path", PathType, nullable=False),
        sa.ForeignKeyConstraint(["membership_id"], ["memberships.id"], name="fk_api_tokens_membership_id_memberships"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name="fk_api_tokens_created_by_id_users"),
        sa.ForeignKeyConstraint(["revoked_by_id"], ["users.id"], name="fk_api_tokens_revoked_by_id_users"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_api_tokens_tenant_id_tenants"),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("digest", name="uq_api_tokens_digest"),
    )
    op.create_index("ix_api_tokens_tenant_id", "api_tokens", ["tenant_id"])
    op.create_index("ix_api_tokens_tenant_path", "api_tokens", ["tenant_path"])
    rls.protect(op, ("api_tokens",))


def downgrade():
    rls.unprotect(op, ("api_tokens",))
    op.drop_table("api_tokens")
