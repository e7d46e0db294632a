"""Passwords someone else chose must be changed at first login; passwords expire per
PASSWORD_MAX_AGE_DAYS; an admin unlocks accounts in their subtree; every lock and unlock is audited."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth import service
from portal.auth.models import User
from tenants.clock import now
from tests.conftest import PASSWORD, login, post


def _change(client, old, new="Own-Passw0rd"):
    return post(client, "/account/password", {"old_password": old, "new_password": new})


def test_an_initial_password_is_changed_before_anything_else(client, session, tree, make_user):
    admin = make_user(tree["a"])
    user = service.create_user(tree["a_street"], username="first_login", display_name="初次", password="Initial-Pass1",
                               role="staff")
    session.commit()
    assert user.must_change_password
    login(client, user, "Initial-Pass1")
    # Every page leads to the change page; an HTMX fragment request moves the whole page there.
    for url in ("/", "/users/", f"/tenants/{tree['a_street'].id}"):
        assert client.get(url).headers["Location"] == "/account/password"
    r = client.get("/", headers={"HX-Request": "true"})
    assert r.headers["HX-Redirect"] == "/account/password" and r.get_data() == b""
    # The change page's own polls (the bell) get nothing, not a reload that would wipe the form.
    r = client.get("/notifications/count", headers={"HX-Request": "true",
                                                    "HX-Current-URL": "http://localhost/account/password"})
    assert r.status_code == 204 and "HX-Redirect" not in r.headers
    page = client.get("/account/password").get_data(as_text=True)
    assert "请先修改为只有您本人知道的新密码" in page
    assert _change(client, "Initial-Pass1", "Initial-Pass1").status_code == 422  # the same one is no change
    assert _change(client, "Initial-Pass1").status_code == 302
    assert client.get("/").status_code == 200
    session.expire_all()
    assert session.get(User, user.id).must_change_password is False
    # The admin's reset is an initial password again.
    post(client, "/logout")
    login(client, admin)
    post(client, f"/users/{user.id}/password", {"new_password": "Reset-Passw0rd"})
    post(client, "/logout")
    login(client, user, "Reset-Passw0rd")
    assert client.get("/").headers["Location"] == "/account/password"


def test_set_initial_password_for_bulk_onboarding(session, tree, make_user):
    user = make_user(tree["a_street"], role="staff")
    assert service.password_change_due(user, 90) is None
    service.set_initial_password(user, "Bulk-Onboard1")
    assert user.must_change_password and service.password_change_due(user, 90)
    with pytest.raises(service.AccountError, match="至少 8 位"):
        service.set_initial_password(user, "short")


@pytest.mark.parametrize("age_days,max_age,due", [(89, 90, False), (90, 90, True), (400, 0, False), (31, 30, True)])
def test_passwords_expire_after_the_configured_days(session, tree, make_user, age_days, max_age, due):
    user = make_user(tree["a"])
    user.password_changed_at = now() - timedelta(days=age_days)
    reason = service.password_change_due(user, max_age)
    assert (reason is not None) is due
    if due:
        assert f"超过 {max_age} 天" in reason


def test_an_expired_password_forces_the_change_page(app, client, session, tree, make_user):
    user = make_user(tree["a"])
    user.password_changed_at = now() - timedelta(days=app.config["PASSWORD_MAX_AGE_DAYS"] + 1)
    session.commit()
    login(client, user)
    assert client.get("/").headers["Location"] == "/account/password"
    assert "已使用超过 90 天" in client.get("/account/password").get_data(as_text=True)
    _change(client, PASSWORD)
    assert client.get("/").status_code == 200
    app.config["PASSWORD_MAX_AGE_DAYS"] = 0
    try:
        user = session.get(User, user.id)
        user.password_changed_at = now() - timedelta(days=1000)
        session.commit()
        assert client.get("/").status_code == 200  # 0: passwords never expire
    finally:
        app.config["PASSWORD_MAX_AGE_DAYS"] = 90


def _lock(client, user, address="10.7.7.7"):
    for _ in range(service.MAX_FAILURES):
        post(client, "/login", {"username": user.username, "password": "Wrong-Passw0rd"},
             environ_base={"REMOTE_ADDR": address})


def test_an_admin_unlocks_a_user_of_their_subtree(client, session, tree, make_user):
    admin = make_user(tree["a"])
    user = make_user(tree["a_street"], role="staff")
    session.commit()
    _lock(client, user)
    login(client, admin)
    assert "已锁定" in client.get("/users/").get_data(as_text=True)
    page = client.get(f"/users/{user.id}").get_data(as_text=True)
    assert "10.7.7.7" in page and "解锁账号" in page
    r = post(client, f"/users/{user.id}/unlock", follow_redirects=True)
    assert "账号已解锁" in r.get_data(as_text=True)
    [event] = session.execute(select(AuditEvent).where(AuditEvent.action == "auth.unlocked")).scalars().all()
    assert (event.tenant_id, event.actor_id, event.object_id, event.data) == \
        (tree["a"].id, admin.id, user.id, {"sources": ["10.7.7.7"]})
    post(client, "/logout")
    r = post(client, "/login", {"username": user.username, "password": PASSWORD},
             environ_base={"REMOTE_ADDR": "10.7.7.7"})
    assert r.status_code == 302


def test_an_admin_cannot_unlock_or_reset_outside_their_subtree(client, session, tree, make_user):
    a_admin = make_user(tree["a"])
    b_user = make_user(tree["b_street"], role="staff")
    # A city admin who also holds a role in 甲区: 甲区's admin sees the account, but resetting it
    # would take over the city's role.
    city_admin = make_user(tree["city"])
    service.add_membership(city_admin, tree["a_street"], "staff")
    session.commit()
    _lock(client, city_admin)
    login(client, a_admin)
    for victim in (b_user, city_admin):
        assert post(client, f"/users/{victim.id}/unlock").status_code == 404
        assert post(client, f"/users/{victim.id}/password", {"new_password": "Taken-0ver!"}).status_code == 404
        assert post(client, f"/users/{victim.id}/active", {}).status_code == 404
    assert "须由其上级单位的管理员办理" in client.get(f"/users/{city_admin.id}").get_data(as_text=True)
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "auth.unlocked")).first() is None


def test_admin_and_auditor_are_never_one_account(session, tree, make_user):
    admin = make_user(tree["a"])
    auditor = make_user(tree["a"], role="auditor")
    with pytest.raises(service.AccountError, match="三员分立"):
        service.add_membership(admin, tree["b"], "auditor")
    with pytest.raises(service.AccountError, match="三员分立"):
        service.add_membership(auditor, tree["a_street"], "admin")

