"""Accountability records, owned by the node that decided them so every level above reads them,
and the 提醒函/督办函 as delivered to the unit they are addressed to, with its reply."""
from sqlalchemy import CheckConstraint
from sqlalchemy.orm import relationship

from portal.extensions import db
from portal.inspections.models import Accident
from portal.uploads.models import StoredFile
from tenants import clock
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


# Where a letter stands. 逾期未回复 is not a state: a 督办函 still "sent" after its reply-by date.
LETTER_STATES = {"sent": "待回复", "replied": "已回复", "closed": "已办结"}


class Letter(TenantOwned, db.Model):
    """A 提醒函 or 督办函 as delivered, owned by the unit it is addressed to: that unit reads it and
    replies, and the issuer and every level above it read it, while the decision itself
    (AccountabilityRecord) and its PDF stay filed under the issuer. What the receiver reads is
    copied here as sent, since the receiver may not read the issuer's records."""

    __tablename__ = "letters"

    id = db.Column(db.Integer, primary_key=True)
    record_id = db.Column(db.ForeignKey("accountability_records.id"), nullable=False, unique=True)
    issuer_id = db.Column(db.ForeignKey("tenants.id"), nullable=False, index=True)
    measure = db.Column(db.String(24), nullable=False)
    issuer_name = db.Column(db.String(100), nullable=False)
    document_number = db.Column(db.String(64), nullable=False, default="")
    reason = db.Column(db.Text, nullable=False)
    requirement = db.Column(db.Text, nullable=False, default="")
    # What the letter is about, as it read when sent: [{"key", "text"}] (an overdue task, a late report …).
    basis = db.Column(db.JSON, nullable=False, default=list)
    sent_on = db.Column(db.Date, nullable=False)
    # The day a 督办函's written reply is due; a 提醒函 demands none.
    reply_by = db.Column(db.Date)
    state = db.Column(db.String(16), nullable=False, default="sent")
    reply = db.Column(db.Text, nullable=False, default="")
    replied_at = db.Column(db.DateTime)
    replied_by_id = db.Column(db.ForeignKey("users.id"))
    outcome = db.Column(db.Text, nullable=False, default="")
    closed_at = db.Column(db.DateTime)
    closed_by_id = db.Column(db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    record = relationship(AccountabilityRecord)
    issuer = relationship("Tenant", foreign_keys=[issuer_id])
    tenant = relationship("Tenant", foreign_keys="Letter.tenant_id")
    replied_by = relationship("User", foreign_keys=[replied_by_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])
    files = relationship("LetterFile", back_populates="letter", order_by="LetterFile.id")

    __table_args__ = (
        db.Index("ix_letters_tenant_path_state", "tenant_path", "state", "reply_by"),
        db.Index("ix_letters_issuer_id_state", "issuer_id", "state", "reply_by"),
        CheckConstraint("state IN ('sent', 'replied', 'closed')", name="state"),
        CheckConstraint("measure IN ('reminder_letter', 'supervision_letter')", name="measure"),
    )

    @classmethod
    def read_criteria(cls, scope):
        """The receiver, the levels above it (the issuer among them) and nobody beside: not the
        departments that supervise an enterprise receiving it."""
        return scope.subtree(cls.tenant_path)

    @property
    def measure_label(self) -> str:
        return MEASURES[self.measure]

    @property
    def late(self) -> bool:
        """A 督办函 not replied to by its date: 逾期未回复."""
        return self.state == "sent" and self.reply_by is not None and self.reply_by < clock.today()

    @property
    def replied_late(self) -> bool:
        return self.replied_at is not None and self.reply_by is not None \
            and clock.day_of(self.replied_at) > self.reply_by

    def replied_on_or_before(self, end) -> bool:
        return self.replied_at is not None and clock.day_of(self.replied_at) <= end

    def outcome_on(self, end) -> str:
        """Where the letter stood at the end of day `end` (a dossier's cut-off)."""
        if self.closed_at is not None and clock.day_of(self.closed_at) <= end:
            return "已办结"
        if self.replied_on_or_before(end):
            return "已回复（逾期回复）" if self.replied_late else "已回复"
        if self.reply_by is not None and self.reply_by < end:
            return "逾期未回复"
        return "待回复" if self.reply_by is not None else "已送达"

    @property
    def state_label(self) -> str:
        if self.late:
            return "逾期未回复"
        if self.state == "sent" and self.reply_by is None:
            return "已送达"
        return LETTER_STATES[self.state]


class LetterFile(StoredFile, TenantOwned, db.Model):
    """A file of a letter's reply. Its bytes are kept here rather than as an upload, so the file is
    read exactly by those who read the letter (an upload is read by supervising departments too)."""

    __tablename__ = "letter_files"
    index_tenant_path = False

    id = db.Column(db.Integer, primary_key=True)
    letter_id = db.Column(db.ForeignKey("letters.id"), nullable=False, index=True)

    letter = relationship(Letter, back_populates="files")

    @classmethod
    def read_criteria(cls, scope):
        """As its letter's (Letter.read_criteria)."""
        return scope.subtree(cls.tenant_path)
