"""reminders: when each message was claimed for sending, so one left 发送中 by a host that died
mid-send is taken up again

Revision ID: 0035
Revises: (see down_revision)
"""
import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reminder_sends", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("reminder_sends", schema=None) as batch_op:
        batch_op.drop_column("claimed_at")
