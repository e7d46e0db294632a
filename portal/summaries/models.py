"""A summary of one node for one period: its figures frozen when it was composed, the narrative
paragraphs its author edits, and, once issued, the PDF and .docx that carry it."""
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import relationship

from portal.extensions import db
from tenants.clock import now
from tenants.models import TenantOwned

# The seeds' rhythm (003_: 周调度、月小结、季通报、年总结; 002_: the half-yearly progress circular).
KINDS = {"week": "周调度", "month": "月小结", "quarter": "季通报", "half_year": "半年进展通报", "year": "年总结"}
STATUSES = {"draft": "草稿", "issued": "已印发"}


class Summary(TenantOwned, db.Model):
    __tablename__ = "summaries"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(16), nullable=False)
    period_start = db.Column(db.Date, nullable=False)
    period_end = db.Column(db.Date, nullable=False)
    title = db.Column(db.String(200), nullable=False)
    doc_number = db.Column(db.String(64), nullable=False, default="")
    # {"node": {...}, "units": [{...}], "lagging": [ids], "best": [ids]} as counted at composition.
    figures = db.Column(db.JSON, nullable=False)
    paragraphs = db.Column(db.JSON, nullable=False)
    status = db.Column(db.String(16), nullable=False, default="draft")
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    issued_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    issued_at = db.Column(db.DateTime)
    pdf_id = db.Column(db.Integer, db.ForeignKey("export_documents.id"))
    docx_id = db.Column(db.Integer, db.ForeignKey("export_documents.id"))

    created_by = relationship("User", foreign_keys=[created_by_id])
    issued_by = relationship("User", foreign_keys=[issued_by_id])

    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "period_end", name="uq_summaries_unit_kind_period"),
        db.Index("ix_summaries_tenant_path_period_end", "tenant_path", "period_end"),
    )

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def issued(self) -> bool:
        return self.status == "issued"
