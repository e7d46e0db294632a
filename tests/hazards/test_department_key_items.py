"""三管三必须 for key check items (seed 002: where no national standard exists a department makes its
own): 甲区商务局 publishes items for 商贸; the 商贸 enterprises under 甲区's streets find them on their
hazard form, before the national clauses; a hazard citing one shows it to the enterprise and its
street, as do the items an inspection of it covered; a chemical plant beside them and 乙区's shop never
see them."""
from datetime import date

from sqlalchemy import select

from portal.hazards import service
from portal.hazards.models import Hazard
from portal.inspections import service as inspections
from tenants.scope import Scope, scoped_as
from tests.conftest import login, post
from tests.hazards.conftest import fixes

ITEMS = ["大型商超、商业综合体未安装可燃气体报警装置或报警装置失效", "商户装修施工动火作业未履行审批手续"]


def publish(tree):
    return service.publish_key_items(tree["a_dept"], name="河北区商务领域重点检查事项", document_number="河北商务〔2023〕5号",
                                     industry="commerce", items=ITEMS)


def test_a_departments_key_items_bind_the_enterprises_of_its_industry_on_its_level_first(session, standards):
    t = standards
    published = publish(t)
    session.flush()
    held, _ = service.basis_standards(t["a_shop"])
    assert held[0].id == published.id and [i.text for i in held[0].items] == ITEMS
    # The national 工贸/商贸 standard still follows it.
    assert "GM2023" in [s.code for s in held]
    assert published.id not in {s.id for s in service.applicable_standards(t["a_plant"])}
    assert published.id not in {s.id for s in service.applicable_standards(t["b_shop"])}
    assert published.id not in {s.id for s in service.applicable_standards(t["a_street"])}


def test_the_enterprise_finds_them_on_its_hazard_form_and_its_street_reads_the_cited_item(
        session, standards, make_user, client):
    t = standards
    published = publish(t)
    shop_user, street_user = make_user(t["a_shop"], role="principal"), make_user(t["a_street"], role="staff")
    plant_user, sibling = make_user(t["a_plant"], role="principal"), make_user(t["b"], role="admin")
    session.commit()
    login(client, shop_user)
    form = client.get("/hazards/new").get_data(as_text=True)
    assert "河北区商务领域重点检查事项（重点检查事项，甲区商务局发布）" in form
    item = published.items[1]
    response = post(client, "/hazards/new", {
        "level": "major", "description": "三楼商户装修电焊未审批", "location": "三楼", "found_at": "2024-06-10",
        "item_id": str(item.id), "fix_owner": "王五", "fix_measures": "停工补办审批", "fix_funds": "0.5",
        "fix_deadline": "2024-06-20", "fix_contingency": "停工"})
    assert response.status_code == 302, response.get_data(as_text=True)
    hazard = session.execute(select(Hazard).where(Hazard.description == "三楼商户装修电焊未审批")).scalar_one()
    assert hazard.standard_item_id == item.id
    assert item.text in client.get(f"/hazards/{hazard.id}").get_data(as_text=True)
    assert client.get(f"/hazards/standards/{published.id}").status_code == 200
    client.get("/logout")
    login(client, street_user)
    assert item.text in client.get(f"/hazards/{hazard.id}").get_data(as_text=True)
    assert client.get(f"/hazards/standards/{published.id}").status_code == 200
    client.get("/logout")
    login(client, plant_user)
    assert "河北区商务领域重点检查事项" not in client.get("/hazards/new").get_data(as_text=True)
    client.get("/logout")
    login(client, sibling)
    assert client.get(f"/hazards/standards/{published.id}").status_code == 404
    assert client.get(f"/hazards/{hazard.id}").status_code == 404


def test_a_department_publishes_from_its_standards_page_only_for_the_industries_it_supervises(
        session, standards, make_user, client):
    t = standards
    admin = make_user(t["a_dept"], role="admin")
    session.commit()
    login(client, admin)
    page = client.get("/hazards/standards").get_data(as_text=True)
    assert "发布重点检查事项" in page and '<option value="commerce">商贸</option>' in page
    assert '<option value="gas">' not in page
    refused = post(client, "/hazards/standards", {"name": "燃气", "industry": "gas", "items": "a"})
    assert refused.status_code == 422
    done = post(client, "/hazards/standards", {"name": "商务领域重点检查事项", "industry": "commerce",
                                               "items": "\n".join(ITEMS)})
    assert done.status_code == 302
    assert "商务领域重点检查事项" in [s.name for s in service.applicable_standards(t["a_shop"], "commerce")]


def test_the_street_reads_the_departments_key_items_an_inspection_of_its_enterprise_covered(
        session, standards, make_user, client):
    t = standards
    published = publish(t)
    inspector, partner = (make_user(t["a_dept"], role="inspector") for _ in range(2))
    (membership,) = inspector.memberships
    record = inspections.create(membership, t["a_shop"], kind="spot", inspected_on=date(2024, 6, 10),
                                inspector_ids=[inspector.id, partner.id], today=date(2024, 6, 10))
    inspections.set_items(record, membership, [i.id for i in published.items])
    street_user = make_user(t["a_street"], role="staff")
    session.commit()
    login(client, street_user)
    page = client.get(f"/inspections/{record.id}").get_data(as_text=True)
    assert "检查事项（2 项）" in page and ITEMS[0] in page and ITEMS[1] in page


def test_the_streets_ledger_export_prints_the_departments_item_a_hazard_cites(session, standards, make_user):
    t = standards
    published = publish(t)
    item = published.items[0]
    shop = make_user(t["a_shop"], role="principal").memberships[0]
    hazard = service.record(t["a_shop"], shop, service.Finding(
        level="major", description="中庭燃气报警器失效", location="中庭", found_at=date(2024, 6, 10), item_id=item.id,
        fixes=fixes()), [])
    session.flush()
    session.expunge_all()  # read afresh, as the export job does
    with scoped_as(Scope.of(t["a_street"], "staff")):
        rows = session.execute(select(Hazard).where(Hazard.id == hazard.id)).scalars().all()
        assert rows[0].standard_item is None  # the department is outside the street's scope
        [line] = service._content(rows, date(2024, 6, 15), service.cited_items(rows))
    assert item.code in line
