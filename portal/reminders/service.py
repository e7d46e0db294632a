"""Reminders that reach people who are not logged in: each morning, one digest per person of
what waits in the bell of every unit they work for (new and returned tasks, 催办, overdue tasks,
hazards and dispatch tables, accident reports, letters) and of the tasks, hazards and 督办函
replies falling due within three days (replies already late too), by e-mail and/or the SMS/IM
gateway as each person chose (User.remind_by).

Every message is a ReminderSend row written before it is sent: sent, or failed and tried again
every quarter hour up to MAX_ATTEMPTS, so a mail server down for the night loses nothing. A
channel that is not configured writes its messages to the log (the default sink)."""
from __future__ import annotations

import json
import smtplib
import urllib.request
from datetime import date, datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import selectinload

from portal.accountability import letters
from portal.auth.models import User
from portal.extensions import db
from portal.hazards.models import OPEN_STATUSES, Hazard
from portal.permissions import allows
from portal.plans import service as plans
from portal.plans.models import Assignment, Notification
from portal.reminders.models import ReminderSend
from tenants import clock

MAX_ATTEMPTS = 5
# A send takes seconds (the SMTP and gateway timeouts are 15 s); a message still 发送中 after this
# was claimed by a host that died mid-send, and is tried again (counted as an attempt). It may then
# reach the person twice, which beats never.
ABANDONED_AFTER = timedelta(minutes=10)
# The bell's news that asks something of the unit; approvals and deadline changes can wait.
ASKING = ("task", "returned", "reminder", "overdue", "dispatch_remind", "accident", "alert", "letter")


def _smtp(address: str, subject: str, body: str) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = config["SMTP_FROM"], address, subject
    message.set_content(body)
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=15) as server:
        if config["SMTP_STARTTLS"]:
            server.starttls()
        if config["SMTP_USER"]:
            server.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
        server.send_message(message)


def _webhook(address: str, subject: str, body: str) -> None:
    data = json.dumps({"to": address, "subject": subject, "text": body}, ensure_ascii=False).encode()
    request = urllib.request.Request(current_app.config["REMINDER_WEBHOOK_URL"], data=data, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    with urllib.request.urlopen(request, timeout=15) as response:  # a non-2xx answer raises HTTPError
        response.read()


def _log(address: str, subject: str, body: str) -> None:
    current_app.logger.info("reminder to %s: %s\n%s", address, subject, body)


def channel(kind: str):
    """The one interface every channel has: send(address, subject, body), raising when it failed."""
    config = current_app.config
    if kind == "email":
        return _smtp if config["SMTP_HOST"] else _log
    return _webhook if config["REMINDER_WEBHOOK_URL"] else _log


def addresses(user: User) -> list[tuple[str, str]]:
    """(channel, address) pairs a person's reminders go to, by their choice and what they filled in."""
    found = []
    if user.remind_by in ("email", "both") and user.email:
        found.append(("email", user.email))
    if user.remind_by in ("im", "both") and user.phone:
        found.append(("im", user.phone))
    return found


def queue_digests(at: datetime | None = None) -> int:
    """Write today's digest for every active person with something unread and asking since the
    last day, one row per channel they chose; the caller commits. The number of messages."""
    at = at or clock.now()
    since = at - timedelta(days=1)
    users = db.session.execute(select(User).where(User.active.is_(True), or_(User.email != "", User.phone != ""),
                                                  User.remind_by != "none")
                               .options(selectinload(User.memberships)).order_by(User.id)).scalars().all()
    queued = 0
    for user in users:
        lines = []
        for membership in user.memberships:
            news = db.session.execute(plans.notifications(membership, unread_only=True).where(
                Notification.created_at >= since, Notification.kind.in_(ASKING))).scalars().all()
            lines += [f"【{membership.tenant.name}】{n.text}" for n in news]
            lines += [f"【{membership.tenant.name}】{text}" for text in _due_soon(membership, clock.day_of(at))]
        if not lines:
            continue
        subject = f"【安全生产隐患排查整治平台】待办提醒（{len(lines)} 条）"
        body = "\n".join([f"{user.display_name}：", f"截至 {clock.local(at)}，您所在单位有以下事项待办：",
                          *[f"{i}. {line}" for i, line in enumerate(lines, 1)], "",
                          f"请登录平台处理：{current_app.config['PUBLIC_URL']}"])
        for kind, address in addresses(user):
            db.session.add(ReminderSend(user=user, channel=kind, address=address, subject=subject, body=body))
            queued += 1
    return queued


def _due_soon(membership, today: date) -> list[str]:
    """What falls due within the overdue ladder's yellow days and is not done: tasks the unit
    received (for those who handle them) and, for an enterprise's rectifiers, its hazards."""
    soon = today + timedelta(days=plans.YELLOW_DAYS)
    lines = []
    if allows(membership, "tasks.handle"):
        for a in db.session.execute(select(Assignment).where(
                Assignment.tenant_id == membership.tenant_id, Assignment.state.in_(plans.WAITING),
                Assignment.deadline.between(today, soon)).options(selectinload(Assignment.task))
                .order_by(Assignment.deadline, Assignment.id)).scalars():
            lines.append(f"《{a.task.title}》将于 {a.deadline} 到期（{a.state_label}）")
    if allows(membership, "hazards.rectify"):
        for h in db.session.execute(select(Hazard).where(
                Hazard.tenant_id == membership.tenant_id, Hazard.status.in_(OPEN_STATUSES),
                Hazard.fix_deadline.between(today, soon)).order_by(Hazard.fix_deadline, Hazard.id)).scalars():
            lines.append(f"隐患“{h.description[:60]}”整改期限 {h.fix_deadline} 将到")
    if allows(membership, "letters.reply"):
        for x in letters.due(membership.tenant, today, plans.YELLOW_DAYS):
            lines.append(f"{x.issuer_name}{x.measure_label}须于 {x.reply_by} 前书面回复"
                         + ("（已逾期未回复）" if x.reply_by < today else ""))
    return lines


def deliver(limit: int = 500) -> tuple[int, int]:
    """Send what is queued, retry what failed (fewer than MAX_ATTEMPTS) and take up what a dead
    host left 发送中; each outcome is committed as it happens. (sent, failed)."""
    # The attempts read here are what each claim compares against (a compare-and-set committed
    # before the message goes): the morning digest and the quarter-hour retry may run at once on
    # two hosts, and a message must not go out twice.
    abandoned = clock.now() - ABANDONED_AFTER
    retryable = (ReminderSend.attempts < MAX_ATTEMPTS) & or_(
        ReminderSend.status == "failed",
        (ReminderSend.status == "sending") & (ReminderSend.claimed_at < abandoned))
    claimable = or_(ReminderSend.status == "queued", retryable)
    pending = db.session.execute(select(ReminderSend.id, ReminderSend.attempts).where(claimable)
                                 .order_by(ReminderSend.id).limit(limit)).all()
    sent = failed = 0
    for send_id, attempts in pending:
        claimed = db.session.execute(update(ReminderSend).where(
            ReminderSend.id == send_id, ReminderSend.attempts == attempts, claimable)
            .values(attempts=attempts + 1, status="sending", claimed_at=clock.now())
            .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if claimed != 1:
            continue  # another scheduler has it
        send = db.session.get(ReminderSend, send_id)
        try:
            channel(send.channel)(send.address, send.subject, send.body)
        except Exception as e:  # the gateway's or mail server's refusal is kept, and tried again
            send.status, send.error = "failed", f"{type(e).__name__}: {e}"[:300]
            failed += 1
        else:
            send.status, send.error, send.sent_at = "sent", "", clock.now()
            sent += 1
        db.session.commit()
    return sent, failed
