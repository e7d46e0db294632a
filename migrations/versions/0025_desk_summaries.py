"""summaries (周调度、月小结、季通报、半年通报、年总结) of a node for a period: frozen figures, edited
paragraphs, and the issued PDF and .docx

Revision ID: 0025
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

from tenants import rls

PathType = sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "summaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("doc_number", sa.String(length=64), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("paragraphs", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("issued_by_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=True),
        sa.Column("pdf_id", sa.Integer(), nullable=True),
        sa.Column("docx_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("tenant_path", PathType, nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name="fk_summaries_created_by_id_users"),
        sa.ForeignKeyConstraint(["issued_by_id"], ["users.id"], name="fk_summaries_issued_by_id_users"),
        sa.ForeignKeyConstraint(["pdf_id"], ["export_documents.id"], name="fk_summaries_pdf_id_export_documents"),
        sa.ForeignKeyConstraint(["docx_id"], ["export_documents.id"], name="fk_summaries_docx_id_export_documents"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name="fk_summaries_tenant_id_tenants"),
        sa.PrimaryKeyConstraint("id", name="pk_summaries"),
        sa.UniqueConstraint("tenant_id", "kind", "period_end", name="uq_summaries_unit_kind_period"),
    )
    op.create_index("ix_summaries_tenant_id", "summaries", ["tenant_id"])
    op.create_index("ix_summaries_tenant_path_period_end", "summaries", ["tenant_path", "period_end"])
    rls.protect(op, ["summaries"])


def downgrade():
    rls.unprotect(op, ["summaries"])
    op.drop_table("summaries")
