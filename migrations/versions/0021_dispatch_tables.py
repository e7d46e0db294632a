"""dispatch tables defined in the app: due month and time, start and end dates, the kinds of unit
that fill a table, the parent table it extends, and versions of a table changed after submissions

Existing tables become version 1 of their own series, filled as before by every government level
and department below (the nearest owner's tables win).

Revision ID: 0021
Revises: (see down_revision)
"""
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report_definitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("due_month", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("due_time", sa.Time(), nullable=True))
        batch_op.add_column(sa.Column("starts_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("ends_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("fillers", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("series_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("replaced_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key("fk_report_definitions_parent_id_report_definitions", "report_definitions",
                                    ["parent_id"], ["id"])
        batch_op.create_index("ix_report_definitions_series_id", ["series_id"], unique=False)
    op.execute("UPDATE report_definitions SET series_id = id, version = 1")
    op.execute("""UPDATE report_definitions SET fillers = '["province", "city", "district", "street", "department"]'""")
    op.execute("UPDATE report_definitions SET due_time = '12:00:00' WHERE period = 'week'")
    op.execute("UPDATE report_definitions SET due_month = 12, due_day = 25 WHERE period = 'year'")
    with op.batch_alter_table("report_definitions", schema=None) as batch_op:
        batch_op.alter_column("fillers", existing_type=sa.JSON(), nullable=False)
        batch_op.alter_column("version", existing_type=sa.Integer(), nullable=False)


def downgrade():
    with op.batch_alter_table("report_definitions", schema=None) as batch_op:
        batch_op.drop_index("ix_report_definitions_series_id")
        batch_op.drop_constraint("fk_report_definitions_parent_id_report_definitions", type_="foreignkey")
        for column in ("replaced_at", "version", "series_id", "parent_id", "fillers", "ends_on", "starts_on",
                       "due_time", "due_month"):
            batch_op.drop_column(column)
