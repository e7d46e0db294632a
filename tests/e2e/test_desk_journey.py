"""The desk in a real Chromium: 河东区's admin lands on the 工作台, follows the count of hazards past
their deadline to exactly those hazards, refreshes one panel in place; the discipline inspector
opens a new accident's trace from the desk; an enterprise sees its own to-dos."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import log_in, log_out


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
