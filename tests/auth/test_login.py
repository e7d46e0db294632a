"""Login, lockout, password policy, CSRF and idle sessions."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import create_app
from portal.audit.models import AuditEvent
from portal.auth import service
from portal.auth.models import LoginThrottle
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


def _fail(client, username, address="10.0.0.1", password="Wrong-Passw0rd"):
    return post(client, "/login", {"username": username, "password": password},
                environ_base={"REMOTE_ADDR": address})


def _answer(response) -> str:
    """The message under the login form, without the page around it."""
    return re.search(r'role="alert"[^>]*>([^<]*)<', response.get_data(as_text=True)).group(1)


def _user_events(session, user, action):
    return session.execute(select(AuditEvent).where(AuditEvent.object_id == user.id, AuditEvent.object_type == "User",
                                                    AuditEvent.action == action)).scalars().all()


def test_five_failures_from_one_address_lock_the_name_there_only(client, session, tree, make_user):
    user = make_user(tree["a"])
    for i in range(1, 5):
        r = _fail(client, user.username)
        assert r.status_code == 422
        assert f"再错 {5 - i} 次" in r.get_data(as_text=True)
    r = _fail(client, user.username)
    assert "已锁定 15 分钟" in r.get_data(as_text=True)
    # Even the right password is refused from that address while it is locked ...
    r = _fail(client, user.username, password=PASSWORD)
    assert r.status_code == 422 and "账号已锁定" in r.get_data(as_text=True)
    # ... but the attacker's address does not lock the account out of the user's own office.
    r = post(client, "/login", {"username": user.username, "password": PASSWORD},
             environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert r.status_code == 302
    failed = _user_events(session, user, "auth.login_failed")
    assert len(failed) == 5 and {e.data["source"] for e in failed} == {"10.0.0.1"}
    [locked] = _user_events(session, user, "auth.locked")
    assert locked.data["sources"] == ["10.0.0.1"]


def test_many_addresses_together_lock_the_account_everywhere(session, tree, make_user):
    user = make_user(tree["a"])
    for i in range(service.ACCOUNT_MAX_FAILURES):
        with service.from_source(f"10.1.{i // 4}.{i % 4}"):  # 4 tries each: no address reaches its own lock
            assert service.authenticate(user.username, "nope")[0] is None
    with service.from_source("192.168.9.9"):
        user_, message = service.authenticate(user.username, PASSWORD)
    assert user_ is None and "账号已锁定" in message
    [locked] = _user_events(session, user, "auth.locked")
    assert locked.data["sources"] == ["全部地址"]


def test_unknown_and_known_names_get_the_same_answers(client, tree, make_user):
    user = make_user(tree["a"])

    def answers(name):
        tries = [_fail(client, name) for _ in range(5)] + [_fail(client, name, password=PASSWORD)]
        return [(r.status_code, _answer(r)) for r in tries]
    known, unknown = answers(user.username), answers("nobody-here")
    assert known == unknown
    assert known[0] == (422, "用户名或密码错误。再错 4 次账号将被锁定 15 分钟。")
    assert "账号已锁定" in known[-1][1]


def test_unknown_names_are_checked_against_a_password_hash_too(app, monkeypatch):
    # Same work for both: the dummy hash is made by the same method, so it costs what a real one does.
    with app.app_context():
        method = app.config["PASSWORD_HASH_METHOD"]
        assert service._dummy_hash(method).split("$")[0] == service.hash_password("x").split("$")[0]
    # The suite hashes cheaply (tests/conftest.py); a server always uses scrypt, whatever its environment.
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.setenv("PASSWORD_HASH_METHOD", "plain")
    production = create_app()
    with production.app_context():
        assert production.config["PASSWORD_HASH_METHOD"] == "scrypt"
        assert service.hash_password("x").startswith("scrypt:")


def test_lock_expires_after_fifteen_minutes(session, tree, make_user):
    user = make_user(tree["a"])
    for _ in range(5):
        service.authenticate(user.username, "nope")
    assert service.authenticate(user.username, PASSWORD)[0] is None
    for row in session.execute(select(LoginThrottle)).scalars():
        if row.locked_until:
            row.locked_until -= timedelta(minutes=15, seconds=1)
    assert service.authenticate(user.username, PASSWORD)[0] is user


def test_failures_older_than_the_window_start_a_new_count(session, tree, make_user):
    user = make_user(tree["a"])
    for _ in range(4):
        service.authenticate(user.username, "nope")
    for row in session.execute(select(LoginThrottle)).scalars():
        row.first_failed_at -= timedelta(minutes=16)
    _, message = service.authenticate(user.username, "nope")
    assert "再错 4 次" in message


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


def test_activity_restarts_the_idle_clock_at_most_once_a_minute(client, tree, make_user, monkeypatch):
    """The cookie is signed again (30 more minutes) when the user is active and its signature is a
    minute old; requests in between answer without a cookie, so the session still ends 29 to 30
    minutes after the last activity."""
    from portal import web
    login(client, make_user(tree["a"]))
    client.get("/")  # the first page keeps its form token in the session: a change, signed at once
    assert "Set-Cookie" not in client.get("/").headers  # signed moments ago
    monkeypatch.setattr(web, "SESSION_RESIGN_AFTER", timedelta(0))
    assert "session=" in client.get("/").headers["Set-Cookie"]
    # A background poll is not activity: it never signs the cookie again.
    assert "Set-Cookie" not in client.get("/notifications/count").headers


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
