"""Login, logout, the user's own password, and user management inside the admin's scope."""
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from portal.auth import service
from portal.auth.forms import (ActiveForm, LoginForm, MembershipForm, PasswordChangeForm, PasswordResetForm,
                               ReminderForm, UserForm)
from portal.extensions import db
from portal.forms import Form, choices
from portal.reminders.models import CHANNELS, STATUSES, ReminderSend
from portal.web import attempt, form_status, is_htmx, paginate, render, requires
from tenants.models import KINDS, Membership, Tenant
from tenants.scope import get_managed_or_404, get_scoped_or_404, may_change, scoped

bp = Blueprint("auth", __name__)

# What a user whose password must change may still reach: the change itself and the way out.
OPEN_WHILE_CHANGE_DUE = {"auth.change_password", "auth.logout", "auth.login", "static", "home.healthz"}


@bp.before_app_request
def source_and_password_age():
    # Password checks anywhere in this request (login, a signature) count against this address.
    g.source_token = service.set_source(request.remote_addr)
    if not current_user.is_authenticated or request.endpoint in OPEN_WHILE_CHANGE_DUE:
        return None
    if service.password_change_due(current_user, current_app.config["PASSWORD_MAX_AGE_DAYS"]) is None:
        return None
    target = url_for("auth.change_password")
    if is_htmx():  # a fragment request must move the whole page, not swap the form into a panel
        response = current_app.response_class(status=204)
        # ... unless the page is the change page already: its bell poll would reload it forever.
        if urlsplit(request.headers.get("HX-Current-URL", "")).path != target:
            response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


@bp.teardown_app_request
def reset_source(exc):
    token = g.pop("source_token", None)
    if token is not None:
        service.reset_source(token)


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login is a phishing tool.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        user, error = service.authenticate(form.username.data, form.password.data)
        db.session.commit()  # failure counters and their audit events are kept either way
        if user:
            session.clear()
            session.permanent = True
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    return render("auth/login.html", form=form, error=error, status=form_status())


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash("已退出登录。", "info")
    return redirect(url_for("auth.login"))


@bp.post("/membership/switch")
@login_required
def switch_membership():
    chosen = request.form.get("membership_id", type=int)
    if not any(m.id == chosen for m in g.memberships):
        abort(404)
    session["membership_id"] = chosen
    return redirect(url_for("home.index"))


@bp.route("/account/reminders", methods=["GET", "POST"])
@login_required
def reminders():
    """Where this person's daily reminders go, and what was last sent to them."""
    form = ReminderForm(obj=current_user)
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: service.set_reminders(current_user, email=form.email.data, phone=form.phone.data,
                                                         remind_by=form.remind_by.data))
        if error is None:
            flash("提醒方式已保存。", "success")
            return redirect(url_for("auth.reminders"), 303)
    sent = db.session.execute(select(ReminderSend).where(ReminderSend.user_id == current_user.id)
                              .order_by(ReminderSend.id.desc()).limit(10)).scalars().all()
    return render("auth/reminders.html", form=form, error=error, sent=sent, STATUSES=STATUSES, CHANNELS=CHANNELS,
                  status=form_status())


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    error = None
    if form.validate_on_submit():
        _, error = attempt(lambda: service.change_password(current_user, form.old_password.data,
                                                            form.new_password.data))
        if error is None:
            flash("密码已修改。", "success")
            return redirect(url_for("home.index"))
    reason = service.password_change_due(current_user, current_app.config["PASSWORD_MAX_AGE_DAYS"])
    return render("auth/password.html", form=form, error=error, reason=reason, status=form_status())


@bp.get("/users/")
@login_required
@requires("users.manage")
def users():
    q = request.args.get("q", "").strip()
    page = paginate(service.users_in_scope(q))
    return render("auth/users.html", "results", page=page, q=q,
                  locks=service.locks_of(u.username for u in page.items))


@bp.route("/tenants/<int:tenant_id>/users/new", methods=["GET", "POST"])
@login_required
@requires("users.manage")
def new_user(tenant_id):
    tenant = get_managed_or_404(tenant_id)
    form = UserForm()
    error = None
    if form.validate_on_submit():
        user, error = attempt(lambda: service.create_user(
            tenant, username=form.username.data, display_name=form.display_name.data,
            password=form.password.data, role=form.role.data, post=form.post.data or "",
            phone=form.phone.data or "", actor=g.membership))
        if error is None:
            flash(f"已为“{tenant.name}”新建用户 {user.username}。", "success")
            return redirect(url_for("auth.user", user_id=user.id))
    return render("auth/user_new.html", form=form, tenant=tenant, error=error, status=form_status())


def _user_or_404(user_id):
    user = service.get_user_in_scope(user_id)
    if user is None:
        abort(404)
    return user


def _managed_user_or_404(user_id):
    """A user whose every role is in the admin's subtree: resetting, unlocking or stopping the
    account would otherwise reach a role above the admin (a city admin's account, seen by a
    district admin through a district role)."""
    user = _user_or_404(user_id)
    if not service.manages(user, g.membership.tenant):
        abort(404)
    return user


def _membership_form():
    form = MembershipForm()
    tenants = db.session.execute(scoped(Tenant).order_by(Tenant.path).limit(2000)).scalars().all()
    scope_root = g.membership.tenant
    form.tenant_id.choices = choices(
        (t.id, f"{'　' * (t.depth - scope_root.depth)}{t.name}（{KINDS[t.kind]}）")
        for t in tenants if may_change(g.membership, t, administer=True))
    return form


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@login_required
@requires("users.manage")
def user(user_id):
    user = _user_or_404(user_id)
    form = _membership_form()
    error = None
    if form.validate_on_submit():
        tenant = get_managed_or_404(form.tenant_id.data)
        _, error = attempt(lambda: service.add_membership(user, tenant, form.role.data, actor=g.membership))
        if error is None:
            flash("已授予角色。", "success")
            return redirect(url_for("auth.user", user_id=user.id))
    return render("auth/user.html", user=user, memberships=service.memberships_in_scope(user), form=form,
                  reset_form=PasswordResetForm(), active_form=ActiveForm(), unlock_form=Form(),
                  locks=service.locks_of([user.username]).get(user.username, []),
                  manages=service.manages(user, g.membership.tenant), error=error, status=form_status())


@bp.post("/users/<int:user_id>/memberships/<int:membership_id>/delete")
@login_required
@requires("users.manage")
def remove_membership(user_id, membership_id):
    user = _user_or_404(user_id)
    m = get_scoped_or_404(Membership, membership_id)
    if m.user_id != user.id:
        abort(404)
    _, error = attempt(lambda: service.remove_membership(m, actor=g.membership))
    if error:
        flash(error, "error")
    else:
        flash("已撤销角色。", "success")
    return redirect(url_for("auth.user", user_id=user.id))


@bp.post("/users/<int:user_id>/password")
@login_required
@requires("users.manage")
def reset_password(user_id):
    user = _managed_user_or_404(user_id)
    form = PasswordResetForm()
    if not form.validate_on_submit():
        flash("；".join(e for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for("auth.user", user_id=user.id)), 303
    service.reset_password(user, form.new_password.data, g.membership.tenant, actor=g.membership)
    db.session.commit()
    flash("密码已重置，账号已解锁；该用户下次登录须先修改密码。", "success")
    return redirect(url_for("auth.user", user_id=user.id))


@bp.post("/users/<int:user_id>/unlock")
@login_required
@requires("users.manage")
def unlock(user_id):
    user = _managed_user_or_404(user_id)
    if not Form().validate_on_submit():
        abort(400)
    unlocked = service.unlock(user, g.membership.tenant, actor=g.membership)
    db.session.commit()
    flash("账号已解锁。" if unlocked else "该账号当前未被锁定。", "success" if unlocked else "info")
    return redirect(url_for("auth.user", user_id=user.id))


@bp.post("/users/<int:user_id>/active")
@login_required
@requires("users.manage")
def set_active(user_id):
    user = _managed_user_or_404(user_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    if user.id == current_user.id:
        flash("不能停用自己的账号。", "error")
        return redirect(url_for("auth.user", user_id=user.id))
    service.set_active(user, form.active.data, g.membership.tenant, actor=g.membership)
    db.session.commit()
    flash("账号已启用。" if form.active.data else "账号已停用。", "success")
    return redirect(url_for("auth.user", user_id=user.id))
