"""A task's road in a real Chromium: 河东区 assigns to three streets; 大王庄街道 signs and reports with
a file; the district returns it with a reason; the street reports again; the district approves; the
board counts are right, and when the deadline passes the other two turn red and are urged at once.

The clock is frozen inside the 2023 campaign (tenants.clock is the one clock), so the demo's plans
and phases apply whatever day the test runs.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime

from playwright.sync_api import Page, expect

from tenants import clock
from tests.e2e.conftest import fits, log_in, log_out, submit_task

STREETS = ("大王庄街道", "大直沽街道", "中山门街道")
PDF = b"%PDF-1.4\n% minutes\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def _freeze(monkeypatch, *ymd) -> None:
    monkeypatch.setattr(clock, "now", lambda: datetime(*ymd, 2))  # 10:00 in Beijing


def _open_task(page: Page, base: str, title: str) -> None:
    page.goto(base + "/tasks/")
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()


def _open_received(page: Page, title: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name="收到的任务").click()
    page.get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()


def _badges(page: Page) -> list[str]:
    """The state badges of an assignment's page, top to bottom."""
    return [t.strip() for t in page.locator("main .badge").all_inner_texts()]


def test_assign_report_return_report_approve(live_server, browser, monkeypatch):
    _freeze(monkeypatch, 2023, 5, 20)
    base, accounts = live_server.url, live_server.accounts
    district, street = accounts["hedong_admin"], accounts["hedong_staff"]
    title = f"报送街道动员部署会议纪要（{secrets.token_hex(3)}）"
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    asked = []  # 办结, 退回 and 一键催办 ask first; the user says yes
    page.on("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))

    # 河东区 assigns to three of its streets. Sent with only a title, every problem is said at once,
    # each beside its field (an empty date: 必填), and the title is kept.
    log_in(page, base, *district[:2])
    page.get_by_role("navigation").get_by_role("link", name="交办督办").click()
    page.get_by_role("link", name="交办新任务").click()
    page.get_by_label("任务标题").fill(title)
    page.get_by_role("button", name="交办").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("请修改以下 3 处")
    for field, message in (("任务内容与要求", "此项必填"), ("截止日期", "此项必填"), ("接收单位", "请选择接收单位")):
        expect(alert.get_by_role("listitem").filter(has_text=field)).to_contain_text(message)
        expect(page.locator(".field.has-error", has=page.get_by_text(field, exact=True))).to_contain_text(message)
    expect(page.get_by_label("任务标题")).to_have_value(title)
    # The refused form is shown at the form's own address: a reload asks for nothing the server refuses.
    expect(page).to_have_url(base + "/tasks/new")
    # The date's own rule is said beside it together with the others: after the phase's end is refused.
    page.get_by_label("任务内容与要求").fill("请各街道上报动员部署会议纪要和本街道专项行动方案。")
    page.get_by_label("服务阶段").select_option(label="重大事故隐患专项排查整治2023行动 · 动员部署（截至 2023-05-31）")
    page.get_by_label("截止日期").fill("2023-06-15")
    # 全部街道 says whom it would send to; the ended phases are not offered.
    expect(page.locator("label", has_text=re.compile("^全部街道/乡镇（13 个：.*大王庄街道"))).to_have_count(1)
    for name in STREETS:
        page.get_by_label(name, exact=True).check()
    page.get_by_role("button", name="交办").click()
    expect(page.get_by_role("alert")).to_contain_text("截止日期不能晚于“动员部署”阶段的结束日期 2023-05-31")
    expect(page.get_by_label("任务内容与要求")).to_have_value("请各街道上报动员部署会议纪要和本街道专项行动方案。")
    for name in STREETS:
        expect(page.get_by_label(name, exact=True)).to_be_checked()
    page.get_by_label("截止日期").fill("2023-05-31")
    task_url = submit_task(page, title, 3, "3 个街道：已办结 0，已上报 0，办理中 0，待签收 3，逾期 0")
    log_out(page)

    # 大王庄街道 sees the bell, signs, and reports with the minutes attached.
    log_in(page, base, *street[:2])
    expect(page.locator("#bell .bell-count")).to_have_text(re.compile(r"\d+"))
    _open_received(page, title)
    page.get_by_role("button", name="签收").click()
    expect(page.locator("#state")).to_have_text("办理中")
    page.get_by_label("办理情况").fill("已召开动员部署会，会议纪要附后。")
    page.get_by_label(re.compile("佐证材料")).set_input_files(
        {"name": "动员部署会议纪要.pdf", "mimeType": "application/pdf", "buffer": PDF})
    page.get_by_role("button", name="上报").click()
    expect(page.locator("#state")).to_have_text("已上报")
    assignment_url = page.url
    log_out(page)

    # The district returns it, with a reason.
    log_in(page, base, *district[:2])
    page.goto(task_url)
    expect(page.locator("#rollup")).to_have_text("3 个街道：已办结 0，已上报 1，办理中 0，待签收 2，逾期 0")
    page.locator("#board").get_by_role("link", name="大王庄街道").click()
    # Its state is said once (已上报), not again as the report's 待审核.
    assert _badges(page) == ["已上报"]
    # The report is read before the buttons that judge it.
    report = page.get_by_role("link", name="动员部署会议纪要.pdf")
    expect(report).to_be_visible()
    assert report.bounding_box()["y"] < page.get_by_role("button", name="审核通过，办结").bounding_box()["y"]
    page.get_by_role("button", name="退回").click()
    assert asked and asked[-1].startswith("确定退回")
    expect(page.get_by_role("alert")).to_contain_text("请填写退回理由")
    # Refused, the page keeps the assignment's address: reloading it is a plain GET, never a 405.
    expect(page).to_have_url(assignment_url)
    assert page.reload().status == 200
    page.get_by_label("退回理由").fill("未附本街道专项行动方案，请补充后重新上报。")
    page.get_by_role("button", name="退回").click()
    expect(page.locator("#state")).to_have_text("退回")
    expect(page.locator("#assigner-actions")).to_contain_text("已退回，待重新上报")
    expect(page.locator("#assigner-actions")).not_to_contain_text("尚未上报")
    assert _badges(page) == ["退回"]
    log_out(page)

    # The street reads why, takes it up again and reports once more.
    log_in(page, base, *street[:2])
    page.get_by_role("navigation").get_by_role("link", name=re.compile("通知")).click()
    expect(page.locator("main")).to_contain_text("被退回：未附本街道专项行动方案")
    page.goto(assignment_url)
    expect(page.locator("#receiver-actions")).to_contain_text("未附本街道专项行动方案")
    page.get_by_role("button", name="重新办理").click()
    page.get_by_label("办理情况").fill("已补充本街道专项行动方案，与会议纪要一并上报。")
    page.get_by_role("button", name="上报").click()
    expect(page.locator("#state")).to_have_text("已上报")
    log_out(page)

    # The district approves; the task's board and the per-street board count it.
    log_in(page, base, *district[:2])
    page.goto(assignment_url)
    page.get_by_role("button", name="审核通过，办结").click()
    expect(page.locator("#state")).to_have_text("已办结")
    # Finished, the deadline's light no longer repeats 已办结; the returned report keeps its 退回.
    assert _badges(page) == ["已办结", "退回"]
    expect(page.locator("main .light")).to_have_count(0)
    timeline = page.locator(".timeline")
    for step in ("收到交办", "签收", "上报办理情况", "退回", "重新办理", "审核办结"):
        expect(timeline).to_contain_text(step)
    _open_task(page, base, title)
    expect(page.locator("#rollup")).to_have_text("3 个街道：已办结 1，已上报 0，办理中 0，待签收 2，逾期 0")
    board = page.locator("#board")
    expect(board.locator("tr", has_text="大王庄街道")).to_contain_text("已办结")
    expect(board.locator("tr", has_text="大直沽街道")).to_contain_text("待签收")

    # The deadline passes: the two open streets turn red, and one click urges both.
    _freeze(monkeypatch, 2023, 6, 2)
    page.reload()
    expect(page.locator("#rollup")).to_have_text("3 个街道：已办结 1，已上报 0，办理中 0，待签收 0，逾期 2")
    expect(board.locator(".light-red")).to_have_count(2)
    page.get_by_role("button", name=re.compile("催办全部逾期单位")).click()
    expect(page.get_by_role("status")).to_contain_text("已向 2 个逾期单位发出催办")
    expect(board.locator("tr", has_text="大直沽街道")).to_contain_text("1 次")
    # The notification that asked for a review says it has been dealt with, no longer in bold.
    page.goto(base + "/notifications/")
    asking = page.locator("tr", has_text=f"已上报《{title}》，请审核")
    expect(asking.first).to_contain_text("已办结")
    expect(asking.first).to_contain_text("已处理")
    expect(asking.locator("strong")).to_have_count(0)
    context.close()


def test_received_tasks_fit_a_phone(live_server, browser, monkeypatch):
    _freeze(monkeypatch, 2023, 6, 2)
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server.url, *live_server.accounts["hedong_admin"][:2])
    for path in ("/tasks/", "/tasks/received", "/plans/"):
        page.goto(live_server.url + path)
        fits(page, path)
    # A task's board of streets, and one street's assignment.
    page.goto(live_server.url + "/tasks/")
    page.locator("main table a[href^='/tasks/']").first.tap()
    expect(page.locator("#rollup")).to_be_visible()
    fits(page, "任务页")
    page.locator("#board a[href^='/assignments/']").first.tap()
    expect(page.locator("#state")).to_be_visible()
    fits(page, "单位办理页")
    context.close()


def test_extend_then_withdraw_a_task_sent_by_mistake(live_server, browser, monkeypatch):
    """河东区 extends a task's deadline (a date after the phase is refused first), the street sees the
    new date in its bell, then the district withdraws it; the street finds it 已撤回 and cannot sign."""
    _freeze(monkeypatch, 2023, 5, 20)
    base, accounts = live_server.url, live_server.accounts
    district, street = accounts["hedong_admin"], accounts["hedong_staff"]
    title = f"误发的通知（{secrets.token_hex(3)}）"
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: dialog.accept())  # 撤回 asks first; the user says yes

    log_in(page, base, *district[:2])
    page.get_by_role("navigation").get_by_role("link", name="交办督办").click()
    page.get_by_role("link", name="交办新任务").click()
    page.get_by_label("任务标题").fill(title)
    page.get_by_label("任务内容与要求").fill("请报送街道安全生产检查计划。")
    page.get_by_label("服务阶段").select_option(label="重大事故隐患专项排查整治2023行动 · 动员部署（截至 2023-05-31）")
    page.get_by_label("截止日期").fill("2023-05-25")
    page.get_by_label(STREETS[0], exact=True).check()
    page.get_by_role("button", name="交办").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()

    page.get_by_label("新的截止日期").fill("2023-06-10")
    page.get_by_label("调整理由").fill("街道需要更多时间")
    page.get_by_role("button", name="调整截止日期").click()
    expect(page.get_by_role("alert")).to_contain_text("不能晚于“动员部署”阶段的结束日期 2023-05-31")
    page.get_by_label("新的截止日期").fill("2023-05-30")
    page.get_by_label("调整理由").fill("街道需要更多时间")
    page.get_by_role("button", name="调整截止日期").click()
    expect(page.locator("#task-changes")).to_be_visible()
    expect(page.get_by_text("截止日期 2023-05-25 → 2023-05-30").first).to_be_visible()
    log_out(page)

    log_in(page, base, *street[:2])
    page.goto(base + "/notifications/")
    expect(page.get_by_text(f"将《{title}》的截止日期由 2023-05-25 调整为 2023-05-30：街道需要更多时间")).to_be_visible()
    _open_received(page, title)
    assignment_url = page.url
    log_out(page)

    log_in(page, base, *district[:2])
    _open_task(page, base, title)
    page.get_by_label("撤回理由").fill("发送对象有误")
    page.get_by_role("button", name="撤回任务").click()
    expect(page.locator("#withdrawn")).to_contain_text("发送对象有误")
    log_out(page)

    log_in(page, base, *street[:2])
    page.get_by_role("navigation").get_by_role("link", name="收到的任务").click()
    expect(page.get_by_role("link", name=title)).to_have_count(0)
    page.goto(assignment_url)
    expect(page.get_by_text("已撤回").first).to_be_visible()
    expect(page.get_by_role("button", name="签收")).to_have_count(0)
    context.close()
