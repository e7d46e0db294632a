"""API tokens of a unit. Each acts through an account of its own (a user that cannot log in,
with one membership at the unit), so every service, audit event and scope rule that takes a
membership takes the token's, unchanged."""
from sqlalchemy.orm import relationship

from portal.extensions import db
from tenants.clock import now
from tenants.models import TenantOwned


class ApiToken(TenantOwned, db.Model):
    __tablename__ = "api_tokens"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64), nullable=False)
    # The first characters, shown so a person can tell tokens apart; the token itself is shown
    # once when created and stored only as its SHA-256 (it has 256 random bits: no salt needed).
    prefix = db.Column(db.String(12), nullable=False)
    digest = db.Column(db.String(64), nullable=False, unique=True)
    membership_id = db.Column(db.ForeignKey("memberships.id"), nullable=False)
    created_by_id = db.Column(db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    revoked_at = db.Column(db.DateTime)
    revoked_by_id = db.Column(db.ForeignKey("users.id"))
    last_used_at = db.Column(db.DateTime)

    membership = relationship("Membership")
    created_by = relationship("User", foreign_keys=[created_by_id])

    @property
    def in_force(self) -> bool:
        return self.revoked_at is None
