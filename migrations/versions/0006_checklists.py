"""checklists: templates and items, fills with entries and evidence, duty records, special-operation
workers, compliance findings and the per-enterprise status the overview filters by

Revision ID: 0006
Revises: 0002
Depends on: 0005 (evidence files are uploads)
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = "0005"

PathType = sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")


def _owned():
    """The tenant_id / tenant_path pair every TenantOwned table carries."""
    return [sa.Column("tenant_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False, index=True),
            sa.Column("tenant_path", PathType, nullable=False, index=True)]


def upgrade():
    op.create_table(
        "checklist_templates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("live_items", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_owned(),
        sa.UniqueConstraint("tenant_id", "kind", name="uq_checklist_templates_tenant_kind"),
    )
    op.create_table(
        "checklist_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("template_id", sa.Integer(), sa.ForeignKey("checklist_templates.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime()),
        *_owned(),
        sa.Index("ix_checklist_items_template_id_position", "template_id", "position"),
    )
    op.create_table(
        "checklist_fills",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("filled", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("signed_at", sa.DateTime()),
        sa.Column("content", sa.JSON()),
        sa.Column("content_sha256", sa.String(length=64)),
        *_owned(),
        sa.UniqueConstraint("tenant_id", "kind", "version", name="uq_checklist_fills_tenant_kind_version"),
    )
    # One current version per unit and list, even under concurrent revisions.
    op.create_index("uq_checklist_fills_current", "checklist_fills", ["tenant_id", "kind"], unique=True,
                    sqlite_where=sa.text("is_current"), postgresql_where=sa.text("is_current"))
    op.create_table(
        "checklist_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("fill_id", sa.Integer(), sa.ForeignKey("checklist_fills.id"), nullable=False),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("checklist_items.id"), nullable=False, index=True),
        sa.Column("responsible_name", sa.String(length=50), nullable=False),
        sa.Column("responsible_post", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=16)),
        sa.Column("evidence_text", sa.Text(), nullable=False),
        sa.Column("evidence_date", sa.Date()),
        sa.Column("updated_by_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        *_owned(),
        sa.UniqueConstraint("fill_id", "item_id", name="uq_checklist_entries_fill_item"),
    )
    op.create_table(
        "checklist_entry_uploads",
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("checklist_entries.id"), primary_key=True),
        sa.Column("upload_id", sa.Integer(), sa.ForeignKey("uploads.id"), primary_key=True),
    )
    op.create_table(
        "duty_records",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("person", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("participants", sa.Integer()),
        sa.Column("escape_routes_known", sa.Boolean()),
        sa.Column("qualified", sa.Boolean()),
        sa.Column("agreement_signed", sa.Boolean()),
        sa.Column("duties_clear", sa.Boolean()),
        sa.Column("managed", sa.Boolean()),
        sa.Column("worker_type", sa.String(length=16)),
        sa.Column("passed", sa.Boolean()),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_owned(),
        sa.Index("ix_duty_records_tenant_id_kind_occurred_on", "tenant_id", "kind", "occurred_on"),
    )
    op.create_table(
        "duty_record_uploads",
        sa.Column("record_id", sa.Integer(), sa.ForeignKey("duty_records.id"), primary_key=True),
        sa.Column("upload_id", sa.Integer(), sa.ForeignKey("uploads.id"), primary_key=True),
    )
    op.create_table(
        "special_workers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("work_type", sa.String(length=16), nullable=False),
        sa.Column("certificate_no", sa.String(length=32), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("removed_on", sa.Date()),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_owned(),
        sa.Index("ix_special_workers_tenant_id_removed_on", "tenant_id", "removed_on"),
    )
    op.create_table(
        "enterprise_statuses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("deputy_duties_signed", sa.Boolean(), nullable=False),
        sa.Column("all_staff_duties_signed", sa.Boolean(), nullable=False),
        sa.Column("campaign_tasks_signed", sa.Boolean(), nullable=False),
        sa.Column("open_findings", sa.Integer(), nullable=False),
        sa.Column("failing_since", sa.Date()),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        *_owned(),
        sa.UniqueConstraint("tenant_id", name="uq_enterprise_statuses_tenant_id"),
        sa.Index("ix_enterprise_statuses_tenant_path_failing_since", "tenant_path", "failing_since"),
    )
    op.create_table(
        "compliance_findings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("spot_row", sa.String(length=40)),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("resolved_on", sa.Date()),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        *_owned(),
        sa.Index("ix_compliance_findings_tenant_path_resolved_on", "tenant_path", "resolved_on", "since"),
        sa.Index("ix_compliance_findings_spot_row_since", "spot_row", "since"),
    )
    # One open finding per enterprise and subject; closed ones stay as history.
    op.create_index("uq_compliance_findings_open", "compliance_findings", ["tenant_id", "code", "subject"],
                    unique=True, sqlite_where=sa.text("resolved_on IS NULL"),
                    postgresql_where=sa.text("resolved_on IS NULL"))


def downgrade():
    op.drop_table("compliance_findings")
    op.drop_table("enterprise_statuses")
    op.drop_table("special_workers")
    op.drop_table("duty_record_uploads")
    op.drop_table("duty_records")
    op.drop_table("checklist_entry_uploads")
    op.drop_table("checklist_entries")
    op.drop_table("checklist_fills")
    op.drop_table("checklist_items")
    op.drop_table("checklist_templates")
