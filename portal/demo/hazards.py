"""Demo hazards: the national standards, 河东区's key check items for gas, about forty hazards of
河东区's enterprises in every state of the loop (2023 stock among them, some listed for
supervision), and two public tips. Idempotent: nothing is added once any hazard exists.

Steps an enterprise takes are taken by the system on the enterprise's behalf (the demo has no
principal for most enterprises), so their timeline shows 系统 as the actor.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.hazards import service as hazards
from portal.hazards.models import Hazard
from portal.tips import service as tips
from portal.tips.models import Tip
from tenants import clock
from tenants.models import Tenant

HEDONG_GAS_ITEMS = (
    "商业综合体、餐饮场所等人员密集场所使用燃气未按规定安装可燃气体泄漏报警装置，或报警装置失效",
    "液化石油气钢瓶超期未检、报废钢瓶继续充装使用，或在地下室、半地下室使用液化石油气",
    "燃气管道、阀门被违规占压、圈占，或在燃气设施保护范围内违规施工",
    "用户燃气设施擅自改装、拆装，使用不合格的燃具、连接软管或软管超长、穿墙",
)

# (enterprise, level, source, found, description, location, item, steps, days to fix or None, funds 万元)
# found: a date (2023 = stock) or days before today. steps: the loop so far, "," separated; "!"
# before a step = it was refused once (a return with a reason precedes the second report).
HAZARDS = (
    # 2023 stock: found before 2024-01-01
    ("天津市河东区津化化工产品经营有限公司", "major", "self", date(2023, 7, 12), "甲类仓库内氧化剂与易燃液体混存，未分区分类储存",
     "甲类仓库", "HC2017-20", "start,report,accept,close", 60, "8"),
    ("天津市河东区铁厂化工贸易有限公司", "major", "department", date(2023, 9, 5), "二号罐区液化烃储罐未按国家标准设置注水措施",
     "二号罐区", "HC2017-06", "start", 540, "65"),
    ("天津市河东区利达工业气体有限公司", "major", "self", date(2023, 10, 20), "液氨充装未使用万向管道充装系统，仍用金属软管",
     "充装站台", "HC2017-07", "start,report,accept,close", 90, "12"),
    ("天津市河东区恒达家具有限公司", "major", "department", date(2023, 11, 8), "木粉尘干式除尘系统未采取泄爆、惰化、抑爆措施",
     "砂光车间", "GM2023-11.3", "start,report", 300, "18"),
    ("天津市河东区安泰液化石油气供应站", "major", "self", date(2023, 8, 3), "钢瓶库内存放超期未检钢瓶 46 只", "钢瓶库",
     "GAS-2", "start,report,accept,close", 30, "1.2"),
    ("天津市河东区华泰市政工程有限公司", "major", "department", date(2023, 12, 14), "塔式起重机力矩限制器失效仍在作业",
     "海河东路项目工地", "FS2022-08.5", "start,report,accept,close", 15, "0.8"),
    ("天津市河东区中山门百货商场有限公司", "general", "self", date(2023, 6, 21), "三层疏散指示标志损坏 5 处", "三层营业区",
     None, "start,report,accept,close", 10, "0.3"),
    ("天津市河东区东昊化学试剂有限公司", "major", "self", date(2023, 12, 28), "易制毒试剂库可燃气体检测报警装置未联网、部分失效",
     "试剂库", "HC2017-12", "", None, None),
    # 2024–2026 increment
    ("天津河东万达广场商业管理有限公司", "major", "self", 400, "外包保洁、装修单位未纳入统一安全管理，未签订安全生产协议",
     "商场管理部", "GM2023-03.1", "start,report,accept,close", 30, "0.5"),
    ("天津河东万达广场商业管理有限公司", "general", "self", 45, "地下车库两处消火栓箱被杂物遮挡", "地下二层车库",
     None, "start,report", 7, "0"),
    ("天津市河东区大直沽农贸市场管理有限公司", "major", "department", 220, "市场内 3 家熟食商户使用液化石油气未安装泄漏报警装置",
     "熟食区", "GM2023-14", "start,report,!report,accept,close", 20, "0.6"),
    ("天津市河东区春华餐饮管理有限公司", "general", "self", 95, "后厨燃气软管超长并穿墙敷设", "后厨", None, "start", 20, "0.4"),
    ("天津市河东区鸿运大酒店有限公司", "major", "department", 60, "厨房燃气泄漏报警器失效，未联动切断阀", "中餐厨房",
     "GM2023-14", "start,report", 15, "1.1"),
    ("天津市河东区唐家口顺和宾馆有限公司", "general", "self", 12, "二层安全出口门闭门器损坏", "二层走廊", None, "", None, None),
    ("天津市河东区中山门加油站有限公司", "major", "self", 330, "油罐区安全阀未正常投用", "埋地油罐区", "HC2017-15",
     "start,report,accept,close", 30, "2.4"),
    ("天津市河东区远航油品经营有限公司", "major", "department", 150, "动火作业审批制度未有效执行，现场无监护人", "储罐检修现场",
     "HC2017-18", "start,report,!report,accept", 30, "0.2"),
    ("天津市河东区东昊化学试剂有限公司", "major", "department", 40, "电气焊作业人员未持证上岗", "维修车间", "HC2017-02",
     "start", 10, "0.3"),
    ("天津市河东区津化化工产品经营有限公司", "general", "self", 25, "应急洗眼器水压不足", "装卸区", None, "start,report", 14, "0.1"),
    ("天津市河东区利达工业气体有限公司", "major", "department", 9, "控制室面向充装区一侧窗户不满足防火防爆要求", "中控室",
     "HC2017-13", "", None, None),
    ("天津市河东区永兴金属制品有限公司", "major", "self", 180, "特种作业人员（电焊）未经培训取得资格即上岗", "焊接车间",
     "GM2023-03.2", "start,report,accept,close", 15, "0.6"),
    ("天津市河东区精工机械制造有限公司", "major", "department", 75, "外租厂房承租方未纳入本企业统一安全管理", "东侧厂房",
     "GM2023-03.1", "start,report", 40, "0.2"),
    ("天津市河东区恒达家具有限公司", "major", "self", 28, "干式除尘系统未设置锁气卸灰装置", "砂光车间", "GM2023-11.6",
     "start", 45, "4.5"),
    ("天津市河东区华丰食品有限公司", "general", "self", 66, "冷库门口应急照明损坏", "冷库", None, "start,report,accept,close", 7,
     "0.05"),
    ("天津市河东区新兴纺织品有限公司", "general", "department", 5, "原料库电气线路私拉乱接", "原料库", None, "", None, None),
    ("天津市河东区城建工程有限公司", "major", "department", 130, "附着式升降脚手架防坠落装置失效", "七号楼", "FS2022-X7.3",
     "start,report,accept,close", 10, "3"),
    ("天津市河东区海河建筑安装工程有限公司", "major", "self", 50, "脚手架连墙件整层缺失", "三号楼 12 层", "FS2022-X7.2",
     "start", 7, "0.8"),
    ("天津市河东区宏基建设集团有限公司", "major", "department", 18, "有限空间作业时现场无专人监护", "污水井", "FS2022-11.2",
     "start,report", 3, "0.1"),
    ("天津市河东区东方建筑劳务有限公司", "general", "self", 100, "工地临时用电配电箱未接地", "工地生活区", None,
     "start,report,accept,close", 5, "0.2"),
    ("天津市河东区津东燃气工程有限公司", "major", "self", 85, "施工中违规占压中压燃气管道", "六纬路工地", "GAS-3",
     "start,report,accept,close", 10, "1.5"),
    ("天津市河东区民生液化气配送有限公司", "major", "department", 35, "配送点在半地下室存放液化石油气钢瓶", "配送点", "GAS-2",
     "start", 15, "0.6"),
    ("天津市河东区暖通燃气服务有限公司", "general", "self", 3, "维修工具间灭火器过期", "工具间", None, "", None, None),
    ("天津市河东区上杭路祥和商场有限公司", "major", "self", 260, "外租商户装修动火未审批、未纳入统一管理", "二层商铺",
     "GM2023-03.1", "start,report,accept,close", 15, "0.3"),
    ("天津市河东区鲁山道家居建材市场有限公司", "major", "department", 20, "承租商户未签订安全生产协议，安全职责不清", "B 区",
     "GM2023-03.1", "start", 30, "0.2"),
)
# (hazard description, listing level's code or 'city', tracker username, document number, days to the deadline)
LISTED = (
    ("二号罐区液化烃储罐未按国家标准设置注水措施", "120102", "hedong_inspector", "河东安委办督〔2023〕12号", 90),
    ("木粉尘干式除尘系统未采取泄爆、惰化、抑爆措施", "120102", "hedong_inspector", "河东安委办督〔2024〕3号", 30),
    ("有限空间作业时现场无专人监护", "12", "tianjin_admin", "津安委办督〔2026〕5号", 20),
)
KEY_ITEMS_NAME = "河东区燃气行业重大事故隐患重点检查事项（演示）"


def _on_behalf(unit: Tenant) -> SimpleNamespace:
    """An enterprise acting with no person named (see the module docstring)."""
    return SimpleNamespace(tenant=unit, tenant_id=unit.id, role="principal", user=None, user_id=None)


def _member(username: str):
    user = db.session.execute(select(User).where(User.username == username)).scalar_one()
    return user.memberships[0]


def _reviewer(enterprise: Tenant, members: dict):
    return {"hazchem": members["hedong_inspector"], "industry_trade": members["hedong_inspector"],
            "commerce": members["hedong_commerce"]}.get(enterprise.industry, members["hedong_admin"])


def seed_hazards() -> int:
    """Load the demo hazards and tips (caller runs unscoped and commits); returns how many were added."""
    root = db.session.execute(select(Tenant).where(Tenant.parent_id.is_(None), Tenant.kind == "national")).scalar_one()
    hazards.load_national_standards(root)
    if db.session.execute(select(Hazard.id).limit(1)).first():
        return 0
    hedong = db.session.execute(select(Tenant).where(Tenant.code == "120102")).scalar_one()
    key_items = hazards.publish_key_items(hedong, name=KEY_ITEMS_NAME, document_number="河东安委办〔2023〕9号（演示）",
                                          industry="gas", items=list(HEDONG_GAS_ITEMS))
    codes = {f"GAS-{i}": f"{key_items.code}-{i:02d}" for i in range(1, len(HEDONG_GAS_ITEMS) + 1)}
    members = {name: _member(name) for name in ("hedong_admin", "hedong_inspector", "hedong_commerce",
                                                 "hedong_principal", "tianjin_admin")}
    today = clock.today()
    by_name = {t.name: t for t in db.session.execute(
        select(Tenant).where(Tenant.kind == "enterprise", Tenant.path.startswith(hedong.path))).scalars()}
    created = {}
    for name, level, source, found, text, location, item, steps, days, funds in HAZARDS:
        enterprise = by_name[name]
        found_at = found if isinstance(found, date) else today - timedelta(days=found)
        items = {i.code: i.id for i in hazards.applicable_items(enterprise)}
        own = members["hedong_principal"] if enterprise.id == members["hedong_principal"].tenant_id \
            else _on_behalf(enterprise)
        reviewer = _reviewer(enterprise, members)
        fixes = hazards.Fixes(owner="安全部负责人", measures=f"整改：{text}", funds=Decimal(funds),
                              deadline=found_at + timedelta(days=days), contingency="整改完成前设置警戒、专人值守，停用相关设施") \
            if days else None
        finding = hazards.Finding(level=level, description=text, location=location, found_at=found_at,
                                  item_id=items[codes.get(item, item)] if item else None, fixes=fixes)
        hazard = hazards.record(enterprise, own if source == "self" else reviewer, finding, today=found_at)
        day = found_at
        for step in filter(None, steps.split(",")):
            day = min(today, day + timedelta(days=max(1, (days or 10) // 4)))
            if step.startswith("!"):
                hazards.transition(hazard, reviewer, "return", "整改不彻底，请按整改措施全部落实后再报", today=day)
                step = step[1:]
            hazards.transition(hazard, own if step in ("start", "report") else reviewer, step, today=day)
        created[text] = hazard
    for text, where, tracker, number, days in LISTED:
        node = db.session.execute(select(Tenant).where(Tenant.code == where)).scalar_one()
        lister = next(m for m in (members["hedong_admin"], members["tianjin_admin"]) if m.tenant_id == node.id)
        hazards.list_hazard(created[text], lister, document_number=number, tracker_id=members[tracker].user_id,
                            deadline=today + timedelta(days=days), today=today)
    _tips(hedong, by_name, members, today)
    return len(created)


def _tips(hedong: Tenant, by_name: dict, members: dict, today: date) -> None:
    """One tip waiting for 大王庄街道 to verify, and one 大直沽街道 verified, recorded and rewarded."""
    street = by_name["天津河东万达广场商业管理有限公司"].parent
    tips.submit(district_id=hedong.id, street_id=street.id, enterprise_name="天津河东万达广场商业管理有限公司",
                address="河东区津塘路", description="地下二层库房夜间有人堆放大量纸箱和液化气钢瓶，消防通道被堵。", anonymous=True,
                sender="demo-1", limit=5)
    market = by_name["天津市河东区大直沽农贸市场管理有限公司"]
    tips.submit(district_id=hedong.id, street_id=market.parent_id, enterprise_name="大直沽农贸市场",
                address="大直沽", description="市场北门几家小吃摊用液化气罐，没有报警器，胶管老化。", anonymous=False,
                reporter_name="李女士", contact="139****0000", sender="demo-2", limit=5)
    tip = db.session.execute(select(Tip).where(Tip.enterprise_name == "大直沽农贸市场")).scalar_one()
    verifier = members["hedong_admin"]
    tips.verify(tip, verifier, true=True, note="现场核查属实，已责令立即整改", enterprise=market,
                finding=hazards.Finding(level="general", description="市场北门小吃摊液化气胶管老化、未装报警器",
                                        location="北门", found_at=today), today=today)
    tips.reward(tip, verifier, amount=Decimal("0.2"), named=True, today=today)
