"""The pages under their Content-Security-Policy, in a real Chromium: what inline handlers did
(confirming a form, switching the active role, folding the tree) still works from static/js/app.js,
htmx still swaps, and the browser reports no violation on the way."""
from __future__ import annotations

from playwright.sync_api import expect

from portal.demo import PASSWORD
from tests.e2e.conftest import htmx_ready, log_in


def test_pages_work_under_the_policy_without_a_violation(live_server, browser):
    base = live_server.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    response = page.goto(base + "/login")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy

    # One account for several streets: choosing another in the select switches at once.
    log_in(page, base, "hedong_streets", PASSWORD)
    who = page.locator(".who")
    current = who.get_by_role("combobox", name="切换身份")
    other = current.locator("option:not([selected])").first.text_content()
    current.select_option(label=other)
    # The line naming the active unit ("姓名 · 单位 · 角色"), not the select's options, which name it at once.
    expect(page.locator(".who")).to_contain_text(f" · {other.split(' · ')[0]} · ")
    page.get_by_role("button", name="退出").click()

    # A form that asks first: dismissed, nothing is sent; accepted, it is.
    log_in(page, base, "hedong_admin", PASSWORD)
    page.get_by_role("navigation").get_by_role("link", name="组织架构").click()
    page.get_by_role("link", name="河东区", exact=True).click()
    page.get_by_role("link", name="文头设置").click()
    htmx_ready(page)  # the confirmation is app.js's: a click before the deferred script ran asks nothing
    letterhead_url = page.url
    clear = page.get_by_role("button", name="删除本单位设置，沿用上级")
    page.once("dialog", lambda dialog: dialog.dismiss())
    clear.click()
    expect(page).to_have_url(letterhead_url)
    expect(page.get_by_role("status")).to_have_count(0)
    page.once("dialog", lambda dialog: dialog.accept())
    clear.click()
    expect(page.get_by_role("status")).to_contain_text("已恢复使用上级的文头设置")

    # htmx swaps a branch of the tree in, and the static script folds it again.
    page.get_by_role("navigation").get_by_role("link", name="组织架构").click()
    htmx_ready(page)
    toggle = page.get_by_role("button", name="展开大直沽街道")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(toggle.locator("xpath=../ul")).to_contain_text("大直沽农贸市场")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    assert violations == []
    context.close()
