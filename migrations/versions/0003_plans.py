"""plans: campaigns, plans, phases, clauses, tasks, assignments, reports, files, notifications

Revision ID: 0003
Revises: 0002
Depends on: 0005 (report files are uploads)
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
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
        "campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False, unique=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False, index=True),
        sa.Column("parent_plan_id", sa.Integer(), sa.ForeignKey("plans.id"), index=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("doc_number", sa.String(length=64), nullable=False),
        sa.Column("issuer", sa.String(length=100), nullable=False),
        sa.Column("issued_on", sa.Date()),
        sa.Column("recipients", sa.String(length=300), nullable=False),
        sa.Column("preamble", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_owned(),
        sa.UniqueConstraint("tenant_id", "campaign_id", name="uq_plans_tenant_campaign"),
    )
    op.create_table(
        "plan_phases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("starts_on", sa.Date()),
        sa.Column("ends_on", sa.Date()),
        sa.Column("body", sa.Text(), nullable=False),
        *_owned(),
        sa.CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates_in_order"),
    )
    op.create_table(
        "plan_clauses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("replaces_id", sa.Integer(), sa.ForeignKey("plan_clauses.id"), index=True),
        sa.Column("rule", sa.String(length=32)),
        sa.Column("rule_value", sa.JSON()),
        *_owned(),
        sa.UniqueConstraint("plan_id", "replaces_id", name="uq_plan_clauses_plan_replaces"),
        sa.UniqueConstraint("plan_id", "rule", name="uq_plan_clauses_plan_rule"),
    )
    # tasks ↔ assignments refer to each other (a sub-task names the assignment it passes down);
    # the tasks → assignments key is added once both tables exist.
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("phase_id", sa.Integer(), sa.ForeignKey("plan_phases.id"), nullable=False, index=True),
        sa.Column("parent_assignment_id", sa.Integer(), index=True),
        sa.Column("request_key", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_owned(),
        sa.Index("ix_tasks_tenant_id_id", "tenant_id", "id"),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id"), nullable=False),
        sa.Column("assigner_id", sa.Integer(), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("signed_at", sa.DateTime()),
        sa.Column("reported_at", sa.DateTime()),
        sa.Column("done_at", sa.DateTime()),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("last_reminded_at", sa.DateTime()),
        *_owned(),
        sa.UniqueConstraint("task_id", "tenant_id", name="uq_assignments_task_tenant"),
        sa.CheckConstraint("state IN ('pending', 'in_progress', 'reported', 'done', 'returned')", name="state"),
        sa.Index("ix_assignments_task_id_state", "task_id", "state", "deadline"),
        sa.Index("ix_assignments_assigner_id_tenant_id", "assigner_id", "tenant_id", "state", "deadline"),
        sa.Index("ix_assignments_tenant_path_state", "tenant_path", "state", "deadline"),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_tasks_parent_assignment_id_assignments", "assignments",
                                    ["parent_assignment_id"], ["id"])
    op.create_table(
        "assignment_reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("assignment_id", sa.Integer(), sa.ForeignKey("assignments.id"), nullable=False, index=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=16)),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("reviewed_at", sa.DateTime()),
        *_owned(),
    )
    op.create_table(
        "report_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("assignment_reports.id"), nullable=False, index=True),
        sa.Column("upload_id", sa.Integer(), sa.ForeignKey("uploads.id"), nullable=False),
        *_owned(),
    )
    op.create_table(
        "task_attachments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_id", sa.Integer(), sa.ForeignKey("tasks.id"), nullable=False, index=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("mimetype", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        *_owned(),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("assignment_id", sa.Integer(), sa.ForeignKey("assignments.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        *_owned(),
        sa.Index("ix_notifications_tenant_id_id", "tenant_id", "id"),
    )
    op.create_table(
        "notification_reads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("notification_id", sa.Integer(), sa.ForeignKey("notifications.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=False),
        *_owned(),
        sa.UniqueConstraint("notification_id", "user_id", name="uq_notification_reads_notification_user"),
    )


def downgrade():
    op.drop_table("notification_reads")
    op.drop_table("notifications")
    op.drop_table("task_attachments")
    op.drop_table("report_files")
    op.drop_table("assignment_reports")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_constraint("fk_tasks_parent_assignment_id_assignments", type_="foreignkey")
    op.drop_table("assignments")
    op.drop_table("tasks")
    op.drop_table("plan_clauses")
    op.drop_table("plan_phases")
    op.drop_table("plans")
    op.drop_table("campaigns")
