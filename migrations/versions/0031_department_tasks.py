"""a department's task reaches the enterprises it supervises under streets: the task and its files
are read by whoever reads one of its assignments, and the departments and 站所 of a unit's levels
(which may task it) by their names (PostgreSQL row-level security behind the listener, which lets
through only those that did; tenants.rls.REACHED). SQLite: nothing.

Revision ID: 0031
Revises: (see down_revision)
"""
from alembic import op

from tenants import rls

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

TABLES = tuple(rls.REACHED)
INHERITED = ("tasks", "task_attachments")


def upgrade():
    rls.unprotect(op, TABLES)
    rls.protect(op, TABLES, inherited=INHERITED)


def downgrade():
    rls.unprotect(op, TABLES)
    rls.protect(op, TABLES, inherited=INHERITED, reached=False)
