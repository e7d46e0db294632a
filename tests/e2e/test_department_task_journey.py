"""三管三必须 in a real Chromium: 河北区商务局 (seed 001) makes its principals' inspections monthly for
商贸 and assigns a task to its 商贸 enterprises under 河北区's streets; 望海楼商贸's principal sees
the monthly rule with the unit that set it, signs and reports; 望海楼街道 sees the task and its
enterprise's progress and has no button to act; the 商务局 approves.

The clock is frozen on 2023-05-22, in the 商务局 plan's 动员部署 phase: seed 001 asks it to pass its
plan to the enterprises by 5-23 and hear back by 5-24.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime

from playwright.sync_api import expect

from portal.demo import PASSWORD
from tenants import clock
from tests.e2e.conftest import log_in, log_out, submit_task

SHOP = "天津市河北区望海楼商贸有限公司"
COMMERCE = ("天津市河北区意式风情商业管理有限公司", SHOP, "天津市河北区鸿顺里农贸市场有限公司",
            "天津市河北区王串场百货有限公司", "天津市河北区月牙河大酒店有限公司")


def test_a_department_tasks_its_enterprises_under_the_streets(live_server, browser, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: datetime(2023, 5, 22, 2))  # 10:00 in Beijing
    base = live_server.url
    title = f"传达商务领域专项行动方案并报送动员部署情况（{secrets.token_hex(3)}）"
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: dialog.accept())  # 办结 asks first; the user says yes

    # The 商务局 tightens the principal's inspections for its industry: monthly instead of quarterly.
    log_in(page, base, "hebei_commerce", PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="方案").click()
    page.get_by_role("link", name="河北区商务局重大事故隐患排查整治2023专项行动方案").first.click()
    page.locator(".clause", has_text="组织开展本企业重大事故隐患排查整治").get_by_role("link").click()
    page.get_by_label("一般要求：次数").fill("1")
    page.get_by_label("一般要求：周期").select_option(label="每月")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    expect(page.locator("body")).to_contain_text("本级从严为“每月至少 1 次")

    # It assigns to all its 商贸 enterprises; the form says which five they are, none of another district.
    page.get_by_role("navigation").get_by_role("link", name="交办督办").click()
    page.get_by_role("link", name="交办新任务").click()
    expect(page.locator("body")).to_contain_text("交办给本部门监管的企业")
    page.get_by_label("任务标题").fill(title)
    page.get_by_label("任务内容与要求").fill("请组织学习本局专项行动方案，于5月24日前报送动员部署情况。")
    page.get_by_label("服务阶段").select_option(label="重大事故隐患专项排查整治2023行动 · 动员部署（截至 2023-05-31）")
    page.get_by_label("截止日期").fill("2023-05-24")
    industry = page.get_by_label(re.compile(r"^全部商贸企业（5 个："))
    for name in COMMERCE:
        expect(industry.locator("xpath=..")).to_contain_text(name)
    expect(page.locator("form[enctype]")).not_to_contain_text("河东")
    industry.check()
    task_url = submit_task(page, title, 5, "5 个企业：已办结 0，已上报 0，办理中 0，待签收 5，逾期 0")
    log_out(page)

    # 望海楼商贸 under 望海楼街道: the rule it must now keep and who set it, then the task.
    log_in(page, base, "hebei_principal", PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="责任清单").click()
    page.get_by_role("link", name=re.compile("主要负责人带队检查$")).click()
    expect(page.locator("body")).to_contain_text(
        "现行要求：每月至少 1 次（重大事故隐患专项排查整治2023行动，河北区商务局规定）")
    page.get_by_role("navigation").get_by_role("link", name="收到的任务").click()
    expect(page.get_by_role("row", name=re.compile(re.escape(title)))).to_contain_text("河北区商务局")
    page.get_by_role("link", name=title).click()
    expect(page.locator(".facts")).to_contain_text("河北区商务局")
    expect(page.locator(".facts")).to_contain_text("重大事故隐患专项排查整治2023行动 · 动员部署")
    page.get_by_role("button", name="签收").click()
    expect(page.locator("#state")).to_have_text("办理中")
    page.get_by_label("办理情况").fill("已组织全体员工学习方案，燃气报警器安装情况自查完毕。")
    page.get_by_role("button", name="上报").click()
    expect(page.locator("#state")).to_have_text("已上报")
    assignment_url = page.url
    log_out(page)

    # 望海楼街道 sees what reached its enterprise from the department, and nothing to press.
    log_in(page, base, "hebei_street", PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="交办督办").click()
    reached = page.locator("#from-departments")
    expect(reached.get_by_role("row", name=re.compile(re.escape(title)))).to_contain_text(
        "河北区商务局")
    expect(reached).to_contain_text("1 个企业：已办结 0，已上报 1")
    reached.get_by_role("link", name=title).click()
    expect(page.locator("#board")).to_contain_text(SHOP)
    expect(page.locator("#board")).not_to_contain_text("鸿顺里")  # another street's enterprise
    expect(page.locator("#task-changes")).to_have_count(0)
    page.locator("#board").get_by_role("link", name=SHOP).click()
    expect(page.locator("#state")).to_have_text("已上报")
    expect(page.get_by_role("button", name="审核通过，办结")).to_have_count(0)
    expect(page.get_by_role("button", name="退回")).to_have_count(0)
    log_out(page)

    # The 商务局 reviews: one of five reported, approved.
    log_in(page, base, "hebei_commerce", PASSWORD)
    page.goto(task_url)
    expect(page.locator("#rollup")).to_have_text("5 个企业：已办结 0，已上报 1，办理中 0，待签收 4，逾期 0")
    page.locator("#board").get_by_role("link", name=SHOP).click()
    expect(page).to_have_url(assignment_url)
    page.get_by_role("button", name="审核通过，办结").click()
    expect(page.locator("#state")).to_have_text("已办结")
    page.get_by_role("navigation").get_by_role("link", name="交办督办").click()
    expect(page.get_by_role("row", name=re.compile(re.escape(SHOP)))).to_contain_text("1")
    context.close()
