"""The levels above: enterprises × lists with completion and open failures, filtered and paginated,
in a fixed number of queries; the non-compliant list ordered by how long; scope across industries."""
from datetime import date

import pytest
from sqlalchemy import event

from portal.checklists import service
from portal.extensions import db
from tenants.scope import Scope, scoped_as
from tests.checklists.conftest import QUARTER_END, fill_all
from tests.conftest import PASSWORD, login


@pytest.fixture
def district(session, tree, lists, make_user):
    """甲商场 has signed both its lists; 甲化工厂 is half-way and has a welder whose certificate lapsed."""
    service.add_item(tree["a"], "deputy_duties", title="分管安全生产负责人：组织制定安全生产规章制度")
    shop, plant = tree["a_shop"], tree["a_plant"]
    principal = make_user(shop, role="principal")
    for kind in ("campaign_tasks", "deputy_duties"):
        fill = service.start(shop, kind)
        fill_all(fill)
        service.sign(fill, principal.memberships[0], PASSWORD, QUARTER_END)
    draft = service.start(plant, "campaign_tasks")
    service.save_entry(draft, lists["national_1"], responsible_name="刘强", responsible_post="厂长", state="partial",
                       evidence_text="正在整改", today=QUARTER_END)
    service.add_worker(plant, name="王某", work_type="welding", certificate_no="T120102198001011234",
                       expires_on=date(2026, 8, 31), today=date(2026, 8, 1))
    service.refresh([shop, plant], QUARTER_END)
    return dict(shop=shop, plant=plant, principal=principal)


def names(stmt):
    return [t.name for t in db.session.execute(stmt).scalars()]


def test_filters_by_state_industry_and_high_risk(session, tree, district):
    with scoped_as(Scope.of(tree["a"], "admin")):
        F = service.Filters
        assert names(service.enterprises(F())) == ["甲化工厂", "甲商场"]
        assert names(service.enterprises(F(state="complete"))) == ["甲商场"]
        assert names(service.enterprises(F(state="incomplete"))) == ["甲化工厂"]
        assert names(service.enterprises(F(state="noncompliant"))) == ["甲化工厂"]
        assert names(service.enterprises(F(state="compliant"))) == ["甲商场"]
        assert names(service.enterprises(F(industry="hazchem"))) == ["甲化工厂"]
        assert names(service.enterprises(F(high_risk=False))) == ["甲商场"]
        assert names(service.enterprises(F(q="化工"))) == ["甲化工厂"]
        assert names(service.enterprises(F(q=tree["a_shop"].credit_code))) == ["甲商场"]


def test_grid_cells_show_versions_progress_and_failures(session, tree, district):
    with scoped_as(Scope.of(tree["a_street"], "staff")):
        expected = service.expected_lists()
        rows = {r.tenant.name: r for r in service.grid(
            db.session.execute(service.enterprises(service.Filters(), expected)).scalars().all(), expected)}
    shop, plant = rows["甲商场"], rows["甲化工厂"]
    assert shop.complete and not plant.complete
    assert shop.cells["campaign_tasks"].signed_version == 1 and shop.cells["deputy_duties"].signed_version == 1
    assert not shop.cells["all_staff_duties"].expected  # no template asks for it
    cell = plant.cells["campaign_tasks"]
    assert (cell.expected, cell.signed_version, cell.current.filled, cell.current.total) == (True, None, 1, 5)
    assert plant.cells["deputy_duties"].current is None and plant.cells["deputy_duties"].expected
    assert [f.text for f in plant.findings] == ["特种作业人员 王某 焊工证 已过期（有效期至 2026-08-31）"]
    assert plant.since == date(2026, 9, 1) and shop.findings == [] and shop.since is None


def _queries(fn):
    count = 0

    def counter(*args):
        nonlocal count
        count += 1
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return count


def test_the_grid_of_a_page_costs_the_same_queries_for_two_enterprises_or_forty(session, tree, district,
                                                                                 make_tenant):
    def page_queries():
        with scoped_as(Scope.of(tree["a"], "admin")):
            session.expunge_all()
            expected = service.expected_lists()
            items = db.session.execute(service.enterprises(service.Filters(), expected).limit(50)).scalars().all()
            rows = service.grid(items, expected)
            assert all(r.tenant.name for r in rows)
            return len(rows)
    few = _queries(page_queries)
    for i in range(38):
        make_tenant(tree["a_street"], kind="enterprise", name=f"甲批发市场{i:02d}", industry="commerce")
    many = _queries(page_queries)
    assert few == many


def test_street_sees_completion_and_a_department_sees_only_its_industries(client, session, tree, district, make_user):
    street = make_user(tree["a_street"], role="staff")
    commerce = make_user(tree["a_dept"], role="staff")
    sibling = make_user(tree["b"], role="admin")
    session.commit()
    login(client, street)
    html = client.get("/checklists/overview").get_data(as_text=True)
    assert "甲商场" in html and "甲化工厂" in html and "清单已全部签署" in html
    assert "特种作业人员 王某 焊工证 已过期" in html
    part = client.get("/checklists/overview?state=complete", headers={"HX-Request": "true"})
    body = part.get_data(as_text=True)
    assert part.status_code == 200 and "<html" not in body and "甲商场" in body and "甲化工厂" not in body
    # Drill-down to the enterprise shows its lists and the failures kept for the street, not the warnings.
    html = client.get(f"/checklists/units/{district['plant'].id}").get_data(as_text=True)
    assert "焊工证 已过期" in html and "未履职" in html and '">提醒</span>' not in html
    client.post("/logout")
    login(client, commerce)
    html = client.get("/checklists/overview").get_data(as_text=True)
    assert "甲商场" in html and "甲化工厂" not in html
    assert client.get(f"/checklists/units/{district['plant'].id}").status_code == 404
    client.post("/logout")
    login(client, sibling)
    html = client.get("/checklists/overview").get_data(as_text=True)
    assert "甲商场" not in html and "乙商场" in html


def test_the_enterprise_hears_warnings_first(client, session, tree, district, make_user, frozen):
    plant = district["plant"]
    service.add_worker(plant, name="孙某", work_type="electric", certificate_no="D2", expires_on=date(2026, 10, 10),
                       today=QUARTER_END)
    own = make_user(plant, role="principal")
    street = make_user(tree["a_street"], role="staff")
    session.commit()
    login(client, own)
    html = client.get(f"/checklists/units/{plant.id}").get_data(as_text=True)
    assert "特种作业人员 孙某 电工证 将于 2026-10-10 到期" in html and "焊工证 已过期" in html
    assert client.get("/checklists/overview").status_code == 404
    client.post("/logout")
    login(client, street)
    html = client.get(f"/checklists/units/{plant.id}").get_data(as_text=True)
    assert "焊工证 已过期" in html and "孙某" not in html


def test_noncompliant_list_orders_by_how_long_and_paginates(client, session, tree, district, make_tenant, make_user,
                                                            frozen):
    late = make_tenant(tree["a_street"], kind="enterprise", name="甲五金店", industry="commerce")
    service.add_worker(late, name="钱某", work_type="electric", certificate_no="D1", expires_on=date(2026, 5, 31),
                       today=date(2026, 5, 1))
    service.refresh([late], QUARTER_END)
    for i in range(55):
        make_tenant(tree["a_street"], kind="enterprise", name=f"甲便利店{i:02d}", industry="commerce")
    admin = make_user(tree["a"], role="admin")
    session.commit()
    login(client, admin)
    html = client.get("/checklists/noncompliant").get_data(as_text=True)
    assert html.index("甲五金店") < html.index("甲化工厂")
    assert "特种作业人员 钱某 电工证 已过期" in html and "<strong>122</strong> 天" in html
    assert "甲商场" not in html
    grid = client.get("/checklists/overview").get_data(as_text=True)
    assert grid.count('href="/checklists/units/') == 50 and "第 1 / 2 页，共 58 条" in grid
    assert client.get("/checklists/overview?page=2").get_data(as_text=True).count('href="/checklists/units/') == 8
    assert client.get("/checklists/overview?industry=nonsense&state=nonsense&high_risk=x").status_code == 200
    for url in ("/checklists/overview?q=不存在的企业", "/checklists/noncompliant?q=不存在的企业"):
        for headers in ({}, {"HX-Request": "true"}):
            response = client.get(url, headers=headers)
            assert response.status_code == 200 and "没有" in response.get_data(as_text=True)


def test_a_list_whose_last_item_is_removed_is_no_longer_asked_for(session, tree, district):
    [deputy] = [li.item for li in service.effective_items(tree["a_plant"], "deputy_duties")]
    service.remove_item(tree["a"], deputy)
    with scoped_as(Scope.of(tree["a_street"], "staff")):
        expected = service.expected_lists()
        [plant] = service.grid([tree["a_plant"]], expected)
    assert "deputy_duties" not in expected and not plant.cells["deputy_duties"].expected
    assert plant.cells["campaign_tasks"].expected


def test_kept_rows_follow_a_list_the_level_above_stops_asking_for(client, session, tree, district, make_user):
    """The overview's rows are kept between requests (portal.web.kept_rows), yet a rule changed
    above the reader's unit, which no write under it announces, shows at once."""
    street = make_user(tree["a_street"], role="staff")
    session.commit()
    login(client, street)

    def plant_row() -> tuple[str, bool]:
        html = client.get("/checklists/overview?q=化工", headers={"HX-Request": "true"}).get_data(as_text=True)
        return html.split("甲化工厂", 1)[1].split("</tr>", 1)[0], "数据截至" in html
    first, kept = plant_row()
    assert "未填写" in first and not kept
    assert plant_row() == (first, True)
    [deputy] = [li.item for li in service.effective_items(tree["a_plant"], "deputy_duties")]
    service.remove_item(tree["a"], deputy)  # 甲区 no longer asks for the deputies' list
    session.commit()
    row, kept = plant_row()
    assert "未填写" not in row and not kept
