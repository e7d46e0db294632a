"""a task sent can be withdrawn (撤回): it keeps its rows, with when and why; its assignments 已撤回

A withdrawn task is never deleted (accountability traces read it); its open assignments move to
the state `withdrawn`, which the boards and the receivers' lists leave out. Changing a deadline
(延期) needs no column: the task and its assignments keep theirs, the audit chain the old one.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

STATES = "'pending', 'in_progress', 'reported', 'done', 'returned'"


def upgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("withdrawn_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_constraint("state", type_="check")
        batch_op.create_check_constraint("state", f"state IN ({STATES}, 'withdrawn')")


def downgrade():
    # Only an unreported assignment can be withdrawn: it was pending, or in progress once signed.
    op.execute("UPDATE assignments SET state = CASE WHEN signed_at IS NULL THEN 'pending' ELSE 'in_progress' END "
               "WHERE state = 'withdrawn'")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_constraint("state", type_="check")
        batch_op.create_check_constraint("state", f"state IN ({STATES})")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_reason")
        batch_op.drop_column("withdrawn_at")
