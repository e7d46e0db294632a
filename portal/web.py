"""What every request shares: the active membership and its scope, page-or-fragment rendering,
role checks, pagination and the Chinese error pages."""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import wraps

from flask import abort, g, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from jinja2_fragments.flask import render_block
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException

from portal.database import mark_read_only, reset_read_only
from portal.errors import Refused
from portal.extensions import db, login_manager
from tenants import clock
from tenants.models import INDUSTRIES, KINDS, ROLES, Membership
from tenants.scope import Scope, reset_scope, set_scope, unscoped

# What each role may do inside its scope. Reading is decided by scope alone.
PERMISSIONS = {
    "tenants.manage": {"admin"},
    "users.manage": {"admin"},
    "audit.read": {"admin", "discipline"},
    "exports.roster": {"admin", "leader", "staff", "discipline"},
    # Plans and tasks. A plan is issued, and a task assigned, reviewed (办结/退回) and urged (催办), by
    # the office of the issuing node: its admin, leader and staff. A task is signed, reported and
    # passed down by the receiving unit's own people: those three in a government node or
    # department, the principal and safety officer in an enterprise. Inspectors work in the field
    # and discipline reads and exports, so neither acts on tasks.
    "plans.manage": {"admin", "leader", "staff"},
    "plans.export": {"admin", "leader", "staff", "discipline"},
    "tasks.assign": {"admin", "leader", "staff"},
    "tasks.handle": {"admin", "leader", "staff", "principal", "safety_officer"},
    # Hazards. An enterprise's principal and safety officer record, rectify and import their own;
    # government and department staff and inspectors record what they find and accept or return
    # fixes; 挂牌督办 and key check items are decided by a level's admin (and leader).
    "hazards.record": {"admin", "staff", "inspector", "principal", "safety_officer"},
    "hazards.rectify": {"principal", "safety_officer"},
    "hazards.review": {"admin", "leader", "staff", "inspector"},
    "hazards.list": {"admin", "leader"},
    "standards.publish": {"admin"},
    "tips.verify": {"admin", "staff"},
    # Responsibility lists. A level's office (admin, staff) and an enterprise's principal and safety
    # officer write their own list items; a unit's own people fill its lists and duty records; only
    # the person who answers for the unit signs: the principal, or a government node's leader.
    "checklists.templates": {"admin", "staff", "principal", "safety_officer"},
    "checklists.fill": {"admin", "leader", "staff", "principal", "safety_officer"},
    "checklists.sign": {"leader", "principal"},
    # Inspections and accountability. Inspectors and staff of a government node or department keep
    # their unit's inspection records (every listed inspector signs for themself); accidents are
    # recorded by any government role but discipline; discipline reads everything in its subtree and
    # writes only accountability records, which leaders may write too.
    "inspections.write": {"inspector", "staff"},
    "accidents.record": {"admin", "leader", "staff", "inspector"},
    "accountability.trace": {"admin", "leader", "staff", "inspector", "discipline"},
    "accountability.write": {"discipline", "leader"},
    # Dispatch tables. A unit's office types its few figures and submits; its admin and leader
    # approve, return and urge the units below; discipline reads and exports.
    "dispatch.define": {"admin"},
    "dispatch.fill": {"admin", "leader", "staff"},
    "dispatch.review": {"admin", "leader"},
    "dispatch.export": {"admin", "leader", "staff", "discipline"},
}

ERROR_MESSAGES = {
    400: "请求有误，请检查后重试。",
    403: "您的角色无权进行此操作。",
    404: "页面不存在，或不在您的管辖范围内。",
    405: "不支持的请求方式。",
    413: "上传的文件过大。",
    422: "提交的内容有误，请按提示修改。",
    500: "系统内部错误，已记录。请稍后重试；如多次出现，请联系管理员。",
}


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def render(template: str, block: str | None = None, status: int = 200, **context):
    """A full page, or only `block` of the same template when HTMX asks for it."""
    if block and is_htmx():
        return render_block(template, block, **context), status
    return render_template(template, **context), status


def attempt(action):
    """Run a service call for a submitted form: commit it with its audit event, or, when the rules
    refuse it, roll everything back and return the message. Returns (result, error)."""
    try:
        result = action()
    except Refused as e:
        db.session.rollback()
        return None, str(e)
    db.session.commit()
    return result, None


def form_status() -> int:
    """422 for a form that comes back with messages, 200 for a form shown the first time."""
    return 422 if request.method == "POST" else 200


def can(permission: str) -> bool:
    membership = g.get("membership")
    return membership is not None and membership.role in PERMISSIONS[permission]


def requires(permission: str):
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not can(permission):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def passive(view):
    """For a background poll (the notification bell): it answers, but is not the user's activity,
    so it does not extend the login session; otherwise an open tab would never idle out."""
    @wraps(view)
    def wrapped(*args, **kwargs):
        g.passive = True
        return view(*args, **kwargs)
    return wrapped


class _SessionInterface(SecureCookieSessionInterface):
    def should_set_cookie(self, app, session) -> bool:
        if g.get("passive"):
            return session.modified
        return super().should_set_cookie(app, session)


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(stmt, per_page: int | None = None) -> Page:
    per_page = per_page or 20
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    items = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return Page(items, page, per_page, total)


def _load_membership():
    """Pick the active membership (chosen in the session, else the first) and set the scope."""
    g.membership = None
    g.memberships = []
    # Every request starts from its own scope: none until a membership says otherwise.
    g.scope_token = set_scope(None)
    if not current_user.is_authenticated:
        return
    with unscoped():  # the scope is built from these rows, so they are read before it exists
        memberships = db.session.execute(
            select(Membership).where(Membership.user_id == current_user.id).order_by(Membership.id)
        ).scalars().all()
        for m in memberships:
            _ = m.tenant.path
    g.memberships = memberships
    chosen = session.get("membership_id")
    g.membership = next((m for m in memberships if m.id == chosen), memberships[0] if memberships else None)
    if g.membership is not None:
        set_scope(Scope.of(g.membership.tenant, g.membership.role))


def init_app(app) -> None:
    app.session_interface = _SessionInterface()
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id):
        from portal.auth.models import User
        try:
            user = db.session.get(User, int(user_id))
        except ValueError:
            return None
        return user if user is not None and user.active else None

    @app.before_request
    def before():
        g.read_only_token = mark_read_only(request.method in ("GET", "HEAD", "OPTIONS"))
        _load_membership()

    @app.teardown_request
    def teardown(exc):
        token = g.pop("scope_token", None)
        if token is not None:
            reset_scope(token)
        token = g.pop("read_only_token", None)
        if token is not None:
            reset_read_only(token)

    @app.after_request
    def vary(response):
        response.vary.add("HX-Request")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        return response

    @app.context_processor
    def globals_():
        # Macros as a module in the context, so a block rendered alone for HTMX has them too.
        ui = app.jinja_env.get_template("_macros/ui.html").make_module({"request": request})
        return {"ui": ui, "can": can, "membership": g.get("membership"), "memberships": g.get("memberships", []),
                "KINDS": KINDS, "INDUSTRIES": INDUSTRIES, "ROLES": ROLES}

    app.jinja_env.filters["local"] = clock.local

    def error_page(code: int, message: str | None = None):
        db.session.rollback()
        return render_template("errors.html", code=code, message=message or ERROR_MESSAGES.get(code, "")), code

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return error_page(400, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重新提交。")

    @app.errorhandler(HTTPException)
    def http_error(e):
        description = e.description if isinstance(e.description, str) and _is_chinese(e.description) else None
        return error_page(e.code or 500, description)

    @app.errorhandler(Exception)
    def server_error(e):
        app.logger.exception("unhandled error")
        return error_page(500)


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
