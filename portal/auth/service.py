"""Passwords, login with lockout, users and their memberships."""
from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from portal.audit import service as audit
from portal.auth.models import LoginThrottle, User
from portal.errors import Refused
from portal.extensions import db
from tenants.clock import now
from tenants.models import ENTERPRISE_ROLES, ROLES, Membership, Tenant
from tenants.paths import in_subtree
from tenants.scope import unscoped, writing_for

# From one source address a name may fail 5 times in 15 minutes, then that address is refused for
# it; only a spread-out attack (many addresses) locks the name everywhere, so one attacker cannot
# lock an admin out of every office.
MAX_FAILURES = 5
ACCOUNT_MAX_FAILURES = 50
FAILURE_WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=15)
ANY_SOURCE = "*"
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{3,64}$")
WRONG = "用户名或密码错误。"

# The address a password check comes from (set per request by the auth blueprint); services
# check passwords deep inside a signature, where there is no request to ask.
_source: ContextVar[str] = ContextVar("password_source", default="")


def set_source(address: str | None):
    return _source.set((address or "")[:64])


def reset_source(token) -> None:
    _source.reset(token)


@contextmanager
def from_source(address: str | None):
    token = set_source(address)
    try:
        yield
    finally:
        _source.reset(token)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@cache
def _dummy_hash(method: str) -> str:
    """Checked instead of a stored hash when the username is unknown, so both paths take equal time."""
    return generate_password_hash("dummy-password-for-timing", method=method)


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


def _name(username: str) -> str:
    return (username or "").strip().lower()[:64]


def _locked_message(until, t) -> str:
    minutes = max(1, int((until - t).total_seconds() // 60) + 1)
    return f"连续密码错误次数过多，账号已锁定，请 {minutes} 分钟后再试，或联系管理员解锁。"


def _throttle(name: str, source: str, t) -> LoginThrottle:
    """The counter of `name` from `source`, row-locked (PostgreSQL; SQLite writers are serialised
    already), created when missing and restarted when its window and lock are over. Every login
    attempt writes it, so the rows of successful logins are pruned like the rest."""
    stmt = select(LoginThrottle).where(LoginThrottle.username == name, LoginThrottle.source == source) \
        .with_for_update()
    row = db.session.execute(stmt).scalar_one_or_none()
    if row is None:
        try:
            with db.session.begin_nested():
                row = LoginThrottle(username=name, source=source, failures=0, first_failed_at=t)
                db.session.add(row)
        except IntegrityError:  # a concurrent attempt created it first
            row = db.session.execute(stmt).scalar_one()
    if t - row.first_failed_at > FAILURE_WINDOW and not (row.locked_until and row.locked_until > t):
        row.failures, row.first_failed_at, row.locked_until = 0, t, None
    return row


def _prune(name: str, t) -> None:
    # Rows of names nobody has tried for a while (unknown names an attacker sprayed) go, a few at a
    # time; rows another transaction holds are skipped, so this never waits on a concurrent login.
    # `name`'s own rows are restarted in place instead.
    stale = select(LoginThrottle.id).where(
        LoginThrottle.username != name, LoginThrottle.first_failed_at < t - FAILURE_WINDOW,
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < t)
    ).limit(100).with_for_update(skip_locked=True)
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.id.in_(stale))
                       .execution_options(synchronize_session=False))


def _hold(name: str, source: str, t) -> tuple[LoginThrottle, LoginThrottle]:
    """Both counters of `name` (from `source`, from everywhere), row-locked before the password is
    looked at: a burst of parallel guesses is judged one at a time, so it gets no more tries than
    a patient guesser."""
    _prune(name, t)
    return _throttle(name, source, t), _throttle(name, ANY_SOURCE, t)


def _lock_end(rows, t) -> datetime | None:
    ends = [r.locked_until for r in rows if r.locked_until and r.locked_until > t]
    return max(ends) if ends else None


def _count_failure(rows: tuple[LoginThrottle, LoginThrottle], user: User | None, action: str, t) -> str:
    """Count one wrong password on the held counters; lock what reached its limit. Audited for an
    existing account. Returns what to tell the person."""
    until = _lock_end(rows, t)
    if until is not None:  # locked by a concurrent failure meanwhile (signing counts after its rollback)
        return _locked_message(until, t)
    pair, everywhere = rows
    pair.failures += 1
    everywhere.failures += 1
    locked = []
    if pair.failures >= MAX_FAILURES:
        pair.locked_until = t + LOCK_TIME
        locked.append(pair.source or "未知地址")
    if everywhere.failures >= ACCOUNT_MAX_FAILURES:
        everywhere.locked_until = t + LOCK_TIME
        locked.append("全部地址")
    if user is not None:
        _record_own(user, action, {"source": pair.source, "failures": pair.failures})
        if locked:
            _record_own(user, "auth.locked", {"sources": locked, "minutes": LOCK_TIME.seconds // 60})
    if locked:
        return "连续密码错误次数过多，账号已锁定 15 分钟；如需提前解锁，请联系管理员。"
    left = min(MAX_FAILURES - pair.failures, ACCOUNT_MAX_FAILURES - everywhere.failures)
    return f"再错 {left} 次账号将被锁定 15 分钟。"


def authenticate(username: str, password: str) -> tuple[User | None, str | None]:
    """Return (user, None) on success or (None, message). An unknown name is answered exactly as
    a known one with a wrong password: same message, same counting, one password hash either way.
    Failures are committed by the caller together with their audit events."""
    name, t = _name(username), now()
    rows = _hold(name, _source.get(), t)
    user = db.session.execute(select(User).where(User.username == (username or "").strip())).scalar_one_or_none()
    method = current_app.config["PASSWORD_HASH_METHOD"]
    right = check_password_hash(user.password_hash if user else _dummy_hash(method), password or "") and user is not None
    until = _lock_end(rows, t)
    if until is not None:
        return None, _locked_message(until, t)
    if not right:
        return None, WRONG + _count_failure(rows, user, "auth.login_failed", t)
    if not user.active:
        return None, "账号已停用，请联系管理员。"
    # A success clears this address's count only: a spread-out attack keeps its count everywhere.
    rows[0].failures, rows[0].first_failed_at = 0, t
    _record_own(user, "auth.login", {"source": rows[0].source})
    return user, None


def confirm_password(user: User, password: str, refusal: str) -> None:
    """`user`, signed in, confirms an act in their name (a signature, a password change) with their
    own password, so a session left open cannot act for them. A wrong password is refused with
    `refusal` and counts toward the same lockout as a failed login; a locked account is refused."""
    name, source, t = _name(user.username), _source.get(), now()
    until = _lock_end(_hold(name, source, t), t)
    right = bool(user.active) and check_password_hash(user.password_hash, password or "")
    if until is not None:
        raise AccountError(_locked_message(until, t))
    if not right:
        user_id = user.id

        def count():
            # After the refusal rolled the act (and the row locks) back, the failure stays counted.
            moment = now()
            _count_failure(_hold(name, source, moment), db.session.get(User, user_id), "auth.confirm_failed", moment)
        raise AccountError(refusal, kept=count)


def set_initial_password(user: User, password: str) -> None:
    """A password chosen by someone else (an admin creating the account, a reset, a bulk import):
    the user must replace it at first login."""
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(password)
    user.must_change_password, user.password_changed_at = True, now()


def accept_password(user: User) -> None:
    """The current password stands as the user's own, its age counted from now: for the demo's
    published accounts and test factories, never for an admin-set password."""
    user.must_change_password, user.password_changed_at = False, now()


def password_change_due(user: User, max_age_days: int) -> str | None:
    """Why `user` must change the password before anything else (None if not): an initial password
    set by someone else, or one older than `max_age_days` (等保 2.0 periodic change; 0 = never)."""
    if user.must_change_password:
        return "您的密码由管理员设置，请先修改为只有您本人知道的新密码。"
    if max_age_days and now() - user.password_changed_at >= timedelta(days=max_age_days):
        return f"您的密码已使用超过 {max_age_days} 天，请修改后继续使用。"
    return None


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
    check_role_fits(tenant, role)
    user = User(username=username, display_name=display_name.strip(), post=post.strip(), phone=phone.strip())
    set_initial_password(user, password)
    db.session.add(user)
    db.session.add(Membership(user=user, tenant=tenant, role=role))
    db.session.flush()
    audit.record(tenant, "user.created", user, {"username": username, "role": role}, actor=actor)
    return user


# 三员分立: who manages accounts must not also read and verify the record of their own acts.
SEPARATED = {"admin": "auditor", "auditor": "admin"}


def add_membership(user: User, tenant: Tenant, role: str, *, actor: Membership | None = None) -> Membership:
    check_role_fits(tenant, role)
    if role in SEPARATED:
        with unscoped():  # a role anywhere counts, not only inside the granting admin's subtree
            clash = db.session.execute(select(Membership.id).where(
                Membership.user_id == user.id, Membership.role == SEPARATED[role]).limit(1)).first()
        if clash:
            raise AccountError(f"同一账号不能既是“{ROLES['admin']}”又是“{ROLES['auditor']}”（三员分立）；"
                               "请为审计工作另建账号。")
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


EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PHONE = re.compile(r"\+?[0-9][0-9 -]{4,30}")


def set_reminders(user: User, *, email: str, phone: str, remind_by: str) -> None:
    """Where and how reminders reach this person outside the portal (portal.reminders)."""
    from portal.reminders.models import CHOICES
    email, phone = (email or "").strip(), (phone or "").strip()
    if email and (len(email) > 120 or not EMAIL.fullmatch(email)):
        raise AccountError("邮箱格式不正确，例如 zhangsan@example.gov.cn。")
    if phone and not PHONE.fullmatch(phone):
        raise AccountError("手机号码格式不正确。")
    if remind_by not in CHOICES:
        raise AccountError("请选择提醒方式。")
    if remind_by in ("email", "both") and not email:
        raise AccountError("选择电子邮件提醒时，请填写邮箱。")
    if remind_by in ("im", "both") and not phone:
        raise AccountError("选择短信/即时消息提醒时，请填写手机号码。")
    user.email, user.phone, user.remind_by = email, phone, remind_by
    _record_own(user, "user.reminders_set", {"remind_by": remind_by, "email": bool(email), "phone": bool(phone)})


def change_password(user: User, old: str, new: str) -> None:
    confirm_password(user, old, "原密码不正确。")
    if check_password_hash(user.password_hash, new or ""):
        raise AccountError("新密码不能与原密码相同。")
    problem = password_problem(new)
    if problem:
        raise AccountError(problem)
    user.password_hash = hash_password(new)
    accept_password(user)
    _record_own(user, "auth.password_changed")


def locks_of(usernames) -> dict[str, list[LoginThrottle]]:
    """The locks in force on each of `usernames` (one query), for the user list and page."""
    names = {_name(u): u for u in usernames}
    rows = db.session.execute(select(LoginThrottle).where(
        LoginThrottle.username.in_(names), LoginThrottle.locked_until > now())
        .order_by(LoginThrottle.locked_until)).scalars().all()
    locks: dict[str, list[LoginThrottle]] = {}
    for row in rows:
        locks.setdefault(names[row.username], []).append(row)
    return locks


def unlock(user: User, tenant: Tenant, *, actor: Membership | None = None) -> bool:
    """An admin lifts every lock on `user` and clears the counts; audited in `tenant` (the admin's
    node). False when nothing was locked."""
    name = _name(user.username)
    sources = sorted(r.source for r in locks_of([user.username]).get(user.username, []))
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.username == name))
    if not sources:
        return False
    audit.record(tenant, "auth.unlocked", user, {"sources": ["全部地址" if s == ANY_SOURCE else s for s in sources]},
                 actor=actor)
    return True


def reset_password(user: User, new: str, tenant: Tenant, *, actor: Membership | None = None) -> None:
    set_initial_password(user, new)
    audit.record(tenant, "user.updated", user, {"password_reset": True}, actor=actor)
    unlock(user, tenant, actor=actor)


def manages(user: User, root: Tenant) -> bool:
    """Whether every role of `user` lies in `root`'s subtree: only then may an admin there reset,
    unlock or stop the account, which would otherwise reach roles above the admin."""
    with unscoped():
        outside = db.session.execute(select(Membership.id).where(
            Membership.user_id == user.id, ~in_subtree(Membership.tenant_path, root.path)).limit(1)).first()
    return outside is None


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
