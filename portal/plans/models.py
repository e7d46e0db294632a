"""Campaigns, plans with phases and clauses, tasks, assignments with their reports, attachments,
and the notifications that tell a unit's people what happened."""
from sqlalchemy import CheckConstraint, UniqueConstraint, exists
from sqlalchemy.orm import relationship

from portal.extensions import db
from portal.uploads.models import StoredFile
from tenants.clock import now
from tenants.models import Inherited, TenantOwned

STATES = {"pending": "待签收", "in_progress": "办理中", "reported": "已上报", "done": "已办结", "returned": "退回",
          "withdrawn": "已撤回"}
# The overdue ladder: where an unfinished assignment stands against its deadline. A withdrawn one
# is off the ladder.
LADDER = {"green": "正常", "yellow": "临期", "red": "逾期", "done": "已办结", "withdrawn": "已撤回"}
NOTIFICATION_KINDS = {"task": "新任务", "reported": "已上报", "returned": "退回", "approved": "已办结",
                      "reminder": "催办", "deadline": "调整期限", "withdrawn": "撤回", "dispatch_remind": "催报",
                      "overdue": "逾期提醒", "alert": "系统告警", "accident": "事故报告",
                      "letter": "函件", "letter_reply": "函件回复", "letter_closed": "函件办结"}


class Campaign(db.Model):
    """A nationwide, time-boxed action (专项行动). Every level reads it, so it belongs to no node."""

    __tablename__ = "campaigns"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(200), nullable=False, unique=True)
    starts_on = db.Column(db.Date, nullable=False)
    ends_on = db.Column(db.Date, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=now)


class Plan(Inherited, db.Model):
    """A level's document for a campaign; it implements the nearest plan above it."""

    __tablename__ = "plans"

    id = db.Column(db.Integer, primary_key=True)
    campaign_id = db.Column(db.Integer, db.ForeignKey("campaigns.id"), nullable=False, index=True)
    parent_plan_id = db.Column(db.Integer, db.ForeignKey("plans.id"), index=True)
    title = db.Column(db.String(200), nullable=False)
    doc_number = db.Column(db.String(64), nullable=False, default="")
    issuer = db.Column(db.String(100), nullable=False)
    issued_on = db.Column(db.Date)
    recipients = db.Column(db.String(300), nullable=False, default="")
    preamble = db.Column(db.Text, nullable=False, default="")
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    campaign = relationship("Campaign")
    parent_plan = relationship("Plan", remote_side=[id])
    phases = relationship("Phase", back_populates="plan", order_by="Phase.position")

    __table_args__ = (UniqueConstraint("tenant_id", "campaign_id", name="uq_plans_tenant_campaign"),)


class Phase(Inherited, db.Model):
    """A dated stage of a plan (阶段安排). A stage without dates is left to the levels below."""

    __tablename__ = "plan_phases"

    id = db.Column(db.Integer, primary_key=True)
    plan_id = db.Column(db.Integer, db.ForeignKey("plans.id"), nullable=False, index=True)
    position = db.Column(db.Integer, nullable=False)
    name = db.Column(db.String(50), nullable=False)
    starts_on = db.Column(db.Date)
    ends_on = db.Column(db.Date)
    body = db.Column(db.Text, nullable=False, default="")

    plan = relationship("Plan", back_populates="phases")

    __table_args__ = (CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on",
                                      name="dates_in_order"),)


class Clause(Inherited, db.Model):
    """A numbered item of a plan. A child plan inherits its parent's clauses; its own clause either
    replaces one of them (`replaces_id`: restated, or tightened when it carries a stricter rule) or
    adds a new one. A clause may carry one typed rule (portal.plans.rules)."""

    __tablename__ = "plan_clauses"

    id = db.Column(db.Integer, primary_key=True)
    plan_id = db.Column(db.Integer, db.ForeignKey("plans.id"), nullable=False, index=True)
    position = db.Column(db.Integer, nullable=False)
    section = db.Column(db.String(200), nullable=False)
    title = db.Column(db.String(200), nullable=False)
    body = db.Column(db.Text, nullable=False, default="")
    replaces_id = db.Column(db.Integer, db.ForeignKey("plan_clauses.id"), index=True)
    rule = db.Column(db.String(32))
    rule_value = db.Column(db.JSON)

    plan = relationship("Plan")
    replaces = relationship("Clause", remote_side=[id])

    __table_args__ = (UniqueConstraint("plan_id", "replaces_id", name="uq_plan_clauses_plan_replaces"),
                      UniqueConstraint("plan_id", "rule", name="uq_plan_clauses_plan_rule"))


def _reached(scope, b, task_id):
    """A task reaches whoever reads one of its assignments: the receivers and the levels above
    them, which a department's task to the enterprises it supervises leaves outside its chain."""
    # Aliased: the statement it joins may read assignments itself (an inbox joins tasks to them).
    a = Assignment.__table__.alias("reached")
    return exists().where(a.c.task_id == task_id, scope.owns(a, b))


class Task(Inherited, db.Model):
    """Work a node gives to units directly below it, or a department to the enterprises it
    supervises. Readable from below, because its receivers must read it, and by whoever reads one
    of its assignments (`reach_criteria`); who may open which task is decided in plans.service."""

    __tablename__ = "tasks"

    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    body = db.Column(db.Text, nullable=False, default="")
    deadline = db.Column(db.Date, nullable=False)
    phase_id = db.Column(db.Integer, db.ForeignKey("plan_phases.id"), nullable=False, index=True)
    # Set when the task passes a received assignment further down (cascade).
    parent_assignment_id = db.Column(db.Integer, db.ForeignKey("assignments.id", use_alter=True), index=True)
    # The form's one-time key: a second submission of the same form is refused, not doubled.
    request_key = db.Column(db.String(64), nullable=False, unique=True)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    # A task sent by mistake is withdrawn, never deleted: accountability traces read its rows.
    withdrawn_at = db.Column(db.DateTime)
    withdrawn_reason = db.Column(db.Text)

    phase = relationship("Phase")
    parent_assignment = relationship("Assignment", foreign_keys=[parent_assignment_id])
    created_by = relationship("User")
    attachments = relationship("TaskAttachment", back_populates="task", order_by="TaskAttachment.id")

    __table_args__ = (db.Index("ix_tasks_tenant_id_id", "tenant_id", "id"),)

    @classmethod
    def reach_criteria(cls, scope, b):
        return _reached(scope, b, cls.id)


class Assignment(TenantOwned, db.Model):
    """One receiving unit's copy of a task, owned by the receiver (so the assigner, above it, sees
    it too). State machine: 待签收 → 办理中 → 已上报 → 已办结, and 已上报 → 退回 → 办理中; 待签收 and
    办理中 → 已撤回 when the assigner withdraws the task."""

    __tablename__ = "assignments"
    # Readers of an assignment read the name of the unit that assigned it (a department, when its
    # task reached an enterprise under a street).
    sender_column = "assigner_id"

    id = db.Column(db.Integer, primary_key=True)
    task_id = db.Column(db.Integer, db.ForeignKey("tasks.id"), nullable=False)
    # The task's owner, copied so a board groups one node's assignments without a join.
    assigner_id = db.Column(db.Integer, db.ForeignKey("tenants.id"), nullable=False)
    state = db.Column(db.String(16), nullable=False, default="pending")
    deadline = db.Column(db.Date, nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    signed_at = db.Column(db.DateTime)
    reported_at = db.Column(db.DateTime)
    done_at = db.Column(db.DateTime)
    reminders = db.Column(db.Integer, nullable=False, default=0)
    last_reminded_at = db.Column(db.DateTime)

    task = relationship("Task", foreign_keys=[task_id])
    # Two keys lead to tenants: the receiver (the owner) and the assigner.
    tenant = relationship("Tenant", foreign_keys="Assignment.tenant_id")
    assigner = relationship("Tenant", foreign_keys=[assigner_id])
    reports = relationship("AssignmentReport", back_populates="assignment", order_by="AssignmentReport.id")

    __table_args__ = (
        UniqueConstraint("task_id", "tenant_id", name="uq_assignments_task_tenant"),
        CheckConstraint("state IN ('pending', 'in_progress', 'reported', 'done', 'returned', 'withdrawn')",
                        name="state"),
        # Boards: one task's receivers, one assigner's children, one receiver's inbox.
        db.Index("ix_assignments_task_id_state", "task_id", "state", "deadline"),
        db.Index("ix_assignments_assigner_id_tenant_id", "assigner_id", "tenant_id", "state", "deadline"),
        db.Index("ix_assignments_tenant_path_state", "tenant_path", "state", "deadline"),
    )

    @property
    def state_label(self) -> str:
        return STATES[self.state]


class AssignmentReport(TenantOwned, db.Model):
    """What a receiver reported back, and how the assigner judged it."""

    __tablename__ = "assignment_reports"

    id = db.Column(db.Integer, primary_key=True)
    assignment_id = db.Column(db.Integer, db.ForeignKey("assignments.id"), nullable=False, index=True)
    body = db.Column(db.Text, nullable=False)
    submitted_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    submitted_at = db.Column(db.DateTime, nullable=False, default=now)
    outcome = db.Column(db.String(16))  # None while waiting, then "approved" or "returned"
    reason = db.Column(db.Text, nullable=False, default="")
    reviewed_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    reviewed_at = db.Column(db.DateTime)

    assignment = relationship("Assignment", back_populates="reports")
    submitted_by = relationship("User", foreign_keys=[submitted_by_id])
    reviewed_by = relationship("User", foreign_keys=[reviewed_by_id])
    files = relationship("ReportFile", back_populates="report", order_by="ReportFile.id")


class ReportFile(TenantOwned, db.Model):
    """An evidence file of a report: the receiver's upload (portal.uploads), read by those above it."""

    __tablename__ = "report_files"

    id = db.Column(db.Integer, primary_key=True)
    report_id = db.Column(db.Integer, db.ForeignKey("assignment_reports.id"), nullable=False, index=True)
    upload_id = db.Column(db.Integer, db.ForeignKey("uploads.id"), nullable=False)

    report = relationship("AssignmentReport", back_populates="files")
    upload = relationship("Upload")


class TaskAttachment(StoredFile, Inherited, db.Model):
    """A file the assigner attaches to a task. Like the task, it is read by the units below (an
    Upload is read only upward); who may download it is decided in plans.service."""

    __tablename__ = "task_attachments"

    id = db.Column(db.Integer, primary_key=True)
    task_id = db.Column(db.Integer, db.ForeignKey("tasks.id"), nullable=False, index=True)

    task = relationship("Task", back_populates="attachments")

    @classmethod
    def reach_criteria(cls, scope, b):
        return _reached(scope, b, cls.task_id)


class Notification(TenantOwned, db.Model):
    """News for a unit about one assignment (a new task, a report, a return, a reminder, an
    approval), or about something of another module with the page to open (a dispatch table to
    report). Addressed to the unit, so whoever holds its post later still finds it; each person
    marks it read for themselves (NotificationRead)."""

    __tablename__ = "notifications"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(16), nullable=False)
    text = db.Column(db.String(300), nullable=False)
    assignment_id = db.Column(db.Integer, db.ForeignKey("assignments.id"))
    # A path inside the portal, for news that is not about an assignment.
    link = db.Column(db.String(300))
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    assignment = relationship("Assignment")

    __table_args__ = (db.Index("ix_notifications_tenant_id_id", "tenant_id", "id"),
                      CheckConstraint("assignment_id IS NOT NULL OR link IS NOT NULL", name="target"))

    @property
    def kind_label(self) -> str:
        return NOTIFICATION_KINDS[self.kind]


class NotificationRead(TenantOwned, db.Model):
    __tablename__ = "notification_reads"

    id = db.Column(db.Integer, primary_key=True)
    notification_id = db.Column(db.Integer, db.ForeignKey("notifications.id"), nullable=False)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False)
    read_at = db.Column(db.DateTime, nullable=False, default=now)

    __table_args__ = (UniqueConstraint("notification_id", "user_id", name="uq_notification_reads_notification_user"),)
