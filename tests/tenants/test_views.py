"""The tree browser, node pages and the forms that change the tree, as a district admin uses them."""
from sqlalchemy import select

from portal import create_app

from tenants.models import Tenant
from tenants import credit_code
from tests.conftest import login, post


def test_home_tree_and_node_pages(client, tree, make_user):
    login(client, make_user(tree["a"]))
    home = client.get("/").get_data(as_text=True)
    assert "甲区" in home and "企业" in home
    page = client.get("/tenants/").get_data(as_text=True)
    for name in ("国务院安委会", "某市", "甲区", "甲街道", "甲区商务局"):
        assert name in page
    branch = client.get(f"/tenants/{tree['a_street'].id}/children", headers={"HX-Request": "true"})
    html = branch.get_data(as_text=True)
    assert branch.status_code == 200 and "甲商场" in html and "<html" not in html
    assert "Vary" in branch.headers and "HX-Request" in branch.headers["Vary"]
    node = client.get(f"/tenants/{tree['a'].id}").get_data(as_text=True)
    assert "导出花名册 PDF" in node and "登记企业" not in node  # enterprises go under streets
    street = client.get(f"/tenants/{tree['a_street'].id}").get_data(as_text=True)
    assert "登记企业" in street and "甲化工厂" in street and "高危" in street


def test_ancestor_page_is_readable_but_shows_nothing_below(client, tree, make_user):
    login(client, make_user(tree["a"]))
    html = client.get(f"/tenants/{tree['city'].id}").get_data(as_text=True)
    assert "某市辖区" in html and "乙区" not in html and "导出花名册" not in html
    assert client.get(f"/tenants/{tree['city'].id}/children").status_code == 404


def test_children_search_and_pagination(client, tree, make_tenant, make_user):
    for i in range(23):
        make_tenant(tree["a"], kind="street", name=f"测试街道{i:02d}")
    login(client, make_user(tree["a"]))
    html = client.get(f"/tenants/{tree['a'].id}?q=测试街道").get_data(as_text=True)
    assert "共 23 条" in html and "测试街道00" in html and "测试街道22" not in html
    html = client.get(f"/tenants/{tree['a'].id}?q=测试街道&page=2", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "测试街道22" in html and "<html" not in html


def test_the_kept_list_below_shows_a_new_unit_at_once(client, tree, make_user):
    """A node's units below are kept between requests (portal.web.kept_rows), per node: a unit
    created under it is listed at once, and a street's list is never another street's."""
    login(client, make_user(tree["a"]))
    url = f"/tenants/{tree['a'].id}"
    client.get(url)
    kept = client.get(url).get_data(as_text=True)
    assert "数据截至" in kept and "甲街道" in kept and "应急局" not in kept
    assert post(client, f"{url}/children", {"kind": "department", "name": "应急局",
                                              "supervised_industries": ["hazchem"]}).status_code == 302
    after = client.get(url).get_data(as_text=True)
    assert "应急局" in after and "数据截至" not in after
    street = client.get(f"/tenants/{tree['a_street'].id}").get_data(as_text=True)
    assert "甲商场" in street and "应急局" not in street


def test_register_enterprise_with_bad_inputs_then_good(client, session, tree, make_user):
    login(client, make_user(tree["a"]))
    url = f"/tenants/{tree['a_street'].id}/enterprises/new"
    good = credit_code.make("91120102MA05WK7R1")
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    cases = [
        ({"name": "某商贸公司", "credit_code": wrong_check, "industry": "commerce"}, "第 18 位校验码错误"),
        ({"name": "某商贸公司", "credit_code": good[:10], "industry": "commerce"}, "应为 18 位"),
        ({"name": "某商贸公司", "credit_code": tree["b_shop"].credit_code, "industry": "commerce"}, "已登记"),
        ({"name": "", "credit_code": good, "industry": "commerce"}, "此项必填"),
        ({"name": "某" * 101, "credit_code": good, "industry": "commerce"}, "最多 100 个字"),
        ({"name": "某商贸公司", "credit_code": good, "industry": ""}, "请选择企业所属行业领域"),
    ]
    for data, message in cases:
        r = post(client, url, data)
        assert r.status_code == 422 and message in r.get_data(as_text=True), (data, message)
    assert session.execute(select(Tenant).where(Tenant.credit_code == good)).first() is None
    r = post(client, url, {"name": "某商贸公司", "credit_code": good.lower(), "industry": "commerce", "high_risk": "y"})
    assert r.status_code == 302
    ent = session.execute(select(Tenant).where(Tenant.credit_code == good)).scalar_one()
    assert ent.parent_id == tree["a_street"].id and ent.high_risk and ent.industry == "commerce"


def test_create_child_edit_and_move(client, session, tree, make_user):
    login(client, make_user(tree["a"]))
    r = post(client, f"/tenants/{tree['a'].id}/children",
             {"kind": "department", "name": "应急局", "supervised_industries": ["hazchem", "industry_trade"]})
    assert r.status_code == 302
    dept = session.execute(select(Tenant).where(Tenant.name == "应急局")).scalar_one()
    assert dept.supervised_industries == ["hazchem", "industry_trade"]
    r = post(client, f"/tenants/{tree['a'].id}/children", {"kind": "district", "name": "不该建"})
    assert r.status_code == 422 and "之下只能建" in r.get_data(as_text=True)
    r = post(client, f"/tenants/{tree['a_shop'].id}/edit", {"name": "甲商场（新）", "industry": "commerce"})
    assert r.status_code == 302
    new_street = session.execute(select(Tenant).where(Tenant.name == "甲街道")).scalar_one()
    other = post(client, f"/tenants/{tree['a'].id}/children", {"kind": "street", "name": "甲二街道"})
    assert other.status_code == 302
    target = session.execute(select(Tenant).where(Tenant.name == "甲二街道")).scalar_one()
    assert "甲二街道" in client.get(f"/tenants/{tree['a_shop'].id}/move").get_data(as_text=True)
    r = post(client, f"/tenants/{tree['a_shop'].id}/move", {"new_parent_id": target.id})
    assert r.status_code == 302
    session.expire_all()
    shop = session.get(Tenant, tree["a_shop"].id)
    assert shop.parent_id == target.id and shop.path.startswith(target.path) and shop.name == "甲商场（新）"
    r = post(client, f"/tenants/{new_street.id}/move", {"new_parent_id": tree["a_shop"].id})
    assert r.status_code == 422
    r = post(client, f"/tenants/{tree['a_street'].id}/move", {"new_parent_id": tree["a_street"].id})
    assert r.status_code == 422 and "不能把" in r.get_data(as_text=True)


def test_department_tree_lists_its_supervised_enterprises(client, tree, make_user):
    login(client, make_user(tree["a_dept"], role="inspector"))
    html = client.get("/tenants/").get_data(as_text=True)
    assert "本部门监管的企业" in html and "甲商场" in html and "甲化工厂" not in html and "乙商场" not in html
    assert client.get(f"/tenants/{tree['a_shop'].id}").status_code == 200
    assert client.get(f"/tenants/{tree['a_plant'].id}").status_code == 404


def test_healthz_and_errors_are_chinese(client, app):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json["status"] == "ok"
    r = client.get("/no-such-page")
    assert r.status_code == 404 and "页面不存在" in r.get_data(as_text=True)


def test_a_server_error_shows_no_stack_trace(session):
    other = create_app()  # routes can only be added before an app serves its first request

    @other.get("/__boom")
    def boom():
        raise RuntimeError("secret internals")
    r = other.test_client().get("/__boom")
    body = r.get_data(as_text=True)
    assert r.status_code == 500 and "系统内部错误" in body
    assert "Traceback" not in body and "secret internals" not in body
