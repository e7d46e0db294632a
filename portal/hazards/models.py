"""Standards with numbered items, hazards owned by their enterprise, and hazard photos."""
from sqlalchemy import text
from sqlalchemy.orm import relationship

from portal.extensions import db
from portal.uploads.models import Upload
from tenants import clock
from tenants.clock import now
from tenants.models import Inherited, TenantOwned

LEVELS = {"major": "重大事故隐患", "general": "一般隐患"}
SOURCES = {"self": "企业自查", "department": "部门检查", "tip": "举报"}
STATUSES = {
    "pending": "待整改",
    "rectifying": "整改中",
    "rectified": "已整改待验收",
    "accepted": "已验收",
    "closed": "已销号",
}
OPEN_STATUSES = ("pending", "rectifying")
STANDARD_KINDS = {"standard": "判定标准", "key_items": "重点检查事项"}


class Standard(Inherited, db.Model):
    """A national determination standard (owned by the national root) or the key check items a
    level publishes; it applies to the owner's whole subtree for the industries it names."""

    __tablename__ = "standards"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(16), nullable=False)
    code = db.Column(db.String(16), nullable=False, unique=True)
    name = db.Column(db.String(200), nullable=False)
    document_number = db.Column(db.String(100), nullable=False, default="")
    issuer = db.Column(db.String(100), nullable=False, default="")
    industries = db.Column(db.JSON, nullable=False, default=list)
    # How much of the official text the system holds; shown next to the name so nobody mistakes
    # a partial list for the whole standard.
    completeness = db.Column(db.String(300), nullable=False, default="")
    partial = db.Column(db.Boolean, nullable=False, default=False)
    note = db.Column(db.String(1000), nullable=False, default="")
    withdrawn_at = db.Column(db.DateTime)
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    items = relationship("StandardItem", back_populates="standard", order_by="StandardItem.seq")

    @property
    def kind_label(self) -> str:
        return STANDARD_KINDS[self.kind]


class StandardItem(Inherited, db.Model):
    __tablename__ = "standard_items"

    id = db.Column(db.Integer, primary_key=True)
    standard_id = db.Column(db.ForeignKey("standards.id"), nullable=False, index=True)
    seq = db.Column(db.Integer, nullable=False)
    # Printed in the ledger and typed into the Excel import: standard code + item number.
    code = db.Column(db.String(24), nullable=False, unique=True)
    label = db.Column(db.String(40), nullable=False)
    # The article's lead sentence ("高处作业有下列情形之一的…") that an item's text continues.
    heading = db.Column(db.String(300), nullable=False, default="")
    text = db.Column(db.String(1000), nullable=False)
    # verbatim / verbatim-single-source / truncated (see portal/hazards/data/README.md).
    status = db.Column(db.String(32), nullable=False, default="verbatim")

    standard = relationship("Standard", back_populates="items")

    @property
    def truncated(self) -> bool:
        return self.status == "truncated"

    @property
    def cited(self) -> str:
        """The item as pages and PDFs cite it: a code alone (HC2017-06) tells a reader nothing
        without the standard it numbers."""
        return f"{self.code}（{self.standard.name}{self.label}）"


class Hazard(TenantOwned, db.Model):
    """One hazard of one enterprise: tenant_path is the enterprise's path, so a subtree's ledger
    and its counts are range queries with no join."""

    __tablename__ = "hazards"

    id = db.Column(db.Integer, primary_key=True)
    level = db.Column(db.String(8), nullable=False)
    source = db.Column(db.String(16), nullable=False)
    # The industry the hazard was judged under (the enterprise's when found): the standard item
    # belongs to it, and the ledger filters by it without a join.
    industry = db.Column(db.String(32), nullable=False, default="")
    standard_item_id = db.Column(db.ForeignKey("standard_items.id"))
    description = db.Column(db.String(500), nullable=False)
    location = db.Column(db.String(200), nullable=False, default="")
    found_at = db.Column(db.Date, nullable=False)
    found_by_unit_id = db.Column(db.ForeignKey("tenants.id"), nullable=False)
    on_the_spot = db.Column(db.Boolean, nullable=False, default=False)
    # 五落实: 责任人、措施、资金（万元）、期限、应急预案.
    fix_owner = db.Column(db.String(64), nullable=False, default="")
    fix_measures = db.Column(db.String(1000), nullable=False, default="")
    fix_funds = db.Column(db.Numeric(12, 2))
    fix_deadline = db.Column(db.Date)
    fix_contingency = db.Column(db.String(1000), nullable=False, default="")
    status = db.Column(db.String(16), nullable=False, default="pending")
    # Dates of the closed loop in Beijing time: the dispatch table counts by day.
    rectified_on = db.Column(db.Date)
    accepted_on = db.Column(db.Date)
    closed_on = db.Column(db.Date)
    # 挂牌督办 by a government level; the level is copied so figures group without a join.
    listed_by_id = db.Column(db.ForeignKey("tenants.id"))
    listed_level = db.Column(db.String(16))
    listed_document_number = db.Column(db.String(100))
    listed_tracker_id = db.Column(db.ForeignKey("users.id"))
    listed_deadline = db.Column(db.Date)
    listed_on = db.Column(db.Date)
    delisted_on = db.Column(db.Date)
    created_by_id = db.Column(db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    # Named explicitly: the table has several foreign keys to tenants.
    tenant = relationship("Tenant", foreign_keys="Hazard.tenant_id")
    standard_item = relationship("StandardItem")
    found_by_unit = relationship("Tenant", foreign_keys=[found_by_unit_id])
    listed_by = relationship("Tenant", foreign_keys=[listed_by_id])
    listed_tracker = relationship("User", foreign_keys=[listed_tracker_id])
    created_by = relationship("User", foreign_keys=[created_by_id])
    photos = relationship("HazardPhoto", back_populates="hazard", order_by="HazardPhoto.id")

    # Measured in bench/hazards_ledger.py (100,000 hazards of a district among 1,000,000):
    # - the ledger pages in (tenant_path, id) order straight off this index, no sort;
    # - figures seek the major hazards of a subtree and read every column they count from the index;
    # - a status filter (and the inbox, and overdue) seeks status first, then the subtree;
    # - listed hazards are a few percent of rows: a partial index holds only them.
    __table_args__ = (
        db.Index("ix_hazards_tenant_path_id", "tenant_path", "id"),
        db.Index("ix_hazards_figures", "level", "tenant_path", "found_at", "source", "accepted_on", "listed_on",
                 "listed_level", "closed_on", "status", "fix_deadline"),
        db.Index("ix_hazards_status", "status", "tenant_path", "fix_deadline"),
        db.Index("ix_hazards_listed", "tenant_path", "id", sqlite_where=text("listed_by_id IS NOT NULL"),
                 postgresql_where=text("listed_by_id IS NOT NULL")),
    )

    @property
    def level_label(self) -> str:
        return LEVELS[self.level]

    @property
    def source_label(self) -> str:
        return SOURCES[self.source]

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def listed(self) -> bool:
        return self.listed_by_id is not None and self.delisted_on is None

    @property
    def listed_late(self) -> bool:
        """Listed, past the listing's deadline and not yet rectified: what a 督办函 may press on."""
        return self.listed and self.status in OPEN_STATUSES and self.listed_deadline is not None \
            and self.listed_deadline < clock.today()

    @property
    def has_fixes(self) -> bool:
        return bool(self.fix_owner and self.fix_measures and self.fix_funds is not None and self.fix_deadline
                    and self.fix_contingency)


class HazardPhoto(TenantOwned, db.Model):
    """A photo of a hazard: an upload of the enterprise (portal.uploads), in the hazard's order."""

    __tablename__ = "hazard_photos"

    id = db.Column(db.Integer, primary_key=True)
    hazard_id = db.Column(db.ForeignKey("hazards.id"), nullable=False, index=True)
    upload_id = db.Column(db.ForeignKey("uploads.id"), nullable=False)

    hazard = relationship("Hazard", back_populates="photos")
    upload = relationship(Upload)
