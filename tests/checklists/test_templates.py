"""Templates inherit down three levels: a lower level adds items and raises requirements, and is
refused when it removes or weakens what a level above set."""
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.checklists import service
from portal.checklists.models import ChecklistItem
from portal.errors import Refused
from tenants.inherit import LooserThanParent
from tenants.scope import Scope, scoped_as
from tests.conftest import login, post


def titles(tenant, kind="campaign_tasks"):
    return [li.item.title for li in service.effective_items(tenant, kind)]


def test_an_enterprise_sees_the_merged_list_root_first(session, tree, lists):
    assert titles(tree["a_shop"]) == ["研究组织本企业重大事故隐患排查整治", "组织开展事故应急救援演练活动",
                                      "加强劳务派遣和灵活用工人员安全管理", "每月向街道报送隐患台账", "参加街道安全生产专题培训"]
    shop_items = service.effective_items(tree["a_shop"], "campaign_tasks")
    assert [li.number for li in shop_items] == [1, 2, 3, 4, 5]
    assert [li.owner.name for li in shop_items] == ["国务院安委会", "国务院安委会", "甲区", "甲街道", "甲街道"]
    assert not any(li.own for li in shop_items)
    # The district itself sees what is above and its own; the sibling district only the national part.
    assert titles(tree["a"]) == titles(tree["a_shop"])[:3]
    assert titles(tree["b_shop"]) == titles(tree["a_shop"])[:2]
    # Government lists are a separate kind: none of these items appear there.
    assert titles(tree["a_street"], "leadership_duties") == []


def test_an_enterprise_adds_items_of_its_own_below_the_inherited(session, tree, lists):
    service.add_item(tree["a_shop"], "campaign_tasks", title="商场消防通道每日巡查", evidence="file")
    items = service.effective_items(tree["a_shop"], "campaign_tasks")
    assert items[-1].item.title == "商场消防通道每日巡查" and items[-1].own
    assert "商场消防通道每日巡查" not in titles(tree["a_plant"])


def test_removing_an_inherited_item_is_refused_and_an_own_one_leaves_the_list(session, tree, lists):
    with pytest.raises(Refused, match="是甲区下发的事项，下级不能删除或放宽"):
        service.remove_item(tree["a_street"], lists["district"])
    with pytest.raises(Refused, match="是国务院安委会下发的事项"):
        service.remove_item(tree["a_shop"], lists["national_1"])
    with pytest.raises(Refused, match="只有该单位可以删除"):
        service.remove_item(tree["a"], lists["street_1"])
    service.remove_item(tree["a_street"], lists["street_1"])
    assert "每月向街道报送隐患台账" not in titles(tree["a_shop"])
    with pytest.raises(Refused, match="已经删除"):
        service.remove_item(tree["a_street"], lists["street_1"])


def test_a_lower_level_may_raise_the_proof_asked_but_never_lower_it(session, tree, lists):
    item = lists["national_1"]  # the root asks for a written account
    assert service.evidence_required(tree["a_shop"], item) == "text"
    with pytest.raises(LooserThanParent, match="不得放宽上级要求：上级规定该事项“须附文字说明”"):
        service.require_evidence(tree["a"], item, "none")
    service.require_evidence(tree["a"], item, "file")
    assert service.evidence_required(tree["a_shop"], item) == "file"
    assert service.evidence_required(tree["b_shop"], item) == "text"
    with pytest.raises(LooserThanParent, match="上级规定该事项“须上传文件或照片”"):
        service.require_evidence(tree["a_street"], item, "text")


def test_a_parent_tightening_later_binds_a_child_that_set_its_own_value(session, tree, lists):
    item = lists["national_2"]  # no proof asked at the root
    service.require_evidence(tree["a_street"], item, "text")
    service.require_evidence(tree["a"], item, "file")
    assert service.evidence_required(tree["a_shop"], item) == "file"


def test_signing_deadline_may_only_move_earlier_below(session, tree, lists):
    service.set_due(tree["a"], "campaign_tasks", date(2026, 6, 30))
    with pytest.raises(LooserThanParent, match="上级规定在 2026-06-30 前签署"):
        service.set_due(tree["a_street"], "campaign_tasks", date(2026, 7, 31))
    service.set_due(tree["a_street"], "campaign_tasks", date(2026, 6, 15))
    assert service.due_on(tree["a_shop"], "campaign_tasks") == date(2026, 6, 15)
    assert service.due_on(tree["b_shop"], "campaign_tasks") is None


def test_a_department_writes_only_its_own_lists_and_an_enterprise_only_enterprise_lists(session, tree):
    with pytest.raises(Refused, match="不能为“专项行动工作清单”添加事项"):
        service.add_item(tree["a_dept"], "campaign_tasks", title="x")
    with pytest.raises(Refused, match="不能为“领导班子成员安全生产职责清单”添加事项"):
        service.add_item(tree["a_shop"], "leadership_duties", title="x")
    service.add_item(tree["a"], "leadership_duties", title="区长：全面负责本区安全生产工作")
    assert titles(tree["a_dept"], "leadership_duties") == ["区长：全面负责本区安全生产工作"]


def test_a_supervising_department_reads_an_enterprise_list_without_the_street_above(session, tree, lists):
    with scoped_as(Scope.of(tree["a_dept"], "staff")):
        session.expunge_all()
        shop = session.get(type(tree["a_shop"]), tree["a_shop"].id)
        items = service.effective_items(shop, "campaign_tasks")
    assert len(items) == 5
    assert [li.owner_name for li in items][-2:] == ["上级单位", "上级单位"]


def _audit_count(session):
    return session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def test_removing_an_inherited_item_over_http_is_a_422_in_chinese_and_writes_nothing(client, session, tree, lists,
                                                                                       make_user):
    staff = make_user(tree["a_street"], role="staff")
    session.commit()
    login(client, staff)
    before = _audit_count(session)
    response = post(client, f"/checklists/items/{lists['district'].id}/remove")
    assert response.status_code == 422
    assert "是甲区下发的事项，下级不能删除或放宽" in response.get_data(as_text=True)
    assert _audit_count(session) == before
    assert session.get(ChecklistItem, lists["district"].id).removed_at is None
    # Its own item goes; the page then lists the rest.
    response = post(client, f"/checklists/items/{lists['street_1'].id}/remove")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已删除事项“每月向街道报送隐患台账”" in html and "参加街道安全生产专题培训" in html


def test_adding_an_item_and_weakening_one_over_http(client, session, tree, lists, make_user):
    staff = make_user(tree["a_street"], role="staff")
    session.commit()
    login(client, staff)
    url = f"/checklists/units/{tree['a_street'].id}/templates/campaign_tasks"
    page = client.get(url).get_data(as_text=True)
    assert "加强劳务派遣和灵活用工人员安全管理" in page and "提高要求" in page
    response = post(client, url + "/items", {"title": "", "evidence": "text"})
    assert response.status_code == 422 and "此项必填" in response.get_data(as_text=True)
    response = post(client, url + "/items", {"title": "节假日前开展一次安全检查", "evidence": "text"})
    assert response.status_code == 302
    assert "节假日前开展一次安全检查" in titles(tree["a_shop"])
    response = post(client, f"{url}/items/{lists['district'].id}/evidence", {"evidence": "none"})
    assert response.status_code == 422
    assert "不得放宽上级要求" in response.get_data(as_text=True)
    # Another unit's template is read-only for this user, and a sibling's is not there at all.
    assert post(client, f"/checklists/units/{tree['a'].id}/templates/campaign_tasks/items",
                {"title": "x", "evidence": "none"}).status_code == 404
    assert client.get(f"/checklists/units/{tree['b_street'].id}/templates/campaign_tasks").status_code == 404
