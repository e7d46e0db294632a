"""A 督办函 in a real Chromium: 河东区纪委 finds 天津铁厂街道's overdue task (the demo's street that never
signed the 2023 mobilisation task) and sends it a 督办函 with a reply-by date; the street, told on
its desk, replies with a file; 纪委 sees the reply and closes the letter (办结); the street's
dossier PDF prints the letter, the reply with its file's name, and the outcome."""
from __future__ import annotations

import re
import secrets

from playwright.sync_api import expect

from portal.demo import PASSWORD
from tests.e2e.conftest import log_in, log_out, pdf_text

STREET = "天津铁厂街道"
TASK = "制定本街道专项行动方案并动员部署"
EVIDENCE = b"%PDF-1.4\n% street reply\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_discipline_sends_a_supervision_letter_the_street_replies_and_the_dossier_prints_it(live_server, browser):
    base = live_server.url
    discipline = live_server.accounts["hedong_discipline"]
    number = f"河东纪督〔2026〕{secrets.randbelow(900) + 100}号"
    reply = "已制定本街道专项行动方案，召开动员部署会，逾期系街道班子调整所致，已严肃批评。"
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)

    # 赵敏 of 河东区纪委 opens the task the district gave its streets and the street left overdue.
    log_in(page, base, discipline[0], discipline[1])
    page.get_by_role("navigation").get_by_role("link", name="交办督办").click()
    page.get_by_role("link", name=TASK).first.click()
    page.get_by_role("link", name=STREET, exact=True).click()
    expect(page.locator(".light-red, .badge", has_text="逾期").first).to_be_visible()
    page.get_by_role("link", name="发提醒函/督办函").click()

    # The letter names the task; a 督办函 asks for a reply by a date.
    expect(page.locator("main")).to_contain_text(f"《{TASK}》")
    expect(page.get_by_label("函件类别")).to_have_value("supervision_letter")
    expect(page.get_by_label("收函单位").locator("option:checked")).to_have_text(STREET)
    page.get_by_label("工作要求（函件正文）").fill("请立即完成方案制定和动员部署，并书面说明逾期原因。")
    page.get_by_label("文号").fill(number)
    reply_by = page.get_by_label("回复期限（督办函必填）").input_value()
    page.get_by_role("button", name="发出").click()
    expect(page.get_by_role("status")).to_contain_text("已发出督办函")
    expect(page.locator("#letter-state")).to_have_text("待回复")
    letter_url = page.url
    log_out(page)

    # The street's liaison, in 天津铁厂街道, finds it on the desk with its date, and replies with a file.
    log_in(page, base, "hedong_streets", PASSWORD)
    who = page.locator(".who").get_by_role("combobox", name="切换身份")
    who.select_option(label=who.locator("option", has_text=STREET).first.text_content())
    # The line naming the active unit ("姓名 · 单位 · 角色"), not the select's options, which name it at once.
    expect(page.locator(".who")).to_contain_text(f" · {STREET} · ")
    panel = page.locator("#panel-letters")
    expect(panel.get_by_role("link", name=re.compile("收到待回复"))).to_contain_text("1")
    expect(panel).to_contain_text(reply_by)
    panel.get_by_role("link", name=re.compile("督办函：")).click()
    expect(page).to_have_url(letter_url)
    page.get_by_label("回复内容").fill(reply)
    page.get_by_label(re.compile("^附件")).set_input_files(
        files=[{"name": "铁厂街道整改情况报告.pdf", "mimeType": "application/pdf", "buffer": EVIDENCE}])
    page.get_by_role("button", name="提交回复").click()
    expect(page.get_by_role("status")).to_contain_text("已回复")
    expect(page.locator("#reply")).to_contain_text("铁厂街道整改情况报告.pdf")
    # Replied once: the form is gone.
    expect(page.get_by_role("button", name="提交回复")).to_have_count(0)
    log_out(page)

    # 纪委 sees the reply waiting for 办结 on its desk, reads it and closes the letter.
    log_in(page, base, discipline[0], discipline[1])
    page.locator("#panel-letters").get_by_role("link", name=re.compile("已回复待办结")).click()
    page.get_by_role("link", name=re.compile(f"督办函 {re.escape(number)}")).click()
    expect(page.locator("#reply")).to_contain_text(reply)
    page.get_by_label("办结意见").fill("街道已整改落实，予以办结。")
    page.get_by_role("button", name="办结").click()
    expect(page.get_by_role("status")).to_contain_text("函件已办结")

    # The street's dossier prints the letter, the reply with its file, and the outcome.
    page.get_by_role("navigation").get_by_role("link", name="倒查追责").click()
    page.get_by_label("查找倒查对象").fill(STREET)
    page.get_by_role("button", name="查找").click()
    page.get_by_role("row", name=re.compile(STREET)).get_by_role("link", name="倒查").click()
    expect(page.locator("#letters")).to_contain_text("已办结")
    page.get_by_role("button", name="导出倒查材料 PDF").click()
    page.wait_for_url(re.compile(r"/exports/\d+$"))
    download = page.get_by_role("link", name="下载 PDF")
    expect(download).to_be_visible(timeout=60_000)
    text = pdf_text(context.request.get(base + download.get_attribute("href")).body())
    for expected in (f"{STREET}倒查追责材料", "提醒函、督办函及回复", number, f"《{TASK}》", reply,
                     "铁厂街道整改情况报告.pdf", "已办结", "街道已整改落实，予以办结。"):
        assert expected in text, expected
    context.close()
