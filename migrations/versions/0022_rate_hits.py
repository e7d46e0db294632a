"""rate limits shared by every host: the tips-only throttle becomes rate_hits, counted per bucket
(the old rows are counters of the last hour, not records: they are not carried over)

Revision ID: 0022
Revises: (see down_revision)
"""
import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table("tip_throttle")
    op.create_table("rate_hits",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("bucket", sa.String(length=32), nullable=False),
                    sa.Column("key_hash", sa.String(length=64), nullable=False),
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_hits")))
    op.create_index("ix_rate_hits_bucket_key_created", "rate_hits", ["bucket", "key_hash", "created_at"])


def downgrade():
    op.drop_index("ix_rate_hits_bucket_key_created", table_name="rate_hits")
    op.drop_table("rate_hits")
    op.create_table("tip_throttle",
                    sa.Column("id", sa.Integer(), nullable=False),
                    sa.Column("address_hash", sa.String(length=64), nullable=False),
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_tip_throttle")))
    op.create_index("ix_tip_throttle_address_created", "tip_throttle", ["address_hash", "created_at"])
