"""reporting up between platforms: a stable identifier for each dispatch table, the upward reports
of a platform's top unit with their attempts, and the tables received from lower platforms

Revision ID: 0030
Revises: (see down_revision)
"""
import uuid

import sqlalchemy as sa
from alembic import op

from tenants import rls
from tenants.models import PathType

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report_definitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uid", sa.String(length=64), nullable=True))
    # Every version of a table carries its series' identifier; a random one, so that tables made
    # apart on two platforms never meet by chance.
    conn = op.get_bind()
    for (series_id,) in conn.execute(sa.text("SELECT DISTINCT series_id FROM report_definitions")).all():
        conn.execute(sa.text("UPDATE report_definitions SET uid = :uid WHERE series_id = :series"),
                     {"uid": uuid.uuid4().hex, "series": series_id})
    with op.batch_alter_table("report_definitions", schema=None) as batch_op:
        batch_op.alter_column("uid", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f("ix_report_definitions_uid"), ["uid"], unique=False)
    op.create_table("upward_reports",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("submission_id", sa.Integer(), nullable=False),
                    sa.Column("key", sa.String(length=64), nullable=False),
                    sa.Column("status", sa.String(length=8), nullable=False),
                    sa.Column("attempts", sa.Integer(), nullable=False),
                    sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
                    sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
                    sa.Column("error", sa.String(length=500), nullable=False),
                    sa.Column("sent_at", sa.DateTime(), nullable=True),
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.Column("tenant_id", sa.Integer(), nullable=False),
                    sa.Column("tenant_path", PathType, nullable=False),
                    sa.ForeignKeyConstraint(["submission_id"], ["report_submissions.id"],
                                            name=op.f("fk_upward_reports_submission_id_report_submissions")),
                    sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                            name=op.f("fk_upward_reports_tenant_id_tenants")),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_upward_reports")),
                    sa.UniqueConstraint("key", name=op.f("uq_upward_reports_key")),
                    sa.UniqueConstraint("submission_id", name=op.f("uq_upward_reports_submission_id")))
    op.create_index(op.f("ix_upward_reports_tenant_id"), "upward_reports", ["tenant_id"])
    op.create_index(op.f("ix_upward_reports_tenant_path"), "upward_reports", ["tenant_path"])
    rls.protect(op, ("upward_reports",))
    op.create_table("dispatch_receipts",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("submission_id", sa.Integer(), nullable=False),
                    sa.Column("key", sa.String(length=64), nullable=False),
                    sa.Column("digest", sa.String(length=64), nullable=False),
                    sa.Column("span_start", sa.Date(), nullable=False),
                    sa.Column("approved_by", sa.String(length=64), nullable=False),
                    sa.Column("approved_at", sa.DateTime(), nullable=True),
                    sa.Column("token_id", sa.Integer(), nullable=False),
                    sa.Column("received_at", sa.DateTime(), nullable=False),
                    sa.Column("tenant_id", sa.Integer(), nullable=False),
                    sa.Column("tenant_path", PathType, nullable=False),
                    sa.ForeignKeyConstraint(["submission_id"], ["report_submissions.id"],
                                            name=op.f("fk_dispatch_receipts_submission_id_report_submissions")),
                    sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"],
                                            name=op.f("fk_dispatch_receipts_tenant_id_tenants")),
                    sa.ForeignKeyConstraint(["token_id"], ["api_tokens.id"],
                                            name=op.f("fk_dispatch_receipts_token_id_api_tokens")),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_receipts")),
                    sa.UniqueConstraint("key", name=op.f("uq_dispatch_receipts_key")),
                    sa.UniqueConstraint("submission_id", name=op.f("uq_dispatch_receipts_submission_id")))
    op.create_index(op.f("ix_dispatch_receipts_tenant_id"), "dispatch_receipts", ["tenant_id"])
    op.create_index(op.f("ix_dispatch_receipts_tenant_path"), "dispatch_receipts", ["tenant_path"])
    rls.protect(op, ("dispatch_receipts",))


def downgrade():
    rls.unprotect(op, ("dispatch_receipts", "upward_reports"))
    op.drop_index(op.f("ix_dispatch_receipts_tenant_path"), table_name="dispatch_receipts")
    op.drop_index(op.f("ix_dispatch_receipts_tenant_id"), table_name="dispatch_receipts")
    op.drop_table("dispatch_receipts")
    op.drop_index(op.f("ix_upward_reports_tenant_path"), table_name="upward_reports")
    op.drop_index(op.f("ix_upward_reports_tenant_id"), table_name="upward_reports")
    op.drop_table("upward_reports")
    with op.batch_alter_table("report_definitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_definitions_uid"))
        batch_op.drop_column("uid")
