"""A province reports its monthly table to the national platform, in a real Chromium against two
real servers on two databases: 天津市's staff types its figure and submits last month's national
table on the provincial platform, its leader approves it there and sees it 已上报; on the national
platform the national table counts 天津市's figures and its board shows 天津市 已报."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import PASSWORD, fresh_app
from tests.dispatch.conftest import build_platform
from tests.e2e.conftest import log_in, log_out, serving

TABLE = "全国重大事故隐患专项排查整治行动进展情况调度表"
STUDY_LABEL = "省、市、县党委政府分别组织专题学习安全生产十五条硬措施"


def _open_table(page, base: str, period: str) -> None:
    page.goto(base + "/dispatch/")
    page.get_by_role("row", name=TABLE).get_by_role("link", name="打开").click()
    page.get_by_label("报告期").select_option(period)
    page.get_by_role("button", name="查看").click()
    expect(page.get_by_role("heading", name=TABLE)).to_be_visible()


def test_a_province_submits_its_monthly_table_and_the_national_table_shows_it(committed_app, browser):
    with fresh_app("national") as national_app:
        province, national = build_platform(committed_app, national=False), build_platform(national_app, national=True)
        with serving(national_app) as national_url, serving(committed_app) as province_url:
            committed_app.config.update(PARENT_PLATFORM_URL=national_url, PARENT_PLATFORM_TOKEN=national["secret"])
            context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.on("dialog", lambda dialog: dialog.accept())

            log_in(page, province_url, province["accounts"]["staff"], PASSWORD)
            _open_table(page, province_url, province["period"])
            expect(page.locator('a.figure[data-code="hazards.self_found"]')).to_have_text("1")
            page.get_by_label(STUDY_LABEL).fill("3")
            page.get_by_role("button", name="保存填报数据").click()
            page.get_by_role("button", name="上报本期调度表").click()
            expect(page.locator("#status")).to_have_text("已报待审")
            log_out(page)

            log_in(page, province_url, province["accounts"]["leader"], PASSWORD)
            _open_table(page, province_url, province["period"])
            expect(page.get_by_text("本表报送上级平台，须经本单位领导审核通过后上报。")).to_be_visible()
            page.get_by_role("button", name="审核通过并报上级平台").click()
            expect(page.locator("#status")).to_have_text("已通过")
            expect(page.locator("#upward-status")).to_have_text("已上报")
            log_out(page)

            log_in(page, national_url, national["accounts"]["admin"], PASSWORD)
            _open_table(page, national_url, national["period"])
            expect(page.locator('a.figure[data-code="hazards.self_found"]')).to_have_text("1")
            expect(page.locator('a.figure[data-code="lead.study_sessions"]')).to_have_text("3")
            row = page.locator("#board").get_by_role("row", name="天津市")
            expect(row).to_contain_text("已报")
            expect(row).to_contain_text("已通过")
            context.close()
