"""提醒函/督办函 delivered to the unit they are addressed to, with the reply a 督办函 demands (its text
and files) and the issuer's 办结

Revision ID: 0032
Revises: (see down_revision)
"""
import sqlalchemy as sa
from alembic import op

from tenants import rls
from tenants.models import PathType

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("issuer_id", sa.Integer(), nullable=False),
        sa.Column("measure", sa.String(length=24), nullable=False),
        sa.Column("issuer_name", sa.String(length=100), nullable=False),
        sa.Column("document_number", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requirement", sa.Text(), nullable=False),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("reply_by", sa.Date(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.Column("replied_at", sa.DateTime(), nullable=True),
        sa.Column("replied_by_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("tenant_path", PathType, nullable=False),
        sa.CheckConstraint("state IN ('sent', 'replied', 'closed')", name="state"),
        sa.CheckConstraint("measure IN ('reminder_letter', 'supervision_letter')", name="measure"),
        sa.ForeignKeyConstraint(["record_id"], ["accountability_records.id"],
                                name=op.f("fk_letters_record_id_accountability_records")),
        sa.ForeignKeyConstraint(["issuer_id"], ["tenants.id"], name=op.f("fk_letters_issuer_id_tenants")),
        sa.ForeignKeyConstraint(["replied_by_id"], ["users.id"], name=op.f("fk_letters_replied_by_id_users")),
        sa.ForeignKeyConstraint(["closed_by_id"], ["users.id"], name=op.f("fk_letters_closed_by_id_users")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_letters_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letters")),
        sa.UniqueConstraint("record_id", name=op.f("uq_letters_record_id")),
    )
    op.create_index(op.f("ix_letters_issuer_id"), "letters", ["issuer_id"])
    op.create_index(op.f("ix_letters_tenant_id"), "letters", ["tenant_id"])
    op.create_index("ix_letters_tenant_path_state", "letters", ["tenant_path", "state", "reply_by"])
    op.create_index("ix_letters_issuer_id_state", "letters", ["issuer_id", "state", "reply_by"])
    op.create_table(
        "letter_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("letter_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("mimetype", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("tenant_path", PathType, nullable=False),
        sa.ForeignKeyConstraint(["letter_id"], ["letters.id"], name=op.f("fk_letter_files_letter_id_letters")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_letter_files_created_by_id_users")),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_letter_files_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letter_files")),
    )
    op.create_index(op.f("ix_letter_files_letter_id"), "letter_files", ["letter_id"])
    op.create_index(op.f("ix_letter_files_tenant_id"), "letter_files", ["tenant_id"])
    # Read like Letter.read_criteria: the receiver's subtree and the levels above it, not the
    # departments supervising an enterprise that receives one.
    rls.protect(op, ("letters", "letter_files"), subtree_only=("letters", "letter_files"))


def downgrade():
    rls.unprotect(op, ("letters", "letter_files"))
    op.drop_table("letter_files")
    op.drop_table("letters")
