"""Every file the system hands out is recorded, so the verify page can vouch for it."""
from sqlalchemy.orm import deferred, relationship

from portal.exports import access
from portal.extensions import db
from tenants.clock import now
from tenants.models import TenantOwned


STATUSES = {"queued": "排队中", "running": "生成中", "done": "已完成", "failed": "失败"}


class ExportDocument(TenantOwned, db.Model):
    __tablename__ = "export_documents"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(32), nullable=False)
    title = db.Column(db.String(200), nullable=False)
    # What the builder of `kind` needs beyond the tenant (filters, a date range …).
    params = db.Column(db.JSON, nullable=False, default=dict)
    # Exports run as background jobs; the page polls these while the file is being made.
    # The job's whole state is here, not in the worker or Redis, so a worker that dies is seen
    # (its heartbeat stops) and the job is handed to another (portal.exports.jobs).
    status = db.Column(db.String(16), nullable=False, default="queued", index=True)
    progress = db.Column(db.Integer, nullable=False, default=0)
    error = db.Column(db.String(500))
    # Whose scope the job reads with, so another worker can take it over.
    membership_id = db.Column(db.Integer, db.ForeignKey("memberships.id", ondelete="SET NULL"))
    # A long PDF: without Redis it runs in a process of its own (portal.exports.jobs).
    heavy = db.Column(db.Boolean, nullable=False, default=False)
    # Times the job was handed to a worker; it fails for good after EXPORT_MAX_ATTEMPTS.
    attempts = db.Column(db.Integer, nullable=False, default=0)
    # Queued: when it was handed over; running: the worker's last sign of life.
    heartbeat_at = db.Column(db.DateTime)
    # SHA-256 of the data the document shows; printed on every page.
    content_sha256 = db.Column(db.String(64), index=True)
    # SHA-256 of the file's bytes; what an uploaded copy is checked against.
    file_sha256 = db.Column(db.String(64), index=True)
    size = db.Column(db.Integer)
    render_seconds = db.Column(db.Float)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    content = deferred(db.Column(db.LargeBinary))

    created_by = relationship("User")

    @classmethod
    def read_criteria(cls, scope):
        """Reading a file is a permission of its kind (portal.exports.access), applied by tenants.scope."""
        return access.criteria(scope, cls)

    @property
    def code(self) -> str:
        """The verification code printed on the document."""
        return (self.content_sha256 or "")[:20].upper()

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")
