"""an inspection and a hazard found on it carry the key of the form they came from, unique, so the
same form sent twice from a phone (a dropped connection, a second tap) records one

Revision ID: 0028
Revises: (see down_revision)
"""
import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    for table in ("inspections", "inspection_hazards"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("request_key", sa.String(length=64), nullable=True))
            batch_op.create_unique_constraint(f"uq_{table}_request_key", ["request_key"])


def downgrade():
    for table in ("inspections", "inspection_hazards"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"uq_{table}_request_key", type_="unique")
            batch_op.drop_column("request_key")
