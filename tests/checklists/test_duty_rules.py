"""Every frequency rule of the plans judged against records (issue 14, item 3): the monthly check of
hot-work and key posts (000_), warning education and outsourcing checks where a plan sets how often,
hot-work permits (002_: approval, guard, equipment and fire checks), and the government levels' lists
judged for signing on time. Each failure names whose rule it breaks, is seen by the enterprise first
and by its street and supervising department, never by another district, and counts in the dispatch
table's duty rows."""
from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from portal.checklists import service
from portal.checklists.models import ComplianceFinding
from portal.dispatch import service as dispatch
from portal.errors import Refused
from portal.plans import service as plans
from portal.schedule import service as schedule
from tenants.scope import Scope, scoped_as, unscoped
from tests.checklists.conftest import QUARTER_END, fill_all, registered, tighten
from tests.conftest import PASSWORD, login

MONTHLY = {"all": {"times": 1, "per": "month"}}
YEARLY = {"all": {"times": 1, "per": "year"}}


def of(enterprise, today, code):
    return [(f.severity, f.text, f.since, f.source) for f in service.evaluate(enterprise, today) if f.code == code]


def national_rule(national, code, value, title):
    plans.save_clause(national, section="企业主体责任", title=title, body="专项行动期间。", rule=code, rule_value=value)


@pytest.fixture
def key_posts(session, tree, campaign, national):
    """The national plan asks one full check of hot-work and key posts; 甲区商务局 (seed 001) asks it
    monthly of its 商贸 enterprises."""
    national_rule(national, "key_post_check", YEARLY, "组织对动火等危险作业开展排查整治")
    tighten(tree["a_dept"], campaign, national, "key_post_check", MONTHLY)
    session.flush()


def key_post(enterprise, day):
    return service.record_duty(enterprise, "key_post", occurred_on=day, person="张建华", subject="电焊工、动火作业人员",
                               participants=6, today=day)


def permit(enterprise, day, **overrides):
    values = dict(person="李四", subject="三楼商户装修电焊", approver="张建华", guard="王五", starts_at=time(9, 0),
                  ends_at=time(11, 30), equipment_checked=True, fire_measures_checked=True)
    values.update(overrides)
    return service.record_duty(enterprise, "hot_work", occurred_on=day, today=day, **values)


def test_a_missed_monthly_key_post_check_is_a_failure_under_the_departments_rule(session, tree, key_posts):
    shop, plant = tree["a_shop"], tree["a_plant"]
    key_post(shop, date(2026, 7, 20))
    assert of(shop, date(2026, 8, 31), "no_key_post_check") == [(
        "warning", "本月未开展动火等危险作业及关键岗位人员岗位责任排查（每月至少 1 次，已 0 次，须在 2026-08-31 前完成）",
        date(2026, 9, 1), "甲区商务局")]
    assert of(shop, QUARTER_END, "no_key_post_check")[0] == (
        "failure", "2026年8月未开展动火等危险作业及关键岗位人员岗位责任排查", date(2026, 9, 1), "甲区商务局")
    # The chemical plant beside it is bound by the national yearly rule only; this year is still running.
    assert [s for s, *_ in of(plant, QUARTER_END, "no_key_post_check")] == ["warning"]
    assert of(plant, QUARTER_END, "no_key_post_check")[0][3] == "国务院安委会"
    assert service.duty_rule(shop, "key_post", QUARTER_END) == \
        "每月至少 1 次（重大事故隐患专项排查整治2026行动，甲区商务局规定）"
    key_post(shop, date(2026, 9, 3))
    assert of(shop, date(2026, 10, 1), "no_key_post_check") == [(
        "warning", "本月未开展动火等危险作业及关键岗位人员岗位责任排查（每月至少 1 次，已 0 次，须在 2026-10-31 前完成）",
        date(2026, 11, 1), "甲区商务局")]


def test_warning_education_and_outsourcing_checks_are_judged_where_a_plan_sets_how_often(
        session, tree, campaign, national):
    shop = tree["a_shop"]
    assert [s for s, *_ in of(shop, QUARTER_END, "no_education")] == ["warning"]
    # 甲区 asks 经常性全员安全警示教育 every quarter, and an outsourcing check every quarter.
    plan = plans.create_plan(tree["a"], campaign, title="甲区实施方案", issuer="甲区安委会")
    plans.save_clause(plan, section="企业主体责任", title="经常性全员安全警示教育", body="每季度至少1次。",
                      rule="warning_education", rule_value={"all": {"times": 1, "per": "quarter"}})
    plans.save_clause(plan, section="企业主体责任", title="外包外租、分包转包排查", body="每季度至少1次。",
                      rule="outsourcing_check", rule_value={"all": {"times": 1, "per": "quarter"}})
    service.record_duty(shop, "education", occurred_on=date(2026, 5, 6), subject="违规动火事故警示教育", participants=30,
                        today=date(2026, 5, 6))
    assert of(shop, date(2026, 10, 1), "no_education")[0] == (
        "failure", "2026年第三季度未开展全员安全警示教育", date(2026, 10, 1), "甲区")
    assert of(shop, date(2026, 7, 1), "no_outsourcing_check")[0] == (
        "failure", "2026年第二季度未开展外包外租全面排查", date(2026, 7, 1), "甲区")
    service.record_duty(shop, "outsourcing", occurred_on=date(2026, 7, 2), person="天津市顺达物流有限公司",
                        subject="仓储外包", qualified=True, agreement_signed=True, duties_clear=True, managed=True,
                        today=date(2026, 7, 2))
    assert [s for s, *_ in of(shop, date(2026, 7, 2), "no_outsourcing_check")] == ["failure"]
    assert [s for s, *_ in of(shop, date(2026, 10, 1), "no_outsourcing_check")] == ["warning"]


def test_a_hot_work_permit_names_approver_guard_and_window_and_a_skipped_check_is_a_failure(
        session, tree, key_posts):
    shop = tree["a_shop"]
    with pytest.raises(Refused, match="现场监护人不能由动火作业人员本人担任"):
        permit(shop, date(2026, 9, 10), guard="李四")
    with pytest.raises(Refused, match="须由作业人员和监护人以外的负责人审批"):
        permit(shop, date(2026, 9, 10), approver="王五")
    with pytest.raises(Refused, match="作业结束时间（09:00）应晚于开始时间（09:00）"):
        permit(shop, date(2026, 9, 10), ends_at=time(9, 0))
    with pytest.raises(Refused, match="请填写审批人"):
        permit(shop, date(2026, 9, 10), approver="")
    ok = permit(shop, date(2026, 9, 10))
    assert (ok.approver, ok.guard, ok.starts_at, ok.ends_at) == ("张建华", "王五", time(9, 0), time(11, 30))
    assert of(shop, date(2026, 9, 10), "hot_work_unsafe") == []
    unsafe = permit(shop, date(2026, 9, 12), equipment_checked=False)
    assert of(shop, date(2026, 9, 12), "hot_work_unsafe") == [(
        "failure", "2026-09-12 动火作业（三楼商户装修电焊）未对电气焊设备进行安全检查", date(2026, 9, 12), "甲区商务局")]
    kept = session.execute(select(ComplianceFinding).where(ComplianceFinding.code == "hot_work_unsafe")).scalar_one()
    assert (kept.subject, kept.source) == (f"hot_work:{unsafe.id}", "甲区商务局")
    # The next full check of the hot-work posts reviews it.
    key_post(shop, date(2026, 9, 20))
    assert of(shop, date(2026, 9, 20), "hot_work_unsafe") == []
    assert session.get(ComplianceFinding, kept.id).resolved_on == date(2026, 9, 20)


def test_a_government_levels_lists_are_judged_for_signing_on_time(session, tree, make_user):
    street, district = tree["a_street"], tree["a"]
    service.add_item(district, "leadership_duties", title="街道党工委书记：落实安全生产“党政同责、一岗双责”")
    service.set_due(district, "leadership_duties", date(2026, 6, 30))
    service.refresh([street, tree["b_street"]], date(2026, 6, 30))
    assert service.open_findings(street) == []
    service.refresh([street, tree["b_street"]], date(2026, 7, 1))
    [late] = service.open_findings(street)
    assert (late.code, late.text, late.since, late.source) == (
        "list_late", "领导班子成员安全生产职责清单未按期签署（应于 2026-06-30 前签署）", date(2026, 7, 1), "甲区")
    assert service.open_findings(tree["b_street"]) == []
    assert service.dispatch_figures(district, date(2026, 5, 1), date(2026, 7, 31))["duty.list_late"] == 1
    fill = service.start(street, "leadership_duties")
    fill_all(fill, today=date(2026, 7, 3))
    service.sign(fill, make_user(street, role="leader").memberships[0], PASSWORD, date(2026, 7, 3))
    assert service.open_findings(street) == []
    assert session.get(ComplianceFinding, late.id).resolved_on == date(2026, 7, 3)


def test_the_daily_job_keeps_the_finding_the_street_and_department_see_it_and_another_district_gets_404(
        app, session, tree, key_posts, make_user, client, frozen):
    shop = tree["a_shop"]
    for month in (4, 5, 6, 7):
        key_post(shop, date(2026, month, 20))
    session.commit()
    job = next(j for j in schedule.JOBS if j.name == "checklists-evaluate")
    with unscoped():  # as the scheduler runs it
        summary = job.run(datetime(2026, 9, 29, 17, 0))  # 01:00 on 2026-09-30 in Beijing
    assert summary.startswith("评估 ") and summary.endswith("（2026-09-30）")
    kept = session.execute(select(ComplianceFinding).where(ComplianceFinding.tenant_id == shop.id,
                                                           ComplianceFinding.code == "no_key_post_check")).scalar_one()
    assert (kept.text, kept.since, kept.source) == (
        "2026年8月未开展动火等危险作业及关键岗位人员岗位责任排查", date(2026, 9, 1), "甲区商务局")
    readers = {name: make_user(unit, role=role) for name, unit, role in (
        ("shop", shop, "principal"), ("street", tree["a_street"], "staff"), ("commerce", tree["a_dept"], "staff"),
        ("sibling", tree["b"], "admin"))}
    session.commit()
    for name, user in readers.items():
        login(client, user)
        response = client.get(f"/checklists/units/{shop.id}")
        if name == "sibling":
            assert response.status_code == 404
        else:
            page = response.get_data(as_text=True)
            assert "2026年8月未开展动火等危险作业及关键岗位人员岗位责任排查" in page and "依据：甲区商务局" in page, name
        client.get("/logout")
    # The dispatch row counts the shop for the street, the district and the department, never for 乙区.
    span = (date(2026, 4, 1), date(2026, 9, 30))
    for unit, expected in ((tree["a_street"], 1), (tree["a"], 1), (tree["a_dept"], 1), (tree["b"], 0)):
        with scoped_as(Scope.of(unit, "staff")):
            assert dispatch.compute(unit, *span).total["duty.no_key_post_check"] == expected, unit.name
    with scoped_as(Scope.of(tree["a_dept"], "staff")):
        [record] = dispatch.records(tree["a_dept"], "duty.no_key_post_check", *span)
    assert (record.unit, record.day, record.endpoint) == ("甲商场", date(2026, 9, 1), "checklists.unit")


def test_a_street_that_circulates_no_progress_each_quarter_fails_its_districts_rule(
        session, tree, campaign, national, make_user, frozen):
    """季通报 as 积翠镇 asks (003_): the national plan asks a circular every half year; 甲区 tightens it
    to every quarter; an issued quarterly summary is the circular."""
    from portal.summaries import service as summaries
    street = tree["a_street"]
    registered(street)
    national_rule(national, "progress_circular", {"all": {"times": 1, "per": "half_year"}}, "每半年通报整治进展情况")
    tighten(tree["a"], campaign, national, "progress_circular", {"all": {"times": 1, "per": "quarter"}})
    service.refresh([street, tree["b_street"]], date(2026, 7, 1))
    [missed] = service.open_findings(street)
    assert (missed.code, missed.text, missed.since, missed.source) == (
        "no_circular", "2026年第二季度未通报排查整治进展情况", date(2026, 7, 1), "甲区")
    # 乙区 kept the national half-yearly rule: its first half-year began before the campaign.
    assert service.open_findings(tree["b_street"]) == []
    assert service.dispatch_figures(tree["a"], date(2026, 4, 1), date(2026, 9, 30))["duty.no_circular"] == 1
    leader = make_user(street, role="leader").memberships[0]
    frozen(date(2026, 9, 25))  # the third quarter's circular, issued before it ends
    draft = summaries.compose(street, "quarter", date(2026, 9, 20), leader)
    summaries.issue(draft, leader)
    service.refresh([street], date(2026, 10, 1))
    assert service.open_findings(street) == []
