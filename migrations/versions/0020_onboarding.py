"""an enterprise's address (生产经营地址), entered with it on registration or in a bulk import

Revision ID: 0020
Revises: (see down_revision)
"""
import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=200), server_default="", nullable=False))


def downgrade():
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("address")
