"""Who reads a 倒查追责材料, in a real Chromium: 河东区纪委's inspector exports the dossier of 津化化工
and finds it under 导出文件; the enterprise's principal, and the inspector the dossier names, find
nothing there, and the file's own URLs answer 404."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.demo import PASSWORD
from tests.e2e.conftest import log_in, log_out, pdf_text

ENTERPRISE = "天津市河东区津化化工产品经营有限公司"


def test_the_investigated_principal_finds_no_dossier(live_server, browser):
    base = live_server.url
    discipline = live_server.accounts["hedong_discipline"]
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)

    log_in(page, base, discipline[0], PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="倒查追责").click()
    page.get_by_role("searchbox", name="查找倒查对象").fill("津化化工")
    page.get_by_role("button", name="查找").click()
    page.get_by_role("row", name=re.compile(ENTERPRISE)).get_by_role("link", name="倒查").click()
    page.get_by_role("button", name="导出倒查材料 PDF").click()
    page.wait_for_url(re.compile(r"/exports/\d+$"))
    page_url = page.url
    download = page.get_by_role("link", name="下载 PDF")
    expect(download).to_be_visible(timeout=60_000)
    file_url = base + download.get_attribute("href")
    response = context.request.get(file_url)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    # Issued by 河东区: its letterhead, about the enterprise.
    text = pdf_text(response.body())
    assert f"{ENTERPRISE}倒查追责材料" in text and "天津市河东区安全生产委员会办公室" in text
    page.get_by_role("navigation").get_by_role("link", name="导出文件").click()
    expect(page.locator("main")).to_contain_text(f"{ENTERPRISE}倒查追责材料")
    log_out(page)

    # The enterprise's principal (a demo account outside the README table) and the inspector it names.
    for username in ("jinhua_principal", "hedong_inspector"):
        log_in(page, base, username, PASSWORD)
        page.get_by_role("navigation").get_by_role("link", name="导出文件").click()
        expect(page.get_by_role("heading", name="导出文件")).to_be_visible()
        expect(page.locator("main")).not_to_contain_text("倒查追责材料")
        for url in (page_url, file_url):
            answer = page.goto(url)
            assert answer.status == 404, (username, url, answer.status)
            expect(page.locator("main")).to_contain_text("页面不存在，或不在您的管辖范围内")
        assert context.request.get(file_url).status == 404
        page.goto(base + "/")
        log_out(page)
    context.close()
