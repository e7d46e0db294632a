"""A hazard's closed loop in a real Chromium: an enterprise records a major hazard with the five
fixes and starts rectifying; the commerce bureau (which supervises the enterprise's industry)
sends the fix back once with a reason, then accepts it and closes it out; the district's counts
change. And the ledger fits a phone."""
from __future__ import annotations

import re
import secrets

from playwright.sync_api import Page, expect

from tenants.clock import today
from tests.e2e.conftest import fits, htmx_ready, log_in, log_out


def _stat(page: Page, words: str) -> int:
    """A figure of the stock panel, e.g. "项本年增量"."""
    text = page.locator("#stock .stats li", has_text=words).inner_text()
    return int(re.match(r"\s*(\d+)", text).group(1))


def _district_counts(page: Page, base: str) -> tuple[int, int]:
    page.goto(base + "/hazards/")
    expect(page.get_by_role("heading", name=re.compile("存量与增量"))).to_be_visible()
    return _stat(page, "项本年增量"), _stat(page, "项增量未销号")


def _look(page: Page, selector: str) -> list:
    """How an input is drawn (border, corners, padding, font), and whether it fills its field."""
    return page.locator(selector).evaluate(
        "el => { const s = getComputedStyle(el); return [s.borderTopColor, s.borderTopWidth, s.borderRadius,"
        " s.paddingLeft, s.fontSize, s.fontFamily, el.offsetWidth === el.parentElement.clientWidth]; }")


def test_an_enterprise_hazard_goes_round_the_loop_with_one_return(live_server, browser):
    base = live_server.url
    accounts = live_server.accounts
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Destructive steps (退回, 销号) ask for confirmation first; the user says yes.
    page.on("dialog", lambda dialog: dialog.accept())

    # The district's figures before.
    log_in(page, base, *accounts["hedong_admin"][:2])
    increment, increment_open = _district_counts(page, base)
    log_out(page)

    # The mall's principal records a major hazard with the five fixes.
    description = f"地下车库外包保洁单位未签订安全生产协议（{secrets.token_hex(3)}）"
    log_in(page, base, *accounts["hedong_principal"][:2])
    page.get_by_role("navigation").get_by_role("link", name="隐患台账").click()
    page.get_by_role("link", name="登记隐患").click()
    expect(page.get_by_role("heading", name=re.compile("登记隐患"))).to_contain_text("天津河东万达广场商业管理有限公司")
    # Nothing is chosen for the user: 隐患级别 starts at 请选择. The clauses offered are the
    # industry's (商贸), under the standard's name, and the page says so.
    expect(page.get_by_label("隐患级别")).to_have_value("")
    # The form takes the page's width; its date and number inputs look like its text inputs
    # (measured once the stylesheet has come: before it, every input has the browser's look).
    htmx_ready(page)
    assert page.locator("main form[method=post]").bounding_box()["width"] > 900
    text_look = _look(page, "#location")
    for field in ("#found_at", "#fix_deadline", "#fix_funds"):
        assert _look(page, field) == text_look, field
    expect(page.locator("#basis-note")).to_contain_text("以上为商贸行业适用的《工贸企业重大事故隐患判定标准》")
    expect(page.locator("optgroup[label^='工贸企业重大事故隐患判定标准']")).to_have_count(1)
    page.get_by_label("隐患级别").select_option(label="重大事故隐患")
    item = page.locator("option", has_text="GM2023-03.1").get_attribute("value")
    page.get_by_label("判定依据（判定标准条款或重点检查事项）").select_option(item)
    page.get_by_label("隐患描述").fill(description)
    page.get_by_label("隐患部位").fill("地下二层车库")
    found = today().isoformat()
    page.get_by_label("发现日期").fill(found)
    page.get_by_label("整改责任人").fill("孙立新")
    page.get_by_label("整改措施").fill("与保洁单位签订安全生产协议，纳入商场统一安全管理和检查")
    page.get_by_label("整改资金（万元）").fill("0.5")
    page.get_by_label("应急预案").fill("协议签订前暂停外包单位夜间作业，由安全部专人带班")
    # A deadline before the find date is refused in Chinese, and nothing is recorded.
    page.get_by_label("整改期限").fill("2020-01-01")
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_role("alert")).to_contain_text("不能早于发现日期")
    # Refused, the form stays at its own address with what was typed.
    expect(page).to_have_url(base + "/hazards/new")
    expect(page.get_by_label("隐患描述")).to_have_value(description)
    page.get_by_label("整改期限").fill("2099-12-31")
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_role("status")).to_contain_text("已登记隐患")
    expect(page.locator("h1")).to_contain_text("重大事故隐患")
    expect(page.locator(".loop .current")).to_have_text("待整改")
    expect(page.locator(".facts").first).to_contain_text("自查自报，依法不予行政处罚")
    hazard_url = page.url
    assert re.fullmatch(re.escape(base) + r"/hazards/\d+", hazard_url)
    page.get_by_role("button", name="开始整改").click()
    expect(page.locator(".loop .current")).to_have_text("整改中")
    page.get_by_role("button", name="报告整改完成").click()
    expect(page.locator(".loop .current")).to_have_text("已整改待验收")
    log_out(page)

    # It reached the commerce bureau's inbox by itself (分级属地); the bureau sends it back.
    log_in(page, base, *accounts["hedong_commerce"][:2])
    page.goto(base + "/hazards/inbox")
    page.get_by_role("link", name=description).first.click()
    expect(page).to_have_url(hazard_url)
    page.get_by_role("button", name="退回").click()
    expect(page.get_by_role("alert")).to_contain_text("退回须写明理由")
    # Refused, the page keeps the hazard's address: reloading it is a plain GET, never a 405.
    expect(page).to_have_url(hazard_url)
    assert page.reload().status == 200
    page.get_by_label("退回理由（必填）").fill("协议未写明双方安全管理职责，请补充后再报")
    page.get_by_role("button", name="退回").click()
    expect(page.locator(".loop .current")).to_have_text("整改中")
    log_out(page)

    # The enterprise reads the reason in the timeline and reports again.
    log_in(page, base, *accounts["hedong_principal"][:2])
    page.goto(hazard_url)
    expect(page.locator(".timeline")).to_contain_text("理由：协议未写明双方安全管理职责")
    page.get_by_role("button", name="报告整改完成").click()
    expect(page.locator(".loop .current")).to_have_text("已整改待验收")
    log_out(page)

    # The bureau accepts and closes it out; closing first is refused (no step skipped).
    log_in(page, base, *accounts["hedong_commerce"][:2])
    page.goto(hazard_url)
    expect(page.get_by_role("button", name="销号")).to_have_count(0)
    page.get_by_role("button", name="验收通过").click()
    expect(page.locator(".loop .current")).to_have_text("已验收")
    page.get_by_role("button", name="销号").click()
    expect(page.locator(".loop .current")).to_have_text("已销号")
    timeline = page.locator(".timeline li")
    expect(timeline).to_have_count(7)
    expect(timeline.last).to_contain_text("销号")
    log_out(page)

    # The district's figures: one more this year, and open ones back where they were.
    log_in(page, base, *accounts["hedong_admin"][:2])
    assert _district_counts(page, base) == (increment + 1, increment_open)
    page.get_by_role("searchbox", name="搜索隐患").fill(description)
    row = page.locator("#rows tbody tr", has_text=description)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("已销号")
    context.close()


def test_the_ledger_fits_a_phone(live_server, browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server.url, *live_server.accounts["hedong_admin"][:2])
    for path in ("/hazards/", "/hazards/inbox", "/hazards/listed"):
        page.goto(live_server.url + path)
        fits(page, path)
    page.goto(live_server.url + "/hazards/")
    expect(page.locator("#stock svg")).to_be_visible()
    box = page.locator("#stock svg").bounding_box()
    assert box["width"] <= 390
    # The hazard form folds its side-by-side fields into one column.
    context.clear_cookies()
    log_in(page, live_server.url, *live_server.accounts["hedong_principal"][:2])
    page.goto(live_server.url + "/hazards/new")
    fits(page, "/hazards/new")
    assert _look(page, "#found_at")[-1] and _look(page, "#fix_funds")[-1]
    context.close()
