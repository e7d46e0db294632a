"""谁检查、谁签名、谁负责 in a real Chromium: two inspectors of 河东区应急管理局 record a spot check
and each signs with their own password; an accident is recorded at the enterprise; 河东区纪委's
inspector opens the trace at the accident, writes a 约谈 record and downloads the dossier, whose
text names the inspectors, the hazard they found and left open, and the fine."""
from __future__ import annotations

import re
import secrets
from datetime import timedelta

from playwright.sync_api import Page, expect

from tenants import clock
from tests.e2e.conftest import fits, log_in, log_out, pdf_pages, pdf_text

ENTERPRISE = "天津市河东区东昊化学试剂有限公司"
CLAUSE = "HC2017-12（化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（试行）第十二项）"


def _open(page: Page, summary: str) -> None:
    """Unfold one of the record page's folded forms."""
    page.locator("summary", has_text=summary).click()


def _option_value(page: Page, select: str, text: str) -> str:
    return page.locator(f"select[name={select}] option", has_text=text).first.get_attribute("value")


def test_two_inspectors_sign_an_accident_follows_and_discipline_traces_it(live_server, browser):
    base = live_server.url
    chen, lin = live_server.accounts["hedong_inspector"], live_server.accounts["hedong_inspector2"]
    discipline = live_server.accounts["hedong_discipline"]
    hazard_text = f"试剂库可燃气体报警器未联网（抽查{secrets.token_hex(2)}）"
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)

    # 陈明 records the spot check: the enterprise, both inspectors, what was checked and found.
    log_in(page, base, chen[0], chen[1])
    page.get_by_role("navigation").get_by_role("link", name="检查执法").click()
    page.get_by_role("link", name="新建检查记录").click()
    search = page.get_by_role("searchbox", name="查找被检查单位")
    search.fill("东昊")
    search.press("Enter")  # as a person finishes typing; the live search may not be bound yet on a slow load
    row = page.get_by_role("row", name=re.compile(ENTERPRISE))
    row.get_by_role("link", name="选择").click()
    expect(page.get_by_role("heading", name=f"检查“{ENTERPRISE}”")).to_be_visible()
    page.get_by_label("检查方式").select_option(label="抽查")
    page.get_by_label("检查日期").fill(clock.today().isoformat())
    expect(page.get_by_label(re.compile("^陈明"))).to_be_checked()
    page.get_by_role("button", name="新建").click()
    expect(page.get_by_role("alert")).to_contain_text("执法检查人员不得少于 2 人")
    page.get_by_label(re.compile("^林涛")).check()
    page.get_by_role("button", name="新建").click()
    expect(page.get_by_role("status")).to_contain_text("已新建检查记录")
    record_url = page.url

    _open(page, "检查事项")
    # A clause is offered, and listed once checked, under its standard's name, not as a bare code.
    page.get_by_label(re.compile(f"^{CLAUSE}")).check()
    page.get_by_role("button", name="保存检查事项").click()
    expect(page.get_by_role("status")).to_contain_text("已保存检查事项")
    expect(page.locator("main ul.small li", has_text=CLAUSE)).to_have_count(1)  # 检查事项 of the record

    _open(page, "登记发现的隐患")
    page.get_by_label("隐患级别").select_option(label="重大事故隐患")
    page.locator("select[name=item_id]").select_option(_option_value(page, "item_id", "HC2017-12"))
    page.get_by_label("隐患描述").fill(hazard_text)
    page.get_by_role("button", name="登记隐患").click()
    expect(page.get_by_role("status")).to_contain_text("已列入隐患台账（来源：部门检查）")
    expect(page.locator("main tr", has_text=hazard_text)).to_contain_text(CLAUSE)

    _open(page, "抽查企业自查自改发现的问题")
    page.get_by_label("抽查发现的问题").select_option(label="企业主要负责人未带队检查")
    page.get_by_role("button", name="登记抽查发现").click()
    expect(page.get_by_role("status")).to_contain_text("已登记抽查发现")

    _open(page, "执法措施")
    page.get_by_label("执法措施", exact=True).select_option(label="行政处罚")
    page.locator("select[name=hazard_id]").select_option(_option_value(page, "hazard_id", hazard_text))
    page.get_by_label("罚款金额（万元）").fill("2.5")
    page.get_by_label("文书编号").fill("（河东）应急罚〔2026〕88号")
    page.get_by_role("button", name="登记执法措施").click()
    expect(page.get_by_role("status")).to_contain_text("已登记执法措施")

    page.get_by_label("本人登录密码").fill(chen[1])
    page.get_by_role("button", name="本人签名").click()
    expect(page.get_by_role("status")).to_contain_text("已签名")
    expect(page.get_by_role("heading", level=1)).to_contain_text("签名中")
    # Signed once, the record is locked: the forms to change it are gone.
    expect(page.get_by_text("补充记录内容")).to_have_count(0)
    log_out(page)

    # 林涛 finds the record waiting for him; a wrong password signs nothing.
    log_in(page, base, lin[0], lin[1])
    page.get_by_role("navigation").get_by_role("link", name="检查执法").click()
    page.get_by_role("link", name=re.compile(f"{ENTERPRISE} · 抽查")).first.click()
    expect(page).to_have_url(re.compile(re.escape(record_url) + "(#sign)?$"))
    page.get_by_label("本人登录密码").fill("Wrong#2024")
    page.get_by_role("button", name="本人签名").click()
    expect(page.get_by_role("alert")).to_contain_text("密码不正确，签名未完成")
    page.get_by_label("本人登录密码").fill(lin[1])
    page.get_by_role("button", name="本人签名").click()
    expect(page.get_by_role("status")).to_contain_text("全部检查人员均已签名，记录已生效")
    expect(page.get_by_role("heading", level=1)).to_contain_text("已签名")
    signatures = page.locator("table", has=page.get_by_role("columnheader", name="所签内容摘要"))
    expect(signatures).to_contain_text("陈明")
    expect(signatures).to_contain_text("林涛")
    expect(signatures).not_to_contain_text("未签名")

    # Later, a fire at the enterprise: recorded from its trace page.
    page.get_by_role("link", name="该企业倒查").click()
    page.get_by_role("link", name="登记事故").click()
    page.get_by_label("发生日期").fill(clock.today().isoformat())
    page.get_by_label("事故类别").select_option(label="火灾")
    page.get_by_label("受伤（人）").fill("1")
    page.get_by_label("事故概况").fill("试剂库发生闪燃，1 名库管员轻度烧伤。")
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_role("status")).to_contain_text("已登记事故")
    log_out(page)

    # 河东区纪委 opens the trace from the accident itself, listed where a trace starts.
    log_in(page, base, discipline[0], discipline[1])
    page.get_by_role("navigation").get_by_role("link", name="倒查追责").click()
    page.get_by_role("link", name=f"倒查 {ENTERPRISE} {clock.today()} 火灾").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"截至 {clock.today()}（火灾事故当日）")
    expect(page.locator("main")).to_contain_text("倒查截至事故当日")
    findings = page.locator("section", has=page.get_by_role("heading", name="倒查发现"))
    expect(findings).to_contain_text("查出后未督促整改到位")
    expect(findings).to_contain_text(hazard_text)
    expect(findings).to_contain_text(re.compile("签名/责任人：(陈明、林涛|林涛、陈明)"))
    expect(page.locator("#timeline")).to_contain_text("事故：火灾")

    # It writes a 约谈 record naming 陈明, resting on what the trace found.
    form = page.locator("#record")
    form.get_by_label("处理方式").select_option(label="约谈")
    form.get_by_label("被问责单位").select_option(label="河东区应急管理局")
    form.get_by_label("被问责人员（倒查涉及的人员）").select_option(_option_value(page, "subject_user_id", "陈明"))
    form.get_by_label(re.compile(f"^查出后未督促整改到位：.*{re.escape(hazard_text)}")).check()
    form.get_by_label("问责事由").fill("抽查发现重大事故隐患并处罚款后，未督促企业整改到位，直至发生事故。")
    form.get_by_role("button", name="保存记录").click()
    expect(page.get_by_role("status")).to_contain_text("已记录约谈")
    expect(page.get_by_role("heading", level=1)).to_contain_text("约谈：河东区应急管理局 陈明")

    # The dossier renders in the background and downloads as a verifiable PDF.
    page.get_by_role("link", name="打开倒查").click()
    page.get_by_role("button", name="导出倒查材料 PDF").click()
    page.wait_for_url(re.compile(r"/exports/\d+$"))
    download = page.get_by_role("link", name="下载 PDF")
    expect(download).to_be_visible(timeout=60_000)
    response = context.request.get(base + download.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment")  # 下载 downloads
    text = pdf_text(response.body())
    # The last page is not the closing block alone (who made it, when, its digest).
    last = pdf_pages(response.body())[-1]
    assert not last.startswith(("天津市河东区安全生产委员会办公室地址", "生成时间")), last[:80]
    if last.startswith("编号检查日期"):  # the signatures' table carried over: more than its last row
        assert len(re.findall(r"第\d+号", last)) >= 2, last[:120]
    for expected in (f"{ENTERPRISE}倒查追责材料", "查出后未督促整改到位", "以罚代管", hazard_text.replace(" ", ""),
                     "陈明", "林涛", "行政处罚2.50万元", "试剂库发生闪燃", "约谈：河东区应急管理局陈明", "校验码",
                     "天津市河东区安全生产委员会办公室"):
        assert expected in text, expected

    # Anyone holding the file can check it: issued by 河东区, generated by 赵敏 of its 纪委.
    page.goto(base + "/verify")
    page.get_by_label("PDF 文件").set_input_files(
        files=[{"name": "倒查追责材料.pdf", "mimeType": "application/pdf", "buffer": response.body()}])
    page.get_by_role("button", name="核验").click()
    result = page.locator("#verify-result")
    expect(result).to_contain_text("核验通过")
    expect(result.locator("dt:has-text('出具单位') + dd")).to_have_text("国务院安委会 › 天津市 › 河东区")
    expect(result.locator("dt:has-text('生成人') + dd")).to_contain_text("赵敏")
    context.close()


def test_discipline_starts_from_an_accident_on_a_phone(live_server, browser):
    """At 390 px, 河东区纪委 starts from the demo's accident (20 days ago): the trace stops that day,
    nothing after it is offered as grounds, and the page has a contents list to move about it."""
    discipline = live_server.accounts["hedong_discipline"]
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server.url, discipline[0], discipline[1])
    page.goto(live_server.url + "/accountability/")
    accident = clock.today() - timedelta(days=20)
    page.get_by_role("link", name=re.compile(f"^倒查 .* {accident} 火灾$")).tap()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"截至 {accident}（火灾事故当日）")
    # A clause the inspectors checked is named with its standard, not as a bare code.
    expect(page.locator("#findings")).to_contain_text("HC2017-06（化工和危险化学品生产经营单位重大生产安全事故隐患判定标准")
    grounds = page.locator("#record input[name=basis]")
    expect(grounds.first).to_be_attached()
    for label in page.locator("#record li:has(input[name=basis])").all_inner_texts():
        # Each ground is dated by its first date (a finding's inspection, or the line's own day).
        assert re.findall(r"\d{4}-\d{2}-\d{2}", label)[0] <= accident.isoformat(), label
    page.get_by_role("navigation", name="本页内容").get_by_role("link", name="填写追责问责记录").tap()
    expect(page.get_by_role("heading", name="填写追责问责记录")).to_be_in_viewport()
    fits(page, "倒查页面")
    context.close()


def test_the_record_page_fits_a_phone(live_server, browser):
    """At 390 px a signed record with its amendment beside it, and the enterprise's trace, stay in one
    column: nothing scrolls sideways."""
    chen = live_server.accounts["hedong_inspector"]
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server.url, chen[0], chen[1])
    page.goto(live_server.url + "/inspections/?q=津化化工")
    page.get_by_role("link", name=re.compile("第 \\d+ 号")).last.click()
    expect(page.get_by_role("heading", name=re.compile("更正记录（第")).first).to_be_visible()
    pages = {"record": page.url}
    page.get_by_role("link", name="该企业倒查").click()
    expect(page.get_by_role("heading", name="倒查发现")).to_be_visible()
    pages["trace"] = page.url
    for name, url in pages.items():
        page.goto(url)
        fits(page, name)
    context.close()
