"""Passwords, login with lockout, users and their memberships."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from portal.audit import service as audit
from portal.auth.models import User
from portal.errors import Refused
from portal.extensions import db
from tenants.clock import now
from tenants.models import ENTERPRISE_ROLES, ROLES, Membership, Tenant
from tenants.scope import unscoped, writing_for

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=15)
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
# Checked against the stored hash when the username is unknown, so both paths take equal time.
_DUMMY_HASH = generate_password_hash("dummy-password-for-timing")


class AccountError(Refused):
    """A refused account change; the message is for the user."""


def password_problem(password: str) -> str | None:
    """None if the password meets the policy, else what is missing (in Chinese)."""
    if len(password or "") < 8:
        return "密码至少 8 位。"
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    if classes < 3:
        return "密码须包含大写字母、小写字母、数字、符号中的至少 3 类。"
    return None


def _home_tenant(user: User) -> Tenant | None:
    with unscoped():
        m = db.session.execute(
            select(Membership).where(Membership.user_id == user.id).order_by(Membership.id).limit(1)
        ).scalar_one_or_none()
        return m.tenant if m else None


def _record_own(user: User, action: str, data: dict | None = None) -> None:
    """Record what a user did to their own account in their home node's chain: a login has no
    scope yet, and the home node may lie outside the membership now active."""
    home = _home_tenant(user)
    if home:
        with writing_for(home):
            audit.record(home, action, user, data, actor=user)


def authenticate(username: str, password: str) -> tuple[User | None, str | None]:
    """Return (user, None) on success or (None, message). Failures count toward the lockout and
    are committed by the caller together with their audit event."""
    user = db.session.execute(select(User).where(User.username == (username or "").strip())).scalar_one_or_none()
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None, "用户名或密码错误。"
    t = now()
    if user.locked_until and user.locked_until > t:
        minutes = max(1, int((user.locked_until - t).total_seconds() // 60) + 1)
        return None, f"连续登录失败次数过多，账号已锁定，请 {minutes} 分钟后再试。"
    if not check_password_hash(user.password_hash, password or ""):
        if user.first_failed_at is None or t - user.first_failed_at > FAILURE_WINDOW:
            user.first_failed_at, user.failed_logins = t, 0
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until, user.failed_logins, user.first_failed_at = t + LOCK_TIME, 0, None
            _record_own(user, "auth.locked")
            return None, "连续 5 次登录失败，账号已锁定 15 分钟。"
        _record_own(user, "auth.login_failed", {"failures": user.failed_logins})
        left = MAX_FAILURES - user.failed_logins
        return None, f"用户名或密码错误。再失败 {left} 次账号将被锁定 15 分钟。"
    if not user.active:
        return None, "账号已停用，请联系管理员。"
    user.failed_logins, user.first_failed_at, user.locked_until = 0, None, None
    _record_own(user, "auth.login")
    return user, None


def confirm_password(user: User, password: str) -> bool:
    """Whether `password` is `user`'s own: a signed-in person confirming an act in their name
    (a signature), so a session left open cannot sign for them."""
    return bool(user.active) and check_password_hash(user.password_hash, password or "")


def check_role_fits(tenant: Tenant, role: str) -> None:
    if role not in ROLES:
        raise AccountError("未知角色。")
    if (tenant.kind == "enterprise") != (role in ENTERPRISE_ROLES):
        if tenant.kind == "enterprise":
            raise AccountError("企业只能设置“主要负责人”或“安全管理员”角色。")
        raise AccountError(f"“{ROLES[role]}”角色只能设在企业。")


def create_user(tenant: Tenant, *, username: str, display_name: str, password: str, role: str,
                post: str = "", phone: str = "", actor: Membership | None = None) -> User:
    username = username.strip()
    if not USERNAME_RE.match(username):
        raise AccountError("用户名为 3–64 位字母、数字、下划线、点或连字符。")
    if db.session.execute(select(User.id).where(func.lower(User.username) == username.lower())).first():
        raise AccountError(f"用户名“{username}”已被使用。")
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    check_role_fits(tenant, role)
    user = User(username=username, display_name=display_name.strip(), post=post.strip(), phone=phone.strip(),
                password_hash=generate_password_hash(password))
    db.session.add(user)
    db.session.add(Membership(user=user, tenant=tenant, role=role))
    db.session.flush()
    audit.record(tenant, "user.created", user, {"username": username, "role": role}, actor=actor)
    return user


def add_membership(user: User, tenant: Tenant, role: str, *, actor: Membership | None = None) -> Membership:
    check_role_fits(tenant, role)
    exists = db.session.execute(select(Membership).where(
        Membership.user_id == user.id, Membership.tenant_id == tenant.id, Membership.role == role)).first()
    if exists:
        raise AccountError(f"该用户在“{tenant.name}”已有“{ROLES[role]}”角色。")
    m = Membership(user=user, tenant=tenant, role=role)
    db.session.add(m)
    db.session.flush()
    audit.record(tenant, "membership.added", m, {"user_id": user.id, "role": role}, actor=actor)
    return m


def remove_membership(m: Membership, *, actor: Membership | None = None) -> None:
    # Counted across all tenants: roles elsewhere keep the account usable.
    with unscoped():
        total = db.session.execute(select(func.count()).select_from(Membership)
                                   .where(Membership.user_id == m.user_id)).scalar_one()
    if total <= 1:
        raise AccountError("这是该用户的最后一个角色；请改为停用账号。")
    audit.record(m.tenant, "membership.removed", m, {"user_id": m.user_id, "role": m.role}, actor=actor)
    db.session.delete(m)
    db.session.flush()


def set_active(user: User, active: bool, tenant: Tenant, *, actor: Membership | None = None) -> None:
    user.active = active
    audit.record(tenant, "user.updated", user, {"active": active}, actor=actor)


def change_password(user: User, old: str, new: str) -> None:
    if not check_password_hash(user.password_hash, old or ""):
        raise AccountError("原密码不正确。")
    problem = password_problem(new)
    if problem:
        raise AccountError(problem)
    user.password_hash = generate_password_hash(new)
    _record_own(user, "auth.password_changed")


def reset_password(user: User, new: str, tenant: Tenant, *, actor: Membership | None = None) -> None:
    problem = password_problem(new)
    if problem:
        raise AccountError(problem)
    user.password_hash = generate_password_hash(new)
    user.failed_logins, user.first_failed_at, user.locked_until = 0, None, None
    audit.record(tenant, "user.updated", user, {"password_reset": True}, actor=actor)


def users_in_scope(q: str = ""):
    """Users holding at least one role inside the current scope (a SELECT to paginate)."""
    stmt = select(User).where(User.id.in_(select(Membership.user_id))).order_by(User.username)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.display_name.ilike(like)))
    return stmt


def get_user_in_scope(user_id) -> User | None:
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    return db.session.execute(
        select(User).where(User.id == user_id, User.id.in_(select(Membership.user_id)))
    ).scalar_one_or_none()


def memberships_in_scope(user: User) -> list[Membership]:
    return db.session.execute(
        select(Membership).where(Membership.user_id == user.id).order_by(Membership.id)).scalars().all()
