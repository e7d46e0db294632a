"""Plan rules: typed values, tightened down the tree, loosening refused with the parent's value,
and the effective rule for any node or enterprise in one query."""
import pytest
from sqlalchemy import event, select

from portal.audit.models import AuditEvent
from portal.errors import Refused
from portal.plans import rules, service
from tenants import inherit
from tenants.models import TenantSetting
from tenants.scope import Scope, scoped_as
from tests.plans.conftest import DRILL, clause_with


def test_values_read_as_the_documents_write_them():
    assert rules.describe("drill", DRILL) == "每年至少 1 次（高危行业领域企业每半年至少 1 次）"
    assert rules.describe("dispatch_report", {"period": "month", "due_day": 5, "cumulative": True}) \
        == "每月 5 日前上报上月情况（累计数据）"
    assert rules.describe("dispatch_report", {"period": "week", "due_day": 1, "cumulative": True}) == "每周一上报（累计数据）"
    assert rules.describe("dispatch_report", {"period": "quarter", "due_day": 25}) == "每季度末月 25 日前上报当季情况"
    assert rules.describe("drill", None) == "未规定"


@pytest.mark.parametrize("code,value,message", [
    ("drill", {"all": {"times": 0, "per": "year"}}, "1 到 100"),
    ("drill", {"all": {"times": 1, "per": "decade"}}, "周期"),
    ("drill", {"high_risk": {"times": 1, "per": "month"}}, "一般要求"),
    ("dispatch_report", {"period": "week", "due_day": 8}, "1（周一）到 7（周日）"),
    ("dispatch_report", {"period": "month", "due_day": 31}, "1 到 28"),
    ("dispatch_report", {"period": "half_month", "due_day": 3}, "不设截止日"),
    ("nonsense", {}, "未知的规则"),
])
def test_malformed_values_are_refused_in_chinese(code, value, message):
    with pytest.raises(rules.RuleError, match=message):
        rules.clean(code, value)


def _tighten(plan, rule, value):
    return service.save_clause(plan, title="从严", body="本级从严。", replaces=clause_with(plan, rule), rule_value=value)


def test_three_levels_tighten_and_a_fourth_may_not_loosen(session, tree, campaign, national):
    """national: high-risk drills half-yearly → province quarterly → city monthly; 甲区 may not go back."""
    province = service.create_plan(tree["province"], campaign, title="省方案", issuer="省安委会")
    _tighten(province, "drill", {"high_risk": {"times": 1, "per": "quarter"}})
    city = service.create_plan(tree["city"], campaign, title="市方案", issuer="市安委会")
    with pytest.raises(Refused, match="上级要求高危行业领域企业每季度至少 1 次，本级填写的高危行业领域企业为每半年至少 1 次"):
        _tighten(city, "drill", {"high_risk": {"times": 1, "per": "half_year"}})
    _tighten(city, "drill", {"all": {"times": 2, "per": "year"}, "high_risk": {"times": 1, "per": "month"}})
    district = service.create_plan(tree["a"], campaign, title="甲区方案", issuer="甲区安委会")
    with pytest.raises(Refused, match="每月至少 1 次"):
        _tighten(district, "drill", {"high_risk": {"times": 1, "per": "quarter"}})
    with pytest.raises(Refused, match="上级要求每年至少 2 次"):
        _tighten(district, "drill", {"all": {"times": 1, "per": "year"}})
    # Tightening further is fine: twice a month.
    _tighten(district, "drill", {"high_risk": {"times": 2, "per": "month"}})

    drill = lambda t: service.effective_rule(t, campaign.id, "drill")  # noqa: E731
    assert drill(tree["root"]) == DRILL
    assert drill(tree["province"])["high_risk"] == {"times": 1, "per": "quarter"}
    assert drill(tree["a_plant"])["high_risk"] == {"times": 2, "per": "month"}
    assert drill(tree["b_shop"])["high_risk"] == {"times": 1, "per": "month"}  # 乙区 inherits the city's
    # What binds one enterprise: the high-risk part only for a high-risk one.
    assert service.requirement(tree["a_plant"], campaign.id, "drill") == {"times": 2, "per": "month"}
    assert service.requirement(tree["a_shop"], campaign.id, "drill") == {"times": 2, "per": "year"}
    # The refused attempts wrote nothing: 甲区's value is the one it was allowed.
    own = session.execute(select(TenantSetting).where(TenantSetting.tenant_id == tree["a"].id)).scalar_one()
    assert own.value["high_risk"] == {"times": 2, "per": "month"}


def test_report_rules_tighten_to_weekly_and_never_drop_cumulative(session, tree, campaign, national):
    dept = service.create_plan(tree["a_dept"], campaign, title="甲区商务局方案", issuer="甲区商务局")
    with pytest.raises(Refused, match="上级要求“每月 5 日前上报上月情况（累计数据）”，本级填写为“每月 10 日前"):
        _tighten(dept, "dispatch_report", {"period": "month", "due_day": 10, "cumulative": True})
    with pytest.raises(Refused, match="须报累计数据"):
        _tighten(dept, "dispatch_report", {"period": "week", "due_day": 1, "cumulative": False})
    with pytest.raises(Refused, match="上级要求“每月 5 日前"):
        _tighten(dept, "dispatch_report", {"period": "quarter", "due_day": 25, "cumulative": True})
    _tighten(dept, "dispatch_report", {"period": "week", "due_day": 1, "cumulative": True})
    assert service.effective_rule(tree["a_dept"], campaign.id, "dispatch_report") == \
        {"period": "week", "due_day": 1, "cumulative": True}
    # Earlier in the same month is stricter too.
    street = service.create_plan(tree["a_street"], campaign, title="甲街道方案", issuer="甲街道")
    _tighten(street, "dispatch_report", {"period": "month", "due_day": 3, "cumulative": True})


def test_effective_rule_is_one_query_for_any_node(session, tree, campaign, national, app):
    province = service.create_plan(tree["province"], campaign, title="省方案", issuer="省安委会")
    _tighten(province, "principal_inspection", {"all": {"times": 1, "per": "month"}})
    plant, campaign_id = tree["a_plant"], campaign.id
    statements = []
    engine = session.get_bind().engine
    listener = lambda conn, cursor, statement, *a: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        value = service.requirement(plant, campaign_id, "principal_inspection")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert value == {"times": 1, "per": "month"}
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def test_a_parent_tightening_later_binds_the_levels_below_at_once(session, tree, campaign, national):
    district = service.create_plan(tree["a"], campaign, title="甲区方案", issuer="甲区安委会")
    _tighten(district, "drill", {"high_risk": {"times": 1, "per": "quarter"}})
    province = service.create_plan(tree["province"], campaign, title="省方案", issuer="省安委会")
    _tighten(province, "drill", {"high_risk": {"times": 1, "per": "month"}, "all": {"times": 2, "per": "year"}})
    # 甲区's own value was quarterly; the province's monthly binds 甲区 and its enterprises at once,
    # and 甲区's plan page names the province as the unit that set it. 甲区's own value is kept.
    assert service.effective_rule(tree["a_plant"], campaign.id, "drill") == \
        {"all": {"times": 2, "per": "year"}, "high_risk": {"times": 1, "per": "month"}}
    drill = next(r for r in service.rule_table(tree["a"], campaign.id) if r["rule"].code == "drill")
    assert drill["owner"] == tree["province"] and "每月" in drill["text"]
    assert inherit.owners(tree["a"], rules.key(campaign.id, "drill"))[0].value["high_risk"] == \
        {"times": 1, "per": "quarter"}


def test_units_below_and_supervising_departments_read_the_rules_above(session, tree, campaign, national):
    district = service.create_plan(tree["a"], campaign, title="甲区方案", issuer="甲区安委会")
    _tighten(district, "drill", {"all": {"times": 2, "per": "year"}, "high_risk": {"times": 1, "per": "quarter"}})
    session.commit()
    Tenant, campaign_id = type(tree["a"]), campaign.id
    readers = [  # (who reads, which enterprise, what binds it)
        (Scope.of(tree["a_street"], "staff"), tree["a_plant"].id, {"times": 1, "per": "quarter"}),
        (Scope.of(tree["a_plant"], "principal"), tree["a_plant"].id, {"times": 1, "per": "quarter"}),
        # 甲区商务局 supervises commerce: the shop, which is not high-risk.
        (Scope.of(tree["a_dept"], "inspector"), tree["a_shop"].id, {"times": 2, "per": "year"}),
        (Scope.of(tree["b"], "admin"), tree["b_shop"].id, {"times": 1, "per": "year"}),
    ]
    for scope, enterprise_id, expected in readers:
        with scoped_as(scope):
            session.expunge_all()  # read from the database, through the reader's scope
            enterprise = session.get(Tenant, enterprise_id)
            assert service.requirement(enterprise, campaign_id, "drill") == expected, scope


def test_an_enterprise_is_bound_by_the_strictest_of_its_levels_and_every_department_supervising_it(
        session, tree, campaign, national, make_tenant):
    """三管三必须: 甲商场 (商贸, under 甲街道) answers to 甲区 and to both departments of 甲区 that
    supervise 商贸; the strictest value wins, named with the unit that set it."""
    market = make_tenant(tree["a"], kind="department", name="甲区市场监管局", supervised_industries=["commerce", "food"])
    district = service.create_plan(tree["a"], campaign, title="甲区方案", issuer="甲区安委会")
    _tighten(district, "drill", {"all": {"times": 2, "per": "year"}})
    commerce = service.create_plan(tree["a_dept"], campaign, title="甲区商务局方案", issuer="甲区商务局")
    _tighten(commerce, "drill", {"all": {"times": 1, "per": "quarter"}})
    _tighten(commerce, "principal_inspection", {"all": {"times": 1, "per": "month"}})
    supervision = service.create_plan(market, campaign, title="甲区市场监管局方案", issuer="甲区市场监管局")
    _tighten(supervision, "drill", {"all": {"times": 1, "per": "month"}})
    _tighten(supervision, "principal_inspection", {"all": {"times": 1, "per": "quarter"}})

    shop = tree["a_shop"]
    assert service.requirement(shop, campaign.id, "drill") == {"times": 1, "per": "month"}
    assert service.requirement(shop, campaign.id, "principal_inspection") == {"times": 1, "per": "month"}
    table = {r["rule"].code: r for r in service.rule_table(shop, campaign.id)}
    assert table["drill"]["owner"] == market and table["principal_inspection"]["owner"] == tree["a_dept"]
    # The chemical plant beside it is no 商贸 enterprise: the district's rule binds it, not theirs.
    district_rule = service.effective_rule(tree["a"], campaign.id, "drill")
    assert district_rule["all"] == {"times": 2, "per": "year"}
    assert service.effective_rule(tree["a_plant"], campaign.id, "drill") == district_rule
    # 乙区's shop is 商贸 too, but outside 甲区: neither department reaches it.
    assert service.requirement(tree["b_shop"], campaign.id, "drill") == DRILL["all"]
    # The street between reads its district's rule: departments bind enterprises, not levels.
    assert service.effective_rule(tree["a_street"], campaign.id, "drill") == district_rule
    # The shop's principal reads the same, though the departments are outside its read scope.
    with scoped_as(Scope.of(shop, "principal")):
        assert service.requirement(shop, campaign.id, "drill") == {"times": 1, "per": "month"}
