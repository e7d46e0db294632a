"""dispatch: kept figures summed from the levels below (dispatch_rollups.counted) and the change
log that tells the refresh which districts to recount (dispatch_changes)

Revision ID: 0037
Revises: (see down_revision)
"""
import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None

PathType = sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")


def upgrade():
    # The hourly roll-ups have no summable part: the first refresh counts every kept node afresh.
    op.execute("DELETE FROM dispatch_rollups")
    with op.batch_alter_table("dispatch_rollups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("counted", sa.JSON(), nullable=True))
    op.create_table(
        "dispatch_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", PathType, nullable=False),
        sa.Column("marked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_changes")),
    )
    op.create_index(op.f("ix_dispatch_changes_path"), "dispatch_changes", ["path"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_dispatch_changes_path"), table_name="dispatch_changes")
    op.drop_table("dispatch_changes")
    with op.batch_alter_table("dispatch_rollups", schema=None) as batch_op:
        batch_op.drop_column("counted")
