"""Filling a list item by item with evidence, signing with the password again, and versions: a
signed version is frozen and stays readable as it was signed."""
import hashlib
import io
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.checklists import service
from portal.checklists.models import ChecklistEntry, ChecklistFill
from portal.errors import Refused
from portal.uploads.models import Upload
from tests.checklists.conftest import PNG, QUARTER_END, fill_all
from tests.conftest import PASSWORD, login, post


@pytest.fixture
def principal(session, tree, make_user):
    return make_user(tree["a_shop"], role="principal")


def test_signing_needs_the_password_every_answer_and_the_proof_asked(session, tree, lists, principal):
    fill = service.start(tree["a_shop"], "campaign_tasks")
    assert (fill.version, fill.status, fill.total, fill.filled) == (1, "draft", 5, 0)
    items = service.effective_items(tree["a_shop"], "campaign_tasks")
    service.save_entry(fill, items[0].item, responsible_name="张建华", responsible_post="总经理", state="done",
                       evidence_text="已组织自查", today=QUARTER_END)
    assert fill.filled == 1
    with pytest.raises(Refused, match="密码不正确，未签署"):
        service.sign(fill, principal.memberships[0], "Wrong-Passw0rd", QUARTER_END)
    with pytest.raises(Refused, match="第 2、3、4、5 项尚未填写责任人和落实情况"):
        service.sign(fill, principal.memberships[0], PASSWORD, QUARTER_END)
    for li in items[1:]:
        if li.evidence == "file":
            # 甲区's item asks for a file; a written account alone does not do: not saved, not counted.
            with pytest.raises(Refused, match="第 3 项“加强劳务派遣和灵活用工人员安全管理”须上传文件或照片"):
                service.save_entry(fill, li.item, responsible_name="李娜", responsible_post="安全部经理",
                                   state="partial", evidence_text="已培训", today=QUARTER_END)
            continue
        service.save_entry(fill, li.item, responsible_name="李娜", responsible_post="安全部经理", state="partial",
                           today=QUARTER_END)
    assert fill.filled == 4
    with pytest.raises(Refused, match="第 3 项尚未填写责任人和落实情况"):
        service.sign(fill, principal.memberships[0], PASSWORD, QUARTER_END)
    service.save_entry(fill, items[2].item, responsible_name="李娜", responsible_post="安全部经理", state="partial",
                       files=[("培训签到表.png", PNG)], today=QUARTER_END)
    assert fill.status == "draft"
    service.sign(fill, principal.memberships[0], PASSWORD, QUARTER_END)
    assert fill.signed and fill.signed_by_id == principal.id and fill.filled == fill.total == 5
    assert fill.content["signer"]["name"] == principal.display_name
    expected = hashlib.sha256(json.dumps(fill.content, ensure_ascii=False, sort_keys=True,
                                         separators=(",", ":")).encode()).hexdigest()
    assert fill.content_sha256 == expected and service.signature_intact(fill)
    assert fill.content["items"][2]["files"][0]["sha256"] == hashlib.sha256(PNG).hexdigest()
    signed = session.execute(select(AuditEvent).where(AuditEvent.action == "checklist.signed")).scalar_one()
    assert signed.data["content_sha256"] == fill.content_sha256 and signed.actor_id == principal.id


def test_an_item_that_asks_for_a_file_is_not_filled_without_one(session, tree, lists):
    """Saved as 已落实 without the file it asks for, the item is refused and not counted; removing
    its only file takes it out of the count again. 未落实 needs no file."""
    fill = service.start(tree["a_shop"], "campaign_tasks")
    li = next(li for li in service.effective_items(tree["a_shop"], "campaign_tasks") if li.evidence == "file")
    answer = dict(responsible_name="李娜", responsible_post="安全部经理", today=QUARTER_END)
    with pytest.raises(Refused, match="须上传文件或照片作为证明材料"):
        service.save_entry(fill, li.item, state="done", evidence_text="已培训 30 人", **answer)
    assert fill.filled == 0 and not fill.entries
    service.save_entry(fill, li.item, state="not_done", **answer)
    assert fill.filled == 1
    entry = service.save_entry(fill, li.item, state="done", files=[("培训签到表.png", PNG)], **answer)
    assert fill.filled == 1
    service.remove_file(fill, li.item, entry.uploads[0])
    assert fill.filled == 0


def test_only_the_units_own_principal_signs(session, tree, lists, principal, make_user):
    fill = service.start(tree["a_shop"], "campaign_tasks")
    fill_all(fill)
    for other in (make_user(tree["a_shop"], role="safety_officer"), make_user(tree["a_plant"], role="principal")):
        with pytest.raises(Refused, match="只有“甲商场”的主要负责人（政府和部门为领导）可以签署这份清单"):
            service.sign(fill, other.memberships[0], PASSWORD, QUARTER_END)
    assert fill.status == "draft"


def test_an_item_marked_not_done_needs_no_proof(session, tree, lists, principal):
    fill = service.start(tree["a_shop"], "campaign_tasks")
    fill_all(fill, state="not_done", evidence_text="", files=[])
    service.sign(fill, principal.memberships[0], PASSWORD, QUARTER_END)
    assert {r["state"] for r in fill.content["items"]} == {"not_done"}


def test_a_signed_version_is_frozen_and_a_change_is_a_new_version(session, tree, lists, principal):
    shop = tree["a_shop"]
    v1 = service.start(shop, "campaign_tasks")
    fill_all(v1)
    service.sign(v1, principal.memberships[0], PASSWORD, QUARTER_END)
    item = lists["national_1"]
    with pytest.raises(Refused, match="第 1 版已于 .* 签署，不能直接修改。请点击“修订”生成第 2 版"):
        service.save_entry(v1, item, responsible_name="王五", responsible_post="", state="done", today=QUARTER_END)
    with pytest.raises(Refused, match="第 1 版已于"):
        service.sign(v1, principal.memberships[0], PASSWORD, QUARTER_END)
    v2 = service.start(shop, "campaign_tasks")
    assert (v2.version, v2.status, v2.is_current, v1.is_current) == (2, "draft", True, False)
    # The new version starts from the old answers, files included (the same uploads, not copies).
    assert v2.filled == 5
    old = {e.item_id: e for e in v1.entries}
    for e in v2.entries:
        assert (e.responsible_name, e.state, [u.id for u in e.uploads]) == \
               (old[e.item_id].responsible_name, old[e.item_id].state, [u.id for u in old[e.item_id].uploads])
    assert service.start(shop, "campaign_tasks").id == v2.id  # an open draft is reused, not doubled
    service.save_entry(v2, item, responsible_name="王五", responsible_post="副总经理", state="partial",
                       evidence_text="整改中", today=QUARTER_END)
    # The templates change after signing: version 1 reads exactly as it was signed.
    service.remove_item(tree["a_street"], lists["street_2"])
    service.add_item(tree["a"], "campaign_tasks", title="新增：外包外租全面排查")
    session.expire_all()
    v1 = session.get(ChecklistFill, v1.id)
    rows = service.rows_of(v1)
    assert len(rows) == 5 and rows[0]["responsible_name"] == "张建华" and rows[4]["title"] == "参加街道安全生产专题培训"
    assert service.signature_intact(v1)
    assert [r["title"] for r in service.rows_of(session.get(ChecklistFill, v2.id))][2:] == [
        "加强劳务派遣和灵活用工人员安全管理", "新增：外包外租全面排查", "每月向街道报送隐患台账"]
    assert [v.version for v in service.versions(shop, "campaign_tasks")] == [2, 1]


def test_a_tampered_signed_version_is_detected(session, tree, lists, principal):
    fill = service.start(tree["a_shop"], "campaign_tasks")
    fill_all(fill)
    service.sign(fill, principal.memberships[0], PASSWORD, QUARTER_END)
    first = {**fill.content["items"][0], "state": "not_done"}
    fill.content = {**fill.content, "items": [first] + fill.content["items"][1:]}
    assert not service.signature_intact(fill)


def test_bad_answers_are_refused(session, tree, lists):
    fill = service.start(tree["a_shop"], "campaign_tasks")
    item = lists["national_1"]
    with pytest.raises(Refused, match="证明材料日期不能晚于今天（2026-09-30）"):
        service.save_entry(fill, item, responsible_name="张三", responsible_post="", state="done",
                           evidence_date=date(2026, 10, 1), today=QUARTER_END)
    with pytest.raises(Refused, match="请选择落实情况"):
        service.save_entry(fill, item, responsible_name="张三", responsible_post="", state="maybe", today=QUARTER_END)
    with pytest.raises(Refused, match="内容不是图片"):
        service.save_entry(fill, item, responsible_name="张三", responsible_post="", state="done",
                           files=[("照片.jpg", b"<script>alert(1)</script>")], today=QUARTER_END)
    leader_item = service.add_item(tree["a"], "leadership_duties", title="区长职责")
    with pytest.raises(Refused, match="不是“甲商场”这份专项行动工作清单中的事项"):
        service.save_entry(fill, leader_item, responsible_name="张三", responsible_post="", state="done",
                           today=QUARTER_END)
    with pytest.raises(Refused, match="不填写“领导班子成员安全生产职责清单”"):
        service.start(tree["a_shop"], "leadership_duties")


def _count(session, model):
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_principal_fills_uploads_and_signs_over_http(client, session, tree, lists, principal, frozen):
    session.commit()
    login(client, principal)
    shop = tree["a_shop"]
    response = client.get(f"/checklists/units/{shop.id}/lists/campaign_tasks")
    assert response.status_code == 200 and "开始填写" in response.get_data(as_text=True)
    response = post(client, f"/checklists/units/{shop.id}/lists/campaign_tasks/start")
    assert response.status_code == 303
    fill_url = response.headers["Location"]
    fill = session.execute(select(ChecklistFill).where(ChecklistFill.tenant_id == shop.id)).scalar_one()
    item = lists["district"]
    prefix = f"i{item.id}-"
    data = {prefix + "responsible_name": "李娜", prefix + "responsible_post": "人力资源部经理", prefix + "state": "done",
            prefix + "evidence_text": "已组织派遣人员培训", prefix + "evidence_date": "2026-09-20"}
    # A file whose content is not its claimed type: 422, and nothing of the answer is written.
    before = (_count(session, Upload), _count(session, ChecklistEntry))
    response = post(client, f"/checklists/fills/{fill.id}/items/{item.id}",
                    {**data, prefix + "files": [(io.BytesIO(b"MZ\x90\x00 not a pdf"), "签到表.pdf")]},
                    headers={"HX-Request": "true"}, content_type="multipart/form-data")
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "“签到表.pdf”的内容不是扩展名所说的类型" in body and "<html" not in body
    assert (_count(session, Upload), _count(session, ChecklistEntry)) == before
    # The same answer with a real photo: the item's block comes back and the progress panel is told.
    response = post(client, f"/checklists/fills/{fill.id}/items/{item.id}",
                    {**data, prefix + "files": [(io.BytesIO(PNG), "培训现场.png")]},
                    headers={"HX-Request": "true"}, content_type="multipart/form-data")
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "fill-changed"
    body = response.get_data(as_text=True)
    assert "培训现场.png" in body and 'value="李娜"' in body and "<html" not in body
    progress = client.get(fill_url + "?part=progress", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<strong>1</strong> / 5" in progress
    # A future date is refused in Chinese.
    response = post(client, f"/checklists/fills/{fill.id}/items/{lists['national_1'].id}",
                    {f"i{lists['national_1'].id}-responsible_name": "张建华", f"i{lists['national_1'].id}-state": "done",
                     f"i{lists['national_1'].id}-evidence_date": "2026-10-08"}, headers={"HX-Request": "true"})
    assert response.status_code == 422 and "不能晚于今天（2026-09-30）" in response.get_data(as_text=True)
    session.expire_all()
    for li in service.effective_items(shop, "campaign_tasks"):
        if li.item.id != item.id:
            p = f"i{li.item.id}-"
            assert post(client, f"/checklists/fills/{fill.id}/items/{li.item.id}",
                        {p + "responsible_name": "张建华", p + "responsible_post": "总经理", p + "state": "done",
                         p + "evidence_text": "已落实"}).status_code == 303
    # Wrong password: 422, still a draft; the right one signs and freezes.
    response = post(client, f"/checklists/fills/{fill.id}/sign", {"password": "Wrong-Passw0rd", "confirm": "y"})
    assert response.status_code == 422 and "密码不正确，未签署" in response.get_data(as_text=True)
    assert session.get(ChecklistFill, fill.id).status == "draft"
    response = post(client, f"/checklists/fills/{fill.id}/sign", {"password": PASSWORD, "confirm": "y"})
    assert response.status_code == 303
    html = client.get(fill_url).get_data(as_text=True)
    assert "已签署第 1 版" in html and "与签署时一致" in html and "修订（生成第 2 版）" in html
    session.expire_all()
    fill = session.get(ChecklistFill, fill.id)
    assert fill.content_sha256 in html
    # Editing the signed version in place is a 422 that names the way forward.
    response = post(client, f"/checklists/fills/{fill.id}/items/{item.id}", data, headers={"HX-Request": "true"})
    assert response.status_code == 422 and "请点击“修订”生成第 2 版" in response.get_data(as_text=True)
    response = post(client, f"/checklists/fills/{fill.id}/revise")
    assert response.status_code == 303
    assert "第 2 版" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_only_the_principal_signs_and_only_the_units_own_people_write(client, session, tree, lists, principal,
                                                                      make_user):
    fill = service.start(tree["a_shop"], "campaign_tasks")
    fill_all(fill)
    safety = make_user(tree["a_shop"], role="safety_officer")
    street = make_user(tree["a_street"], role="staff")
    session.commit()
    login(client, safety)
    assert "请由主要负责人登录签署" in client.get(f"/checklists/fills/{fill.id}").get_data(as_text=True)
    assert post(client, f"/checklists/fills/{fill.id}/sign", {"password": PASSWORD, "confirm": "y"}).status_code == 403
    client.post("/logout", data={})
    login(client, street)
    html = client.get(f"/checklists/fills/{fill.id}").get_data(as_text=True)
    assert "张建华" in html and "保存本项" not in html
    item = lists["national_1"]
    assert post(client, f"/checklists/fills/{fill.id}/items/{item.id}",
                {f"i{item.id}-responsible_name": "x", f"i{item.id}-state": "done"}).status_code == 403


def test_an_item_or_list_of_another_enterprise_is_not_found(client, session, tree, lists, principal):
    other = service.start(tree["a_plant"], "campaign_tasks")
    own_item = service.add_item(tree["a_plant"], "campaign_tasks", title="化工厂自己的事项")
    mine = service.start(tree["a_shop"], "campaign_tasks")
    session.commit()
    login(client, principal)
    assert client.get(f"/checklists/fills/{other.id}").status_code == 404
    assert post(client, f"/checklists/fills/{other.id}/items/{lists['national_1'].id}",
                {f"i{lists['national_1'].id}-responsible_name": "x"}).status_code == 404
    assert post(client, f"/checklists/fills/{mine.id}/items/{own_item.id}",
                {f"i{own_item.id}-responsible_name": "x"}).status_code == 404
    assert session.execute(select(func.count()).select_from(ChecklistEntry)).scalar_one() == 0


def test_an_evidence_file_over_the_limit_is_refused_before_anything_is_written(client, session, tree, lists,
                                                                               principal):
    fill = service.start(tree["a_shop"], "campaign_tasks")
    session.commit()
    login(client, principal)
    item = lists["national_1"]
    big = io.BytesIO(b"%PDF-" + b"0" * (20 * 1024 * 1024))
    response = post(client, f"/checklists/fills/{fill.id}/items/{item.id}",
                    {f"i{item.id}-responsible_name": "张建华", f"i{item.id}-files": [(big, "扫描件.pdf")]},
                    content_type="multipart/form-data")
    assert response.status_code == 413 and "上传的文件过大" in response.get_data(as_text=True)
    assert _count(session, Upload) == 0 and _count(session, ChecklistEntry) == 0


def test_a_wrong_signing_password_is_counted_after_the_rollback(session, tree, lists, principal):
    from portal.auth.models import LoginThrottle
    fill = service.start(tree["a_shop"], "campaign_tasks")
    with pytest.raises(Refused, match="密码不正确，未签署") as refused:
        service.sign(fill, principal.memberships[0], "Wrong-Passw0rd", QUARTER_END)
    # What web.attempt does after rolling the signature back: the failure stays counted.
    refused.value.kept()
    counted = session.execute(select(LoginThrottle.failures).where(
        LoginThrottle.username == principal.username.lower())).scalars().all()
    assert counted == [1, 1]  # from this address, and from everywhere
