"""Demo data: 国务院安委会 → 天津市 → 河东区/河北区/东丽区 with real streets, departments, enterprises, users.

`seed()` is idempotent: every item is looked up before it is created, so a second run (or a run
after `flask tenants import-divisions`) adds nothing and still returns the demo accounts.
"""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from portal.audit import service as audit
from portal.auth import service as auth
from portal.auth.models import User
from portal.demo.plans import seed_plans
from portal.demo.checklists import seed_checklists
from portal.demo.dispatch import seed_dispatch
from portal.demo.hazards import seed_hazards
from portal.demo.inspections import seed_inspections
from portal.exports import service as exports
from portal.extensions import db
from tenants import credit_code, inherit
from tenants import service as tenants
from tenants.models import ROLES, Tenant

PASSWORD = "Anquan@2023"
CITY = "12"
DISTRICTS = ("120102", "120105", "120110")  # 河东区, 河北区, 东丽区
HEDONG = "120102"

# (name suffix, supervised industries): the offices named in the 河东区 plan (seed 000).
DEPARTMENTS = (
    ("应急管理局", ["hazchem", "industry_trade", "fireworks", "mining"]),
    ("住房和建设委员会", ["construction", "gas"]),
    ("商务局", ["commerce"]),
    ("消防救援支队", ["fire"]),
    ("纪委监委", []),
)

# (street division code, industry, high risk, name). Invented names in the style of real
# registrations; each sits in the street its name suggests.
ENTERPRISES = (
    # 河东区
    ("120102001", "commerce", False, "天津河东万达广场商业管理有限公司"),
    ("120102002", "commerce", False, "天津市河东区大直沽农贸市场管理有限公司"),
    ("120102005", "commerce", False, "天津市河东区二号桥农贸市场管理有限公司"),
    ("120102003", "commerce", False, "天津市河东区中山门百货商场有限公司"),
    ("120102004", "commerce", False, "天津市河东区富民路惠民超市有限公司"),
    ("120102006", "commerce", False, "天津市河东区春华餐饮管理有限公司"),
    ("120102007", "commerce", False, "天津市河东区唐家口顺和宾馆有限公司"),
    ("120102008", "commerce", False, "天津市河东区向阳楼海润商贸有限公司"),
    ("120102009", "commerce", False, "天津市河东区鸿运大酒店有限公司"),
    ("120102010", "commerce", False, "天津市河东区上杭路祥和商场有限公司"),
    ("120102011", "commerce", False, "天津市河东区东新福瑞商贸有限公司"),
    ("120102012", "commerce", False, "天津市河东区鲁山道家居建材市场有限公司"),
    ("120102002", "hazchem", True, "天津市河东区津化化工产品经营有限公司"),
    ("120102003", "hazchem", True, "天津市河东区中山门加油站有限公司"),
    ("120102011", "hazchem", True, "天津市河东区利达工业气体有限公司"),
    ("120102013", "hazchem", True, "天津市河东区铁厂化工贸易有限公司"),
    ("120102005", "hazchem", True, "天津市河东区远航油品经营有限公司"),
    ("120102009", "hazchem", True, "天津市河东区东昊化学试剂有限公司"),
    ("120102001", "construction", True, "天津市河东区城建工程有限公司"),
    ("120102004", "construction", True, "天津市河东区海河建筑安装工程有限公司"),
    ("120102006", "construction", False, "天津市河东区宏基建设集团有限公司"),
    ("120102008", "construction", False, "天津市河东区鑫盛装饰工程有限公司"),
    ("120102010", "construction", True, "天津市河东区华泰市政工程有限公司"),
    ("120102012", "construction", False, "天津市河东区东方建筑劳务有限公司"),
    ("120102007", "gas", True, "天津市河东区安泰液化石油气供应站"),
    ("120102009", "gas", False, "天津市河东区津东燃气工程有限公司"),
    ("120102013", "gas", False, "天津市河东区瑞丰燃气设备安装有限公司"),
    ("120102003", "gas", True, "天津市河东区民生液化气配送有限公司"),
    ("120102011", "gas", False, "天津市河东区恒通燃气具销售有限公司"),
    ("120102006", "gas", False, "天津市河东区暖通燃气服务有限公司"),
    ("120102013", "industry_trade", True, "天津市河东区永兴金属制品有限公司"),
    ("120102012", "industry_trade", False, "天津市河东区津东印刷有限公司"),
    ("120102001", "industry_trade", False, "天津市河东区华丰食品有限公司"),
    ("120102008", "industry_trade", False, "天津市河东区精工机械制造有限公司"),
    ("120102010", "industry_trade", True, "天津市河东区恒达家具有限公司"),
    ("120102002", "industry_trade", False, "天津市河东区新兴纺织品有限公司"),
    # 河北区 (commerce examples from the 河北区商务局 plan, seed 001: malls, markets, hotels)
    ("120105001", "commerce", False, "天津市河北区意式风情商业管理有限公司"),
    ("120105002", "commerce", False, "天津市河北区望海楼商贸有限公司"),
    ("120105003", "commerce", False, "天津市河北区鸿顺里农贸市场有限公司"),
    ("120105008", "commerce", False, "天津市河北区王串场百货有限公司"),
    ("120105010", "commerce", False, "天津市河北区月牙河大酒店有限公司"),
    ("120105004", "hazchem", True, "天津市河北区新开河化工贸易有限公司"),
    ("120105005", "hazchem", True, "天津市河北区铁东路加油站有限公司"),
    ("120105006", "construction", True, "天津市河北区建昌建筑工程有限公司"),
    ("120105007", "construction", False, "天津市河北区宁园装饰工程有限公司"),
    ("120105009", "gas", True, "天津市河北区江都液化石油气供应站"),
    ("120105008", "gas", False, "天津市河北区津北燃气工程有限公司"),
    ("120105010", "industry_trade", False, "天津市河北区北宁机械加工有限公司"),
    # 东丽区
    ("120110001", "commerce", False, "天津市东丽区张贵庄商贸有限公司"),
    ("120110003", "commerce", False, "天津市东丽区万新农贸市场管理有限公司"),
    ("120110006", "commerce", False, "天津市东丽区华明购物广场有限公司"),
    ("120110008", "hazchem", True, "天津市东丽区军粮城化工有限公司"),
    ("120110007", "hazchem", True, "天津市东丽区金钟危险品仓储有限公司"),
    ("120110004", "hazchem", True, "天津市东丽区无瑕加油站有限公司"),
    ("120110005", "construction", True, "天津市东丽区新立建设工程有限公司"),
    ("120110009", "construction", False, "天津市东丽区金桥市政工程有限公司"),
    ("120110002", "gas", True, "天津市东丽区丰年村燃气有限公司"),
    ("120110010", "industry_trade", True, "天津市东丽区华新钢结构有限公司"),
    ("120110011", "industry_trade", False, "天津市东丽区东丽湖食品加工有限公司"),
    ("120110008", "industry_trade", True, "天津市东丽区军粮城粮油加工有限公司"),
)

# (username, display name, post, role, where): `where` is a division code, a district code plus
# a department suffix, "enterprise" for the first 河东区 enterprise, or "enterprise:" and a name.
ACCOUNTS = (
    ("hedong_admin", "王建国", "区安委会办公室主任", "admin", HEDONG),
    ("hedong_leader", "李志强", "副区长（分管安全生产）", "leader", HEDONG),
    ("hedong_staff", "刘洋", "街道安全生产办公室工作人员", "staff", "120102001"),
    ("hedong_inspector", "陈明", "应急管理综合行政执法支队执法人员", "inspector", (HEDONG, "应急管理局")),
    ("hedong_inspector2", "林涛", "应急管理综合行政执法支队执法人员", "inspector", (HEDONG, "应急管理局")),
    ("hedong_commerce", "何静", "商务局安全生产科科长", "inspector", (HEDONG, "商务局")),
    # On the district itself, not on the 纪委监委 node: a department without industries sees only
    # itself, while 纪委 must read every record of its level's subtree (GLOSSARY: discipline).
    ("hedong_discipline", "赵敏", "区纪委监委第三监督检查室", "discipline", HEDONG),
    # 三员分立: audit records are read and verified by an auditor, not by the admin who manages users.
    ("hedong_auditor", "钱卫东", "区安委会办公室安全审计员", "auditor", HEDONG),
    ("hedong_principal", "孙立新", "总经理", "principal", "enterprise"),
    ("hedong_safety", "周海燕", "安全部经理", "safety_officer", "enterprise"),
    ("hebei_admin", "吴国华", "区安委会办公室主任", "admin", "120105"),
    # 河北区商务局 tasks the 商贸 enterprises it supervises under the streets (三管三必须): one of them
    # and the street above it, which sees the task and cannot act on it.
    ("hebei_principal", "冯志远", "总经理", "principal", "enterprise:天津市河北区望海楼商贸有限公司"),
    ("hebei_street", "韩冬", "街道安全生产办公室工作人员", "staff", "120105002"),
    ("tianjin_admin", "郑文", "市安委会办公室副主任", "admin", CITY),
    # 东丽区 assigns the three-year action's current tasks (portal/demo/plans.py).
    ("dongli_admin", "马立军", "区安委会办公室主任", "admin", "120110"),
)

LETTERHEAD = {
    "header": "天津市河东区安全生产委员会办公室",
    "footer": "天津市河东区安全生产委员会办公室　地址：天津市河东区（演示数据）",
}

# GB 11714 organization code: 8 body characters and a check character, digits and capitals.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _org_check(body8: str) -> str:
    total = sum(int(c, 36) * w for c, w in zip(body8, _ORG_WEIGHTS))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def demo_credit_code(district_code: str, name: str, salt: int = 0) -> str:
    """A stable code shaped like a Tianjin company's: 91 + district + MA0… organization code + check.
    Derived from the name, so every run produces the same codes."""
    digest = hashlib.sha256(f"{name}#{salt}".encode()).digest()
    body = "MA0" + "567"[digest[0] % 3] + "".join(_ORG_BODY[b % len(_ORG_BODY)] for b in digest[1:5])
    return credit_code.make("91" + district_code + body + _org_check(body))


def _by_code(code: str) -> Tenant:
    tenant = db.session.execute(select(Tenant).where(Tenant.code == code)).scalar_one_or_none()
    if tenant is None:
        raise RuntimeError(f"没有找到区划代码为 {code} 的单位，行政区划导入不完整。")
    return tenant


def _child_named(parent: Tenant, name: str) -> Tenant | None:
    return db.session.execute(select(Tenant).where(Tenant.parent_id == parent.id, Tenant.name == name)
                              ).scalar_one_or_none()


def _departments(district: Tenant) -> dict[str, Tenant]:
    found = {}
    for suffix, industries in DEPARTMENTS:
        name = district.name + suffix
        found[suffix] = _child_named(district, name) or tenants.create_child(
            district, kind="department", name=name, supervised_industries=industries)
    return found


def _enterprises() -> list[Tenant]:
    created = []
    taken: set[str] = set()
    for street_code, industry, high_risk, name in ENTERPRISES:
        street = _by_code(street_code)
        existing = _child_named(street, name)
        if existing is not None:
            taken.add(existing.credit_code)
            created.append(existing)
            continue
        salt = 0
        code = demo_credit_code(street_code[:6], name)
        # Two names hashing to one code is unlikely but would make the seed fail; step aside.
        while code in taken or db.session.execute(select(Tenant.id).where(Tenant.credit_code == code)).first():
            salt += 1
            code = demo_credit_code(street_code[:6], name, salt)
        taken.add(code)
        created.append(tenants.register_enterprise(street, name=name, code=code, industry=industry,
                                                   high_risk=high_risk))
    return created


def _existing_accounts() -> list[tuple[str, str, str, str]] | None:
    """The demo accounts as stored, or None if any is missing (the seed has not run to the end)."""
    rows = []
    for username, *_ in ACCOUNTS:
        user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None or not user.memberships:
            return None
        m = user.memberships[0]
        rows.append((username, PASSWORD, m.tenant.name, ROLES[m.role]))
    return rows


def seed() -> list[tuple[str, str, str, str]]:
    """Load the demo (caller runs it unscoped and commits); return (用户名, 密码, 单位, 角色) rows."""
    done = _existing_accounts()
    if done is not None:
        # Already seeded: not even the division import runs, since it records an audit event each time.
        seed_plans(PASSWORD)
        seed_hazards()
        seed_inspections(PASSWORD)
        seed_checklists()  # after the plans: compliance reads their rules
        seed_dispatch(PASSWORD)  # after the plans: tables belong to their campaign
        return done

    from tenants.divisions import import_divisions

    stats = import_divisions(counties=list(DISTRICTS))
    departments = {code: _departments(_by_code(code)) for code in DISTRICTS}
    enterprises = _enterprises()
    first_enterprise = enterprises[0]

    accounts = []
    for username, display_name, post, role, where in ACCOUNTS:
        if where == "enterprise":
            unit = first_enterprise
        elif isinstance(where, tuple):
            unit = departments[where[0]][where[1]]
        elif where.startswith("enterprise:"):
            unit = next(e for e in enterprises if e.name == where.removeprefix("enterprise:"))
        else:
            unit = _by_code(where)
        if db.session.execute(select(User.id).where(User.username == username)).first() is None:
            # A published demo password, not an admin's initial one: no forced change at first login.
            auth.accept_password(auth.create_user(unit, username=username, display_name=display_name,
                                                  password=PASSWORD, role=role, post=post))
        accounts.append((username, PASSWORD, unit.name, ROLES[role]))

    hedong = _by_code(HEDONG)
    _, owner = inherit.resolve_with_owner(hedong, exports.LETTERHEAD)
    if owner is None or owner.tenant_id != hedong.id:
        exports.set_letterhead(hedong, header=LETTERHEAD["header"], footer=LETTERHEAD["footer"], seal=None,
                               keep_seal=False)

    seed_hazards()
    seed_inspections(PASSWORD)
    seed_plans(PASSWORD)
    seed_checklists()  # after the plans: compliance reads their rules
    seed_dispatch(PASSWORD)  # after the plans: tables belong to their campaign
    root = db.session.get(Tenant, hedong.ancestor_ids[0])
    audit.record(root, "demo.seeded", data={"divisions_created": stats["created"],
                                            "enterprises": len(enterprises), "accounts": len(accounts)})
    return accounts
