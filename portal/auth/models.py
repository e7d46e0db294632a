"""Users. Who may do what where is a Membership in tenants; a user alone owns nothing."""
from flask_login import UserMixin
from sqlalchemy.orm import relationship

from portal.extensions import db
from tenants.clock import now


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(64), nullable=False, unique=True)
    display_name = db.Column(db.String(64), nullable=False)
    post = db.Column(db.String(64), nullable=False, default="")
    phone = db.Column(db.String(32), nullable=False, default="")
    password_hash = db.Column(db.String(255), nullable=False)
    active = db.Column(db.Boolean, nullable=False, default=True)
    failed_logins = db.Column(db.Integer, nullable=False, default=0)
    first_failed_at = db.Column(db.DateTime)
    locked_until = db.Column(db.DateTime)
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    memberships = relationship("Membership", back_populates="user", order_by="Membership.id")

    @property
    def is_active(self) -> bool:
        return self.active
