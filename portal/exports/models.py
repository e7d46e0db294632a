"""Every file the system hands out is recorded, so the verify page can vouch for it."""
from sqlalchemy.orm import deferred, relationship

from portal.extensions import db
from tenants.clock import now
from tenants.models import TenantOwned


class ExportDocument(TenantOwned, db.Model):
    __tablename__ = "export_documents"

    id = db.Column(db.Integer, primary_key=True)
    kind = db.Column(db.String(32), nullable=False)
    title = db.Column(db.String(200), nullable=False)
    # SHA-256 of the data the document shows; printed on every page.
    content_sha256 = db.Column(db.String(64), nullable=False, index=True)
    # SHA-256 of the file's bytes; what an uploaded copy is checked against.
    file_sha256 = db.Column(db.String(64), index=True)
    size = db.Column(db.Integer)
    render_seconds = db.Column(db.Float)
    created_by_id = db.Column(db.Integer, db.ForeignKey("users.id"))
    created_at = db.Column(db.DateTime, nullable=False, default=now)
    content = deferred(db.Column(db.LargeBinary))

    created_by = relationship("User")

    @property
    def code(self) -> str:
        """The verification code printed on the document."""
        return self.content_sha256[:20].upper()
