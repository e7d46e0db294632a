"""一企一码: a code per enterprise that is not its id, issued and revoked by the territorial admin
and audited; a scan opens the public tip form for the enterprise, or its page for the people who
work on it; an old poster says it is void; the poster is an A4 PDF with the street's letterhead."""
import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.codes import service
from portal.codes.models import EnterpriseCode
from portal.errors import Refused
from portal.exports import service as exports
from portal.tips.models import Tip
from tests.conftest import csrf_token, login, post
from tests.hazards.conftest import member

DESCRIPTION = "消防通道被货物堵死，安全出口上锁"


@pytest.fixture
def admin(make_user, tree):
    return make_user(tree["a"], role="admin")


def _issue(client, admin, enterprise) -> EnterpriseCode:
    login(client, admin)
    r = post(client, f"/tenants/{enterprise.id}/code")
    assert r.status_code == 303
    return service.in_force(enterprise)


def test_the_admin_issues_a_code_that_is_not_the_id_and_it_is_audited(client, session, tree, admin):
    code = _issue(client, admin, tree["a_shop"])
    assert code is not None and len(code.token) >= 22 and str(tree["a_shop"].id) != code.token
    page = client.get(f"/tenants/{tree['a_shop'].id}/code").get_data(as_text=True)
    assert f"/q/{code.token}" in page and "data:image/svg+xml" in page
    assert session.execute(select(AuditEvent.action).where(AuditEvent.object_type == "EnterpriseCode")).scalars() \
        .all() == ["code.issued"]
    # A second issue while one is in force is refused with a message saying what to do.
    r = post(client, f"/tenants/{tree['a_shop'].id}/code", follow_redirects=True)
    assert "已有在用的二维码" in r.get_data(as_text=True)
    assert len(service.history(tree["a_shop"])) == 1


@pytest.mark.parametrize("role", ["staff", "inspector", "principal"])
def test_only_an_admin_of_its_territory_issues_it(client, session, tree, make_user, role):
    unit = tree["a_shop"] if role == "principal" else tree["a_street"]
    login(client, make_user(unit, role=role))
    assert post(client, f"/tenants/{tree['a_shop'].id}/code").status_code == 403
    with pytest.raises(Refused):
        service.issue(tree["a_shop"], member(make_user(tree["a_dept"], role="admin")))  # supervises, not administers
    assert service.history(tree["a_shop"]) == []


def test_another_districts_admin_gets_404(client, session, tree, admin, make_user):
    code = _issue(client, admin, tree["a_shop"])
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    login(client, make_user(tree["b"], role="admin"))
    for url in (f"/tenants/{tree['a_shop'].id}/code", ):
        assert client.get(url).status_code == 404
    for url in (f"/tenants/{tree['a_shop'].id}/code", f"/tenants/{tree['a_shop'].id}/code/revoke",
                f"/tenants/{tree['a_shop'].id}/code/poster"):
        assert post(client, url).status_code == 404
    # Their scan is the public's: the tip form, not the enterprise's page.
    r = client.get(f"/q/{code.token}")
    assert r.status_code == 302 and "/tips/?code=" in r.location


def test_the_public_scan_opens_the_tip_form_for_the_enterprise_and_the_tip_goes_to_its_street(
        client, session, tree, admin, app):
    token = _issue(client, admin, tree["a_shop"]).token
    public = app.test_client()
    r = public.get(f"/q/{token}")
    assert r.status_code == 302
    page = public.get(r.location).get_data(as_text=True)
    assert "甲商场" in page and tree["a_shop"].credit_code in page and "12350" in page
    # What the reporter posts for district, street and name is ignored: the code decides.
    r = public.post("/tips/", data={"csrf_token": csrf_token(public), "enterprise_code": token,
                                    "district_id": str(tree["b"].id), "enterprise_name": "别的单位",
                                    "description": DESCRIPTION, "anonymous": "y"})
    assert r.status_code == 201, r.get_data(as_text=True)
    tip = session.execute(select(Tip).where(Tip.description == DESCRIPTION)).scalar_one()
    assert (tip.tenant_id, tip.enterprise_id, tip.enterprise_name) == (tree["a_street"].id, tree["a_shop"].id, "甲商场")


@pytest.mark.parametrize("who", ["street_staff", "principal", "dept_inspector"])
def test_a_logged_in_inspector_or_the_enterprises_staff_land_on_its_page(client, session, tree, admin, make_user,
                                                                          who):
    token = _issue(client, admin, tree["a_shop"]).token
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    user = {"street_staff": lambda: make_user(tree["a_street"], role="staff"),
            "principal": lambda: make_user(tree["a_shop"], role="principal"),
            "dept_inspector": lambda: make_user(tree["a_dept"], role="inspector")}[who]()
    login(client, user)
    r = client.get(f"/q/{token}")
    assert r.status_code == 302 and r.location.endswith(f"/tenants/{tree['a_shop'].id}")
    page = client.get(r.location).get_data(as_text=True)
    assert "隐患台账" in page and "检查记录" in page
    assert ("开始检查" in page) == (who in ("street_staff", "dept_inspector"))


def test_revoke_and_reissue_voids_the_old_poster(client, session, tree, admin, app):
    old = _issue(client, admin, tree["a_shop"]).token
    r = post(client, f"/tenants/{tree['a_shop'].id}/code/revoke", data={"reissue": "1", "reason": "海报被撕毁"})
    assert r.status_code == 303
    new = service.in_force(tree["a_shop"]).token
    assert new != old
    public = app.test_client()
    gone = public.get(f"/q/{old}")
    assert gone.status_code == 410 and "此二维码已作废" in gone.get_data(as_text=True)
    assert public.get(f"/q/{new}").status_code == 302
    assert public.get("/q/not-a-code").status_code == 404
    # A form opened before the revocation is refused when sent, with what to do instead.
    r = public.post("/tips/", data={"csrf_token": csrf_token(public), "enterprise_code": old,
                                    "description": DESCRIPTION, "anonymous": "y"})
    assert r.status_code == 422 and "已作废" in r.get_data(as_text=True)
    actions = session.execute(select(AuditEvent.action, AuditEvent.data).where(
        AuditEvent.object_type == "EnterpriseCode").order_by(AuditEvent.id)).all()
    assert [a for a, _ in actions] == ["code.issued", "code.revoked", "code.issued"]
    assert actions[1][1] == {"reason": "海报被撕毁", "reissued": True}
    # Only revoking leaves the enterprise without a code.
    post(client, f"/tenants/{tree['a_shop'].id}/code/revoke")
    assert service.in_force(tree["a_shop"]) is None and public.get(f"/q/{new}").status_code == 410


def test_the_poster_is_an_a4_pdf_with_name_credit_code_12350_and_the_streets_letterhead(
        client, session, tree, admin):
    from tenants import inherit
    inherit.set_value(tree["a_street"], exports.LETTERHEAD, {"header": "甲街道安全生产委员会办公室", "footer": "",
                                                              "seal": None})
    token = _issue(client, admin, tree["a_shop"]).token
    r = post(client, f"/tenants/{tree['a_shop'].id}/code/poster")
    assert r.status_code == 303
    page = client.get(r.location).get_data(as_text=True)
    pdf = client.get(re.search(r'href="(/exports/\d+\.pdf)"', page).group(1))
    assert pdf.status_code == 200
    reader = PdfReader(io.BytesIO(pdf.data))
    assert len(reader.pages) == 1
    width, height = (float(v) * 25.4 / 72 for v in reader.pages[0].mediabox.upper_right)
    assert round(width) == 210 and round(height) == 297
    text = reader.pages[0].extract_text()
    for expected in ("甲商场", tree["a_shop"].credit_code, "12350", "甲街道安全生产委员会办公室", f"/q/{token}"):
        assert expected in text, expected



def test_a_street_gives_every_enterprise_without_a_code_one_at_once(client, session, tree, admin, make_tenant):
    _issue(client, admin, tree["a_shop"])  # already has one: kept
    kept = service.in_force(tree["a_shop"]).token
    late = make_tenant(tree["a_street"], kind="enterprise", name="甲街道新登记企业")
    session.commit()
    r = post(client, f"/tenants/{tree['a_street'].id}/codes", follow_redirects=True)
    assert "已为 2 家企业生成一企一码" in r.get_data(as_text=True)
    assert service.in_force(tree["a_shop"]).token == kept
    for enterprise in (tree["a_plant"], late):
        code = service.in_force(enterprise)
        assert code is not None and len(code.token) >= 22
        assert session.execute(select(AuditEvent.action).where(
            AuditEvent.tenant_id == enterprise.id, AuditEvent.object_id == code.id)).scalar_one() == "code.issued"
    assert service.in_force(tree["b_shop"]) is None  # another district's enterprise is not touched
    r = post(client, f"/tenants/{tree['a_street'].id}/codes", follow_redirects=True)
    assert "都已有在用的一企一码" in r.get_data(as_text=True)
    assert post(client, f"/tenants/{tree['b_street'].id}/codes").status_code == 404
