"""Tips owned by the street (or district) they were sent to, and their photos. A flood from one
address is held back by portal.ratelimit."""
from sqlalchemy.orm import relationship

from portal.extensions import db
from portal.uploads.models import Upload
from tenants.clock import now
from tenants.models import TenantOwned

STATUSES = {"received": "已受理，正在核查", "verified": "已核查：属实", "unfounded": "已核查：不属实"}


class Tip(TenantOwned, db.Model):
    __tablename__ = "tips"

    id = db.Column(db.Integer, primary_key=True)
    # SHA-256 of the tracking code: the code itself is the reporter's secret and is not stored.
    code_digest = db.Column(db.String(64), nullable=False, unique=True)
    enterprise_name = db.Column(db.String(100), nullable=False)
    address = db.Column(db.String(200), nullable=False, default="")
    description = db.Column(db.String(2000), nullable=False)
    anonymous = db.Column(db.Boolean, nullable=False, default=True)
    reporter_name = db.Column(db.String(64), nullable=False, default="")
    contact = db.Column(db.String(64), nullable=False, default="")
    status = db.Column(db.String(16), nullable=False, default="received")
    # Staff only: never shown on the public status page.
    note = db.Column(db.String(1000), nullable=False, default="")
    enterprise_id = db.Column(db.ForeignKey("tenants.id"))
    hazard_id = db.Column(db.ForeignKey("hazards.id"))
    verified_on = db.Column(db.Date)
    verified_by_id = db.Column(db.ForeignKey("users.id"))
    reward = db.Column(db.Numeric(12, 2))
    reward_named = db.Column(db.Boolean)
    rewarded_on = db.Column(db.Date)
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    tenant = relationship("Tenant", foreign_keys="Tip.tenant_id")
    enterprise = relationship("Tenant", foreign_keys=[enterprise_id])
    hazard = relationship("Hazard")
    verified_by = relationship("User")
    photos = relationship("TipPhoto", back_populates="tip", order_by="TipPhoto.id")

    __table_args__ = (db.Index("ix_tips_tenant_path_id", "tenant_path", "id"),)

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]


class TipPhoto(TenantOwned, db.Model):
    """A photo sent with a tip: an upload of the street the tip went to (portal.uploads)."""

    __tablename__ = "tip_photos"

    id = db.Column(db.Integer, primary_key=True)
    tip_id = db.Column(db.ForeignKey("tips.id"), nullable=False, index=True)
    upload_id = db.Column(db.ForeignKey("uploads.id"), nullable=False)

    tip = relationship("Tip", back_populates="photos")
    upload = relationship(Upload)
