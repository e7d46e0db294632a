"""The demo seed: real divisions, departments, enterprises with valid credit codes, one user per role."""
from collections import Counter

from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.auth.service import password_change_due, password_problem
from portal.demo import ACCOUNTS, PASSWORD, seed
from portal.exports import service as exports
from portal.exports.models import ExportDocument
from tenants import credit_code
from tenants.models import ROLES, Membership, Tenant, TenantSetting
from tenants.scope import Scope, scoped_as

# The 2023 statistical division list (国家统计局) for these districts.
HEDONG_STREETS = {"大王庄街道", "大直沽街道", "中山门街道", "富民路街道", "二号桥街道", "春华街道", "唐家口街道",
                  "向阳楼街道", "常州道街道", "上杭路街道", "东新街道", "鲁山道街道", "天津铁厂街道"}
HEBEI_STREETS = {"光复道街道", "望海楼街道", "鸿顺里街道", "新开河街道", "铁东路街道", "建昌道街道", "宁园街道",
                 "王串场街道", "江都路街道", "月牙河街道"}
DONGLI_STREETS = {"张贵庄街道", "丰年村街道", "万新街道", "无瑕街道", "新立街道", "华明街道", "金钟街道",
                  "军粮城街道", "金桥街道", "华新街道", "东丽湖街道"}


def _one(session, **where):
    return session.execute(select(Tenant).filter_by(**where)).scalar_one()


def _children(session, parent, kind):
    return session.execute(select(Tenant).where(Tenant.parent_id == parent.id, Tenant.kind == kind)
                           .order_by(Tenant.id)).scalars().all()


def _counts(session):
    return {model.__name__: session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Tenant, User, Membership, TenantSetting, AuditEvent, ExportDocument)}


def test_tree_is_national_root_tianjin_and_three_districts_with_real_streets(session, seeded):
    tianjin = _one(session, code="12")
    assert tianjin.name == "天津市" and tianjin.kind == "province"
    assert tianjin.parent.name == "国务院安委会" and tianjin.parent.parent_id is None
    districts = {d.name: d for d in _children(session, tianjin, "district")}
    assert set(districts) == {"河东区", "河北区", "东丽区"}
    assert {s.name for s in _children(session, districts["河东区"], "street")} == HEDONG_STREETS
    assert {s.name for s in _children(session, districts["河北区"], "street")} == HEBEI_STREETS
    assert DONGLI_STREETS <= {s.name for s in _children(session, districts["东丽区"], "street")}
    for district in districts.values():
        for street in _children(session, district, "street"):
            assert street.code.startswith(district.code) and street.path.startswith(district.path)


def test_every_district_has_the_five_departments(session, seeded):
    for code in ("120102", "120105", "120110"):
        district = _one(session, code=code)
        departments = {d.name[len(district.name):]: d.supervised_industries
                       for d in _children(session, district, "department")}
        assert departments == {
            "应急管理局": ["fireworks", "hazchem", "industry_trade", "mining"],
            "住房和建设委员会": ["construction", "gas"],
            "商务局": ["commerce"],
            "消防救援支队": ["fire"],
            "纪委监委": [],
        }


def test_sixty_enterprises_with_valid_unique_credit_codes_spread_over_streets(session, seeded):
    enterprises = session.execute(select(Tenant).where(Tenant.kind == "enterprise")).scalars().all()
    assert len(enterprises) == 60
    codes = [e.credit_code for e in enterprises]
    assert len(set(codes)) == 60
    for e in enterprises:
        assert credit_code.validate(e.credit_code) == e.credit_code
        assert e.parent.kind == "street"
        district = e.parent.parent
        # Registered by the district's own registration authority: 91 + its 6-digit division code.
        assert e.credit_code.startswith("91" + district.code)
        assert e.name.startswith(("天津市" + district.name, "天津" + district.name[:2]))
    by_district = Counter(e.parent.parent.name for e in enterprises)
    assert by_district["河东区"] > by_district["河北区"] > 0 and by_district["东丽区"] > 0
    assert by_district["河东区"] > 30
    assert len({e.parent_id for e in enterprises if e.parent.parent.name == "河东区"}) == len(HEDONG_STREETS)
    assert {e.industry for e in enterprises} == {"hazchem", "construction", "commerce", "gas", "industry_trade"}
    assert all(e.high_risk for e in enterprises if e.industry == "hazchem")
    assert 0 < sum(e.high_risk for e in enterprises) < 60


def test_one_account_per_role_and_each_can_log_in(session, seeded):
    accounts = seeded
    assert [row[0] for row in accounts] == [a[0] for a in ACCOUNTS]
    assert password_problem(PASSWORD) is None
    roles = Counter()
    for username, password, unit, role_label in accounts:
        assert username.isascii()
        user = session.execute(select(User).where(User.username == username)).scalar_one()
        assert check_password_hash(user.password_hash, password)
        (membership,) = user.memberships
        assert membership.tenant.name == unit and membership.role_label == role_label
        roles[membership.role] += 1
    assert set(roles) == set(ROLES)
    by_name = {row[0]: row for row in accounts}
    assert by_name["hedong_admin"][2:] == ("河东区", "管理员")
    assert by_name["hebei_admin"][2] == "河北区" and by_name["tianjin_admin"][2] == "天津市"
    assert by_name["hedong_inspector"][2] == "河东区应急管理局"
    assert by_name["hedong_principal"][2] == by_name["hedong_safety"][2]
    assert by_name["hedong_auditor"][2:] == ("河东区", "审计员")
    # Published demo passwords work at once: none forced to change, none expired, accounts of the
    # plans, lists and dispatch demos included.
    everyone = session.execute(select(User)).scalars().all()
    assert len(everyone) > len(accounts)
    assert [u.username for u in everyone if password_change_due(u, 90)] == []


def test_hedong_letterhead_is_inherited_by_its_streets(session, seeded):
    street = _one(session, code="120102002")
    head = exports.letterhead(street)
    assert head["header"] == "天津市河东区安全生产委员会办公室"
    assert head["owner"].name == "河东区"
    assert exports.letterhead(_one(session, code="120105"))["owner"] is None


def test_second_seed_creates_nothing_and_returns_the_same_accounts(session, seeded):
    first = seeded
    session.flush()
    before = _counts(session)
    assert before["Tenant"] == 1 + 1 + 3 + len(HEDONG_STREETS) + len(HEBEI_STREETS) \
        + len(_children(session, _one(session, code="120110"), "street")) + 15 + 60 + 9  # 积翠镇's 山西省 › 吕梁市 › 方山县 and its 6 towns
    second = seed()
    session.flush()
    assert second == first
    assert _counts(session) == before


def test_hebei_admin_scope_excludes_hedong(session, seeded):
    hebei, hedong = _one(session, code="120105"), _one(session, code="120102")
    hedong_shop = _one(session, name="天津河东万达广场商业管理有限公司")
    with scoped_as(Scope.of(hebei, "admin")):
        session.expunge_all()  # reads must go to the database, not the identity map
        visible = session.execute(select(Tenant)).scalars().all()
        names = {t.name for t in visible}
        assert "河北区" in names and "望海楼街道" in names and "天津市" in names
        assert "河东区" not in names and "大王庄街道" not in names and "东丽区" not in names
        assert not any(t.path.startswith(hedong.path) for t in visible)
        assert session.execute(select(Tenant).where(Tenant.id == hedong_shop.id)).scalar_one_or_none() is None
        hebei_enterprises = [t for t in visible if t.kind == "enterprise"]
        assert hebei_enterprises and all(t.path.startswith(hebei.path) for t in hebei_enterprises)
        members = session.execute(select(Membership)).scalars().all()
        # 商务局 fills the weekly table and tasks 望海楼商贸, whose street watches
        assert {m.user.username for m in members} == {"hebei_admin", "hebei_commerce", "hebei_principal",
                                                      "hebei_street"}


def test_hedong_inspector_sees_only_emergency_industries_enterprises(session, seeded):
    department = _one(session, name="河东区应急管理局")
    with scoped_as(Scope.of(department, "inspector")):
        session.expunge_all()
        enterprises = session.execute(select(Tenant).where(Tenant.kind == "enterprise")).scalars().all()
    assert enterprises
    assert {e.industry for e in enterprises} == {"hazchem", "industry_trade"}
    assert all(e.name.startswith("天津市河东区") for e in enterprises)


def test_the_seeds_tables_are_defined_with_their_cadences(session, seeded):
    from datetime import date

    from portal.dispatch import periods, service
    from portal.dispatch.models import ReportDefinition
    tables = {d.name: d for d in session.execute(select(ReportDefinition)).scalars()}
    cadences = {name: periods.describe(d) for name, d in tables.items()}
    assert cadences == {
        "全国重大事故隐患专项排查整治 2023 行动进展情况调度表": "每月（次月 5 日前）上报",
        "河北区重大事故隐患专项排查整治2023行动进展情况调度表": "每周一 12:00前上报",
        "河东区重大事故隐患专项排查整治2023行动半月汇总表": "每半月上报（次日内）",
        "东丽经开区安全生产治本攻坚三年行动季度报送表": "每季度末月 25 日前上报",
        "东丽经开区安全生产治本攻坚三年行动年度报送表": "每年 12 月 25 日前上报",
    }
    quarterly = tables["东丽经开区安全生产治本攻坚三年行动季度报送表"]
    assert service.codes(quarterly)[-2:] == ["zero.overdue", "zero.reached"]
    assert service.current_period(quarterly, date(2024, 6, 20)).due == date(2024, 6, 25)
    hedong_street = _one(session, name="大王庄街道")
    assert [d.name for d in service.reporting_definitions(hedong_street)] == ["河东区重大事故隐患专项排查整治2023行动半月汇总表"]
