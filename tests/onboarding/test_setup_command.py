"""`flask setup init`: the production path from an empty database to a first admin."""
import re

from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.audit.service import verify
from portal.auth.models import User
from portal.extensions import db
from tenants.models import Membership, Tenant
from tenants.scope import unscoped


def _invoke(app, *args, input=None):
    return app.test_cli_runner().invoke(args=["setup", "init", *args], input=input)


def _counts(app):
    with app.app_context(), unscoped():
        return (db.session.execute(select(func.count()).select_from(Tenant)).scalar_one(),
                db.session.execute(select(func.count()).select_from(User)).scalar_one())


def test_setup_creates_the_chain_down_to_a_county_and_its_admin_once(committed_app, caplog):
    app = committed_app
    app.logger.disabled = False  # alembic's logging config switches existing loggers off
    result = _invoke(app, "--admin", "fangshan_admin", "--admin-name", "方山县管理员", "--division", "141128",
                     "--generate-password")
    assert result.exit_code == 0, result.output
    assert "管理员 fangshan_admin 设在“方山县”" in result.output
    password = re.search(r"只显示这一次.*?：(\S+)", result.output).group(1)
    with app.app_context(), unscoped():
        names = [(t.name, t.kind) for t in db.session.execute(select(Tenant).order_by(Tenant.depth)).scalars()]
        # The levels above the county, not its townships: its admin imports those from the node page.
        assert names == [("国务院安委会", "national"), ("山西省", "province"), ("吕梁市", "city"),
                         ("方山县", "district")]
        user = db.session.execute(select(User).where(User.username == "fangshan_admin")).scalar_one()
        [m] = db.session.execute(select(Membership).where(Membership.user_id == user.id)).scalars().all()
        assert (m.tenant.name, m.role, user.display_name) == ("方山县", "admin", "方山县管理员")
        actions = set(db.session.execute(select(AuditEvent.action)).scalars())
        assert {"setup.initialized", "user.created"} <= actions
        assert verify()[1] == []
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": "fangshan_admin", "password": password, "csrf_token": token})
    assert response.status_code == 302, caplog.text

    before = _counts(app)
    again = _invoke(app, "--admin", "second_admin", "--generate-password")
    assert again.exit_code != 0
    assert "已有单位或用户" in again.output
    assert _counts(app) == before


def test_setup_prompts_for_the_password_and_refuses_a_weak_one_writing_nothing(committed_app):
    app = committed_app
    weak = _invoke(app, "--admin", "root_admin", input="short\nshort\n")
    assert weak.exit_code != 0 and "密码至少 8 位" in weak.output
    assert _counts(app) == (0, 0)
    mismatch = _invoke(app, "--admin", "root_admin", input="Anquan@2026\nAnquan@2027\nAnquan@2026\nAnquan@2026\n")
    assert mismatch.exit_code == 0, mismatch.output
    assert "只显示这一次" not in mismatch.output  # a typed password is never echoed
    with app.app_context(), unscoped():
        [root] = db.session.execute(select(Tenant)).scalars().all()
        assert (root.name, root.kind, root.parent_id) == ("国务院安委会", "national", None)
        user = db.session.execute(select(User)).scalar_one()
        assert user.memberships[0].tenant_id == root.id


def test_setup_refuses_an_unknown_division_and_a_bad_username(committed_app):
    app = committed_app
    unknown = _invoke(app, "--admin", "x_admin", "--division", "999999", "--generate-password")
    assert unknown.exit_code != 0 and "没有区划代码“999999”" in unknown.output
    bad = _invoke(app, "--admin", "张", "--generate-password")
    assert bad.exit_code != 0 and "用户名为 3–64 位" in bad.output
    assert _counts(app) == (0, 0)
