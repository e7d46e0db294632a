"""every duty rule judged: hot-work permits (approver, guard, time window, equipment and fire checks)
as duty records, and the unit whose rule a compliance finding breaks

Revision ID: 0033
Revises: 0029
"""
import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("duty_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approver", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("guard", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("starts_at", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("ends_at", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("equipment_checked", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("fire_measures_checked", sa.Boolean(), nullable=True))
    with op.batch_alter_table("compliance_findings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=200), server_default="", nullable=False))


def downgrade():
    with op.batch_alter_table("compliance_findings", schema=None) as batch_op:
        batch_op.drop_column("source")
    with op.batch_alter_table("duty_records", schema=None) as batch_op:
        for name in ("fire_measures_checked", "equipment_checked", "ends_at", "starts_at", "guard", "approver"):
            batch_op.drop_column(name)
