"""Accountability records (who may write one, what it rests on, who sees it), the discipline
role's reach (its whole subtree, read-only but for these records), and the PDFs: the trace dossier
and the 提醒函 / 督办函 letters."""
import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.accountability import service
from portal.accountability.models import AccountabilityRecord
from portal.audit.models import AuditEvent
from portal.exports.models import ExportDocument
from tests.conftest import csrf_token, login, post
from tests.inspections.conftest import TODAY
from tests.tenants import test_access_matrix as matrix
from tests.tenants.test_access_matrix import world  # noqa: F401  (fixture)


@pytest.fixture
def missed(session, field, inspect):
    """I1 covered item 01; the plant later found a hazard of item 01 itself."""
    from decimal import Decimal

    from portal.hazards import service as hazards
    from tests.inspections.conftest import item
    i1 = inspect(on=date(2024, 1, 10), items=("HC2017-01",))
    plant = field["tree"]["a_plant"]
    hazards.record(plant, field["plant"], hazards.Finding(
        level="major", description="自查：可燃气体报警器失效", found_at=date(2024, 5, 1),
        item_id=item(plant, "HC2017-01").id, fixes=hazards.Fixes(owner="厂长", measures="更换", funds=Decimal("1"),
                                                                deadline=date(2024, 7, 1), contingency="巡检")), today=TODAY)
    return i1


def _input(t, **overrides):
    data = dict(measure="interview", subject_unit_id=t.inspections[0].unit_id, subject_user_id=t.inspections[0].signatures[0].user_id,
                reason="检查时未发现可燃气体报警器失效", basis=[q.key for q in t.questions], decided_on=TODAY)
    return service.RecordInput(**{**data, **overrides})


def test_discipline_and_leaders_write_records_others_may_not(session, field, missed):
    t = service.trace(field["tree"]["a_plant"], TODAY)
    assert [q.code for q in t.questions] == ["missed"]
    record = service.record(field["discipline"], t, _input(t), today=TODAY)
    assert record.subject_person == field["wang"].user.display_name and record.level == "district"
    assert record.basis == [{"key": t.questions[0].key, "text": t.items()[t.questions[0].key]}]
    assert service.record(field["leader"], t, _input(t, measure="circular"), today=TODAY).tenant_id == field["tree"]["a"].id
    for actor in (field["wang"], field["admin"], field["street"], field["plant"]):
        with pytest.raises(service.AccountabilityError, match="纪检监察或领导"):
            service.record(actor, t, _input(t), today=TODAY)


def test_a_form_sent_twice_records_once_and_a_new_form_records_again(session, field, missed):
    t = service.trace(field["tree"]["a_plant"], TODAY)
    first = service.record(field["discipline"], t, _input(t, request_key="form-1"), today=TODAY)
    with pytest.raises(service.AccountabilityError, match="已经提交过了"):
        service.record(field["discipline"], t, _input(t, request_key="form-1"), today=TODAY)
    assert service.record(field["discipline"], t, _input(t, request_key="form-2"), today=TODAY).id != first.id


@pytest.mark.parametrize("overrides, message", [
    (dict(basis=[]), "至少勾选一项"),
    (dict(basis=["missed:999:999"]), "倒查事项已变化"),
    (dict(reason=" "), "写明问责事由"),
    (dict(measure="accountability", subject_user_id=None), "须写明被问责人员"),
    (dict(subject_unit_id=None), "倒查涉及的单位"),
    (dict(decided_on=date(2024, 6, 16)), "不能晚于今天"),
    (dict(measure="warning"), "请选择处理方式"),
])
def test_bad_records_are_refused(session, field, missed, overrides, message):
    t = service.trace(field["tree"]["a_plant"], TODAY)
    with pytest.raises(service.AccountabilityError, match=message):
        service.record(field["discipline"], t, _input(t, **overrides), today=TODAY)


def test_records_are_visible_up_the_chain_and_not_to_siblings(app, client, session, field, missed, make_user):
    t = service.trace(field["tree"]["a_plant"], TODAY)
    record = service.record(field["discipline"], t, _input(t), today=TODAY)
    city_admin = make_user(field["tree"]["city"], role="admin")
    session.commit()
    login(client, city_admin)
    assert "检查时未发现可燃气体报警器失效" in client.get(f"/accountability/{record.id}").get_data(as_text=True)
    login(client, field["b_discipline"].user)
    assert client.get(f"/accountability/{record.id}").status_code == 404
    assert client.get(f"/tenants/{field['tree']['a_plant'].id}/trace").status_code == 404
    assert "张" not in client.get("/accountability/").get_data(as_text=True).split("追责问责记录")[1].split("</table>")[0]


def test_discipline_writes_an_interview_record_on_the_trace_page(app, client, session, field, missed):
    session.commit()
    plant = field["tree"]["a_plant"]
    login(client, field["discipline"].user)
    html = client.get(f"/tenants/{plant.id}/trace").get_data(as_text=True)
    assert "查不出" in html and "填写追责问责记录" in html and field["wang"].user.display_name in html
    key = re.search(r'name="basis" type="checkbox" value="(missed:[^"]+)"', html).group(1)
    form = {"measure": "interview", "subject_unit_id": field["tree"]["a_emergency"].id,
            "subject_user_id": field["wang"].user_id, "reason": "明明有问题却查不出", "decided_on": "2024-06-15",
            "until": "2024-06-15"}
    response = post(client, f"/tenants/{plant.id}/accountability", form)
    assert response.status_code == 422 and "请至少勾选一项倒查发现" in response.get_data(as_text=True)
    assert session.execute(select(func.count()).select_from(AccountabilityRecord)).scalar_one() == 0
    response = post(client, f"/tenants/{plant.id}/accountability", {**form, "basis": key}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "已记录约谈" in html and "明明有问题却查不出" in html
    # A street's staff reads the trace but writes no record.
    login(client, field["street"].user)
    assert post(client, f"/tenants/{plant.id}/accountability", {**form, "basis": key}).status_code == 403
    assert session.execute(select(func.count()).select_from(AccountabilityRecord)).scalar_one() == 1


def test_discipline_reads_the_whole_subtree_but_changes_no_inspection(app, client, session, field, inspect):
    inspection = inspect()
    draft = inspect(sign=False)
    session.commit()
    login(client, field["discipline"].user)
    assert "甲化工厂" in client.get("/inspections/").get_data(as_text=True)
    assert client.get(f"/inspections/{inspection.id}").status_code == 200
    assert client.get(f"/tenants/{field['tree']['a_emergency'].id}/trace").status_code == 200
    for url in (f"/inspections/{draft.id}/edit", f"/inspections/{draft.id}/items", f"/inspections/{draft.id}/actions",
                f"/inspections/{draft.id}/findings", f"/inspections/{draft.id}/hazards", f"/inspections/{inspection.id}/amend",
                f"/tenants/{field['tree']['a_plant'].id}/inspections/new",
                f"/tenants/{field['tree']['a_plant'].id}/accidents/new"):
        assert post(client, url, {"notes": "改写", "kind": "penalty", "amount": "1"}).status_code == 403, url
    response = post(client, f"/inspections/{draft.id}/sign", {"signer_id": field["discipline"].user_id,
                                                               "password": "Test-Passw0rd"})
    assert response.status_code == 422 and "不在本次检查的检查人员名单" in response.get_data(as_text=True)


# Discipline's own account and the public verify page; accountability records are its to write.
OWN = {"auth.logout", "auth.switch_membership", "auth.change_password", "exports.verify"}


def test_discipline_is_read_only_on_every_url_of_every_module(app, client, session, world, make_user):
    """A 甲区 discipline inspector posting to every POST rule with 甲区's records changes nothing:
    the only events it may cause are exports of what it reads (and accountability records)."""
    discipline = make_user(world["tree"]["a"], role="discipline")
    session.commit()
    login(client, discipline)
    params = matrix._params(world)
    urls = app.url_map.bind("localhost")
    checked = 0
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint in OWN or rule.endpoint.startswith("accountability.") \
                or any(a not in params for a in rule.arguments):
            continue
        for values in matrix._product([params[a] for a in sorted(rule.arguments)]):
            url = urls.build(rule.endpoint, dict(zip(sorted(rule.arguments), values)))
            last = session.execute(select(func.max(AuditEvent.id))).scalar_one()
            client.post(url, data={"csrf_token": csrf_token(client), "name": "x", "kind": "street", "role": "staff",
                                   "reason": "x", "password": "Test-Passw0rd"})
            caused = set(session.execute(select(AuditEvent.action).where(AuditEvent.id > last)).scalars())
            assert caused <= {"export.created"}, f"POST {url} wrote {caused}"
            checked += 1
    assert checked > 20


def _pdf_text(pdf: bytes) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages))


def _document(session, response) -> ExportDocument:
    assert response.status_code == 303, response.get_data(as_text=True)[-500:]
    doc_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    session.expire_all()
    doc = session.get(ExportDocument, doc_id)
    assert doc.status == "done", doc.error
    return doc


def test_the_dossier_pdf_names_the_questions_and_the_signers(app, client, session, field, missed):
    session.commit()
    login(client, field["discipline"].user)
    plant = field["tree"]["a_plant"]
    doc = _document(session, post(client, f"/tenants/{plant.id}/trace/export", {"until": "2024-06-15"}))
    text = _pdf_text(doc.content)
    for expected in ("甲化工厂倒查追责材料（截至2024-06-15）", "查不出（1项）", "自查：可燃气体报警器失效",
                     field["wang"].user.display_name, missed.content_sha256, "校验码", doc.code):
        assert expected in text, expected
    # Filed under the issuing level, under its letterhead; who reads it: tests/exports/test_readers.py.
    assert doc.tenant_id == field["tree"]["a"].id and "甲区安全生产委员会办公室" in text


def test_letters_in_official_layout_and_only_for_letters(app, client, session, field, missed):
    t = service.trace(field["tree"]["a_plant"], TODAY)
    letter = service.record(field["discipline"], t, _input(t, measure="supervision_letter", document_number="甲纪督〔2024〕3号",
                                                           requirement="请于7日内书面报告整改情况。",
                                                           reply_by=date(2024, 6, 22)), today=TODAY)
    talk = service.record(field["discipline"], t, _input(t), today=TODAY)
    session.commit()
    login(client, field["discipline"].user)
    doc = _document(session, post(client, f"/accountability/{letter.id}/letter"))
    text = _pdf_text(doc.content)
    for expected in ("甲区纪委监委", "甲纪督〔2024〕3号", "督办函", "甲区应急管理局", "请于7日内书面报告整改情况",
                     "2024年6月15日", "查不出", "于2024年6月22日前将办理情况书面报送我单位"):
        assert expected in text, expected
    response = post(client, f"/accountability/{talk.id}/letter")
    assert response.status_code == 422 and "只有提醒函、督办函生成公文" in response.get_data(as_text=True)


def test_the_signed_record_pdf_carries_its_amendments(app, client, session, field, inspect):
    from tests.conftest import PASSWORD
    from portal.inspections import service as inspections
    original = inspect(found=[("装卸区无静电接地", "HC2017-02", "major", date(2024, 4, 1))])
    wang, zhao = field["wang"], field["zhao"]
    amendment = inspections.amend(original, wang, notes="补充：装卸区静电接地另案处理", today=TODAY,
                                  inspector_ids=[wang.user_id, zhao.user_id])
    for m in (wang, zhao):
        inspections.sign(amendment, m.user_id, m.user, PASSWORD)
    session.commit()
    login(client, field["plant"].user)  # the enterprise reads its own records
    doc = _document(session, post(client, f"/inspections/{original.id}/export"))
    text = _pdf_text(doc.content)
    for expected in ("装卸区无静电接地", original.content_sha256, amendment.content_sha256, "补充：装卸区静电接地另案处理",
                     wang.user.display_name, zhao.user.display_name, "更正记录"):
        assert expected in text, expected
    # Under the enterprise's chain: the principal cannot read the department's documents.
    assert doc.tenant_id == field["tree"]["a_plant"].id
    login(client, wang.user)
    assert _document(session, post(client, f"/inspections/{original.id}/export")).tenant_id == field["tree"]["a_emergency"].id



def test_discipline_verifies_the_audit_chains_of_its_subtree(app, client, session, field, inspect):
    from sqlalchemy import insert

    from portal.audit import service as audit
    from tenants.clock import now
    inspect()
    session.commit()
    login(client, field["discipline"].user)
    assert "本辖区审计链完整" in client.get("/audit/verify").get_data(as_text=True)

    def forge(tenant):
        """An event slipped in by hand: the right place in the chain, a hash that does not cover it."""
        tail = audit.record(tenant, "tenant.updated")
        session.execute(insert(AuditEvent.__table__).values(
            tenant_id=tenant.id, tenant_path=tenant.path, seq=tail.seq + 1, action="inspection.signed",
            object_type="", data={}, created_at=now(), prev_hash=tail.hash, hash="f" * 64))
        session.commit()
    # A forgery in 乙区's chain is not 甲区's to check; one in the plant's chain is found.
    forge(field["tree"]["b"])
    assert "本辖区审计链完整" in client.get("/audit/verify").get_data(as_text=True)
    forge(field["tree"]["a_plant"])
    assert "审计链断裂：本环内容被改动" in client.get("/audit/verify").get_data(as_text=True)
