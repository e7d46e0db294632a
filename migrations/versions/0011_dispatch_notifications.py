"""notifications that are not about an assignment: a dispatch reminder (催报) links to its table

A notification names the assignment it is about or, for news of another module, the page to open
(`link`, a path inside the portal); one of the two, so the list always has somewhere to go.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("assignment_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("link", sa.String(length=300), nullable=True))
        batch_op.create_check_constraint("target", "assignment_id IS NOT NULL OR link IS NOT NULL")


def downgrade():
    op.execute("DELETE FROM notification_reads WHERE notification_id IN "
               "(SELECT id FROM notifications WHERE assignment_id IS NULL)")
    op.execute("DELETE FROM notifications WHERE assignment_id IS NULL")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_constraint("target", type_="check")
        batch_op.drop_column("link")
        batch_op.alter_column("assignment_id", existing_type=sa.Integer(), nullable=False)
