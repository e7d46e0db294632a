"""an accountability record carries the key of the form it came from, unique, so a double
submission records one decision; records made before (and by the demo or CLI) have none

Revision ID: 0016
Revises: (see down_revision)
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("accountability_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_key", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint("uq_accountability_records_request_key", ["request_key"])


def downgrade():
    with op.batch_alter_table("accountability_records", schema=None) as batch_op:
        batch_op.drop_constraint("uq_accountability_records_request_key", type_="unique")
        batch_op.drop_column("request_key")
