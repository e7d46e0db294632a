"""Inspections owned by the unit inspected (so its street, its supervising departments and every
level above read them), the inspectors' signatures, what was checked and found, enforcement, and
accidents."""
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import relationship, validates

from portal.extensions import db
from portal.hazards.models import Hazard, StandardItem
from tenants.clock import now
from tenants.models import PathType, TenantOwned

KINDS = {
    "enforcement": "执法检查",
    "spot": "抽查",
    "unannounced": "明查暗访",
    "four_nos": "四不两直",
    "cross": "交叉互检",
    "joint": "联合执法",
    "assist": "帮扶指导",
}
STATUSES = {"draft": "草稿", "signing": "签名中", "signed": "已签名"}

# Spot-check findings against an enterprise's self-inspection: the codes of section (二) of the
# dispatch table (DISPATCH_ROWS.md), so the dispatch counts these and the checklists' alike.
FINDINGS = {
    "spot.principal_not_studied": "企业主要负责人未按要求亲自研究排查整治工作",
    "spot.principal_not_led": "企业主要负责人未带队检查",
    "spot.no_duty_list": "企业未制定分管负责人职责清单",
    "spot.no_safety_staff": "企业未依法建立安全管理机构和配足安全管理人员",
    "spot.uncertified_welders": "电焊等特种作业岗位人员无证上岗作业",
    "spot.outsourcing_chaos": "外包外租安全管理混乱",
    "spot.no_drill": "未按规定开展应急演练、员工不熟悉逃生出口",
    "spot.no_safety_fund": "未按规定比例提取安全生产费用",
}
# Failures of the principal's own duties (national plan: the principal studies and leads).
PRINCIPAL_FINDINGS = ("spot.principal_not_studied", "spot.principal_not_led", "spot.no_duty_list")

ACTION_KINDS = {
    "penalty": "行政处罚",
    "double_penalty": "企业和主要负责人一案双罚",
    "suspension": "责令停产整顿",
    "referral": "移送司法机关",
    "exposure": "曝光",
    "interview": "约谈",
    "joint_punishment": "联合惩戒",
    "closure": "提请关闭",
    "industry_ban": "行业禁入",
}
FINE_KINDS = ("penalty", "double_penalty")
# What answers "只检查不处罚": a sanction, not merely a talk or publicity.
SANCTION_KINDS = FINE_KINDS + ("suspension", "referral", "closure", "industry_ban")
EXPOSURE_KINDS = ("exposure", "interview", "joint_punishment")

# GB 6441-1986 企业职工伤亡事故分类.
ACCIDENT_KINDS = {
    "struck": "物体打击", "vehicle": "车辆伤害", "machinery": "机械伤害", "lifting": "起重伤害",
    "electric": "触电", "drowning": "淹溺", "burn": "灼烫", "fire": "火灾", "fall": "高处坠落",
    "collapse": "坍塌", "roof_fall": "冒顶片帮", "flooding": "透水", "blasting": "放炮",
    "explosive": "火药爆炸", "gas_explosion": "瓦斯爆炸", "boiler": "锅炉爆炸", "vessel": "容器爆炸",
    "other_explosion": "其他爆炸", "poisoning": "中毒和窒息", "other": "其他伤害",
}


class Inspection(TenantOwned, db.Model):
    """One visit of a unit to an enterprise (or, for 帮扶指导, to a lower level). Content is frozen
    at the first signature; a correction is another Inspection with `amends_id` set."""

    __tablename__ = "inspections"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(16), nullable=False)
    unit_id = db.Column(db.ForeignKey("tenants.id"), nullable=False, index=True)
    # A copy of the unit's path: "done by this node and the units below it" is a range on it.
    unit_path = db.Column(PathType, nullable=False)
    # As printed on the signed record; the unit may be renamed or out of a reader's scope later.
    unit_name = db.Column(db.String(100), nullable=False)
    # Kind of the government level that did the work (a department's parent): 省、市、县分别统计.
    level = db.Column(db.String(16), nullable=False)
    inspected_on = db.Column(db.Date, nullable=False)
    partners = db.Column(db.String(300), nullable=False, default="")
    notes = db.Column(db.Text, nullable=False, default="")
    status = db.Column(db.String(16), nullable=False, default="draft")
    # SHA-256 of the canonical content every signer signed; set when the last one signs.
    content_sha256 = db.Column(db.String(64))
    signed_at = db.Column(db.DateTime)
    amends_id = db.Column(db.ForeignKey("inspections.id"), index=True)
    created_by_id = db.Column(db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    # The key of the form that created it: sent twice, one record (see InspectionHazard.request_key).
    request_key = db.Column(db.String(64), unique=True)

    tenant = relationship("Tenant", foreign_keys="Inspection.tenant_id")
    unit = relationship("Tenant", foreign_keys=[unit_id])
    created_by = relationship("User")
    amends = relationship("Inspection", remote_side=[id], back_populates="amendments")
    amendments = relationship("Inspection", back_populates="amends", order_by="Inspection.id")
    signatures = relationship("Signature", back_populates="inspection", order_by="Signature.position",
                              cascade="all, delete-orphan")
    checked_items = relationship("CheckedItem", back_populates="inspection", cascade="all, delete-orphan")
    hazard_links = relationship("InspectionHazard", back_populates="inspection", order_by="InspectionHazard.id",
                                cascade="all, delete-orphan")
    findings = relationship("SpotFinding", back_populates="inspection", order_by="SpotFinding.id",
                            cascade="all, delete-orphan")
    actions = relationship("EnforcementAction", back_populates="inspection", order_by="EnforcementAction.id",
                           cascade="all, delete-orphan")

    __table_args__ = (
        db.Index("ix_inspections_tenant_path_inspected_on", "tenant_path", "inspected_on"),
        db.Index("ix_inspections_unit_path_inspected_on", "unit_path", "inspected_on", "status", "kind"),
        db.Index("ix_inspections_tenant_id_inspected_on", "tenant_id", "inspected_on"),
    )

    path_copies = ("unit_path",)

    @validates("unit")
    def _copy_unit_path(self, key, unit):
        self.unit_path = unit.path
        return unit

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def signed(self) -> bool:
        return self.status == "signed"

    @property
    def locked(self) -> bool:
        return self.status != "draft"

    @property
    def hazards(self) -> list:
        return [link.hazard for link in self.hazard_links]


class Signature(TenantOwned, db.Model):
    """A listed inspector of an inspection; `signed_at` stays empty until they sign with their
    own password, and then holds the digest of exactly what they signed."""

    __tablename__ = "inspection_signatures"

    id = db.Column(db.Integer, primary_key=True)
    inspection_id = db.Column(db.ForeignKey("inspections.id"), nullable=False, index=True)
    user_id = db.Column(db.ForeignKey("users.id"), nullable=False, index=True)
    position = db.Column(db.Integer, nullable=False)
    signed_at = db.Column(db.DateTime)
    content_sha256 = db.Column(db.String(64))

    inspection = relationship("Inspection", back_populates="signatures")
    user = relationship("User")

    __table_args__ = (UniqueConstraint("inspection_id", "user_id", name="uq_inspection_signatures_inspection_user"),)


class CheckedItem(TenantOwned, db.Model):
    """A standard item or key check item the inspection covered: what 查不出 is judged against."""

    __tablename__ = "inspection_items"

    id = db.Column(db.Integer, primary_key=True)
    inspection_id = db.Column(db.ForeignKey("inspections.id"), nullable=False)
    standard_item_id = db.Column(db.ForeignKey("standard_items.id"), nullable=False, index=True)

    inspection = relationship("Inspection", back_populates="checked_items")
    standard_item = relationship(StandardItem)

    __table_args__ = (UniqueConstraint("inspection_id", "standard_item_id", name="uq_inspection_items_inspection_item"),)


class InspectionHazard(TenantOwned, db.Model):
    """A hazard this inspection found; the hazard itself lives in the ledger (source 部门检查)."""

    __tablename__ = "inspection_hazards"

    id = db.Column(db.Integer, primary_key=True)
    inspection_id = db.Column(db.ForeignKey("inspections.id"), nullable=False, index=True)
    hazard_id = db.Column(db.ForeignKey("hazards.id"), nullable=False, unique=True)
    # The key of the form it came from: sent twice (a phone on a weak connection), recorded once.
    request_key = db.Column(db.String(64), unique=True)

    inspection = relationship("Inspection", back_populates="hazard_links")
    hazard = relationship(Hazard)


class SpotFinding(TenantOwned, db.Model):
    __tablename__ = "inspection_findings"

    id = db.Column(db.Integer, primary_key=True)
    # Reached only through its inspection. PostgreSQL estimates a district's path range at one
    # row, and with an index on the path copy it re-scanned the district once per inspection.
    index_tenant_path = False
    inspection_id = db.Column(db.ForeignKey("inspections.id"), nullable=False)
    code = db.Column(db.String(40), nullable=False)
    note = db.Column(db.String(500), nullable=False, default="")

    inspection = relationship("Inspection", back_populates="findings")

    __table_args__ = (UniqueConstraint("inspection_id", "code", name="uq_inspection_findings_inspection_code"),)

    @property
    def label(self) -> str:
        return FINDINGS[self.code]


class EnforcementAction(TenantOwned, db.Model):
    __tablename__ = "enforcement_actions"

    id = db.Column(db.Integer, primary_key=True)
    index_tenant_path = False  # as SpotFinding
    inspection_id = db.Column(db.ForeignKey("inspections.id"), nullable=False, index=True)
    kind = db.Column(db.String(24), nullable=False)
    # The hazard the action answers, when it answers one.
    hazard_id = db.Column(db.ForeignKey("hazards.id"), index=True)
    amount = db.Column(db.Numeric(12, 2))  # 万元
    persons = db.Column(db.Integer, nullable=False, default=0)
    person_names = db.Column(db.String(300), nullable=False, default="")
    decided_on = db.Column(db.Date, nullable=False)
    document_number = db.Column(db.String(100), nullable=False, default="")
    note = db.Column(db.String(1000), nullable=False, default="")
    # Why a hazard the enterprise reported itself in time (依法不予处罚) is fined anyway.
    override_reason = db.Column(db.String(500), nullable=False, default="")
    published_case = db.Column(db.Boolean, nullable=False, default=False)
    dangerous_operation_crime = db.Column(db.Boolean, nullable=False, default=False)

    inspection = relationship("Inspection", back_populates="actions")
    hazard = relationship(Hazard)

    @property
    def kind_label(self) -> str:
        return ACTION_KINDS[self.kind]

    @property
    def is_fine(self) -> bool:
        return self.kind in FINE_KINDS


class Accident(TenantOwned, db.Model):
    __tablename__ = "accidents"

    id = db.Column(db.Integer, primary_key=True)
    occurred_on = db.Column(db.Date, nullable=False)
    kind = db.Column(db.String(24), nullable=False)
    deaths = db.Column(db.Integer, nullable=False, default=0)
    injuries = db.Column(db.Integer, nullable=False, default=0)
    summary = db.Column(db.Text, nullable=False)
    recorded_by_id = db.Column(db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    # Reported by the enterprise itself (seed 003: at once, to its township or street), which then
    # confirms it; one recorded by a government unit is confirmed as it is recorded.
    self_reported = db.Column(db.Boolean, nullable=False, default=False)
    confirmed_at = db.Column(db.DateTime)
    confirmed_by_id = db.Column(db.ForeignKey("users.id"))

    tenant = relationship("Tenant", foreign_keys="Accident.tenant_id")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    confirmed_by = relationship("User", foreign_keys=[confirmed_by_id])

    __table_args__ = (db.Index("ix_accidents_tenant_path_occurred_on", "tenant_path", "occurred_on"),)

    @property
    def kind_label(self) -> str:
        return ACCIDENT_KINDS[self.kind]

    @property
    def report_label(self) -> str:
        if not self.self_reported:
            return "政府部门登记"
        return "企业报告，已确认" if self.confirmed_at else "企业报告，待街道（乡镇）确认"
