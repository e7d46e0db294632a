"""The codes an enterprise has been given: one in force, the revoked ones kept so an old poster
can say it is void."""
from sqlalchemy.orm import relationship

from portal.extensions import db
from tenants.clock import now
from tenants.models import TenantOwned


class EnterpriseCode(TenantOwned, db.Model):
    """A code of the enterprise that owns it. The token is what the QR code carries: random, not
    the enterprise's id, so nobody can walk the enterprises by counting. It is public (printed at
    the gate), so it is stored as is; it grants nothing but the tip form."""

    __tablename__ = "enterprise_codes"

    id = db.Column(db.Integer, primary_key=True)
    token = db.Column(db.String(32), nullable=False, unique=True)
    issued_at = db.Column(db.DateTime, nullable=False, default=now)
    issued_by_id = db.Column(db.ForeignKey("users.id"))
    revoked_at = db.Column(db.DateTime)
    revoked_by_id = db.Column(db.ForeignKey("users.id"))

    issued_by = relationship("User", foreign_keys=[issued_by_id])
    revoked_by = relationship("User", foreign_keys=[revoked_by_id])

    # One code in force per enterprise: of two admins issuing at once, the second insert fails.
    __table_args__ = (db.Index("uq_enterprise_codes_in_force", "tenant_id", unique=True,
                               sqlite_where=db.text("revoked_at IS NULL"),
                               postgresql_where=db.text("revoked_at IS NULL")),)

    @property
    def in_force(self) -> bool:
        return self.revoked_at is None
