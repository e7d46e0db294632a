"""row-level security on every tenant-owned table, behind the ORM listener (PostgreSQL only)

The app's role (portal_app: no login, owns nothing, no superuser) with its grants, the functions
that read the per-transaction scope settings, and a FORCEd policy on `tenants` and on every table
of a tenants.models.Scoped model. SQLite: nothing.

Revision ID: 0017
Revises: (see down_revision)
"""
from alembic import op

from tenants import rls

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

OWNED = ("accidents", "accountability_records", "assignment_reports", "assignments", "audit_events",
         "checklist_entries", "checklist_fills", "compliance_findings", "dispatch_rollups", "duty_records",
         "enforcement_actions", "enterprise_statuses", "export_documents", "hazard_photos", "hazards",
         "inspection_findings", "inspection_hazards", "inspection_items", "inspection_signatures", "inspections",
         "manual_figures", "memberships", "notification_reads", "notifications", "report_files",
         "report_submissions", "special_workers", "tip_photos", "tips", "uploads")
INHERITED = ("checklist_items", "checklist_templates", "plan_clauses", "plan_phases", "plans",
             "report_definitions", "standard_items", "standards", "task_attachments", "tasks", "tenant_settings")


def upgrade():
    rls.create_role(op)
    rls.protect(op, ("tenants", *OWNED, *INHERITED), inherited=INHERITED)


def downgrade():
    rls.unprotect(op, ("tenants", *OWNED, *INHERITED))
    rls.drop_role_grants(op)
