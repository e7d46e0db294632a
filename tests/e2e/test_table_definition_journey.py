"""A table defined in the browser and filled by a village: 河东区's admin composes a weekly table
(Monday noon) that villages fill, is first refused for choosing no unit kind; the village under
大王庄街道 opens it with its hazard already counted, types its figure and submits; 河东区 sees it
已报 on its board, opens the village's table and drills the hazard figure down to the one record
it counts."""
from __future__ import annotations

from datetime import date, datetime

from playwright.sync_api import expect
from sqlalchemy import select

from portal.auth import service as auth
from portal.extensions import db
from portal.hazards.models import Hazard
from portal.plans.models import Campaign
from tenants import clock, credit_code
from tenants import service as tree
from tenants.models import Tenant
from tenants.scope import unscoped
from tests.e2e.conftest import log_in, log_out

PASSWORD = "Anquan@2023"
TABLE = "河东区村级安全生产周调度表"


def _village(app) -> int:
    """The demo has no villages: one under 大王庄街道, its user, an enterprise and its hazard."""
    with app.app_context(), unscoped():
        street = db.session.execute(select(Tenant).where(Tenant.name == "大王庄街道")).scalar_one()
        village = tree.create_child(street, kind="village", name="大王庄测试社区")
        auth.accept_password(auth.create_user(village, username="village_staff", display_name="社区网格员",
                                              password=PASSWORD, role="staff"))  # set up as one the user chose
        shop = tree.register_enterprise(village, name="社区测试超市", code=credit_code.make("91120102MA0TEXT01"),
                                        industry="commerce", high_risk=False)
        db.session.add(Hazard(tenant=shop, level="major", source="self", industry="commerce",
                              description="安全出口被货物堵塞", found_at=date(2023, 6, 5), found_by_unit_id=shop.id,
                              status="pending"))
        campaign = db.session.execute(select(Campaign).where(Campaign.name == "重大事故隐患专项排查整治2023行动")
                                      ).scalar_one()
        db.session.commit()
        campaign_id = campaign.id
        db.session.remove()
    return campaign_id


def test_a_district_defines_a_weekly_table_that_a_village_fills(live_server, committed_app, browser, monkeypatch):
    campaign_id = _village(committed_app)
    monkeypatch.setattr(clock, "now", lambda: datetime(2023, 6, 7, 2))  # Wednesday 10:00 in Beijing
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("dialog", lambda dialog: dialog.accept())

    log_in(page, base, "hedong_admin", PASSWORD)
    page.goto(base + "/dispatch/")
    page.get_by_role("link", name="制定调度表").click()
    expect(page.get_by_role("heading", name="制定调度表")).to_be_visible()
    page.get_by_label("调度表名称").fill(TABLE)
    page.get_by_label("专项行动", exact=True).select_option(str(campaign_id))
    page.get_by_label("上报周期").select_option("week")
    page.get_by_label("每周截止：星期").select_option("1")
    page.get_by_label("截止时间").fill("12:00")
    page.get_by_label("开始上报日期").fill("2023-06-01")
    page.locator('input[name="rows"][value="hazards.self_found"]').check()
    page.locator('input[name="rows"][value="stock.open"]').check()
    page.locator('input[name="rows"][value="lead.study_sessions"]').check()
    page.get_by_role("button", name="制定调度表").click()
    expect(page.get_by_role("alert")).to_contain_text("请选择由哪些下级单位填报")
    page.get_by_label("村/社区").check()
    page.get_by_role("button", name="制定调度表").click()
    expect(page.get_by_role("heading", name=TABLE)).to_be_visible()
    expect(page.get_by_text("截止上报 2023-06-12 12:00")).to_be_visible()
    page.goto(base + "/dispatch/")
    expect(page.get_by_role("row", name=TABLE)).to_contain_text("每周一 12:00前上报")
    log_out(page)

    log_in(page, base, "village_staff", PASSWORD)
    page.goto(base + "/dispatch/")
    row = page.get_by_role("row", name=TABLE)
    expect(row).to_contain_text("本单位填报")
    row.get_by_role("link", name="打开").click()
    expect(page.get_by_text("报告期 2023-06-06 至 2023-06-12")).to_be_visible()
    expect(page.locator('a.figure[data-code="hazards.self_found"]')).to_have_text("1")
    page.get_by_label("专题学习安全生产十五条硬措施").fill("2")
    page.get_by_role("button", name="保存填报数据").click()
    expect(page.get_by_text("合计 2")).to_be_visible()
    page.get_by_role("button", name="上报本期调度表").click()
    expect(page.locator("#status")).to_have_text("已报待审")
    log_out(page)

    log_in(page, base, "hedong_admin", PASSWORD)
    page.goto(base + "/dispatch/")
    page.get_by_role("row", name=TABLE).get_by_role("link", name="打开").click()
    board = page.locator("#board")
    expect(board.get_by_role("row", name="大王庄测试社区")).to_contain_text("已报")
    board.get_by_role("row", name="大王庄测试社区").get_by_role("button", name="审核通过").click()
    expect(board.get_by_role("row", name="大王庄测试社区")).to_contain_text("已通过")
    board.get_by_role("link", name="大王庄测试社区").click()
    page.locator('a.figure[data-code="hazards.self_found"]').click()
    expect(page.locator("#value")).to_have_text("1")
    expect(page.locator("#record-count")).to_have_text("1 条")
    records = page.locator("#records tr.record")
    expect(records).to_have_count(1)
    expect(records.first).to_contain_text("社区测试超市")
    records.first.get_by_role("link").click()
    expect(page.get_by_text("安全出口被货物堵塞").first).to_be_visible()
    context.close()
