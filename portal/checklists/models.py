"""Templates and their items (inherited down the tree), fills with one entry per item and their
evidence files, duty records, special-operation workers, and the compliance findings kept for the
levels above."""
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import relationship

from portal.extensions import db
from tenants.clock import now
from tenants.models import Inherited, TenantOwned

KINDS = {
    "leadership_duties": "领导班子成员安全生产职责清单",
    "annual_tasks": "年度任务清单",
    "deputy_duties": "企业分管负责人安全生产职责清单",
    "all_staff_duties": "全员安全生产岗位责任制",
    "campaign_tasks": "专项行动工作清单",
}
GOVERNMENT_LISTS = ("leadership_duties", "annual_tasks")
ENTERPRISE_LISTS = ("deputy_duties", "all_staff_duties", "campaign_tasks")

STATES = {"done": "已落实", "partial": "部分落实", "not_done": "未落实"}
FILL_STATUSES = {"draft": "填写中", "signed": "已签署"}
# What an item asks as proof, weakest first; a lower level may only move an item to the right.
EVIDENCE = {"none": "无需证明材料", "text": "须附文字说明", "file": "须上传文件或照片"}

# The overview's state filter.
OVERVIEW_STATES = {"incomplete": "清单未全部签署", "complete": "清单已全部签署", "noncompliant": "有未履职问题",
                   "compliant": "无未履职问题"}

DUTIES = {
    "inspection": "主要负责人带队检查",
    "drill": "应急救援演练",
    "education": "全员安全警示教育",
    "outsourcing": "外包外租排查",
    "training": "劳务派遣和灵活用工人员培训",
    "key_post": "关键岗位人员岗位责任排查",
    "hot_work": "动火作业审批",
}
DATE_LABELS = {"inspection": "检查日期", "drill": "演练日期", "education": "教育日期", "outsourcing": "排查日期",
               "training": "培训日期", "key_post": "排查日期", "hot_work": "作业日期"}
WORKER_TYPES = {"dispatched": "劳务派遣人员", "flexible": "灵活用工人员", "intern": "实习生"}
# 特种作业目录 (原国家安全监管总局令第 30 号): type → (作业类别, what the certificate is called).
WORK_TYPES = {
    "electric": ("电工作业", "电工证"),
    "welding": ("焊接与热切割作业", "焊工证"),
    "height": ("高处作业", "高处作业证"),
    "refrigeration": ("制冷与空调作业", "制冷与空调作业证"),
    "hazchem": ("危险化学品安全作业", "危险化学品安全作业证"),
    "fireworks": ("烟花爆竹安全作业", "烟花爆竹安全作业证"),
    "mining": ("金属非金属矿山安全作业", "矿山安全作业证"),
    "oil_gas": ("石油天然气安全作业", "石油天然气安全作业证"),
    "metallurgy": ("冶金（有色）生产安全作业", "冶金生产安全作业证"),
    "coal": ("煤矿安全作业", "煤矿安全作业证"),
}

entry_uploads = db.Table(
    "checklist_entry_uploads",
    db.Column("entry_id", db.Integer, db.ForeignKey("checklist_entries.id"), primary_key=True),
    db.Column("upload_id", db.Integer, db.ForeignKey("uploads.id"), primary_key=True),
)
duty_record_uploads = db.Table(
    "duty_record_uploads",
    db.Column("record_id", db.Integer, db.ForeignKey("duty_records.id"), primary_key=True),
    db.Column("upload_id", db.Integer, db.ForeignKey("uploads.id"), primary_key=True),
)


class ChecklistTemplate(Inherited, db.Model):
    """A node's own part of a list of one kind. What a unit sees is the union of the templates of
    that kind on its path, the root's items first."""

    __tablename__ = "checklist_templates"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(32), nullable=False)
    title = db.Column(db.String(200), nullable=False)
    # Items not removed, so the overview learns which lists are asked for without reading items.
    live_items = db.Column(db.Integer, nullable=False, default=0)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    items = relationship("ChecklistItem", back_populates="template", order_by="ChecklistItem.position")

    __table_args__ = (UniqueConstraint("tenant_id", "kind", name="uq_checklist_templates_tenant_kind"),)

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]


class ChecklistItem(Inherited, db.Model):
    """One thing someone must answer for. Its proof requirement is an inherited setting
    (`checklist.item.<id>`), so a lower level can raise it through tenants.inherit and never lower it.
    Removed items stay for the versions that answered them."""

    __tablename__ = "checklist_items"

    id = db.Column(db.Integer, primary_key=True)
    template_id = db.Column(db.Integer, db.ForeignKey("checklist_templates.id"), nullable=False)
    position = db.Column(db.Integer, nullable=False)
    title = db.Column(db.String(300), nullable=False)
    body = db.Column(db.Text, nullable=False, default="")
    # The principal's duty (a DUTIES key) the item is, when it is one: its answer then rests on
    # the enterprise's duty record of that kind, so the fact is typed once.
    duty = db.Column(db.String(16))
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    removed_at = db.Column(db.DateTime)

    template = relationship("ChecklistTemplate", back_populates="items")

    __table_args__ = (db.Index("ix_checklist_items_template_id_position", "template_id", "position"),)


class ChecklistFill(TenantOwned, db.Model):
    """One version of a unit's answers to a list. Signing freezes it with a digest of its content;
    a later change is a new version, and exactly one version per unit and kind is current."""

    __tablename__ = "checklist_fills"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(32), nullable=False)
    version = db.Column(db.Integer, nullable=False)
    status = db.Column(db.String(16), nullable=False, default="draft")
    is_current = db.Column(db.Boolean, nullable=False, default=True)
    # Counted when an entry is saved, so the overview reads a row instead of counting entries.
    total = db.Column(db.Integer, nullable=False, default=0)
    filled = db.Column(db.Integer, nullable=False, default=0)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    updated_at = db.Column(db.DateTime, nullable=False, default=now, onupdate=now)
    signed_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    signed_at = db.Column(db.DateTime)
    # The signed content as it was, so an old version reads the same after the templates change.
    content = db.Column(db.JSON)
    content_sha256 = db.Column(db.String(64))

    signed_by = relationship("User", foreign_keys=[signed_by_id])
    entries = relationship("ChecklistEntry", back_populates="fill", order_by="ChecklistEntry.id")

    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "version", name="uq_checklist_fills_tenant_kind_version"),
        db.Index("uq_checklist_fills_current", "tenant_id", "kind", unique=True,
                 sqlite_where=db.text("is_current"), postgresql_where=db.text("is_current")),
    )

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def status_label(self) -> str:
        return FILL_STATUSES[self.status]

    @property
    def signed(self) -> bool:
        return self.status == "signed"


class ChecklistEntry(TenantOwned, db.Model):
    """A unit's answer to one item in one version: who answers for it, how far it is done, proof."""

    __tablename__ = "checklist_entries"

    id = db.Column(db.Integer, primary_key=True)
    fill_id = db.Column(db.Integer, db.ForeignKey("checklist_fills.id"), nullable=False)
    item_id = db.Column(db.Integer, db.ForeignKey("checklist_items.id"), nullable=False, index=True)
    responsible_name = db.Column(db.String(50), nullable=False, default="")
    responsible_post = db.Column(db.String(100), nullable=False, default="")
    state = db.Column(db.String(16))
    evidence_text = db.Column(db.Text, nullable=False, default="")
    evidence_date = db.Column(db.Date)
    # For an item that is a duty: the duty record the answer rests on.
    duty_record_id = db.Column(db.Integer, db.ForeignKey("duty_records.id"), index=True)
    updated_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    updated_at = db.Column(db.DateTime, nullable=False, default=now, onupdate=now)

    fill = relationship("ChecklistFill", back_populates="entries")
    item = relationship("ChecklistItem")
    duty_record = relationship("DutyRecord")
    uploads = relationship("Upload", secondary=entry_uploads, order_by="Upload.id")

    __table_args__ = (UniqueConstraint("fill_id", "item_id", name="uq_checklist_entries_fill_item"),)

    @property
    def complete(self) -> bool:
        return bool(self.responsible_name and self.state)

    @property
    def state_label(self) -> str:
        return STATES.get(self.state or "", "")


class DutyRecord(TenantOwned, db.Model):
    """Something the principal's duties required and the enterprise did, on a date. One table for
    every kind; each kind uses the columns its form asks for."""

    __tablename__ = "duty_records"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(16), nullable=False)
    occurred_on = db.Column(db.Date, nullable=False)
    # 带队负责人 (inspection, key_post), 承包/承租方 (outsourcing), 人员姓名 (training), 动火作业人员 (hot_work)
    person = db.Column(db.String(100), nullable=False, default="")
    # 检查范围, 演练科目, 警示教育主题, 外包外租项目或场所, 培训内容, 排查的岗位, 动火地点及内容
    subject = db.Column(db.String(300), nullable=False, default="")
    findings = db.Column(db.Text, nullable=False, default="")
    participants = db.Column(db.Integer)
    escape_routes_known = db.Column(db.Boolean)
    qualified = db.Column(db.Boolean)
    agreement_signed = db.Column(db.Boolean)
    duties_clear = db.Column(db.Boolean)
    managed = db.Column(db.Boolean)
    worker_type = db.Column(db.String(16))
    passed = db.Column(db.Boolean)
    # A hot-work permit (动火作业审批, seed 002: 审批手续、现场监护人员、消防安全措施检查、电气焊设备检查):
    # who approved it, who guards the site, the time window, and the two checks before work starts.
    approver = db.Column(db.String(50))
    guard = db.Column(db.String(50))
    starts_at = db.Column(db.Time)
    ends_at = db.Column(db.Time)
    equipment_checked = db.Column(db.Boolean)
    fire_measures_checked = db.Column(db.Boolean)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    created_by = relationship("User")
    uploads = relationship("Upload", secondary=duty_record_uploads, order_by="Upload.id")

    __table_args__ = (
        db.Index("ix_duty_records_tenant_id_kind_occurred_on", "tenant_id", "kind", "occurred_on"),
    )

    @property
    def kind_label(self) -> str:
        return DUTIES[self.kind]

    @property
    def worker_type_label(self) -> str:
        return WORKER_TYPES.get(self.worker_type or "", "")

    @property
    def outsourcing_problems(self) -> list[str]:
        """What makes an outsourcing check count as 外包外租安全管理混乱 (national table, note 2)."""
        checks = ((self.qualified, "承包承租方不具备安全生产条件或相应资质"), (self.agreement_signed, "未签订安全生产协议"),
                  (self.duties_clear, "安全生产管理职责不清"), (self.managed, "未纳入本企业统一管理"))
        return [text for ok, text in checks if ok is False]

    @property
    def hot_work_problems(self) -> list[str]:
        """What a hot-work permit left undone before the work began."""
        checks = ((self.equipment_checked, "未对电气焊设备进行安全检查"), (self.fire_measures_checked, "未落实消防安全措施检查"))
        return [text for ok, text in checks if ok is False]


class SpecialWorker(TenantOwned, db.Model):
    """A special-operation worker (特种作业人员) and the certificate he works under."""

    __tablename__ = "special_workers"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(50), nullable=False)
    work_type = db.Column(db.String(16), nullable=False)
    certificate_no = db.Column(db.String(32), nullable=False)
    expires_on = db.Column(db.Date, nullable=False)
    # Set when the worker leaves the post; kept for the record, no longer evaluated.
    removed_on = db.Column(db.Date)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    __table_args__ = (db.Index("ix_special_workers_tenant_id_removed_on", "tenant_id", "removed_on"),)

    @property
    def work_type_label(self) -> str:
        return WORK_TYPES[self.work_type][0]

    @property
    def certificate_label(self) -> str:
        return WORK_TYPES[self.work_type][1]


class EnterpriseStatus(TenantOwned, db.Model):
    """What the overview filters an enterprise by, kept by the writes that change it (a signature,
    an evaluation), so a page of 10,000 enterprises filters on columns instead of probing every
    enterprise's versions and findings. No row yet: nothing signed, nothing failing."""

    __tablename__ = "enterprise_statuses"

    id = db.Column(db.Integer, primary_key=True)
    # Whether a version of each enterprise list has been signed; a signature is never undone.
    deputy_duties_signed = db.Column(db.Boolean, nullable=False, default=False)
    all_staff_duties_signed = db.Column(db.Boolean, nullable=False, default=False)
    campaign_tasks_signed = db.Column(db.Boolean, nullable=False, default=False)
    open_findings = db.Column(db.Integer, nullable=False, default=0)
    # The day the oldest open failure began: how long the enterprise has been non-compliant.
    failing_since = db.Column(db.Date)
    updated_at = db.Column(db.DateTime, nullable=False, default=now, onupdate=now)

    __table_args__ = (
        UniqueConstraint("tenant_id", name="uq_enterprise_statuses_tenant_id"),
        db.Index("ix_enterprise_statuses_tenant_path_failing_since", "tenant_path", "failing_since"),
    )


class ComplianceFinding(TenantOwned, db.Model):
    """A failed duty the levels above see (warnings stay with the enterprise), or a government
    level's list not signed by its deadline. Open while
    `resolved_on` is empty; `spot_row` is the national dispatch table's row it counts in."""

    __tablename__ = "compliance_findings"

    id = db.Column(db.Integer, primary_key=True)
    code = db.Column(db.String(32), nullable=False)
    spot_row = db.Column(db.String(40))
    # What the finding is about, so one failure is one row while it lasts: "" for a periodic duty,
    # "worker:12", "list:deputy_duties" …
    subject = db.Column(db.String(120), nullable=False, default="")
    text = db.Column(db.String(300), nullable=False)
    # The unit whose rule the failure breaks (a plan's level or a supervising department), by name
    # as it was then: the finding says whose rule it is even after the rule moves.
    source = db.Column(db.String(200), nullable=False, default="")
    since = db.Column(db.Date, nullable=False)
    resolved_on = db.Column(db.Date)
    updated_at = db.Column(db.DateTime, nullable=False, default=now, onupdate=now)

    __table_args__ = (
        db.Index("uq_compliance_findings_open", "tenant_id", "code", "subject", unique=True,
                 sqlite_where=db.text("resolved_on IS NULL"), postgresql_where=db.text("resolved_on IS NULL")),
        db.Index("ix_compliance_findings_tenant_path_resolved_on", "tenant_path", "resolved_on", "since"),
        db.Index("ix_compliance_findings_spot_row_since", "spot_row", "since"),
    )
