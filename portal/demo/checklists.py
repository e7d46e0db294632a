"""Demo responsibility lists: the national 专项行动工作清单 (the five enterprise tasks of seed 002),
河东区's additions (seed 000: labour dispatch, monthly checks of hot-work posts) and its deputy and
annual lists, 大王庄街道's two items; signed lists in a few enterprises, one revised; duty records
with one expired welder's certificate, one missed quarterly inspection, an outsourcing contractor
without a safety agreement and a drill where staff did not know the exits. Where the campaign in
force sets no principal rule for 河东区, 河东区's plan for it carries the 2023 rules on. Dates are relative to
today, so the findings read the same whenever the demo is loaded. Idempotent: nothing is added once
the national template exists.
"""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from portal.auth import service as auth
from portal.auth.models import User
from portal.checklists import service
from portal.checklists.models import ChecklistTemplate
from portal.extensions import db
from portal.plans import service as plans
from tenants import clock
from tenants.models import Tenant

# (title, requirement, proof, the principal's duty it is): 全国重大事故隐患专项排查整治 2023 行动总体方案, 企业五项工作.
NATIONAL = (
    ("研究组织本企业重大事故隐患排查整治",
     "学习研究本行业领域重大事故隐患判定标准或重点检查事项，组织对标对表自查自改；建立重大事故隐患台账清单，实行闭环管理；"
     "主要负责人每季度带队检查至少 1 次（高危行业领域企业每月至少 1 次）。", "text", None),
    ("落实全员安全生产岗位责任，发挥管理团队和专家作用",
     "建立健全全员安全生产岗位责任制（含劳务派遣人员、实习生）；组织制定各分管负责人安全生产职责清单和本次专项行动工作清单；"
     "按规定设置安全生产管理机构或配备专兼职安全生产管理人员。", "text", None),
    ("组织对动火等危险作业开展排查整治",
     "组织开展 1 次全员安全警示教育；严格电气焊等动火作业审批，明确现场监护人员；全面检查电气焊设备；"
     "严禁未取得相关证书的人员在特种作业岗位上岗作业。", "text", "education"),
    ("组织对外包外租等生产经营活动开展排查整治",
     "对外包外租（包括委托、合作等）情况组织 1 次全面排查，重点检查承包承租方资质、安全生产协议和管理职责，"
     "纳入本企业安全生产管理体系。", "text", "outsourcing"),
    ("组织开展事故应急救援演练活动",
     "至少组织开展 1 次事故应急救援预案演练（高危行业领域企业每半年至少 1 次），让全体从业人员熟知安全逃生出口（或避灾路线）。",
     "file", "drill"),
)
# 天津市河东区 … 2023 专项行动工作方案, 企业六项工作: what it adds to the national five.
HEDONG = (
    ("加强劳务派遣和灵活用工人员安全管理",
     "将接受本企业作业指令的劳务派遣、灵活用工人员（含实习生）纳入从业人员统一管理，加强安全操作规程和技能培训，"
     "未经教育培训合格不得上岗作业。", "text"),
    ("动火等危险作业人员及关键岗位人员岗位责任每月全面排查",
     "对动火等危险作业人员以及易产生重大事故隐患的其他关键岗位人员落实岗位责任情况每月至少全面排查 1 次；"
     "分包转包情况一并排查，杜绝违法分包转包挂靠资质。", "text"),
)
HEDONG_DEPUTY = (
    ("分管安全生产负责人：组织拟订安全生产规章制度、操作规程和应急救援预案，督促落实重大事故隐患排查整治", "text"),
    ("分管生产负责人：组织生产过程中的隐患排查，严格动火等危险作业审批和现场监护", "text"),
    ("分管设备负责人：组织设备设施（含电气焊设备）安全检查和维护保养，严禁带病运行", "text"),
    ("分管经营负责人：审核外包外租承包承租方的资质和安全生产协议，纳入本企业统一管理", "text"),
)
HEDONG_ANNUAL = (
    "组织召开专题会议研究部署重大事故隐患专项排查整治",
    "每月对辖区重点企业开展督导检查，发现问题督促整改闭环",
    "建立重大事故隐患挂牌督办台账，明确跟踪责任人",
)
DAWANGZHUANG = (
    ("每月 25 日前向街道安全生产办公室报送本单位隐患排查整治台账", "text"),
    ("参加街道组织的商场、市场消防安全专题培训", "none"),
)
PASSWORD = "Anquan@2023"
# Enterprises whose principal signs in the demo: (enterprise, username, name, post). The first is the
# demo account hedong_principal's.
SIGNERS = (
    ("天津河东万达广场商业管理有限公司", "hedong_principal", None, None),
    ("天津市河东区津化化工产品经营有限公司", "jinhua_principal", "刘强", "总经理"),
)
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082")
ANSWERS = (("孙立新", "总经理"), ("周海燕", "安全部经理"), ("吴磊", "工程部经理"), ("郑丽", "人力资源部经理"))


def _enterprise(name: str) -> Tenant:
    return db.session.execute(select(Tenant).where(Tenant.name == name, Tenant.kind == "enterprise")).scalar_one()


def _signer(enterprise: Tenant, username: str, name: str | None, post: str | None) -> User:
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        user = auth.create_user(enterprise, username=username, display_name=name, password=PASSWORD,
                                role="principal", post=post)
        auth.accept_password(user)
    return user


def _sign(enterprise: Tenant, kind: str, signer: User, today: date, day: date):
    fill = service.start(enterprise, kind, actor=signer.memberships[0])
    for n, li in enumerate(service.effective_items(enterprise, kind)):
        name, post = ANSWERS[n % len(ANSWERS)]
        service.save_entry(fill, li.item, responsible_name=name, responsible_post=post, state="done",
                           evidence_text="已按要求落实，记录存档备查。", evidence_date=day,
                           files=[("现场照片.png", PNG)] if li.evidence == "file" else (), today=today,
                           actor=signer.memberships[0])
    return service.sign(fill, signer.memberships[0], PASSWORD, today)


def _rules_in_force(hedong: Tenant, today: date) -> None:
    """The duties are judged by the campaign in force. Where its plans say nothing of the principal's
    inspections and drills for 河东区 (the demo's three-year action has a plan for 东丽区 only),
    河东区's implementation plan carries its 2023 rules on (seed 000): a quarterly inspection, monthly
    for high-risk enterprises; a yearly drill, quarterly for high-risk ones."""
    campaign = service.campaign_on(today)
    store = _enterprise("天津市河东区中山门百货商场有限公司")
    if campaign is None or plans.requirement(store, campaign.id, "principal_inspection"):
        return
    plan = plans.effective_plan(hedong, campaign.id)
    if plan is None or plan.tenant_id != hedong.id:
        plan = plans.create_plan(hedong, campaign, title=f"河东区{campaign.name}实施方案", issuer="天津市河东区安全生产委员会")
    section = "企业主要负责人履职"
    plans.save_clause(plan, section=section, title="主要负责人带队检查",
                      body="主要负责人每季度要带队对本单位重大事故隐患排查整治情况至少开展 1 次检查（高危行业领域企业每月至少 1 次）。",
                      rule="principal_inspection", rule_value={"all": {"times": 1, "per": "quarter"},
                                                               "high_risk": {"times": 1, "per": "month"}})
    if not plans.requirement(store, campaign.id, "drill"):
        plans.save_clause(plan, section=section, title="组织开展事故应急救援演练活动",
                          body="至少组织开展 1 次事故应急救援预案演练（高危行业领域企业每季度至少 1 次）。",
                          rule="drill", rule_value={"all": {"times": 1, "per": "year"},
                                                    "high_risk": {"times": 1, "per": "quarter"}})


def _previous_quarter(today: date) -> tuple[date, date]:
    return service.period_of(service.period_of(today, "quarter")[0] - timedelta(days=1), "quarter")


def seed_checklists() -> bool:
    """Load the demo lists and duty records (caller runs unscoped and commits). False if present."""
    root = db.session.execute(select(Tenant).where(Tenant.parent_id.is_(None))).scalar_one()
    if db.session.execute(select(ChecklistTemplate.id).where(ChecklistTemplate.tenant_id == root.id,
                                                             ChecklistTemplate.kind == "campaign_tasks")).first():
        return False
    today = clock.today()
    hedong = db.session.execute(select(Tenant).where(Tenant.code == "120102")).scalar_one()
    street = db.session.execute(select(Tenant).where(Tenant.code == "120102001")).scalar_one()

    national = [service.add_item(root, "campaign_tasks", title=t, body=b, evidence=e, duty=d) for t, b, e, d in NATIONAL]
    for title, body, evidence in HEDONG:
        service.add_item(hedong, "campaign_tasks", title=title, body=body, evidence=evidence)
    # 河东区 asks for the hot-work approval slips themselves, not an account of them.
    service.require_evidence(hedong, national[2], "file")
    for title, evidence in HEDONG_DEPUTY:
        service.add_item(hedong, "deputy_duties", title=title, evidence=evidence)
    for title in HEDONG_ANNUAL:
        service.add_item(hedong, "annual_tasks", title=title, evidence="text")
    service.set_due(hedong, "deputy_duties", service.period_of(today, "quarter")[1])
    for title, evidence in DAWANGZHUANG:
        service.add_item(street, "campaign_tasks", title=title, evidence=evidence)

    signers = {name: _signer(_enterprise(name), *rest) for name, *rest in SIGNERS}
    wanda, jinhua = (_enterprise(name) for name, *_ in SIGNERS)
    # The duty records first: the campaign list's duty items rest on them.
    _duties(today)
    # 万达: the deputy list signed; the campaign list is left for the principal to fill (and the
    # street then sees the enterprise turn complete).
    _sign(wanda, "deputy_duties", signers[wanda.name], today, today - timedelta(days=20))
    # 津化化工: the campaign list signed, then revised: version 2 is being written.
    _sign(jinhua, "campaign_tasks", signers[jinhua.name], today, today - timedelta(days=40))
    _sign(jinhua, "deputy_duties", signers[jinhua.name], today, today - timedelta(days=40))
    draft = service.start(jinhua, "campaign_tasks", actor=signers[jinhua.name].memberships[0])
    service.save_entry(draft, national[4], responsible_name="刘强", responsible_post="总经理", state="partial",
                       evidence_text="上半年演练已完成；下半年演练因装置检修推迟到下月。", evidence_date=today,
                       files=[("演练方案.png", PNG)], today=today)

    _rules_in_force(hedong, today)
    hedong_enterprises = db.session.execute(select(Tenant).where(
        Tenant.kind == "enterprise", Tenant.path.startswith(hedong.path))).scalars().all()
    service.refresh(hedong_enterprises, today)
    return True


def _duties(today: date) -> None:
    jinhua = _enterprise("天津市河东区津化化工产品经营有限公司")
    # High-risk: the principal leads an inspection every month.
    month = service.period_of(today, "month")[0]
    for _ in range(6):
        month = service.period_of(month - timedelta(days=1), "month")[0]
        service.record_duty(jinhua, "inspection", occurred_on=month + timedelta(days=9), person="刘强",
                            subject="罐区、仓库和装卸站台", findings="检查重大事故隐患排查整治落实情况，未发现新的重大事故隐患。",
                            today=today)
    service.record_duty(jinhua, "inspection", occurred_on=today, person="刘强", subject="甲类仓库",
                        findings="氧化剂与易燃液体分区储存情况良好。", today=today)
    service.record_duty(jinhua, "drill", occurred_on=today - timedelta(days=70), subject="液化烃储罐泄漏着火",
                        participants=36, escape_routes_known=True, findings="响应及时，逃生路线清楚。", today=today)
    service.record_duty(jinhua, "education", occurred_on=today - timedelta(days=150), subject="违规动火引发重特大事故警示教育",
                        participants=42, today=today)
    service.record_duty(jinhua, "outsourcing", occurred_on=today - timedelta(days=60), person="天津市安达危险货物运输有限公司",
                        subject="危险化学品运输和装卸作业外包", qualified=True, agreement_signed=True, duties_clear=True,
                        managed=True, today=today)
    # A welder whose certificate has lapsed: entered while valid, expired 25 days ago.
    service.add_worker(jinhua, name="王某", work_type="welding", certificate_no="T120102198507121234",
                       expires_on=today - timedelta(days=25), today=today - timedelta(days=400))
    service.add_worker(jinhua, name="李某", work_type="electric", certificate_no="T120102199003151236",
                       expires_on=today + timedelta(days=600), today=today - timedelta(days=200))

    # 中山门百货: inspected in the quarter before last, not in the last one. Periods before an
    # enterprise joined the platform are not judged, so the store is taken to have joined in time.
    store = _enterprise("天津市河东区中山门百货商场有限公司")
    store.created_at = clock.now() - timedelta(days=300)
    before_last = service.period_of(_previous_quarter(today)[0] - timedelta(days=1), "quarter")
    service.record_duty(store, "inspection", occurred_on=before_last[0] + timedelta(days=20), person="高建",
                        subject="营业区、库房、消防控制室", findings="三层疏散指示标志损坏 5 处，已更换。", today=today)
    service.record_duty(store, "drill", occurred_on=before_last[0] + timedelta(days=35), subject="营业高峰期火灾疏散",
                        participants=120, escape_routes_known=True, today=today)

    # 城建工程: a subcontractor working without a safety agreement.
    works = _enterprise("天津市河东区城建工程有限公司")
    service.record_duty(works, "outsourcing", occurred_on=today - timedelta(days=30), person="天津市顺捷劳务分包有限公司",
                        subject="海河东路项目钢筋工程劳务分包", qualified=True, agreement_signed=False, duties_clear=False,
                        managed=True, findings="已责令限期补签安全生产管理协议。", today=today)
    service.record_duty(works, "training", occurred_on=today - timedelta(days=12), person="马某",
                        worker_type="dispatched", subject="高处作业安全操作规程", passed=False,
                        findings="考核不合格，安排补训。", today=today)

    # 安泰液化气站: the last drill showed staff did not know the exits.
    gas = _enterprise("天津市河东区安泰液化石油气供应站")
    service.record_duty(gas, "drill", occurred_on=today - timedelta(days=18), subject="钢瓶库液化石油气泄漏",
                        participants=14, escape_routes_known=False, findings="2 名新员工找不到东侧安全出口。", today=today)
