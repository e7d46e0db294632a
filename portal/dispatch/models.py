"""Report definitions, submissions per unit and period, and the few figures typed by hand."""
from portal.extensions import db
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import relationship
from tenants.clock import now
from tenants.models import Inherited, PathType, TenantOwned

STATUSES = {"draft": "未报", "submitted": "已报待审", "approved": "已通过", "returned": "已退回"}


class ReportDefinition(Inherited, db.Model):
    """A dispatch table owned by a node; it applies to the owner's whole subtree. `layout` is the
    form's blocks in order: [{"title": …, "rows": [{"code": …, "label": …}]}].

    A table that already has submissions is never edited in place: the change is a new version
    (same `series_id`, `version` + 1) and the old one gets `replaced_at`, so a period filed on it
    keeps the rows and due dates it was filed with."""

    __tablename__ = "report_definitions"

    id = db.Column(db.Integer, primary_key=True)
    campaign_id = db.Column(db.Integer, db.ForeignKey("campaigns.id"), nullable=False, index=True)
    name = db.Column(db.String(200), nullable=False)
    period = db.Column(db.String(16), nullable=False)
    # Weekly: 1 (Monday) … 7; monthly: day of the next month; quarterly: day of the quarter's
    # last month; yearly: day of `due_month`.
    due_day = db.Column(db.Integer)
    due_month = db.Column(db.Integer)
    # Beijing time on the due day by which the table must be in; None: by the end of that day.
    due_time = db.Column(db.Time)
    # Reporting runs from the period holding `starts_on` to the one holding `ends_on` (None: the
    # campaign's own dates).
    starts_on = db.Column(db.Date)
    ends_on = db.Column(db.Date)
    cumulative = db.Column(db.Boolean, nullable=False, default=True)
    # Kinds of unit below the owner that fill it (FILLERS in the service).
    fillers = db.Column(db.JSON, nullable=False, default=list)
    # The ancestor's table this one extends: it keeps every row of it and reports no less often.
    parent_id = db.Column(db.Integer, db.ForeignKey("report_definitions.id"))
    series_id = db.Column(db.Integer, index=True)
    # The table's name between platforms (portal.dispatch.exchange): the same on every version
    # and on every platform that carries the table, where ids differ.
    uid = db.Column(db.String(64), nullable=False, index=True)
    version = db.Column(db.Integer, nullable=False, default=1)
    replaced_at = db.Column(db.DateTime)
    # Rows the form counts separately for 省 / 市 / 县 (national note 3).
    by_level = db.Column(db.Boolean, nullable=False, default=False)
    layout = db.Column(db.JSON, nullable=False)
    notes = db.Column(db.Text, nullable=False, default="")
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    campaign = relationship("Campaign")
    parent = relationship("ReportDefinition", remote_side=[id])


class ReportSubmission(TenantOwned, db.Model):
    """One unit's table for one period. Approval freezes `figures`; a later change to the records
    shows as a correction in a later table, and this one is marked superseded."""

    __tablename__ = "report_submissions"

    id = db.Column(db.Integer, primary_key=True)
    definition_id = db.Column(db.Integer, db.ForeignKey("report_definitions.id"), nullable=False)
    period_start = db.Column(db.Date, nullable=False)
    period_end = db.Column(db.Date, nullable=False)
    status = db.Column(db.String(16), nullable=False, default="draft")
    submitted_at = db.Column(db.DateTime)
    late = db.Column(db.Boolean, nullable=False, default=False)
    decided_at = db.Column(db.DateTime)
    decided_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    reason = db.Column(db.String(500), nullable=False, default="")
    figures = db.Column(db.JSON)
    # {period_end of a locked table: {code: [locked, now]}} carried by the table that corrects it.
    corrections = db.Column(db.JSON)
    superseded_by_id = db.Column(db.Integer, db.ForeignKey("report_submissions.id"))
    reminded_on = db.Column(db.Date)

    definition = relationship("ReportDefinition")
    manual = relationship("ManualFigure", back_populates="submission", cascade="all, delete-orphan")

    __table_args__ = (
        UniqueConstraint("tenant_id", "definition_id", "period_end", name="uq_report_submissions_unit_period"),
        db.Index("ix_report_submissions_path_def_end", "tenant_path", "definition_id", "period_end"),
    )

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def locked(self) -> bool:
        return self.status in ("submitted", "approved")


class ManualFigure(TenantOwned, db.Model):
    """A figure no record holds (专题学习次数 …), typed by the unit that did the work, for its own
    period only (not cumulative): cumulative tables and levels above sum these."""

    __tablename__ = "manual_figures"

    id = db.Column(db.Integer, primary_key=True)
    submission_id = db.Column(db.Integer, db.ForeignKey("report_submissions.id"), nullable=False, index=True)
    code = db.Column(db.String(48), nullable=False)
    # Kind of the government level whose work it is (a department works for its parent).
    level = db.Column(db.String(16), nullable=False)
    period_end = db.Column(db.Date, nullable=False)
    value = db.Column(db.Numeric(14, 2), nullable=False)

    submission = relationship("ReportSubmission", back_populates="manual")

    __table_args__ = (
        UniqueConstraint("submission_id", "code", name="uq_manual_figures_submission_code"),
        db.Index("ix_manual_figures_path_end", "tenant_path", "period_end"),
    )


class DispatchRollup(TenantOwned, db.Model):
    """The kept figures of a district or a level above it (portal.dispatch.service.KEPT_KINDS) for
    one span, so its page reads one row instead of counting millions of records. `counted` holds
    the record families that add up over disjoint subtrees (hazards, tip rewards, duty failures),
    which the level above sums; `figures` is the whole table as compute() gives it. Recounted by
    the refresh job (`flask dispatch rollup`, every 30 s) when a change below it is logged
    (DispatchChange)."""

    __tablename__ = "dispatch_rollups"

    id = db.Column(db.Integer, primary_key=True)
    span_start = db.Column(db.Date, nullable=False)
    span_end = db.Column(db.Date, nullable=False)
    figures = db.Column(db.JSON, nullable=False)
    counted = db.Column(db.JSON)
    computed_at = db.Column(db.DateTime, nullable=False, default=now)

    __table_args__ = (UniqueConstraint("tenant_id", "span_start", "span_end", name="uq_dispatch_rollups_unit_span"),)


class DispatchChange(db.Model):
    """A record the dispatch table counts was written at or below `path`, in the writer's own
    transaction (portal.cache's listeners): the kept figures of the nodes on that path, and of
    every kept node below it, are recounted by the next refresh, which then deletes the rows it
    read. Not tenant-owned: a writer logs the change of a level it cannot read, and the row says
    only where, never what."""

    __tablename__ = "dispatch_changes"

    id = db.Column(db.Integer, primary_key=True)
    path = db.Column(PathType, nullable=False, index=True)
    marked_at = db.Column(db.DateTime, nullable=False, default=now)


UPWARD_STATUSES = {"queued": "待上报", "sending": "上报中", "sent": "已上报", "failed": "上报失败"}


class UpwardReport(TenantOwned, db.Model):
    """An approved table of this platform's top unit on its way to the parent platform
    (portal.dispatch.exchange): written with the approval, then sent and, while the parent cannot
    be reached, tried again later; each attempt's outcome is kept here. `key` makes a repeated
    send count once on the parent."""

    __tablename__ = "upward_reports"

    id = db.Column(db.Integer, primary_key=True)
    submission_id = db.Column(db.Integer, db.ForeignKey("report_submissions.id"), nullable=False, unique=True)
    key = db.Column(db.String(64), nullable=False, unique=True)
    status = db.Column(db.String(8), nullable=False, default="queued")
    attempts = db.Column(db.Integer, nullable=False, default=0)
    # When the next attempt is due; None once sent, or after the last attempt failed.
    next_attempt_at = db.Column(db.DateTime)
    last_attempt_at = db.Column(db.DateTime)
    error = db.Column(db.String(500), nullable=False, default="")
    sent_at = db.Column(db.DateTime)
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    submission = relationship("ReportSubmission")

    @property
    def status_label(self) -> str:
        return UPWARD_STATUSES[self.status]


class DispatchReceipt(TenantOwned, db.Model):
    """A table a lower platform sent up for one of its nodes (the tenant), recorded as that node's
    approved submission: who approved it there, the digest of what was sent, and the sender's
    key, unique, so the same table sent twice is recorded once."""

    __tablename__ = "dispatch_receipts"

    id = db.Column(db.Integer, primary_key=True)
    submission_id = db.Column(db.Integer, db.ForeignKey("report_submissions.id"), nullable=False, unique=True)
    key = db.Column(db.String(64), nullable=False, unique=True)
    digest = db.Column(db.String(64), nullable=False)
    # The first day of the span the figures count, as this platform's table counts it: a level
    # above adds them to its own figures of that same span (service._received).
    span_start = db.Column(db.Date, nullable=False)
    approved_by = db.Column(db.String(64), nullable=False, default="")
    approved_at = db.Column(db.DateTime)
    token_id = db.Column(db.Integer, db.ForeignKey("api_tokens.id"), nullable=False)
    received_at = db.Column(db.DateTime, nullable=False, default=now)

    submission = relationship("ReportSubmission")
    token = relationship("ApiToken")
