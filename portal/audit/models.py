"""One row per write, in the same transaction as the write."""
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import relationship

from portal.extensions import db
from tenants.clock import now
from tenants.models import TenantOwned


class AuditEvent(TenantOwned, db.Model):
    __tablename__ = "audit_events"

    id = db.Column(db.Integer, primary_key=True)
    # Position in this tenant's chain; unique, so a fork cannot be stored even if a lock failed.
    seq = db.Column(db.Integer, nullable=False)
    actor_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    action = db.Column(db.String(64), nullable=False, index=True)
    object_type = db.Column(db.String(64), nullable=False, default="")
    object_id = db.Column(db.Integer)
    data = db.Column(db.JSON, nullable=False, default=dict)
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    prev_hash = db.Column(db.String(64), nullable=False)
    hash = db.Column(db.String(64), nullable=False)

    actor = relationship("User")

    __table_args__ = (UniqueConstraint("tenant_id", "seq", name="uq_audit_events_tenant_seq"),)
