"""dispatch tables: report definitions, submissions, manual figures

Revision ID: 0008
Revises: 0007, 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
# Report definitions belong to a campaign (0003). A parent, not `depends_on`: Alembic counts only
# parents when it looks for heads, and a second head breaks the plain `flask db upgrade`.
down_revision = ("0007", "0003")
branch_labels = None
depends_on = None

PathType = sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")


def _owned():
    return [sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False, index=True),
            sa.Column("tenant_path", PathType, nullable=False, index=True)]


def upgrade():
    op.create_table(
        "report_definitions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("due_day", sa.Integer()),
        sa.Column("cumulative", sa.Boolean(), nullable=False),
        sa.Column("by_level", sa.Boolean(), nullable=False),
        sa.Column("layout", sa.JSON(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_owned())
    op.create_table(
        "report_submissions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("definition_id", sa.Integer(), sa.ForeignKey("report_definitions.id"), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("submitted_at", sa.DateTime()),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("decided_at", sa.DateTime()),
        sa.Column("decided_by_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("figures", sa.JSON()),
        sa.Column("corrections", sa.JSON()),
        sa.Column("superseded_by_id", sa.Integer(), sa.ForeignKey("report_submissions.id")),
        sa.Column("reminded_on", sa.Date()),
        *_owned(),
        sa.UniqueConstraint("tenant_id", "definition_id", "period_end", name="uq_report_submissions_unit_period"))
    op.create_index("ix_report_submissions_path_def_end", "report_submissions",
                    ["tenant_path", "definition_id", "period_end"])
    op.create_table(
        "manual_figures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("report_submissions.id"), nullable=False,
                  index=True),
        sa.Column("code", sa.String(48), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("value", sa.Numeric(14, 2), nullable=False),
        *_owned(),
        sa.UniqueConstraint("submission_id", "code", name="uq_manual_figures_submission_code"))
    op.create_index("ix_manual_figures_path_end", "manual_figures", ["tenant_path", "period_end"])


def downgrade():
    op.drop_table("manual_figures")
    op.drop_table("report_submissions")
    op.drop_table("report_definitions")
