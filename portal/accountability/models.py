"""Accountability records, owned by the node that decided them so every level above reads them."""
from sqlalchemy.orm import relationship

from portal.extensions import db
from portal.inspections.models import Accident
from tenants.clock import now
from tenants.models import TenantOwned

MEASURES = {
    "reminder_letter": "提醒函",
    "supervision_letter": "督办函",
    "interview": "约谈",
    "circular": "通报",
    "accountability": "问责",
    "judicial_referral": "移送司法机关",
}
LETTERS = ("reminder_letter", "supervision_letter")
# 约谈通报有关地区及部门: these measures aimed at a unit rather than a person.
UNIT_MEASURES = ("interview", "circular")


class AccountabilityRecord(TenantOwned, db.Model):
    __tablename__ = "accountability_records"

    id = db.Column(db.Integer, primary_key=True)
    # Kind of the deciding government level: 省、市、县分别统计.
    level = db.Column(db.String(16), nullable=False)
    measure = db.Column(db.String(24), nullable=False)
    subject_unit_id = db.Column(db.ForeignKey("tenants.id"), nullable=False, index=True)
    # Copied as decided: the unit may be renamed, and a person is named as they were then.
    subject_unit_name = db.Column(db.String(100), nullable=False)
    subject_person = db.Column(db.String(64), nullable=False, default="")
    subject_post = db.Column(db.String(64), nullable=False, default="")
    subject_user_id = db.Column(db.ForeignKey("users.id"))
    reason = db.Column(db.Text, nullable=False)
    requirement = db.Column(db.Text, nullable=False, default="")
    # The trace items the decision rests on, as they read when it was made: [{"key", "text"}].
    basis = db.Column(db.JSON, nullable=False, default=list)
    enterprise_id = db.Column(db.ForeignKey("tenants.id"), index=True)
    accident_id = db.Column(db.ForeignKey("accidents.id"))
    decided_on = db.Column(db.Date, nullable=False)
    document_number = db.Column(db.String(64), nullable=False, default="")
    issuer = db.Column(db.String(100), nullable=False)
    created_by_id = db.Column(db.ForeignKey("users.id"))
    # One key per form shown, so a double submission records one decision (empty for records
    # made outside the form: the demo, the command line).
    request_key = db.Column(db.String(64), unique=True)
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    tenant = relationship("Tenant", foreign_keys="AccountabilityRecord.tenant_id")
    subject_unit = relationship("Tenant", foreign_keys=[subject_unit_id])
    subject_user = relationship("User", foreign_keys=[subject_user_id])
    enterprise = relationship("Tenant", foreign_keys=[enterprise_id])
    accident = relationship(Accident)
    created_by = relationship("User", foreign_keys=[created_by_id])

    __table_args__ = (db.Index("ix_accountability_records_tenant_path_decided_on", "tenant_path", "decided_on"),)

    @property
    def measure_label(self) -> str:
        return MEASURES[self.measure]

    @property
    def is_letter(self) -> bool:
        return self.measure in LETTERS
