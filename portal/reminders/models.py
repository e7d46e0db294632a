"""Reminders sent outside the portal: one row per message to one person over one channel, kept
with its attempts, so a failed send is retried and an operator sees what reached whom."""
from sqlalchemy.orm import relationship

from portal.extensions import db
from tenants.clock import now

CHANNELS = {"email": "电子邮件", "im": "短信/即时消息"}
STATUSES = {"queued": "待发送", "sending": "发送中", "sent": "已发送", "failed": "发送失败"}
# What a person chooses to receive (User.remind_by).
CHOICES = {"email": "电子邮件", "im": "短信/即时消息", "both": "电子邮件和短信/即时消息", "none": "不接收（只在平台内提醒）"}


class ReminderSend(db.Model):
    """Addressed to a person, not to a unit: not tenant-owned; read by the scheduler and by its
    recipient only."""

    __tablename__ = "reminder_sends"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.ForeignKey("users.id"), nullable=False, index=True)
    channel = db.Column(db.String(8), nullable=False)
    address = db.Column(db.String(120), nullable=False)
    subject = db.Column(db.String(200), nullable=False)
    body = db.Column(db.Text, nullable=False)
    status = db.Column(db.String(8), nullable=False, default="queued")
    attempts = db.Column(db.Integer, nullable=False, default=0)
    error = db.Column(db.String(300), nullable=False, default="")
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    claimed_at = db.Column(db.DateTime)  # when a scheduler took it for sending (发送中)
    sent_at = db.Column(db.DateTime)

    user = relationship("User")
