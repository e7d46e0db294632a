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
    # Where reminders reach this person outside the portal (portal.reminders), and by what.
    email = db.Column(db.String(120), nullable=False, default="")
    remind_by = db.Column(db.String(8), nullable=False, default="email")
    password_hash = db.Column(db.String(255), nullable=False)
    active = db.Column(db.Boolean, nullable=False, default=True)
    # Set for an initial password chosen by someone else (an admin creating the account or
    # resetting it): every page leads to the change-password page until the user picks their own.
    must_change_password = db.Column(db.Boolean, nullable=False, default=False)
    password_changed_at = db.Column(db.DateTime, nullable=False, default=now)
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    memberships = relationship("Membership", back_populates="user", order_by="Membership.id")

    @property
    def is_active(self) -> bool:
        return self.active


class LoginThrottle(db.Model):
    """Failed password checks (login or signing) of one username, from one source address or, with
    source ANY_SOURCE, from everywhere. Keyed by the name as typed, whether or not an account has it,
    so an unknown name is answered exactly as a known one."""
    __tablename__ = "login_throttles"

    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(64), nullable=False)
    source = db.Column(db.String(64), nullable=False)
    failures = db.Column(db.Integer, nullable=False, default=0)
    first_failed_at = db.Column(db.DateTime, nullable=False)
    locked_until = db.Column(db.DateTime)

    __table_args__ = (db.UniqueConstraint("username", "source", name="uq_login_throttles_username_source"),
                      db.Index("ix_login_throttles_first_failed_at", "first_failed_at"))
