"""Reminders in a real Chromium and a real SMTP server: 大王庄街道's staff member asks for e-mail
reminders on 提醒设置 (a bad address refused first), the morning job runs, the digest of what
waits for the street arrives in the mail sink, and its link brings the reader to the portal."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from portal.schedule import service as schedule
from tests.e2e.conftest import log_in, log_out
from tests.reminders.test_reminders import _free_port, _Inbox


def test_a_street_user_gets_the_morning_reminder_by_email(live_server, browser, committed_app, monkeypatch):
    from aiosmtpd.controller import Controller

    base, accounts = live_server.url, live_server.accounts
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    for key, value in (("SMTP_HOST", "127.0.0.1"), ("SMTP_PORT", controller.port), ("PUBLIC_URL", base)):
        monkeypatch.setitem(committed_app.config, key, value)
    try:
        page = browser.new_context().new_page()
        username, password, street = accounts["hedong_staff"][:3]
        log_in(page, base, username, password)
        page.get_by_role("link", name="提醒设置").click()
        page.get_by_label("提醒方式").select_option(label="电子邮件")
        page.get_by_label("邮箱").fill("不是邮箱")
        page.get_by_role("button", name="保存").click()
        expect(page.get_by_text("邮箱格式不正确")).to_be_visible()
        page.get_by_label("邮箱").fill("liuyang@example.gov.cn")
        page.get_by_role("button", name="保存").click()
        expect(page.get_by_role("status")).to_contain_text("提醒方式已保存")
        expect(page.get_by_text("还没有发出过提醒")).to_be_visible()
        log_out(page)

        with committed_app.app_context():
            runs = {run.job: run.summary for run in schedule.run_due()}
        assert "失败 0" in runs["reminders-digest"]
        [(to, mail)] = [(to, m) for to, m in inbox.messages if to == ["liuyang@example.gov.cn"]]
        body = mail.get_content()
        assert mail["Subject"].startswith("【安全生产隐患排查整治平台】待办提醒") and f"【{street}】" in body

        # The link in the mail opens the portal; after logging in the reminder is listed as sent.
        link = re.search(r"请登录平台处理：(\S+)", body).group(1)
        assert link == base
        page.goto(link)
        log_in(page, base, username, password)
        page.get_by_role("link", name="提醒设置").click()
        expect(page.get_by_role("row", name=re.compile("liuyang@example.gov.cn.*已发送"))).to_be_visible()
    finally:
        controller.stop()
