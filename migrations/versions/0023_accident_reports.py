"""accidents reported by the enterprise itself, confirmed by its township or street; those
recorded before were recorded by government units and count as confirmed when recorded

Revision ID: 0023
Revises: (see down_revision)
"""
import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("accidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("self_reported", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("confirmed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_accidents_confirmed_by_id_users"), "users", ["confirmed_by_id"], ["id"])
    op.execute("UPDATE accidents SET confirmed_at = created_at, confirmed_by_id = recorded_by_id")


def downgrade():
    with op.batch_alter_table("accidents", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_accidents_confirmed_by_id_users"), type_="foreignkey")
        batch_op.drop_column("confirmed_by_id")
        batch_op.drop_column("confirmed_at")
        batch_op.drop_column("self_reported")
