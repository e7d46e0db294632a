"""merge the module branches (plans, hazards, uploads, checklists, inspections, dispatch) into one head

The modules were built side by side on 0002; this revision joins them so `flask db migrate`
has a single head to build on.

Revision ID: 0009
Revises: 0006, 0008
"""
revision = "0009"
down_revision = ("0006", "0008")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
