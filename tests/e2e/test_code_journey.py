"""一企一码 in a real Chromium: 河东区's admin gives 万达广场 its code and prints the poster; a passer-by
scans the poster's code on a phone (390 px), lands on the tip form for 万达广场 and files a tip,
which reaches 大王庄街道 about that enterprise; the principal, logged in, scans the same code and
lands on the enterprise's page; once the admin reissues the code, the old poster says it is void."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.demo import PASSWORD
from tests.e2e.conftest import log_in, log_out, pdf_text

ENTERPRISE = "天津河东万达广场商业管理有限公司"
PHONE = {"width": 390, "height": 844}


def test_the_public_scans_the_poster_and_files_a_tip_for_the_enterprise(live_server, browser):
    base = live_server.url
    desk = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = desk.new_page()
    log_in(page, base, "hedong_admin", PASSWORD)
    page.goto(base + "/tenants/?q=万达广场")
    page.get_by_role("link", name=ENTERPRISE).first.click()
    page.get_by_role("link", name="一企一码").click()
    page.get_by_role("button", name="生成一企一码").click()
    expect(page.get_by_role("status")).to_contain_text("已生成一企一码")
    expect(page.get_by_role("img", name=f"{ENTERPRISE}的一企一码")).to_be_visible()
    page.get_by_role("button", name="打印海报（A4 PDF）").click()
    page.wait_for_url(re.compile(r"/exports/\d+$"))
    download = page.get_by_role("link", name="下载 PDF")
    expect(download).to_be_visible(timeout=60_000)
    poster = desk.request.get(base + download.get_attribute("href"))
    assert poster.status == 200
    text = pdf_text(poster.body())
    assert ENTERPRISE in text and "12350" in text and "天津市河东区" in text
    # The address the QR code carries is printed under it: what the phone opens.
    scanned = re.search(r"(/q/[A-Za-z0-9_-]{22})", text).group(1)

    phone = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    passer_by = phone.new_page()
    passer_by.goto(base + scanned)
    expect(passer_by.get_by_role("heading", name="举报安全生产重大事故隐患")).to_be_visible()
    expect(passer_by.locator("#scanned-enterprise")).to_contain_text(ENTERPRISE)
    passer_by.get_by_label("隐患情况").fill("地下车库消防通道被装修材料堵死，安全出口上锁")
    passer_by.get_by_role("button", name="提交举报").click()
    expect(passer_by.locator("#tracking-code")).to_have_text(re.compile(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}"))
    # Nothing spills sideways on the phone.
    assert passer_by.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # The street that owns the enterprise has it, about the enterprise.
    log_out(page)
    log_in(page, base, "hedong_staff", PASSWORD)
    page.goto(base + "/tips/received")
    page.get_by_role("row", name=re.compile(ENTERPRISE)).first.get_by_role("link").first.click()
    expect(page.locator("main")).to_contain_text("地下车库消防通道被装修材料堵死")
    expect(page.get_by_label("被举报企业")).to_have_value(re.compile(r"\d+"))
    log_out(page)

    # The principal scans the same code logged in: the enterprise's own page.
    log_in(passer_by, base, "hedong_principal", PASSWORD)
    passer_by.goto(base + scanned)
    expect(passer_by.get_by_role("heading", name=re.compile(ENTERPRISE))).to_be_visible()
    expect(passer_by.get_by_role("link", name="隐患台账")).to_be_visible()

    # Reissued: the old poster now says it is void.
    log_in(page, base, "hedong_admin", PASSWORD)
    page.goto(base + scanned)  # the admin's scan lands on the enterprise's page too
    page.get_by_role("link", name="一企一码").click()
    page.get_by_text("作废二维码").click()
    page.get_by_label("作废原因").fill("海报被撕毁")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="作废并重新生成").click()
    expect(page.get_by_role("status")).to_contain_text("已作废原二维码")
    public = browser.new_context(locale="zh-CN", viewport=PHONE).new_page()
    public.goto(base + scanned)
    expect(public.get_by_role("heading", name="此二维码已作废")).to_be_visible()
    for context in (desk, phone, public.context):
        context.close()
