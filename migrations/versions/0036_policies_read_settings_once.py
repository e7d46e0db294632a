"""row-level security: the policies read the scope settings once per statement (as InitPlans)
instead of once per row, and a department's reach is computed when a statement runs, not each time
one is planned; the functions and every policy are made again from tenants.rls

Revision ID: 0036
Revises: (see down_revision)
"""
from alembic import op
from sqlalchemy import text

from tenants import rls

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def _recreate():
    """Each table's policy as tenants.rls.visible now writes it, of the same kind as the policy it
    had: one that lets the owner's ancestors' rows through (it calls portal_scope_ancestors) is an
    inherited table's; one without a department's reach (no portal_scope_supervised) is a
    subtree-only table's (letters)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    policies = op.get_bind().execute(text(
        "SELECT tablename, qual FROM pg_policies WHERE schemaname = current_schema() AND policyname = :name"),
        {"name": rls.POLICY}).all()
    for table, qual in policies:
        condition = rls.visible(table, table != "tenants" and "portal_scope_ancestors" in qual,
                                subtree_only="portal_scope_supervised" not in qual and table != "tenants")
        op.execute(f"ALTER POLICY {rls.POLICY} ON {table} USING ({condition}) WITH CHECK ({condition})")


def upgrade():
    rls.create_role(op)  # the role exists: its grants and the functions, made again (CREATE OR REPLACE)
    _recreate()


def downgrade():
    # The per-row form gave the same rows, only slower; going down keeps the faster policies.
    pass
