"""reminders outside the portal: each person's e-mail address and choice of channel, and every
message sent by e-mail or the SMS/IM gateway with its attempts

Revision ID: 0029
Revises: (see down_revision)
"""
import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=120), server_default="", nullable=False))
        batch_op.add_column(sa.Column("remind_by", sa.String(length=8), server_default="email", nullable=False))
    op.create_table("reminder_sends",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("user_id", sa.Integer(), nullable=False),
                    sa.Column("channel", sa.String(length=8), nullable=False),
                    sa.Column("address", sa.String(length=120), nullable=False),
                    sa.Column("subject", sa.String(length=200), nullable=False),
                    sa.Column("body", sa.Text(), nullable=False),
                    sa.Column("status", sa.String(length=8), nullable=False),
                    sa.Column("attempts", sa.Integer(), nullable=False),
                    sa.Column("error", sa.String(length=300), nullable=False),
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.Column("sent_at", sa.DateTime(), nullable=True),
                    sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_reminder_sends_user_id_users")),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_sends")))
    op.create_index(op.f("ix_reminder_sends_user_id"), "reminder_sends", ["user_id"])


def downgrade():
    op.drop_index(op.f("ix_reminder_sends_user_id"), table_name="reminder_sends")
    op.drop_table("reminder_sends")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("remind_by")
        batch_op.drop_column("email")
