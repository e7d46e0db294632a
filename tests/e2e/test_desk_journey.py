"""The desk in a real Chromium: 河东区's admin lands on the 工作台, follows the count of hazards past
their deadline to exactly those hazards, refreshes one panel in place; the discipline inspector
opens a new accident's trace from the desk; an enterprise sees its own to-dos. The admin then
composes November's 月小结, edits a paragraph, issues it, reads the PDF back, verifies it and
downloads the .docx."""
from __future__ import annotations

import re
from datetime import date

from docx import Document
from playwright.sync_api import expect

from tenants.clock import today
from tests.e2e.conftest import log_in, log_out, pdf_text


def _figure(link) -> int:
    return int(re.match(r"\s*(\d+)", link.inner_text()).group(1))


def test_a_district_admin_follows_an_overdue_count_to_its_records(live_server, browser):
    base, accounts = live_server.url, live_server.accounts
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()

    log_in(page, base, *accounts["hedong_admin"][:2])
    expect(page.get_by_role("heading", name=re.compile("工作台"))).to_contain_text("河东区")
    hazards = page.locator("#panel-hazards")
    overdue = hazards.get_by_role("link", name=re.compile("逾期未整改"))
    count = _figure(overdue)
    assert count > 0
    overdue.click()
    expect(page).to_have_url(re.compile(r"/hazards/\?overdue=1"))
    expect(page.get_by_text(re.compile(rf"共 {count} 条"))).to_be_visible()
    # Every hazard listed is open and past its rectification deadline: the red light.
    rows = page.locator("#rows tbody tr")
    expect(rows).to_have_count(count)
    expect(rows.locator(".light-red")).to_have_count(count)

    # Back on the desk, one panel refreshes in place (its block alone) and keeps its figures.
    page.goto(base + "/")
    tasks = page.locator("#panel-tasks")
    reported = _figure(tasks.get_by_role("link", name=re.compile("下级已上报待审核")))
    tasks.get_by_role("link", name="刷新").click()
    expect(page.locator("#panel-tasks")).to_have_count(1)
    expect(page.locator("#panel-tasks").get_by_role("link", name=re.compile("下级已上报待审核"))) \
        .to_contain_text(str(reported))
    log_out(page)

    # The discipline inspector's desk: the fire at 铁厂化工 twenty days ago, with its trace.
    log_in(page, base, *accounts["hedong_discipline"][:2])
    accidents = page.locator("#panel-accidents")
    expect(accidents).to_contain_text("天津市河东区铁厂化工贸易有限公司")
    accidents.get_by_role("link", name="倒查").first.click()
    expect(page).to_have_url(re.compile(r"/tenants/\d+/trace\?accident=\d+"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("事故当日")
    log_out(page)

    # An enterprise's desk lists its own to-dos with their deadlines.
    log_in(page, base, *accounts["hedong_principal"][:2])
    todo = page.locator("#panel-todo")
    expect(todo.get_by_role("heading", name=re.compile("本企业待办"))).to_be_visible()
    expect(todo.locator("tbody tr").first).to_contain_text(re.compile(r"\d{4}-\d\d-\d\d|未定"))
    context.close()


def test_a_district_admin_issues_the_november_summary_as_pdf_and_docx(live_server, browser):
    base, accounts = live_server.url, live_server.accounts
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # 印发 asks for confirmation; the admin says yes
    log_in(page, base, *accounts["hedong_admin"][:2])

    # 月小结 for November of this year, composed from the records.
    november = date(today().year, 11, 15) if today().month > 11 else date(today().year - 1, 11, 15)
    page.get_by_role("navigation").get_by_role("link", name="工作总结").click()
    page.get_by_label("类型").select_option(label="月小结")
    page.get_by_label("该期内任一日期").fill(november.isoformat())
    page.get_by_role("button", name="生成").click()
    title = f"河东区{november.year}年11月重大事故隐患排查整治月小结"
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator("#figures svg")).to_be_visible()
    expect(page.locator("#figures tbody tr").first).to_contain_text("1")  # ranked from 1

    # The author rewrites the last paragraph, gives it a 文号, and issues it.
    page.get_by_label("文号").fill("河东安委办〔2026〕21号")
    page.get_by_label("下步工作").fill("下一步，全区对燃气用户开展入户安全检查回头看。")
    page.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    page.get_by_role("button", name="印发").click()
    expect(page.locator("#summary-status")).to_have_text("已印发")
    expect(page.get_by_label("下步工作")).to_have_count(0)  # frozen: nothing left to edit

    # The PDF reads back with the edited paragraph and the letterhead, and the verify page vouches for it.
    page.locator("#files").get_by_role("link", name="公文 PDF").click()
    download = page.get_by_role("link", name="下载 PDF")
    expect(download).to_be_visible(timeout=60_000)
    response = context.request.get(base + download.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    text = pdf_text(pdf)
    for expected in (title, "河东安委办〔2026〕21号", "全区对燃气用户开展入户安全检查回头看", "天津市河东区安全生产委员会办公室",
                     "校验码"):
        assert expected in text, expected
    page.get_by_role("navigation").get_by_role("link", name="文件核验").click()
    page.get_by_label("PDF 文件").set_input_files({"name": "summary.pdf", "mimeType": "application/pdf", "buffer": pdf})
    page.get_by_role("button", name="核验").click()
    expect(page.locator("#verify-result")).to_contain_text("核验通过")
    expect(page.locator("#verify-result")).to_contain_text(title)

    # The .docx downloads too, and Word would open it with the same paragraph. The menu leads back
    # (going back through history aborted when the verify page's own navigation was still settling).
    page.get_by_role("navigation").get_by_role("link", name="工作总结").click()
    page.get_by_role("link", name=title).click()
    page.locator("#files").get_by_role("link", name=re.compile("Word")).click()
    word_link = page.get_by_role("link", name="下载 Word")
    expect(word_link).to_be_visible(timeout=60_000)
    with page.expect_download() as got:
        word_link.click()
    path = got.value.path()
    word = "\n".join(p.text for p in Document(path).paragraphs)
    assert "全区对燃气用户开展入户安全检查回头看" in word and title in word
    context.close()
