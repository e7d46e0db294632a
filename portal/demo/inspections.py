"""Demo inspections: 河东区应急管理局's two inspectors sign records at three chemical enterprises
(one spot check corrected by an amendment), with fines and other enforcement; a fire at
天津市河东区铁厂化工贸易有限公司, and 河东区纪委's 约谈 record resting on its trace. Idempotent:
nothing is added once any inspection exists. Runs after the demo hazards (it needs the standards
and the listed hazard an earlier inspection missed)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.accountability import service as accountability
from portal.auth.models import User
from portal.extensions import db
from portal.hazards import service as hazards
from portal.inspections import service as inspections
from portal.inspections.models import Inspection
from tenants import clock
from tenants.models import Tenant

STEEL = "天津市河东区铁厂化工贸易有限公司"
JINHUA = "天津市河东区津化化工产品经营有限公司"
LIDA = "天津市河东区利达工业气体有限公司"


def _member(username: str):
    return db.session.execute(select(User).where(User.username == username)).scalar_one().memberships[0]


def _signed(pair, password, enterprise, on, kind, items=(), found=(), findings=(), actions=(), notes=""):
    """`found`: (description, item code, level, days to fix); `actions`: (kind, 万元 or None, index
    into `found` or None, extra fields)."""
    one, two = pair
    today = clock.today()
    record = inspections.create(one, enterprise, kind=kind, inspected_on=on, inspector_ids=[one.user_id, two.user_id],
                                notes=notes, today=today)
    codes = {i.code: i.id for i in hazards.applicable_items(enterprise)}
    inspections.set_items(record, one, [codes[c] for c in items])
    recorded = []
    for description, code, level, days in found:
        fixes = hazards.Fixes(owner="企业安全部负责人", measures=f"整改：{description}", funds=Decimal("2"),
                              deadline=on + timedelta(days=days), contingency="整改完成前停用相关设施，专人值守")
        recorded.append(inspections.record_hazard(record, one, hazards.Finding(
            level=level, description=description, found_at=None, item_id=codes[code], fixes=fixes), today=today))
    for code in findings:
        inspections.add_finding(record, one, code)
    for kind_, amount, index, extra in actions:
        inspections.add_action(record, one, inspections.ActionInput(
            kind=kind_, decided_on=on, amount=Decimal(amount) if amount else None,
            hazard_id=recorded[index].id if index is not None else None, **extra), today=today)
    for member in pair:
        inspections.sign(record, member.user_id, member.user, password)
    return record


def seed_inspections(password: str) -> int:
    """Load the demo inspections (caller runs unscoped and commits); returns how many were added."""
    if db.session.execute(select(Inspection.id).limit(1)).first():
        return 0
    today = clock.today()
    pair = (_member("hedong_inspector"), _member("hedong_inspector2"))
    by_name = {t.name: t for t in db.session.execute(
        select(Tenant).where(Tenant.kind == "enterprise", Tenant.name.in_((STEEL, JINHUA, LIDA)))).scalars()}
    steel, jinhua, lida = by_name[STEEL], by_name[JINHUA], by_name[LIDA]

    # Checked the tank farm's water injection (HC2017-06) two weeks before a listed hazard of that item was found.
    _signed(pair, password, steel, date(2023, 8, 20), "enforcement", items=("HC2017-06", "HC2017-01", "HC2017-12"),
            notes="检查二号罐区、装卸站台和控制室，未发现重大事故隐患。")
    steel_visit = _signed(
        pair, password, steel, today - timedelta(days=200), "four_nos", items=("HC2017-05", "HC2017-18"),
        found=[("二号罐区液化烃储罐紧急切断阀未投用", "HC2017-05", "major", 30)],
        actions=[("penalty", "3", 0, {"document_number": "（河东）应急罚〔2026〕17号"})],
        notes="四不两直暗查二号罐区，紧急切断阀处于手动旁路状态。")
    spot = _signed(
        pair, password, jinhua, today - timedelta(days=120), "spot", items=("HC2017-20", "HC2017-02"),
        found=[("特种作业（电焊）人员证书过期仍上岗", "HC2017-02", "general", 15)],
        findings=("spot.principal_not_led", "spot.no_drill", "spot.uncertified_welders"),
        actions=[("penalty", "1.5", None, {"document_number": "（河东）应急罚〔2026〕9号"}),
                 ("double_penalty", "2", None, {"document_number": "（河东）应急罚〔2026〕10号",
                                                "note": "对企业及其主要负责人一案双罚"})],
        notes="抽查企业自查自改：主要负责人未带队检查，本年度未开展应急演练。")
    amendment = inspections.amend(spot, pair[0], notes="更正：原记录漏记对企业主要负责人的约谈，补记如下。",
                                  inspector_ids=[m.user_id for m in pair], today=today)
    inspections.add_action(amendment, pair[0], inspections.ActionInput(
        kind="interview", decided_on=today, note="约谈企业主要负责人，督促落实带队检查和应急演练"), today=today)
    for member in pair:
        inspections.sign(amendment, member.user_id, member.user, password)
    _signed(pair, password, lida, today - timedelta(days=60), "enforcement", items=("HC2017-07", "HC2017-13"),
            actions=[("exposure", None, None, {"published_case": True, "note": "在区政务网站曝光并公布为典型执法案例"})],
            notes="复查液氨充装万向管道系统已投用。")

    accident = inspections.record_accident(
        pair[0], steel, occurred_on=today - timedelta(days=20), kind="fire", deaths=0, injuries=2,
        summary="二号罐区液化烃储罐区发生泄漏并引发火灾，紧急切断阀未能动作，2 名操作工受伤，明火于 40 分钟后扑灭。", today=today)
    trace = accountability.trace(steel, accident=accident)
    basis = [q.key for q in trace.questions if q.code in ("missed", "fine_instead")]
    accountability.record(_member("hedong_discipline"), trace, accountability.RecordInput(
        measure="interview", subject_unit_id=steel_visit.unit_id, subject_user_id=pair[0].user_id,
        reason="2023 年 8 月检查二号罐区时未发现液化烃储罐未设注水措施的重大事故隐患；罚款后未督促紧急切断阀整改到位，直至事故发生。",
        requirement="深刻检查，10 日内书面说明情况，并对辖区危险化学品企业开展一次全面复查。", basis=basis, decided_on=today,
        document_number="河东纪约〔2026〕1号", issuer="河东区纪委监委"), today=today)
    return 4
