"""三管三必须 in a real Chromium (issue 14, items 3 and 6): 河东区商务局 asks its 商贸 enterprises for a
monthly check of hot-work and key posts; 万达 skipped last month. Its principal is told first; the
night's evaluation keeps the failure, and the street then sees it with the unit whose rule it breaks.
The 商务局 publishes key check items for 商贸, and they are on 万达's hazard form. 万达 records a
hot-work permit, its guard refused when it is the welder himself."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from portal.auth import service as auth
from portal.checklists import service as checklists
from portal.demo import PASSWORD
from portal.extensions import db
from portal.plans import service as plans
from portal.schedule import service as schedule
from tenants import clock
from tenants.models import Tenant
from tenants.scope import unscoped
from tests.e2e.conftest import log_in, log_out

WANDA = "天津河东万达广场商业管理有限公司"
RULE = "未开展动火等危险作业及关键岗位人员岗位责任排查"


def _month_name(day) -> str:
    return f"{day.year}年{day.month}月"


def _set_up(app) -> tuple[str, str]:
    """河东区商务局's plan for the campaign in force asks the key-post check monthly; 万达 has been on
    the platform since the first day of the month before last, so last month is judged; the 商务局
    gets an administrator. Returns last month's name and the administrator's username."""
    today = clock.today()
    last_month = checklists.period_of(today.replace(day=1) - timedelta(days=1), "month")[0]
    with app.app_context(), unscoped():
        commerce = db.session.execute(select(Tenant).where(
            Tenant.kind == "department", Tenant.name.like("%河东区商务局%"))).scalar_one()
        wanda = db.session.execute(select(Tenant).where(Tenant.name == WANDA)).scalar_one()
        campaign = checklists.campaign_on(today)
        plan = plans.effective_plan(commerce, campaign.id)
        if plan is None or plan.tenant_id != commerce.id:
            plan = plans.create_plan(commerce, campaign, title=f"{commerce.name}实施方案", issuer=commerce.name)
        plans.save_clause(plan, section="企业主要负责人履职", title="组织对动火等危险作业开展排查整治",
                          body="举一反三组织对动火等危险作业人员以及易产生重大事故隐患的其他关键岗位人员落实岗位责任情况每月至少进行1次全面排查。",
                          rule="key_post_check", rule_value={"all": {"times": 1, "per": "month"}})
        since = checklists.period_of(last_month - timedelta(days=1), "month")[0]
        wanda.created_at = datetime(since.year, since.month, 1)
        # Registered then, it did its check in that first month: only last month is missed.
        checklists.record_duty(wanda, "key_post", occurred_on=since, person="孙立新", subject="电焊工、动火作业人员",
                               participants=4, today=since)
        admin = auth.create_user(commerce, username="hedong_commerce_admin", display_name="周敏", password=PASSWORD,
                                 role="admin")
        auth.accept_password(admin)
        db.session.commit()
    return _month_name(last_month), "hedong_commerce_admin"


def _evaluate(app) -> str:
    """The scheduler's daily job, as it runs it."""
    job = next(j for j in schedule.JOBS if j.name == "checklists-evaluate")
    with app.app_context(), unscoped():
        return job.run(clock.now())


def test_a_missed_monthly_key_post_check_reaches_the_street_and_the_departments_key_items_the_form(
        live_server, browser, committed_app):
    base, accounts = live_server.url, live_server.accounts
    month, commerce_admin = _set_up(committed_app)
    failure = f"{month}{RULE}"
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()

    # The principal hears of it first, with the unit whose rule it is.
    principal, staff = accounts["hedong_principal"], accounts["hedong_staff"]
    log_in(page, base, principal[0], principal[1])
    page.get_by_role("navigation").get_by_role("link", name="责任清单").click()
    findings = page.locator("#findings")
    expect(findings).to_contain_text(failure)
    expect(findings.get_by_role("listitem").filter(has_text=failure)).to_contain_text("依据：河东区商务局")
    log_out(page)

    # Before the night's evaluation the street has nothing kept for 万达.
    log_in(page, base, staff[0], staff[1])
    page.goto(f"{base}/checklists/noncompliant")
    expect(page.locator("main")).not_to_contain_text(failure)
    log_out(page)

    assert "家企业" in _evaluate(committed_app)

    log_in(page, base, staff[0], staff[1])
    page.get_by_role("navigation").get_by_role("link", name="责任清单").click()
    page.get_by_role("link", name="未履职企业").click()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=WANDA, exact=True))
    expect(row).to_contain_text(failure)
    expect(row).to_contain_text("依据：河东区商务局")
    row.get_by_role("link", name=WANDA, exact=True).click()
    expect(page.locator("#findings")).to_contain_text(failure)
    log_out(page)

    # 河东区商务局 publishes key check items for 商贸 (no national standard covers malls' gas alarms).
    log_in(page, base, commerce_admin, PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="隐患台账").click()
    page.get_by_role("link", name="判定标准", exact=True).click()
    page.get_by_label("名称").fill("河东区商务领域重点检查事项")
    page.get_by_label("适用行业领域").select_option(label="商贸")
    page.get_by_label("检查事项（每行一项）").fill("商业综合体未安装可燃气体报警装置或报警装置失效\n商户装修动火作业未履行审批手续")
    page.get_by_role("button", name="发布").click()
    expect(page.get_by_role("status")).to_contain_text("本部门监管行业的企业登记隐患时可选用")
    log_out(page)

    # 万达's hazard form offers them first, under the 商务局's name.
    log_in(page, base, principal[0], principal[1])
    page.get_by_role("navigation").get_by_role("link", name="隐患台账").click()
    page.get_by_role("link", name="登记隐患").click()
    group = page.locator("optgroup").first
    expect(group).to_have_attribute("label", re.compile("^河东区商务领域重点检查事项（重点检查事项，河东区商务局发布"))
    expect(group.locator("option")).to_have_count(2)

    # A hot-work permit: the welder cannot guard his own work.
    page.get_by_role("navigation").get_by_role("link", name="责任清单").click()
    page.get_by_role("link", name=re.compile("动火作业审批")).click()
    page.get_by_label("作业日期").fill(clock.today().isoformat())
    for label, value in (("动火作业人员", "李四"), ("动火地点及作业内容", "三层商户装修电焊"), ("审批人", "孙立新"),
                         ("现场监护人", "李四"), ("作业开始时间", "09:00"), ("作业结束时间", "11:30")):
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("作业前已对电气焊设备进行安全检查").check()
    page.get_by_label("消防安全措施已检查落实").check()
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_role("alert")).to_contain_text("现场监护人不能由动火作业人员本人担任")
    page.get_by_label("现场监护人", exact=True).fill("王五")
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_role("status")).to_contain_text("已登记动火作业审批记录")
    expect(page.locator("#records")).to_contain_text("审批人 孙立新，监护人 王五")
