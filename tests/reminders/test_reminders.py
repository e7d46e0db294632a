"""Reminders that reach people outside the portal: the morning digest by e-mail (a real SMTP server
on this machine) and by the SMS/IM gateway (a real HTTP server), each person's choice, failures
kept and retried, and the settings page."""
import json
import socket
import threading
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.plans import service as plans
from portal.reminders import service as reminders
from portal.reminders.models import ReminderSend
from portal.schedule import service as schedule
from tenants import clock
from tests.conftest import login, post
from tests.hazards.conftest import make_hazard, people, standards  # noqa: F401  (fixtures)

OVERDUE = "《制定本街道专项行动方案》已逾期（截止 2026-02-28），请尽快办理并上报"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


@pytest.fixture
def smtp(app, monkeypatch):
    """A real SMTP server on this machine, and the app sending to it."""
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setitem(app.config, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "SMTP_PORT", controller.port)
    yield inbox
    controller.stop()


@pytest.fixture
def gateway(app, monkeypatch):
    """The SMS/IM gateway: a real HTTP server that keeps what it is posted."""
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass
    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setitem(app.config, "REMINDER_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/send")
    yield received
    server.shutdown()


@pytest.fixture
def street_staff(session, tree, make_user):
    user = make_user(tree["a_street"], role="staff")
    user.email, user.remind_by = "jiedao@example.gov.cn", "email"
    plans.notify_units([(tree["a_street"], "/tasks/received")], "overdue", OVERDUE)
    session.flush()
    return user


def test_a_street_user_gets_the_overdue_task_by_email_from_the_morning_job(session, smtp, street_staff):
    address = street_staff.email
    # 2026-03-02 08:50 in Beijing: the 08:45 digest is due (with the other daily jobs).
    runs = {run.job: run for run in schedule.run_due(datetime(2026, 3, 2, 0, 50))}
    assert runs["reminders-digest"].result == "ok" and "发出 1" in runs["reminders-digest"].summary
    [(to, mail)] = smtp.messages
    assert to == [address] and mail["Subject"] == "【安全生产隐患排查整治平台】待办提醒（1 条）"
    body = mail.get_content()
    assert f"【甲街道】{OVERDUE}" in body and "请登录平台处理" in body
    sent = session.execute(select(ReminderSend)).scalar_one()
    assert (sent.status, sent.attempts, sent.address) == ("sent", 1, address)


def test_a_failed_send_is_kept_and_retried_until_it_goes(session, app, smtp, street_staff, monkeypatch):
    port = app.config["SMTP_PORT"]
    monkeypatch.setitem(app.config, "SMTP_PORT", _free_port())  # nothing listens there: the server is down
    assert reminders.queue_digests() == 1
    assert reminders.deliver() == (0, 1)
    send = session.execute(select(ReminderSend)).scalar_one()
    assert send.status == "failed" and send.attempts == 1 and "ConnectionRefused" in send.error
    assert smtp.messages == []
    monkeypatch.setitem(app.config, "SMTP_PORT", port)
    assert reminders.deliver() == (1, 0)
    assert send.status == "sent" and send.attempts == 2 and len(smtp.messages) == 1
    assert reminders.deliver() == (0, 0)  # nothing sent twice


def test_a_message_left_sending_by_a_dead_host_is_taken_up_again(session, smtp, street_staff):
    """A host that died between its claim and the send leaves the message 发送中: another run leaves
    it alone while that host could still be sending, then sends it."""
    assert reminders.queue_digests() == 1
    send = session.execute(select(ReminderSend)).scalar_one()
    send.status, send.attempts = "sending", 1
    send.claimed_at = clock.now() - reminders.ABANDONED_AFTER + timedelta(minutes=1)
    session.commit()
    assert reminders.deliver() == (0, 0) and smtp.messages == []
    send.claimed_at = clock.now() - reminders.ABANDONED_AFTER - timedelta(minutes=1)
    session.commit()
    assert reminders.deliver() == (1, 0)
    assert (send.status, send.attempts, len(smtp.messages)) == ("sent", 2, 1)
    assert reminders.deliver() == (0, 0)


def test_each_person_chooses_the_channels_and_read_news_is_not_sent(session, tree, smtp, gateway, street_staff,
                                                                     make_user):
    street_staff.remind_by, street_staff.phone = "both", "13800000000"
    quiet = make_user(tree["a_street"], role="staff")
    quiet.email, quiet.remind_by = "quiet@example.gov.cn", "none"
    reader = make_user(tree["a_street"], role="leader")
    reader.email = "reader@example.gov.cn"
    (membership,) = reader.memberships
    plans.mark_read(membership)
    session.flush()
    assert reminders.queue_digests() == 2
    assert reminders.deliver() == (2, 0)
    assert [to for to, _ in smtp.messages] == [["jiedao@example.gov.cn"]]
    [posted] = gateway
    assert posted["to"] == "13800000000" and OVERDUE in posted["text"]


def test_the_settings_page_refuses_a_bad_address_and_keeps_a_good_one(client, session, street_staff):
    login(client, street_staff)
    page = client.get("/account/reminders").get_data(as_text=True)
    assert "提醒设置" in page and "还没有发出过提醒" in page
    bad = post(client, "/account/reminders", {"email": "不是邮箱", "phone": "", "remind_by": "email"})
    assert bad.status_code == 422 and "邮箱格式不正确" in bad.get_data(as_text=True)
    missing = post(client, "/account/reminders", {"email": "a@b.cn", "phone": "", "remind_by": "both"})
    assert missing.status_code == 422 and "请填写手机号码" in missing.get_data(as_text=True)
    assert post(client, "/account/reminders", {"email": "li@example.gov.cn", "phone": "13900000000",
                                               "remind_by": "both"}).status_code == 303
    session.refresh(street_staff)
    assert (street_staff.email, street_staff.phone, street_staff.remind_by) == \
        ("li@example.gov.cn", "13900000000", "both")
    assert session.execute(select(AuditEvent.action).where(AuditEvent.action == "user.reminders_set")).scalar_one()


def test_a_hazard_falling_due_within_three_days_is_in_its_enterprises_digest(session, smtp, make_hazard, people):
    """The yellow days of the ladder reach the principal by mail before the deadline passes."""
    principal = people["plant"].user
    principal.email = "plant@example.com"
    make_hazard(deadline=date(2026, 3, 4), description="储罐区可燃气体报警器失效")
    make_hazard(deadline=date(2026, 3, 20), description="消防通道堵塞")  # not yet near
    assert reminders.queue_digests(datetime(2026, 3, 2, 0, 50)) == 1
    assert reminders.deliver() == (1, 0)
    [(to, mail)] = smtp.messages
    body = mail.get_content()
    assert to == ["plant@example.com"] and "隐患“储罐区可燃气体报警器失效”整改期限 2026-03-04 将到" in body
    assert "消防通道堵塞" not in body


def test_a_supervision_letter_to_answer_is_in_the_receiving_units_digest(session, tree, smtp, street_staff, make_user):
    """The news of a 督办函 and its reply-by date, while unanswered, reach the street by mail."""
    from portal.accountability import service as accountability
    from tests.inspections.conftest import member
    discipline = member(make_user(tree["a"], role="discipline"))
    accountability.decide(discipline, tree["a_street"], accountability.RecordInput(
        measure="supervision_letter", subject_unit_id=tree["a_street"].id, reason="专项行动方案逾期未报",
        decided_on=date(2026, 3, 1), reply_by=date(2026, 3, 4)), [{"key": "task:1", "text": "逾期任务"}],
        today=date(2026, 3, 1))
    assert reminders.queue_digests(datetime(2026, 3, 2, 0, 50)) == 1
    assert reminders.deliver() == (1, 0)
    [(to, mail)] = smtp.messages
    body = mail.get_content()
    assert "专项行动方案逾期未报（请于 2026-03-04 前书面回复）" in body
    assert "甲区纪委监委督办函须于 2026-03-04 前书面回复" in body
