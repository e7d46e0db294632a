"""Login, lockout, password policy, CSRF and idle sessions."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth import service
from portal.auth.models import User
from tests.conftest import PASSWORD, csrf_token, login, post


@pytest.mark.parametrize("password,ok", [
    ("short1A", False), ("alllowercase", False), ("lowercase123", False), ("Lowercase123", True),
    ("lower-case!x", False), ("lower-case1x", True), ("密码密码Abc1", True),
])
def test_password_policy(password, ok):
    assert (service.password_problem(password) is None) is ok


def test_login_page_is_chinese(client):
    html = client.get("/login").get_data(as_text=True)
    assert "登录" in html and "用户名" in html and "密码" in html


def test_login_and_logout(client, tree, make_user):
    user = make_user(tree["a"])
    login(client, user)
    assert "甲区" in client.get("/").get_data(as_text=True)
    post(client, "/logout")
    assert client.get("/").status_code == 302


def test_wrong_password_is_counted_and_five_lock_the_account(client, session, tree, make_user):
    user = make_user(tree["a"])
    for i in range(1, 5):
        r = post(client, "/login", {"username": user.username, "password": "Wrong-Passw0rd"})
        assert r.status_code == 422
        assert f"再失败 {5 - i} 次" in r.get_data(as_text=True)
    r = post(client, "/login", {"username": user.username, "password": "Wrong-Passw0rd"})
    assert "已锁定 15 分钟" in r.get_data(as_text=True)
    # Even the right password is refused while locked.
    r = post(client, "/login", {"username": user.username, "password": PASSWORD})
    assert r.status_code == 422 and "账号已锁定" in r.get_data(as_text=True)
    session.expire_all()
    locked = session.get(User, user.id)
    assert locked.locked_until is not None
    actions = session.execute(select(AuditEvent.action).where(AuditEvent.object_id == user.id,
                                                              AuditEvent.object_type == "User")).scalars().all()
    assert actions.count("auth.login_failed") == 4 and "auth.locked" in actions


def test_lock_expires_after_fifteen_minutes(session, tree, make_user):
    user = make_user(tree["a"])
    for _ in range(5):
        service.authenticate(user.username, "nope")
    assert service.authenticate(user.username, PASSWORD)[0] is None
    user.locked_until -= timedelta(minutes=15, seconds=1)
    assert service.authenticate(user.username, PASSWORD)[0] is user


def test_failures_older_than_the_window_start_a_new_count(session, tree, make_user):
    user = make_user(tree["a"])
    for _ in range(4):
        service.authenticate(user.username, "nope")
    user.first_failed_at -= timedelta(minutes=16)
    service.authenticate(user.username, "nope")
    assert user.failed_logins == 1 and user.locked_until is None


def test_unknown_user_gets_the_same_message(client):
    r = post(client, "/login", {"username": "nobody-here", "password": "Whatever-1"})
    assert r.status_code == 422 and "用户名或密码错误" in r.get_data(as_text=True)


def test_missing_or_forged_csrf_token_is_refused(client, tree, make_user):
    user = make_user(tree["a"])
    r = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)
    r = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": "forged"})
    assert r.status_code == 400
    login(client, user)
    r = client.post(f"/tenants/{tree['a'].id}/children", data={"kind": "street", "name": "新街道"},
                    headers={"X-CSRFToken": "forged", "HX-Request": "true"})
    assert r.status_code == 400
    r = client.post(f"/tenants/{tree['a'].id}/children", data={"kind": "street", "name": "新街道"},
                    headers={"X-CSRFToken": csrf_token(client), "HX-Request": "true"})
    assert r.status_code == 302


def test_idle_session_ends_after_thirty_minutes(app, client, tree, make_user):
    assert app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(minutes=30)
    user = make_user(tree["a"])
    login(client, user)
    assert client.get("/").status_code == 200
    # Flask checks the signed cookie's age; a lifetime of zero makes the same cookie stale.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(seconds=-1)
    try:
        assert client.get("/").status_code == 302
    finally:
        app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(minutes=30)


def test_open_redirect_after_login_is_refused(client, tree, make_user):
    user = make_user(tree["a"])
    r = client.post("/login?next=//evil.example/x", data={"username": user.username, "password": PASSWORD,
                                                          "csrf_token": csrf_token(client)})
    assert r.headers["Location"] == "/"


def test_change_own_password(client, session, tree, make_user):
    user = make_user(tree["a"])
    login(client, user)
    r = post(client, "/account/password", {"old_password": "wrong", "new_password": "New-Passw0rd"})
    assert r.status_code == 422 and "原密码不正确" in r.get_data(as_text=True)
    r = post(client, "/account/password", {"old_password": PASSWORD, "new_password": "weak"})
    assert r.status_code == 422 and "至少 8 位" in r.get_data(as_text=True)
    r = post(client, "/account/password", {"old_password": PASSWORD, "new_password": "New-Passw0rd"})
    assert r.status_code == 302
    post(client, "/logout")
    login(client, user, "New-Passw0rd")
