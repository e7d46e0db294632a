"""The weekly dispatch table in a real Chromium: on Monday 2024-01-01 河北区商务局 opens its table
with the derived rows already there, is refused a negative figure, types its figures and submits;
河北区 sees it 已报 and the other units 未报 (due today), approves it, opens a number's drill-down and
downloads the table as Excel and as PDF with the letterhead chain and digest."""
from __future__ import annotations

import io
from datetime import datetime

from openpyxl import load_workbook
from playwright.sync_api import expect

from portal.demo.dispatch import COMMERCE_USER, HEBEI_NAME
from tenants import clock
from tests.e2e.conftest import log_in, log_out, pdf_text

PASSWORD = "Anquan@2023"


def test_department_submits_and_district_approves_and_exports(live_server, browser, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: datetime(2024, 1, 1, 1))  # Monday 09:00 in Beijing
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.on("dialog", lambda dialog: dialog.accept())

    log_in(page, base, COMMERCE_USER, PASSWORD)
    page.goto(base + "/dispatch/")
    page.get_by_role("row", name=HEBEI_NAME).get_by_role("link", name="打开").click()
    expect(page.get_by_role("heading", name=HEBEI_NAME)).to_be_visible()
    expect(page.get_by_text("报告期 2023-12-26 至 2024-01-01")).to_be_visible()
    expect(page.locator('a.figure[data-code="hazards.self_found"]')).to_have_text("0")
    page.get_by_label("组织专题学习安全生产十五条硬措施").fill("-1")
    page.get_by_role("button", name="保存填报数据").click()
    expect(page.get_by_role("alert")).to_contain_text("不能为负数")
    page.get_by_label("组织专题学习安全生产十五条硬措施").fill("4")
    page.get_by_label("有关负责同志到企业宣讲").fill("1")
    page.get_by_label("是否依托媒体设置并播放安全生产专题栏目").fill("是")
    page.get_by_role("button", name="保存填报数据").click()
    # Cumulative: this week's 4 plus the 3 typed for the week of 12-25 (a unit's own figures count).
    expect(page.get_by_text("合计 7")).to_be_visible()
    page.get_by_role("button", name="上报本期调度表").click()
    expect(page.locator("#status")).to_have_text("已报待审")
    log_out(page)

    log_in(page, base, "hebei_admin", PASSWORD)
    page.goto(base + "/dispatch/")
    page.get_by_role("row", name=HEBEI_NAME).get_by_role("link", name="打开").click()
    board = page.locator("#board")
    row = board.get_by_role("row", name="河北区商务局")
    expect(row).to_contain_text("已报")
    expect(board.get_by_role("row", name="河北区应急管理局")).to_contain_text("未报")  # due today
    row.get_by_role("button", name="审核通过").click()
    expect(board.get_by_role("row", name="河北区商务局")).to_contain_text("已通过")
    page.locator('a.figure[data-code="lead.study_sessions"]').click()
    expect(page.get_by_role("row", name="河北区商务局")).to_contain_text("7")
    page.go_back()

    page.get_by_label("格式").select_option("xlsx")
    page.get_by_label("并列显示各下级").check()
    page.get_by_role("button", name="导出").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="下载").click()
    ws = load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active
    assert ws["A1"].value == HEBEI_NAME and ws["A2"].value.startswith("填报单位：") and "河北区" in ws["A2"].value
    assert "河北区商务局" in [c.value for c in ws[3]]

    page.goto(base + "/dispatch/")
    page.get_by_role("row", name=HEBEI_NAME).get_by_role("link", name="打开").click()
    page.get_by_label("格式").select_option("pdf")
    page.get_by_role("button", name="导出").click()
    link = page.get_by_role("link", name="下载 PDF")
    expect(link).to_be_visible()
    # A PDF opens inline; the browser's own request fetches it with the session cookie.
    text = pdf_text(page.request.get(base + link.get_attribute("href")).body())
    assert "未按规定比例提取安全生产费用" in text and "内容摘要" in text and "天津市" in text
    context.close()
