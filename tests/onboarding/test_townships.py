"""A county's admin imports its townships from the bundled divisions; a township's 站所 (its
departments, with the industries they lead) and villages are made on its node page."""
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db
from tenants import service
from tenants.models import Tenant
from tenants.scope import Scope, scoped_as
from tests.conftest import login, post

# 方山县 (141128) in the shipped 2023 data: 圪洞镇, 马坊镇, 峪口镇, 大武镇, 北武当镇, 积翠镇.
FANGSHAN_TOWNSHIPS = 6


def _towns(session, county):
    return {t.code: t.name for t in session.execute(
        select(Tenant).where(Tenant.parent_id == county.id, Tenant.kind == "street")).scalars()}


def test_a_county_admin_imports_its_townships_once(session, client, county):
    login(client, county["admin"])
    fangshan = county["fangshan"]
    page = client.get(f"/tenants/{fangshan.id}").get_data(as_text=True)
    assert "导入本县乡镇街道（2023 年区划）" in page
    response = post(client, f"/tenants/{fangshan.id}/divisions")
    assert response.status_code == 303
    assert "已导入 5 个乡镇街道（2023 年统计用区划代码），另有 1 个已存在" in client.get(
        response.headers["Location"]).get_data(as_text=True)
    towns = _towns(session, fangshan)
    assert towns["141128100"] == "圪洞镇" and towns["141128105"] == "积翠镇"
    assert len(towns) == FANGSHAN_TOWNSHIPS + 1  # and 麻地会乡 of the fixture
    # The township that existed kept its node (and whatever hangs under it).
    assert county["jicui"].id in {t.id for t in fangshan.children}
    new = session.execute(select(Tenant).where(Tenant.code == "141128101")).scalar_one()
    assert (new.path, new.depth) == (f"{fangshan.path}{new.id}/", fangshan.depth + 1)
    [event] = session.execute(select(AuditEvent).where(AuditEvent.action == "divisions.imported",
                                                       AuditEvent.tenant_id == fangshan.id)).scalars().all()
    assert (event.actor_id, event.data["created"], event.data["existing"]) == (county["admin"].id, 5, 1)

    again = post(client, f"/tenants/{fangshan.id}/divisions")
    assert "都已存在，没有新增" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert len(_towns(session, fangshan)) == FANGSHAN_TOWNSHIPS + 1  # and 麻地会乡 of the fixture


def test_only_the_countys_own_admins_import_and_only_into_a_county(session, client, county, make_user):
    fangshan = county["fangshan"]
    login(client, make_user(county["sibling"], role="admin"))
    assert post(client, f"/tenants/{fangshan.id}/divisions").status_code == 404
    staff = client.application.test_client()
    login(staff, make_user(fangshan, role="staff"))
    assert post(staff, f"/tenants/{fangshan.id}/divisions").status_code == 403
    admin = client.application.test_client()
    login(admin, county["admin"])
    assert "导入本县乡镇街道" not in admin.get(f"/tenants/{county['jicui'].id}").get_data(as_text=True)
    refused = post(admin, f"/tenants/{county['jicui'].id}/divisions")
    assert "不是带区划代码的区县" in admin.get(refused.headers["Location"]).get_data(as_text=True)
    assert len(_towns(session, fangshan)) == 2
    assert session.execute(select(func.count()).select_from(AuditEvent)
                           .where(AuditEvent.action == "divisions.imported")).scalar_one() == 0


def test_a_townships_stations_and_villages_are_made_on_its_page(session, client, county, make_tenant):
    jicui = county["jicui"]
    login(client, county["admin"])
    page = client.get(f"/tenants/{jicui.id}").get_data(as_text=True)
    assert "站所/部门" in page and "自建房" in page and "河道" in page
    response = post(client, f"/tenants/{jicui.id}/children",
                    {"kind": "department", "name": "城建站",
                     "supervised_industries": ["construction", "self_built_housing", "gas"]})
    assert response.status_code == 302
    station = session.execute(select(Tenant).where(Tenant.name == "城建站")).scalar_one()
    assert (station.parent_id, station.supervised_industries) == (jicui.id, ["construction", "gas",
                                                                               "self_built_housing"])
    assert post(client, f"/tenants/{jicui.id}/children", {"kind": "village", "name": "下昔村"}).status_code == 302
    refused = post(client, f"/tenants/{jicui.id}/children",
                   {"kind": "department", "name": "水利站", "supervised_industries": ["rivers"]})
    assert refused.status_code == 422 and "未知的行业领域：rivers" in refused.get_data(as_text=True)
    # 三管三必须: the 站所 answers for its industries' enterprises in the township, villages included.
    housing = make_tenant(county["village"], kind="enterprise", industry="self_built_housing", name="自建房某户")
    make_tenant(jicui, kind="enterprise", industry="commerce", name="商贸某店")
    supervised = db.session.execute(service.supervised_enterprises(station)).scalars().all()
    assert [t.name for t in supervised] == ["自建房某户"]
    with scoped_as(Scope.of(station, "staff")):
        assert Scope.of(station, "staff").contains(housing)
