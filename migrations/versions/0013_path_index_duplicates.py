"""drop single-column tenant_path indexes where a composite index already starts with tenant_path

Every subtree count or list is a range on tenant_path; the composite index serves it as well, so
the single-column index beside it only slowed writes (and hazard imports).

Revision ID: 0013
Revises: 0012
"""
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLES = ("accidents", "accountability_records", "assignments", "compliance_findings", "enterprise_statuses",
          "hazards", "inspections", "manual_figures", "report_submissions", "tips")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_tenant_path")


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_tenant_path", ["tenant_path"], unique=False)
