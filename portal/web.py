"""What every request shares: the active membership and its scope, page-or-fragment rendering,
role checks, pagination and the Chinese error pages."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, g, has_request_context, render_template, request, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature
from flask_login import current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from jinja2_fragments.flask import render_block
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from werkzeug.exceptions import HTTPException

from portal.cache import kept
from portal.database import mark_read_only, reset_read_only
from portal.errors import Refused
from portal.permissions import allows
from portal.extensions import db, login_manager
from tenants import clock
from tenants.models import INDUSTRIES, KINDS, ROLES, Membership
from tenants.scope import Scope, reset_scope, set_scope, unscoped

# The pages load scripts and styles from this site's files only: no inline <script>, on* handler or
# style attribute (static/js/app.js holds the behaviour; htmx is configured in base.html to inject no
# style and evaluate no code). Images may be data: URIs (the letterhead seal's preview).
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "object-src 'none'",
    "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"))

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
        if e.kept is not None:
            e.kept()
            db.session.commit()
        return None, str(e)
    db.session.commit()
    return result, None


def page_url() -> str | None:
    """The address a page rendered in answer to a plain form POST should show: the page the form
    was on (same site only). static/js/app.js puts it in the address bar, so a reload or a
    bookmark never lands on an action URL that answers 405 to a GET (post/redirect/get, for the
    answers that carry the form's messages and so cannot redirect)."""
    if not has_request_context() or request.method != "POST" or is_htmx():
        return None  # a PDF is rendered by a job, outside any request
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or not referrer.path.startswith("/"):
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


def form_status() -> int:
    """422 for a form that comes back with messages, 200 for a form shown the first time."""
    return 422 if request.method == "POST" else 200


def can(permission: str) -> bool:
    return allows(g.get("membership"), permission)


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


# The login cookie is signed again (its idle clock restarted) at most this often: signing it on every
# request was a tenth of what a logged-in request costs, and the 30 minutes of idleness that end a
# session are then 29 to 30.
SESSION_RESIGN_AFTER = timedelta(minutes=1)


class _SessionInterface(SecureCookieSessionInterface):
    def open_session(self, app, request):
        # As Flask's, keeping when the cookie was signed (should_set_cookie).
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        try:
            data, signed_at = serializer.loads(value, max_age=int(app.permanent_session_lifetime.total_seconds()),
                                               return_timestamp=True)
        except BadSignature:
            return self.session_class()
        session = self.session_class(data)
        session.signed_at = signed_at
        return session

    def should_set_cookie(self, app, session) -> bool:
        # Nor does a static file (the browser fetches the favicon after the page, on its own): its
        # answer, arriving after a 退出 pressed meanwhile, set the old session again, and the user
        # stayed logged in.
        if g.get("passive") or (has_request_context() and request.endpoint == "static"):
            return session.modified
        signed_at = getattr(session, "signed_at", None)
        if not session.modified and signed_at is not None and \
                datetime.now(timezone.utc) - signed_at < SESSION_RESIGN_AFTER:
            return False
        return super().should_set_cookie(app, session)


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int
    # When the total was counted, if it was kept from an earlier request (portal.cache).
    as_of: datetime | None = None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(stmt, per_page: int | None = None, kept_as: str | None = None) -> Page:
    """One page of `stmt` from ?page=. `kept_as` names a list whose total is costly (a district's
    ledger): the total is then kept as a figure (portal.cache) for the same filters, the query
    string but its page number."""
    per_page = per_page or 20
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1

    def count():
        return db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    if kept_as:
        filters = tuple(sorted((k, v) for k, v in request.args.items(multi=True) if k != "page"))
        total, as_of = kept(kept_as, (filters, clock.today()), count)
    else:
        total, as_of = count(), None
    items = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return Page(items, page, per_page, total, as_of)


# Kept rows are shared by every user of one scope, but a form's token is the session's own: the
# rows are kept with this in its place, and each answer puts the reader's in.
_TOKEN_PLACEHOLDER = "\x00csrf\x00"


def kept_rows(name: str, query, template: str, *, per_page: int | None = None, key: tuple = (), prepare=None,
              keep_total: bool = False, **context) -> tuple[Page, Markup]:
    """One page of `query()` (a SELECT, built only when the rows are counted) and its rows
    rendered by `template`, kept together (portal.cache) for the same query string, day and `key`
    (what else the rows depend on that a write under the reader's unit would not change, such as
    rules set above it). A list read again before any
    write under the unit then costs no query; the page says when it was counted (数据截至).
    `prepare(page)` adds what the template needs beyond the page's items; `keep_total` keeps the
    total across pages as well (a district's 200,000 hazards)."""
    def counted():
        page = paginate(query(), per_page=per_page, kept_as=name if keep_total else None)
        rows = render_template(template, page=page, csrf_token=lambda: _TOKEN_PLACEHOLDER, **context,
                               **(prepare(page) if prepare else {}))
        return replace(page, items=[]), rows
    args = (tuple(sorted(request.args.items(multi=True))), clock.today(), key)
    (page, rows), as_of = kept(f"{name}.rows", args, counted)
    rows = rows.replace(_TOKEN_PLACEHOLDER, generate_csrf()) if _TOKEN_PLACEHOLDER in rows else rows
    return replace(page, as_of=min((t for t in (as_of, page.as_of) if t), default=None)), Markup(rows)


def _load_membership():
    """Pick the active membership (chosen in the session, else the first) and set the scope."""
    g.membership = None
    g.memberships = []
    # Every request starts from its own scope: none until a membership says otherwise.
    g.scope_token = set_scope(None)
    if not current_user.is_authenticated:
        return
    with unscoped():  # the scope is built from these rows; load_user has them loaded already
        memberships = list(current_user.memberships)
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
            user_id = int(user_id)
        except ValueError:
            return None
        # The user with every membership and its node in one query: each request needs them all
        # to choose the active membership and build its scope (_load_membership).
        with unscoped():
            user = db.session.execute(select(User).where(User.id == user_id).options(
                joinedload(User.memberships).joinedload(Membership.tenant))).unique().scalar_one_or_none()
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
    def headers(response):
        response.vary.add("HX-Request")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if app.config["SECURE_COOKIES"]:
            response.headers.setdefault("Strict-Transport-Security", f"max-age={app.config['HSTS_MAX_AGE']}")
        if response.mimetype == "text/html":
            # Files served for download set their own (uploads: sandbox); a PDF is left to the viewer.
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response

    @app.context_processor
    def globals_():
        # Macros as a module in the context, so a block rendered alone for HTMX has them too.
        ui = app.jinja_env.get_template("_macros/ui.html").make_module({"request": request})
        return {"ui": ui, "can": can, "membership": g.get("membership"), "memberships": g.get("memberships", []),
                "KINDS": KINDS, "INDUSTRIES": INDUSTRIES, "ROLES": ROLES, "page_url": page_url()}

    app.jinja_env.filters["local"] = clock.local

    def error_page(code: int, message: str | None = None):
        db.session.rollback()
        message = message or ERROR_MESSAGES.get(code, "")
        if request.path.startswith("/api/"):
            # The API answers in JSON, its errors too (portal.api).
            return {"error": {"status": code, "message": message}}, code
        return render_template("errors.html", code=code, message=message), code

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
