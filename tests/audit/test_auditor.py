"""三员分立: the auditor reads and verifies the audit records and manages no one; the admin who
manages users reads no audit record, their own acts included; nothing deletes an audit record."""
import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth import service as auth
from tests.conftest import PASSWORD, login, post


def test_the_admin_cannot_read_the_audit_of_their_own_acts(client, session, tree, make_user):
    admin = make_user(tree["a"])
    login(client, admin)
    assert post(client, f"/tenants/{tree['a_street'].id}/users/new",
                {"username": "made_by_admin", "display_name": "新人", "password": PASSWORD,
                 "role": "staff"}).status_code == 302
    assert session.execute(select(AuditEvent).where(AuditEvent.action == "user.created",
                                                    AuditEvent.actor_id == admin.id)).first()
    assert "审计记录" not in client.get("/").get_data(as_text=True)
    for url in ("/audit/", "/audit/verify", "/audit/?action=user.created"):
        assert client.get(url).status_code == 403


@pytest.mark.parametrize("role", ["auditor", "discipline"])
def test_auditor_and_discipline_read_and_verify_the_subtree(client, tree, make_user, role):
    auth.reset_password(make_user(tree["a_street"], role="staff"), "Reset-Passw0rd", tree["a"])
    reader = make_user(tree["a"], role=role)
    login(client, reader)
    assert "审计记录" in client.get("/").get_data(as_text=True)
    page = client.get("/audit/?action=user.updated").get_data(as_text=True)
    assert "修改用户" in page
    assert "本辖区审计链完整" in client.get("/audit/verify").get_data(as_text=True)


def test_the_auditor_manages_no_users_and_changes_nothing(client, tree, make_user):
    auditor = make_user(tree["a"], role="auditor")
    staff = make_user(tree["a_street"], role="staff")
    login(client, auditor)
    assert client.get("/users/").status_code == 403
    assert client.get(f"/users/{staff.id}").status_code == 403
    assert post(client, f"/tenants/{tree['a_street'].id}/users/new",
                {"username": "by_auditor", "display_name": "某", "password": PASSWORD, "role": "staff"}).status_code == 403
    assert post(client, f"/users/{staff.id}/password", {"new_password": "Taken-0ver!"}).status_code == 403
    assert post(client, f"/users/{staff.id}/unlock").status_code == 403


def test_the_auditor_is_a_government_role(session, tree):
    with pytest.raises(auth.AccountError, match="企业只能设置"):
        auth.check_role_fits(tree["a_shop"], "auditor")
    auth.check_role_fits(tree["a"], "auditor")


def test_no_page_writes_or_deletes_audit_records(app):
    audit_rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("audit.")]
    assert audit_rules and all(r.methods - {"GET", "HEAD", "OPTIONS"} == set() for r in audit_rules)
