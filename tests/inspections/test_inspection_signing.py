"""谁检查、谁签名、谁负责: listed inspectors sign with their own password, a signed record cannot
be changed, and a correction is an amendment shown beside the original."""
from datetime import date

import pytest
from sqlalchemy import func, select, text

from portal.audit.models import AuditEvent
from portal.errors import Refused
from portal.inspections import service
from portal.inspections.models import Inspection, Signature
from tests.conftest import PASSWORD, login, post
from tests.inspections.conftest import TODAY, item


def _events(session, inspection, action):
    return session.execute(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "Inspection", AuditEvent.object_id == inspection.id,
        AuditEvent.action == action)).scalar_one()


def test_a_record_needs_two_inspectors_of_the_unit(session, field, make_user):
    wang, plant = field["wang"], field["tree"]["a_plant"]
    with pytest.raises(service.InspectionError, match="不得少于 2 人"):
        service.create(wang, plant, kind="enforcement", inspected_on=TODAY, inspector_ids=[wang.user_id], today=TODAY)
    outsider = make_user(field["tree"]["a_dept"], role="inspector")
    with pytest.raises(service.InspectionError, match="甲区应急管理局”的执法检查员或工作人员"):
        service.create(wang, plant, kind="enforcement", inspected_on=TODAY, inspector_ids=[wang.user_id, outsider.id],
                       today=TODAY)
    with pytest.raises(service.InspectionError, match="不能晚于今天"):
        service.create(wang, plant, kind="enforcement", inspected_on=date(2024, 6, 16),
                       inspector_ids=[wang.user_id, field["zhao"].user_id], today=TODAY)


def test_a_department_inspects_only_enterprises_it_supervises(session, field):
    wang = field["wang"]
    # 甲商场 is commerce: the emergency department does not supervise it, nor anything in 乙区.
    for target in (field["tree"]["a_shop"], field["tree"]["b_shop"]):
        with pytest.raises(service.InspectionError, match="管辖范围"):
            service.create(wang, target, kind="enforcement", inspected_on=TODAY,
                           inspector_ids=[wang.user_id, field["zhao"].user_id], today=TODAY)


def test_each_inspector_signs_with_their_own_password_and_the_last_makes_it_final(session, field, inspect):
    wang, zhao = field["wang"], field["zhao"]
    inspection = inspect(sign=False)
    assert inspection.status == "draft" and service.intact(inspection) is None
    with pytest.raises(Refused, match="密码不正确"):
        service.sign(inspection, wang.user_id, wang.user, "Wrong-Passw0rd")
    with pytest.raises(service.InspectionError, match="不能代他人签名"):
        service.sign(inspection, zhao.user_id, wang.user, PASSWORD)
    with pytest.raises(service.InspectionError, match="不在本次检查的检查人员名单"):
        service.sign(inspection, field["plant"].user_id, field["plant"].user, PASSWORD)
    assert inspection.status == "draft"

    service.sign(inspection, wang.user_id, wang.user, PASSWORD)
    assert inspection.status == "signing" and inspection.content_sha256 is None
    with pytest.raises(service.InspectionError, match="您已签名"):
        service.sign(inspection, wang.user_id, wang.user, PASSWORD)
    # The first signature locks the content: the second signer signs exactly what the first did.
    with pytest.raises(service.InspectionError, match="已锁定"):
        service.update(inspection, wang, inspected_on=TODAY, partners="", notes="改动", today=TODAY)

    service.sign(inspection, zhao.user_id, zhao.user, PASSWORD)
    assert inspection.status == "signed" and inspection.signed_at is not None
    digests = {s.content_sha256 for s in inspection.signatures}
    assert digests == {inspection.content_sha256} == {service.digest(inspection)}
    assert service.intact(inspection) is True
    assert _events(session, inspection, "inspection.signed") == 2
    assert _events(session, inspection, "inspection.finalized") == 1


def test_a_signed_record_refuses_every_change(session, field, inspect):
    wang = field["wang"]
    inspection = inspect(found=[("储罐区可燃气体报警器失效", "HC2017-01", "major", date(2024, 4, 1))])
    plant = field["tree"]["a_plant"]
    refusals = [
        lambda: service.update(inspection, wang, inspected_on=TODAY, partners="", notes="改动", today=TODAY),
        lambda: service.set_items(inspection, wang, [item(plant, "HC2017-03").id]),
        lambda: service.add_action(inspection, wang, service.ActionInput(kind="interview", decided_on=TODAY), today=TODAY),
        lambda: service.remove_part(inspection, wang, "action", 1),
    ]
    for change in refusals:
        with pytest.raises(service.InspectionError, match="已由全部检查人员签名，不能修改"):
            change()
    assert service.intact(inspection) is True


def test_a_change_made_behind_the_service_is_detected(session, field, inspect):
    inspection = inspect()
    session.execute(text("UPDATE inspections SET notes = '事后改写' WHERE id = :id"), {"id": inspection.id})
    session.expire_all()
    changed = session.get(Inspection, inspection.id)
    assert service.intact(changed) is False


def test_an_amendment_is_a_new_signed_record_beside_the_original(session, field, inspect):
    wang, zhao = field["wang"], field["zhao"]
    original = inspect(found=[("报警器失效", "HC2017-01", "major", date(2024, 4, 1))])
    draft = inspect(sign=False)
    with pytest.raises(service.InspectionError, match="尚未完成签名"):
        service.amend(draft, wang, notes="更正", inspector_ids=[wang.user_id, zhao.user_id], today=TODAY)
    with pytest.raises(service.InspectionError, match="写明更正"):
        service.amend(original, wang, notes=" ", inspector_ids=[wang.user_id, zhao.user_id], today=TODAY)
    with pytest.raises(service.InspectionError, match="只有原检查单位"):
        service.amend(original, field["street"], notes="更正", inspector_ids=[], today=TODAY)
    before = original.content_sha256

    amendment = service.amend(original, wang, notes="检查日期误记，应为 2024-03-02；补充：罚款决定", today=TODAY,
                              inspector_ids=[wang.user_id, zhao.user_id])
    service.add_action(amendment, wang, service.ActionInput(
        kind="penalty", decided_on=TODAY, amount=2, hazard_id=original.hazards[0].id), today=TODAY)
    for m in (wang, zhao):
        service.sign(amendment, m.user_id, m.user, PASSWORD)
    session.flush()
    assert amendment.amends is original and original.amendments == [amendment]
    assert amendment.signed and amendment.content_sha256 != before
    assert original.content_sha256 == before and service.intact(original)
    with pytest.raises(service.InspectionError, match="不是对更正记录再更正"):
        service.amend(amendment, wang, notes="再更正", inspector_ids=[wang.user_id, zhao.user_id], today=TODAY)


# --- Through the pages ------------------------------------------------------------------------------

def test_signing_on_the_page_wrong_password_and_someone_else(app, client, session, field, inspect):
    inspection = inspect(sign=False)
    session.commit()
    wang, zhao = field["wang"], field["zhao"]
    login(client, wang.user)
    page = client.get(f"/inspections/{inspection.id}").get_data(as_text=True)
    assert "本人签名" in page and "本人登录密码" in page

    response = post(client, f"/inspections/{inspection.id}/sign", {"signer_id": wang.user_id, "password": "Nope-1234"})
    assert response.status_code == 422
    assert "密码不正确，签名未完成" in response.get_data(as_text=True)
    response = post(client, f"/inspections/{inspection.id}/sign", {"signer_id": zhao.user_id, "password": PASSWORD})
    assert response.status_code == 422
    assert "不能代他人签名" in response.get_data(as_text=True)
    session.expire_all()
    assert all(s.signed_at is None for s in session.execute(select(Signature)).scalars())

    response = post(client, f"/inspections/{inspection.id}/sign", {"signer_id": wang.user_id, "password": PASSWORD})
    assert response.status_code == 302
    login(client, zhao.user)
    response = post(client, f"/inspections/{inspection.id}/sign", {"signer_id": zhao.user_id, "password": PASSWORD},
                    follow_redirects=True)
    assert "全部检查人员均已签名，记录已生效" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Inspection, inspection.id).status == "signed"


def test_editing_a_signed_record_on_the_page_is_refused_in_chinese(app, client, session, field, inspect):
    inspection = inspect()
    session.commit()
    login(client, field["wang"].user)
    response = post(client, f"/inspections/{inspection.id}/edit",
                    {"inspected_on": "2024-03-02", "partners": "", "notes": "改写"})
    assert response.status_code == 422
    assert "不能修改。如需更正，请新建更正记录" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Inspection, inspection.id).notes == "现场检查储罐区、装卸区"
    # The page offers the amendment instead, and shows it beside the original once made.
    response = post(client, f"/inspections/{inspection.id}/amend",
                    {"notes": "补充：装卸区静电接地未检查", "inspector_ids": [field["wang"].user_id, field["zhao"].user_id]})
    assert response.status_code == 302
    html = client.get(f"/inspections/{inspection.id}").get_data(as_text=True)
    assert "side-by-side" in html and "补充：装卸区静电接地未检查" in html and "更正第 %d 号记录" % inspection.id in html



def test_wrong_signing_passwords_count_toward_the_login_lockout(app, client, session, field, inspect):
    """A session left open is no way around the lockout: the password typed to sign is counted like
    a login, and a locked account cannot sign even with the right one."""
    from portal.auth.service import MAX_FAILURES
    inspection = inspect(sign=False)
    session.commit()
    wang = field["wang"]
    login(client, wang.user)
    url = f"/inspections/{inspection.id}/sign"
    for _ in range(MAX_FAILURES):
        response = post(client, url, {"signer_id": wang.user_id, "password": "Nope-1234"})
        assert response.status_code == 422 and "密码不正确，签名未完成" in response.get_data(as_text=True)
    response = post(client, url, {"signer_id": wang.user_id, "password": PASSWORD})
    assert response.status_code == 422 and "账号已锁定" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Signature, inspection.signatures[0].id).signed_at is None
    actions = session.execute(select(AuditEvent.action).where(AuditEvent.object_type == "User",
                                                              AuditEvent.object_id == wang.user_id)).scalars().all()
    assert actions.count("auth.confirm_failed") == MAX_FAILURES and actions.count("auth.locked") == 1
    # The lock holds for logging in from the same address too.
    post(client, "/logout")
    response = post(client, "/login", {"username": wang.user.username, "password": PASSWORD})
    assert response.status_code == 422 and "账号已锁定" in response.get_data(as_text=True)
