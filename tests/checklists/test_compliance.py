"""Each duty judged against the plan rule in force for the enterprise, at the period boundary: the
enterprise is warned while a period runs, the levels above see a failure once it has closed."""
from datetime import date

import pytest
from sqlalchemy import select

from portal.checklists import service
from portal.checklists.models import ComplianceFinding
from tenants.scope import Scope, scoped_as
from tests.checklists.conftest import QUARTER_END, fill_all, registered, tighten
from tests.conftest import PASSWORD, login

NEXT_DAY = date(2026, 10, 1)


def of(enterprise, today, code):
    return [(f.severity, f.text, f.since) for f in service.evaluate(enterprise, today) if f.code == code]


def inspect(enterprise, day):
    service.record_duty(enterprise, "inspection", occurred_on=day, person="张建华", subject="全厂重大事故隐患排查整治情况",
                        today=day)


def test_quarterly_inspection_is_a_warning_on_the_last_day_and_a_failure_the_day_after(session, tree, national):
    shop = tree["a_shop"]  # commerce, not high-risk: once a quarter
    inspect(shop, date(2026, 5, 10))
    [(severity, text, _)] = of(shop, QUARTER_END, "principal_not_led")
    assert severity == "warning"
    assert text == "本季度主要负责人未带队检查（每季度至少 1 次，已 0 次，须在 2026-09-30 前完成）"
    found = of(shop, NEXT_DAY, "principal_not_led")
    assert ("failure", "2026年第三季度主要负责人未带队检查", NEXT_DAY) in found
    failure = next(f for f in service.evaluate(shop, NEXT_DAY)
                   if f.severity == "failure" and f.code == "principal_not_led")
    assert failure.spot_row == "spot.principal_not_led" and failure.label == "主要负责人未带队检查"


def test_an_inspection_on_the_last_day_counts_for_its_quarter_and_the_first_day_of_the_next_does_not(
        session, tree, national):
    shop, other = tree["a_shop"], tree["b_shop"]
    inspect(shop, date(2026, 6, 1))
    inspect(shop, QUARTER_END)
    assert of(shop, QUARTER_END, "principal_not_led") == []
    assert [s for s, *_ in of(shop, NEXT_DAY, "principal_not_led")] == ["warning"]
    inspect(other, date(2026, 6, 30))
    inspect(other, NEXT_DAY)
    assert ("failure", "2026年第三季度主要负责人未带队检查", NEXT_DAY) in of(other, NEXT_DAY, "principal_not_led")
    # The miss stands while the fourth quarter runs, and ends once that quarter closes with an inspection.
    assert of(other, date(2027, 1, 1), "principal_not_led") == []


def test_high_risk_enterprises_inspect_monthly_and_a_run_of_misses_is_dated_from_its_start(session, tree, national):
    plant = tree["a_plant"]  # hazchem, high-risk: once a month
    inspect(plant, date(2026, 5, 31))
    assert of(plant, QUARTER_END, "principal_not_led") == [
        ("failure", "2026年8月主要负责人未带队检查（自2026年6月起连续 3 个月）", date(2026, 7, 1)),
        ("warning", "本月主要负责人未带队检查（每月至少 1 次，已 0 次，须在 2026-09-30 前完成）", NEXT_DAY)]


def test_a_street_that_asks_monthly_inspections_of_everyone_binds_its_enterprises(session, tree, campaign, national):
    shop = tree["a_shop"]
    inspect(shop, date(2026, 5, 15))
    inspect(shop, date(2026, 7, 15))
    assert of(shop, QUARTER_END, "principal_not_led") == []
    # 积翠镇: monthly for all, stricter than the national quarterly.
    tighten(tree["a_street"], campaign, national, "principal_inspection", {"all": {"times": 1, "per": "month"}})
    assert ("failure", "2026年8月主要负责人未带队检查", date(2026, 9, 1)) in of(shop, QUARTER_END, "principal_not_led")
    assert not [t for _, t, _ in of(tree["b_shop"], QUARTER_END, "principal_not_led") if "8月" in t]


def test_a_department_that_asks_monthly_inspections_of_its_industry_binds_the_enterprises_it_supervises(
        session, tree, campaign, national, client, make_user, frozen):
    """三管三必须: 甲区商务局 tightens for 商贸; 甲商场 under 甲街道 is judged by it and its duty page
    says who set the rule; 甲化工厂 beside it and 乙区's shop are not."""
    shop = tree["a_shop"]
    inspect(shop, date(2026, 5, 15))
    inspect(shop, date(2026, 7, 15))
    tighten(tree["a_dept"], campaign, national, "principal_inspection", {"all": {"times": 1, "per": "month"}})
    assert ("failure", "2026年8月主要负责人未带队检查", date(2026, 9, 1)) in of(shop, QUARTER_END, "principal_not_led")
    assert not [t for _, t, _ in of(tree["b_shop"], QUARTER_END, "principal_not_led") if "8月" in t]
    assert service.duty_rule(tree["a_plant"], "inspection", QUARTER_END).endswith("国务院安委会规定）")
    principal = make_user(shop, role="principal")
    session.commit()
    login(client, principal)
    page = client.get(f"/checklists/units/{shop.id}/duties/inspection").get_data(as_text=True)
    assert "现行要求：<strong>每月至少 1 次（重大事故隐患专项排查整治2026行动，甲区商务局规定）</strong>" in page


def drill(enterprise, day, escape=True):
    service.record_duty(enterprise, "drill", occurred_on=day, subject="商场火灾疏散", participants=80,
                        escape_routes_known=escape, today=day)


def test_drills_yearly_high_risk_half_yearly_and_quarterly_where_the_district_says_so(session, tree, campaign,
                                                                                   national, make_tenant):
    shop, plant = tree["a_shop"], tree["a_plant"]
    b_plant = make_tenant(tree["b_street"], kind="enterprise", name="乙化工厂", industry="hazchem", high_risk=True)
    registered(b_plant)
    drill(shop, date(2025, 6, 1))
    assert [(s, t) for s, t, _ in of(shop, QUARTER_END, "no_drill")] == [
        ("warning", "本年度未按规定开展应急演练（每年至少 1 次，已 0 次，须在 2026-12-31 前完成）")]
    for p in (plant, b_plant):
        drill(p, date(2026, 5, 1))
    assert of(plant, date(2026, 7, 1), "no_drill")[0][0] == "warning"
    assert of(b_plant, date(2026, 7, 1), "no_drill")[0][0] == "warning"
    assert ("failure", "2026年上半年未按规定开展应急演练", date(2026, 7, 1)) not in of(plant, date(2026, 7, 1), "no_drill")
    # 河东区: high-risk enterprises drill every quarter.
    tighten(tree["a"], campaign, national, "drill", {"all": {"times": 1, "per": "year"},
                                                     "high_risk": {"times": 1, "per": "quarter"}})
    assert ("failure", "2026年第三季度未按规定开展应急演练", NEXT_DAY) in of(plant, NEXT_DAY, "no_drill")
    assert not [f for f in of(b_plant, NEXT_DAY, "no_drill") if f[0] == "failure"]
    assert not [f for f in of(shop, NEXT_DAY, "no_drill") if f[0] == "failure"]


def test_a_drill_where_staff_did_not_know_the_escape_routes_is_a_failure_until_one_where_they_did(
        session, tree, national):
    plant = tree["a_plant"]
    drill(plant, date(2026, 9, 10), escape=False)
    [(severity, text, since)] = of(plant, QUARTER_END, "escape_unknown")
    assert severity == "failure" and "2026-09-10 应急演练中从业人员不熟悉安全逃生出口" in text and since == date(2026, 9, 10)
    assert service.FINDING_KINDS["escape_unknown"].spot_row == "spot.no_drill"
    drill(plant, date(2026, 9, 25))
    assert of(plant, QUARTER_END, "escape_unknown") == []


def worker(enterprise, expires_on, today=date(2026, 9, 1), name="王某"):
    return service.add_worker(enterprise, name=name, work_type="welding", certificate_no=f"T{name}{expires_on}",
                              expires_on=expires_on, today=today)


def test_a_certificate_expires_the_day_after_its_last_valid_day(session, tree):
    plant = tree["a_plant"]
    w = worker(plant, QUARTER_END)
    assert of(plant, QUARTER_END, "uncertified_worker") == [
        ("warning", "特种作业人员 王某 焊工证 将于 2026-09-30 到期，请及时复审", NEXT_DAY)]
    assert of(plant, NEXT_DAY, "uncertified_worker") == [
        ("failure", "特种作业人员 王某 焊工证 已过期（有效期至 2026-09-30）", NEXT_DAY)]
    assert service.FINDING_KINDS["uncertified_worker"].spot_row == "spot.uncertified_welders"
    service.renew_worker(w, certificate_no="T120102198001011234", expires_on=date(2029, 9, 30), today=NEXT_DAY)
    assert of(plant, NEXT_DAY, "uncertified_worker") == []


def test_outsourcing_chaos_names_the_counterparty_and_what_is_missing(session, tree, national):
    plant = tree["a_plant"]
    common = dict(subject="储罐区检修外包", qualified=True, duties_clear=True, managed=True, today=QUARTER_END)
    service.record_duty(plant, "outsourcing", occurred_on=date(2026, 3, 2), person="天津市华安检修工程有限公司",
                        agreement_signed=False, **common)
    service.record_duty(plant, "outsourcing", occurred_on=date(2026, 3, 2), person="天津市顺达物流有限公司",
                        agreement_signed=True, **common)
    [(severity, text, since)] = of(plant, QUARTER_END, "outsourcing_chaos")
    assert (severity, since) == ("failure", date(2026, 3, 2))
    assert text == "外包外租单位“天津市华安检修工程有限公司”：未签订安全生产协议"
    service.record_duty(plant, "outsourcing", occurred_on=date(2026, 4, 8), person="天津市华安检修工程有限公司",
                        agreement_signed=True, **common)
    assert of(plant, QUARTER_END, "outsourcing_chaos") == []
    # No check at all during the campaign is a reminder to the enterprise only, never a failure.
    shop = tree["a_shop"]
    assert of(shop, QUARTER_END, "no_outsourcing_check") == [
        ("warning", "专项行动期间尚未开展外包外租全面排查（至少 1 次，2026-12-31 前）", date(2027, 1, 1))]
    assert of(shop, QUARTER_END, "no_education")[0][0] == "warning"
    service.record_duty(shop, "education", occurred_on=date(2026, 4, 20), subject="违规动火事故警示教育",
                        participants=35, today=QUARTER_END)
    assert of(shop, QUARTER_END, "no_education") == []


def test_dispatched_workers_who_failed_training_are_named(session, tree):
    shop = tree["a_shop"]
    service.record_duty(shop, "training", occurred_on=date(2026, 9, 1), person="赵六", worker_type="dispatched",
                        subject="岗位安全操作规程", passed=False, today=QUARTER_END)
    assert of(shop, QUARTER_END, "untrained_worker") == [
        ("failure", "劳务派遣人员 赵六 培训考核不合格，未经培训合格不得上岗作业", date(2026, 9, 1))]
    service.record_duty(shop, "training", occurred_on=date(2026, 9, 8), person="赵六", worker_type="dispatched",
                        subject="补考", passed=True, today=QUARTER_END)
    assert of(shop, QUARTER_END, "untrained_worker") == []


def test_no_deputy_duty_list_after_the_deadline(session, tree, make_user):
    shop = tree["a_shop"]
    service.add_item(tree["a"], "deputy_duties", title="分管安全生产负责人：组织制定安全生产规章制度")
    service.set_due(tree["a"], "deputy_duties", date(2026, 6, 30))
    assert of(shop, date(2026, 6, 30), "no_duty_list") == [
        ("warning", "企业分管负责人安全生产职责清单尚未签署，须于 2026-06-30 前签署", date(2026, 7, 1))]
    assert of(shop, date(2026, 7, 1), "no_duty_list") == [
        ("failure", "未制定分管负责人职责清单（应于 2026-06-30 前签署）", date(2026, 7, 1))]
    fill = service.start(shop, "deputy_duties")
    fill_all(fill)
    service.sign(fill, make_user(shop, role="principal").memberships[0], PASSWORD, date(2026, 7, 1))
    assert of(shop, date(2026, 7, 1), "no_duty_list") == []


def test_periods_before_the_enterprise_was_registered_are_not_judged(session, tree, national, make_tenant):
    newcomer = make_tenant(tree["a_street"], kind="enterprise", name="甲新店", industry="commerce")
    registered(newcomer, on=date(2026, 8, 15))
    assert [s for s, *_ in of(newcomer, NEXT_DAY, "principal_not_led")] == ["warning"]
    # Registered before the campaign, the shop answers for both closed quarters of it.
    assert of(tree["a_shop"], NEXT_DAY, "principal_not_led")[0] == (
        "failure", "2026年第三季度主要负责人未带队检查（自2026年第二季度起连续 2 个季度）", date(2026, 7, 1))


def test_without_a_campaign_in_force_no_periodic_duty_is_due(session, tree, national):
    shop = tree["a_shop"]
    assert of(shop, date(2027, 3, 1), "principal_not_led") == []
    assert of(shop, date(2023, 12, 1), "principal_not_led") == []


def test_failures_are_kept_for_the_levels_above_and_close_when_fixed(session, tree, national):
    plant, shop = tree["a_plant"], tree["a_shop"]
    w = worker(plant, date(2026, 9, 15))
    inspect(shop, date(2026, 5, 10))
    # The writes above already evaluated the enterprise for their own day; a later day's job adds the rest.
    service.refresh([plant, shop], NEXT_DAY)
    kept = {(f.tenant_id, f.code): f for f in session.execute(
        select(ComplianceFinding).where(ComplianceFinding.resolved_on.is_(None))).scalars()}
    assert kept[(plant.id, "uncertified_worker")].since == date(2026, 9, 16)
    assert kept[(plant.id, "uncertified_worker")].spot_row == "spot.uncertified_welders"
    assert kept[(shop.id, "principal_not_led")].text == "2026年第三季度主要负责人未带队检查"
    # Warnings stay with the enterprise.
    assert all(f.code != "no_duty_list" for f in kept.values())
    assert service.refresh([plant, shop], date(2026, 10, 15)) == 0
    service.renew_worker(w, certificate_no="T2", expires_on=date(2029, 1, 1), today=date(2026, 10, 20))
    closed = session.get(ComplianceFinding, kept[(plant.id, "uncertified_worker")].id)
    assert closed.resolved_on == date(2026, 10, 20)
    # The street sees both, 甲区商务局 only the shop (its industry), the sibling district nothing.
    seen = {}
    for name, scope in (("street", Scope.of(tree["a_street"], "staff")),
                        ("commerce", Scope.of(tree["a_dept"], "staff")), ("sibling", Scope.of(tree["b"], "admin"))):
        with scoped_as(scope):
            seen[name] = {f.tenant_id for f in session.execute(select(ComplianceFinding)).scalars()}
    assert seen == {"street": {plant.id, shop.id}, "commerce": {shop.id}, "sibling": set()}


def test_every_kept_finding_counts_in_a_spot_check_row_of_the_dispatch_table_or_in_none():
    rows = {k.spot_row for k in service.FINDING_KINDS.values()} - {None}
    assert rows == {"spot.principal_not_led", "spot.no_duty_list", "spot.uncertified_welders", "spot.outsourcing_chaos",
                    "spot.no_drill"}


@pytest.mark.parametrize("day,per,expected", [
    (date(2026, 9, 30), "quarter", (date(2026, 7, 1), date(2026, 9, 30), "2026年第三季度")),
    (date(2026, 2, 28), "month", (date(2026, 2, 1), date(2026, 2, 28), "2026年2月")),
    (date(2026, 7, 1), "half_year", (date(2026, 7, 1), date(2026, 12, 31), "2026年下半年")),
    (date(2026, 3, 16), "half_month", (date(2026, 3, 16), date(2026, 3, 31), "2026年3月下半月")),
    (date(2026, 1, 1), "week", (date(2025, 12, 29), date(2026, 1, 4), "2026年第1周")),
    (date(2026, 12, 31), "year", (date(2026, 1, 1), date(2026, 12, 31), "2026年")),
])
def test_calendar_periods(day, per, expected):
    start, end = service.period_of(day, per)
    assert (start, end, service.period_name(start, per)) == expected


def test_the_daily_command_opens_failures_that_came_with_time(app, session, tree):
    plant = tree["a_plant"]
    worker(plant, date(2026, 9, 15))
    session.commit()
    assert session.execute(select(ComplianceFinding)).scalars().all() == []
    runner = app.test_cli_runner()
    result = runner.invoke(args=["checklists", "evaluate", "--date", "2026-10-01"])
    assert result.exit_code == 0, result.output
    assert "评估日期 2026-10-01" in result.output
    [kept] = session.execute(select(ComplianceFinding)).scalars().all()
    assert (kept.tenant_id, kept.since) == (plant.id, date(2026, 9, 16))
    result = runner.invoke(args=["checklists", "evaluate", "--date", "十月一日"])
    assert result.exit_code != 0 and "日期格式应为 YYYY-MM-DD" in result.output
