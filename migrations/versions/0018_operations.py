"""production operation: export jobs keep their whole state (who, attempts, heartbeat); the
runs of periodic jobs, unique per (job, slot), which is also their lock

Revision ID: 0018
Revises: (see down_revision)
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("export_documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("membership_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("heavy", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key("fk_export_documents_membership_id_memberships", "memberships",
                                    ["membership_id"], ["id"], ondelete="SET NULL")
        batch_op.create_index("ix_export_documents_status", ["status"], unique=False)


    op.create_table(
        "schedule_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("slot", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_schedule_runs"),
        sa.UniqueConstraint("job", "slot", name="uq_schedule_runs_job_slot"),
    )
    op.create_index("ix_schedule_runs_started_at", "schedule_runs", ["started_at"], unique=False)


def downgrade():
    op.drop_index("ix_schedule_runs_started_at", table_name="schedule_runs")
    op.drop_table("schedule_runs")
    with op.batch_alter_table("export_documents", schema=None) as batch_op:
        batch_op.drop_index("ix_export_documents_status")
        batch_op.drop_constraint("fk_export_documents_membership_id_memberships", type_="foreignkey")
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("attempts")
        batch_op.drop_column("heavy")
        batch_op.drop_column("membership_id")
