"""An uploaded file. The bytes live in the database (deferred), never under the web root, so
app servers stay stateless and a file is reachable only through the scoped view."""
from sqlalchemy.orm import declared_attr, deferred, relationship

from portal.extensions import db
from tenants.clock import now
from tenants.models import TenantOwned


class StoredFile:
    """The columns of a file kept in the database, for every table that keeps files: uploads here,
    and tables whose files must be read by other units than the owner's subtree (a task's files)."""

    filename = db.Column(db.String(200), nullable=False)
    mimetype = db.Column(db.String(100), nullable=False)
    kind = db.Column(db.String(16), nullable=False)
    size = db.Column(db.Integer, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    @declared_attr
    def created_by_id(cls):
        return db.Column(db.Integer, db.ForeignKey("users.id"))

    @declared_attr
    def content(cls):
        return deferred(db.Column(db.LargeBinary, nullable=False))

    @declared_attr
    def created_by(cls):
        return relationship("User")

    @property
    def is_image(self) -> bool:
        return self.kind == "image"


class Upload(StoredFile, TenantOwned, db.Model):
    __tablename__ = "uploads"

    id = db.Column(db.Integer, primary_key=True)
    # Random and unguessable; the only name the file is ever reached by.
    token = db.Column(db.String(32), nullable=False, unique=True)
