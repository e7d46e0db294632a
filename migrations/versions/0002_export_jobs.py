"""exports run as background jobs: status, progress, error, builder params

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("export_documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("status", sa.String(length=16), nullable=False, server_default="done"))
        batch_op.add_column(sa.Column("progress", sa.Integer(), nullable=False, server_default="100"))
        batch_op.add_column(sa.Column("error", sa.String(length=500), nullable=True))
        batch_op.alter_column("content_sha256", existing_type=sa.String(length=64), nullable=True)


def downgrade():
    with op.batch_alter_table("export_documents", schema=None) as batch_op:
        batch_op.alter_column("content_sha256", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column("error")
        batch_op.drop_column("progress")
        batch_op.drop_column("status")
        batch_op.drop_column("params")
