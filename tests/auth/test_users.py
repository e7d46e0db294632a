"""User management inside an admin's subtree."""
from sqlalchemy import select

from portal.auth.models import User
from tenants.models import Membership
from tests.conftest import PASSWORD, login, post


def test_admin_creates_a_user_for_a_street(client, session, tree, make_user):
    admin = make_user(tree["a"])
    login(client, admin)
    street = tree["a_street"]
    assert client.get(f"/tenants/{street.id}/users/new").status_code == 200
    r = post(client, f"/tenants/{street.id}/users/new", {"username": "jiajiedao01", "display_name": "张三",
                                                         "password": "Street-Pass1", "role": "staff"})
    assert r.status_code == 302
    user = session.execute(select(User).where(User.username == "jiajiedao01")).scalar_one()
    m = session.execute(select(Membership).where(Membership.user_id == user.id)).scalar_one()
    assert (m.tenant_id, m.role) == (street.id, "staff")
    post(client, "/logout")
    login(client, user, "Street-Pass1")
    # The admin knows this password: the new user replaces it before anything else.
    assert client.get("/").headers["Location"] == "/account/password"
    r = post(client, "/account/password", {"old_password": "Street-Pass1", "new_password": "Own-Passw0rd"})
    assert r.status_code == 302
    assert "甲街道" in client.get("/").get_data(as_text=True)


def test_bad_user_input_gets_chinese_messages_and_writes_nothing(client, session, tree, make_user):
    admin = make_user(tree["a"])
    login(client, admin)
    url = f"/tenants/{tree['a_street'].id}/users/new"
    before = session.execute(select(User.id)).all()
    cases = [
        ({"username": "x", "display_name": "李四", "password": PASSWORD, "role": "staff"}, "3–64"),
        ({"username": "lisi01", "display_name": "", "password": PASSWORD, "role": "staff"}, "此项必填"),
        ({"username": "lisi01", "display_name": "李四", "password": "weakpass", "role": "staff"}, "至少 3 类"),
        ({"username": admin.username, "display_name": "李四", "password": PASSWORD, "role": "staff"}, "已被使用"),
        ({"username": "lisi01", "display_name": "李四", "password": PASSWORD, "role": "principal"}, "只能设在企业"),
    ]
    for data, message in cases:
        r = post(client, url, data)
        assert r.status_code == 422, data
        assert message in r.get_data(as_text=True), data
    session.expire_all()
    assert session.execute(select(User.id)).all() == before


def test_admin_cannot_create_users_outside_its_subtree(client, tree, make_user):
    admin = make_user(tree["a"])
    login(client, admin)
    r = post(client, f"/tenants/{tree['b_street'].id}/users/new",
             {"username": "intruder", "display_name": "王五", "password": PASSWORD, "role": "staff"})
    assert r.status_code == 404
    # An ancestor is readable for breadcrumbs but is not the admin's to manage.
    r = post(client, f"/tenants/{tree['city'].id}/users/new",
             {"username": "intruder", "display_name": "王五", "password": PASSWORD, "role": "staff"})
    assert r.status_code == 404 or r.status_code == 403


def test_non_admin_roles_cannot_manage_users(client, tree, make_user):
    staff = make_user(tree["a"], role="staff")
    login(client, staff)
    assert client.get("/users/").status_code == 403
    assert "您的角色无权" in client.get(f"/tenants/{tree['a_street'].id}/users/new").get_data(as_text=True)


def test_grant_and_revoke_a_role(client, session, tree, make_user):
    admin = make_user(tree["a"])
    user = make_user(tree["a_street"], role="staff")
    login(client, admin)
    page = client.get(f"/users/{user.id}").get_data(as_text=True)
    assert "乙街道" not in page  # the choice list holds only the admin's subtree
    r = post(client, f"/users/{user.id}", {"tenant_id": tree["a_dept"].id, "role": "inspector"})
    assert r.status_code == 302
    m = session.execute(select(Membership).where(Membership.user_id == user.id,
                                                 Membership.role == "inspector")).scalar_one()
    r = post(client, f"/users/{user.id}/memberships/{m.id}/delete")
    assert r.status_code == 302
    assert session.execute(select(Membership).where(Membership.id == m.id)).first() is None
    last = session.execute(select(Membership).where(Membership.user_id == user.id)).scalar_one()
    r = post(client, f"/users/{user.id}/memberships/{last.id}/delete", follow_redirects=True)
    assert "最后一个角色" in r.get_data(as_text=True)


def test_user_list_search_and_pagination(client, tree, make_user):
    admin = make_user(tree["a"])
    for i in range(25):
        make_user(tree["a_street"], role="staff", username=f"pager{i:02d}")
    login(client, admin)
    first = client.get("/users/?q=pager").get_data(as_text=True)
    assert "共 25 条" in first and "pager00" in first and "pager24" not in first
    second = client.get("/users/?q=pager&page=2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "pager24" in second and "<html" not in second


def test_reset_password_and_deactivate(client, session, tree, make_user):
    admin = make_user(tree["a"])
    user = make_user(tree["a_street"], role="staff")
    login(client, admin)
    assert post(client, f"/users/{user.id}/password", {"new_password": "Reset-Pass1"}).status_code == 302
    assert post(client, f"/users/{user.id}/active", {}).status_code == 302
    session.expire_all()
    assert session.get(User, user.id).active is False
    post(client, "/logout")
    r = post(client, "/login", {"username": user.username, "password": "Reset-Pass1"})
    assert r.status_code == 422 and "已停用" in r.get_data(as_text=True)
