"""a responsibility-list item that is one of the principal's duties (应急演练, 警示教育, 外包外租排查 …),
and the duty record an answer to it rests on, so the fact is typed once

The national 专项行动工作清单 items of the 2023 action that are duties are marked by their titles.

Revision ID: 0024
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# The 2023 action's national items (seed 002) and the duty each is.
NATIONAL_DUTIES = {
    "组织对动火等危险作业开展排查整治": "education",
    "组织对外包外租等生产经营活动开展排查整治": "outsourcing",
    "组织开展事故应急救援演练活动": "drill",
}


def upgrade():
    with op.batch_alter_table("checklist_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duty", sa.String(length=16), nullable=True))
    with op.batch_alter_table("checklist_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("duty_record_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_checklist_entries_duty_record_id_duty_records", "duty_records",
                                    ["duty_record_id"], ["id"])
        batch_op.create_index("ix_checklist_entries_duty_record_id", ["duty_record_id"], unique=False)
    items = sa.table("checklist_items", sa.column("title", sa.String), sa.column("duty", sa.String))
    for title, duty in NATIONAL_DUTIES.items():
        op.execute(items.update().where(items.c.title == title).values(duty=duty))


def downgrade():
    with op.batch_alter_table("checklist_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_checklist_entries_duty_record_id")
        batch_op.drop_constraint("fk_checklist_entries_duty_record_id_duty_records", type_="foreignkey")
        batch_op.drop_column("duty_record_id")
    with op.batch_alter_table("checklist_items", schema=None) as batch_op:
        batch_op.drop_column("duty")
