"""提醒函/督办函 to a unit below, about a record that lags: the unit reads it and replies once with
files, a late reply is flagged for the issuer, the issuer closes it, and nobody outside the issuer,
the receiver and the levels above reads it. The dossier prints letter, reply and outcome."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.accountability import letters, service
from portal.accountability.models import Letter
from portal.audit.models import AuditEvent
from portal.desk import service as desk
from portal.exports.models import ExportDocument
from portal.hazards.models import Hazard
from portal.plans import service as plans
from portal.plans.models import Assignment, Notification
from tenants import clock
from tenants.scope import Scope, scoped_as
from tests.conftest import login, post
from tests.accountability.test_accountability_records import _document, _pdf_text

PDF = b"%PDF-1.7 reply evidence"


@pytest.fixture
def overdue(session, tree, field):
    """甲区 gave 甲街道 a task due at the end of January 2024, which it signed and never reported."""
    campaign = plans.create_campaign(tree["root"], name="函件专项行动", starts_on=date(2024, 1, 1),
                                     ends_on=date(2099, 12, 31))
    plan = plans.create_plan(tree["a"], campaign, title="甲区方案", issuer="甲区安委会")
    task = plans.create_task(tree["a"], field["admin"], title="报送专项行动方案", body="按时报送",
                             deadline=date(2024, 1, 31), phase_id=plan.phases[0].id,
                             receiver_ids=[tree["a_street"].id], request_key="letters-overdue", today=date(2024, 1, 2))
    assignment = session.execute(select(Assignment).where(Assignment.task_id == task.id)).scalar_one()
    plans.sign(assignment, field["street"])
    session.flush()
    return assignment


def _letter_input(unit, **overrides):
    data = dict(measure="supervision_letter", subject_unit_id=unit.id, reason="报送专项行动方案逾期未办结",
                requirement="请于一周内报送方案并说明逾期原因。", decided_on=clock.today(),
                reply_by=clock.today() + timedelta(days=7), document_number="甲纪督〔2026〕1号")
    return service.RecordInput(**{**data, **overrides})


def _send(field, key, unit, **overrides) -> Letter:
    entry = letters.send(field["discipline"], key, _letter_input(unit, **overrides))
    return db_one(select(Letter).where(Letter.record_id == entry.id))


def _panel(membership):
    """The desk's letters panel of `membership` (its links are built as in a request)."""
    from flask import current_app
    with current_app.test_request_context():
        return desk.panel("letters", membership)


def _counts(membership) -> dict:
    return {c.label: c.value for c in _panel(membership).counts}


def db_one(stmt):
    from portal.extensions import db
    return db.session.execute(stmt).scalar_one()


def _actions(session, *actions):
    return session.execute(select(AuditEvent.action, AuditEvent.tenant_id).where(AuditEvent.action.in_(actions))
                           .order_by(AuditEvent.id)).all()


def test_a_supervision_letter_for_an_overdue_task_reaches_the_street_which_replies_once(session, tree, field,
                                                                                        overdue):
    street = tree["a_street"]
    letter = _send(field, f"task:{overdue.id}", street)

    assert (letter.tenant_id, letter.issuer_id, letter.state, letter.state_label) == (street.id, tree["a"].id, "sent",
                                                                                      "待回复")
    assert "报送专项行动方案" in letter.basis[0]["text"] and "逾期" in letter.basis[0]["text"]
    # The street is told, and the decision and the delivery are both on the district's chain.
    news = session.execute(select(Notification).where(Notification.tenant_id == street.id,
                                                      Notification.kind == "letter")).scalar_one()
    assert news.link == f"/letters/{letter.id}" and "请于" in news.text
    assert _actions(session, "accountability.recorded", "letter.sent") == [
        ("accountability.recorded", tree["a"].id), ("letter.sent", tree["a"].id)]

    # The street's desk lists it with its date; the district discipline's desk counts it as awaiting.
    street_desk = _panel(field["street"])
    assert [x.id for x in street_desk.items] == [letter.id]
    assert {c.label: c.value for c in street_desk.counts}["收到待回复"] == 1
    assert _counts(field["discipline"])["发出待回复"] == 1

    # Only the receiving unit replies, and only once.
    with pytest.raises(letters.LetterError, match="只有收函单位"):
        letters.reply(letter, field["admin"], "区里代答", [])
    with pytest.raises(Exception, match="不允许上传"):
        letters.reply(letter, field["street"], "回复", [("脚本.exe", b"MZ")])
    letters.reply(letter, field["street"], "已报送方案，逾期系人员调整所致。", [("整改报告.pdf", PDF)])
    assert (letter.state, letter.state_label, [f.filename for f in letter.files]) == ("replied", "已回复",
                                                                                      ["整改报告.pdf"])
    with pytest.raises(letters.LetterError, match="已有回复"):
        letters.reply(letter, field["street"], "再答一次", [])
    assert ("letter.replied", street.id) in _actions(session, "letter.replied")
    assert _counts(field["discipline"])["已回复待办结"] == 1

    # The issuer closes it; the street cannot.
    with pytest.raises(letters.LetterError, match="只有发函单位"):
        letters.close(letter, field["street"], "自行办结")
    letters.close(letter, field["discipline"], "已按期整改，予以办结。")
    assert (letter.state, letter.state_label, letter.outcome) == ("closed", "已办结", "已按期整改，予以办结。")
    assert ("letter.closed", tree["a"].id) in _actions(session, "letter.closed")


def test_a_letter_rests_on_a_record_that_lags_and_goes_to_a_unit_answering_for_it(session, tree, field, overdue):
    street = tree["a_street"]
    # Not a letter, not a lagging record, not a unit that answers for it, not below the issuer.
    with pytest.raises(letters.LetterError, match="请选择提醒函或督办函"):
        letters.send(field["discipline"], f"task:{overdue.id}", _letter_input(street, measure="interview"))
    with pytest.raises(letters.LetterError, match="责任单位"):
        letters.send(field["discipline"], f"task:{overdue.id}", _letter_input(tree["a_dept"]))
    with pytest.raises(letters.LetterError, match="不存在"):
        letters.send(field["discipline"], "task:999999", _letter_input(street))
    with pytest.raises(service.AccountabilityError, match="回复期限"):
        letters.send(field["discipline"], f"task:{overdue.id}", _letter_input(street, reply_by=None))
    with pytest.raises(service.AccountabilityError, match="纪检监察或领导"):
        letters.send(field["admin"], f"task:{overdue.id}", _letter_input(street))
    # 乙区's discipline does not read 甲区's task at all.
    with scoped_as(Scope.of(tree["b"], "discipline")), pytest.raises(letters.LetterError, match="不存在"):
        letters.send(field["b_discipline"], f"task:{overdue.id}", _letter_input(street))
    plans.report(overdue, field["street"], body="已上报")
    plans.approve(overdue, field["admin"])
    with pytest.raises(letters.LetterError, match="逾期未办结"):
        letters.send(field["discipline"], f"task:{overdue.id}", _letter_input(street))


def test_a_listed_hazard_past_its_deadline_grounds_a_reminder_to_the_enterprise_or_its_street(session, tree, field,
                                                                                             inspect):
    found = inspect(found=[("储罐区防火堤破损", "HC2017-01", "major", date(2024, 3, 31))]).recorded[0]
    hazard = session.get(Hazard, found.id)
    with pytest.raises(letters.LetterError, match="挂牌督办期限"):
        letters.find(f"hazard:{hazard.id}")
    hazard.listed_by_id, hazard.listed_deadline, hazard.listed_on = tree["a"].id, date(2024, 5, 1), date(2024, 4, 1)
    session.flush()
    source = letters.find(f"hazard:{hazard.id}")
    # The enterprise first, then its street and the department supervising its industry.
    assert source.units[0].name == "甲化工厂" and {u.name for u in source.units[1:]} == {"甲街道", "甲区应急管理局"}
    letter = _send(field, f"hazard:{hazard.id}", tree["a_street"], measure="reminder_letter")
    # A 提醒函 asks for no reply: delivered, never late.
    assert (letter.reply_by, letter.state_label, letter.late) == (None, "已送达", False)
    assert letter.record.enterprise_id == tree["a_plant"].id  # listed in the plant's trace


def test_late_replies_are_flagged_for_the_issuer(session, client, tree, field, overdue):
    letter = _send(field, f"task:{overdue.id}", tree["a_street"], reply_by=clock.today())
    letter.reply_by = clock.today() - timedelta(days=2)  # the date passed without a reply
    session.flush()
    assert (letter.late, letter.state_label) == (True, "逾期未回复")
    counts = {c.label: (c.value, c.tone) for c in _panel(field["discipline"]).counts}
    assert counts["下级逾期未回复"] == (1, "danger")
    assert _counts(field["street"])["本单位逾期未回复"] == 1
    session.commit()
    login(client, field["discipline"].user)
    board = client.get("/letters/?box=issued&state=late").get_data(as_text=True)
    assert "逾期未回复" in board and "共 1 条" in board
    assert "<strong>1</strong> 件逾期未回复" in client.get("/accountability/").get_data(as_text=True)
    letters.reply(session.get(Letter, letter.id), field["street"], "迟复", [])
    assert session.get(Letter, letter.id).replied_late


def test_only_the_issuer_the_receiver_and_the_levels_above_read_a_letter(app, session, client, tree, field, make_user,
                                                                        inspect, overdue):
    to_street = _send(field, f"task:{overdue.id}", tree["a_street"])
    letters.reply(to_street, field["street"], "已办理", [("整改报告.pdf", PDF)])
    hazard = inspect(found=[("储罐区防火堤破损", "HC2017-01", "major", date(2024, 3, 31))]).recorded[0]
    hazard.listed_by_id, hazard.listed_deadline, hazard.listed_on = tree["a"].id, date(2024, 5, 1), date(2024, 4, 1)
    session.flush()
    to_plant = _send(field, f"hazard:{hazard.id}", tree["a_plant"])
    file_url = f"/letters/{to_street.id}/files/{to_street.files[0].id}"
    city = make_user(tree["city"], role="admin")
    shop = make_user(tree["a_shop"], role="principal")
    session.commit()
    readers = {field["discipline"].user: (200, 200), field["leader"].user: (200, 200), city: (200, 200),
               # The street reads what is sent to it and to its enterprises (a level above them).
               field["street"].user: (200, 200), field["plant"].user: (404, 200),
               # Beside them: another district, a shop under the street, and the department that
               # supervises the plant (its scope covers the plant's records, not its letters).
               field["b_discipline"].user: (404, 404), shop: (404, 404), field["wang"].user: (404, 404)}
    for user, (street_status, plant_status) in readers.items():
        login(client, user)
        assert client.get(f"/letters/{to_street.id}").status_code == street_status, user.username
        assert client.get(file_url).status_code == street_status, user.username
        assert client.get(f"/letters/{to_plant.id}").status_code == plant_status, user.username
    # The letter's file (its PDF) stays the issuing level's: the receiver finds none.
    login(client, field["street"].user)
    assert "整改报告.pdf" in client.get(f"/letters/{to_street.id}").get_data(as_text=True)
    assert client.get("/exports/").status_code == 200
    assert session.execute(select(ExportDocument).where(ExportDocument.kind == "accountability.letter")).first() is None


def test_reply_and_close_through_the_pages(session, client, tree, field, overdue):
    letter = _send(field, f"task:{overdue.id}", tree["a_street"])
    session.commit()
    login(client, field["street"].user)
    page = client.get(f"/letters/{letter.id}").get_data(as_text=True)
    assert "提交回复" in page and "办结" not in page.split("提交回复")[1]
    empty = post(client, f"/letters/{letter.id}/reply", {"body": ""})
    assert empty.status_code == 422 and "请填写回复内容" in empty.get_data(as_text=True)
    import io
    sent = post(client, f"/letters/{letter.id}/reply", {"body": "已报送方案。", "files": [(io.BytesIO(PDF), "方案.pdf")]},
                content_type="multipart/form-data")
    assert sent.status_code == 303
    again = post(client, f"/letters/{letter.id}/reply", {"body": "再答"})
    assert again.status_code == 422 and "已有回复" in again.get_data(as_text=True)
    login(client, field["discipline"].user)
    assert "方案.pdf" in client.get(f"/letters/{letter.id}").get_data(as_text=True)
    assert post(client, f"/letters/{letter.id}/close", {"outcome": "予以办结"}).status_code == 303
    session.expire_all()
    assert session.get(Letter, letter.id).state == "closed"


def test_the_letter_form_starts_from_the_lagging_record(session, client, tree, field, overdue):
    session.commit()
    login(client, field["discipline"].user)
    form = client.get(f"/letters/new?source=task:{overdue.id}").get_data(as_text=True)
    assert "报送专项行动方案" in form and tree["a_street"].name in form
    assert client.get("/letters/new?source=task:999999").status_code == 404
    sent = post(client, "/letters", {"source": f"task:{overdue.id}", "measure": "supervision_letter",
                                     "subject_unit_id": tree["a_street"].id, "reason": "逾期未办结",
                                     "reply_by": (clock.today() + timedelta(days=5)).isoformat(),
                                     "request_key": "letter-form-1"})
    assert sent.status_code == 303
    assert session.execute(select(Letter)).scalar_one().reply_by == clock.today() + timedelta(days=5)
    login(client, field["street"].user)
    assert client.get(f"/letters/new?source=task:{overdue.id}").status_code == 403


def test_the_dossier_prints_the_letter_the_reply_and_the_outcome(session, client, tree, field, overdue):
    letter = _send(field, f"task:{overdue.id}", tree["a_street"])
    letters.reply(letter, field["street"], "已报送专项行动方案并说明原因。", [("整改情况报告.pdf", PDF)])
    letters.close(letter, field["discipline"], "按要求整改，予以办结。")
    session.commit()
    # The street reads the letters sent to it on its own trace page too.
    login(client, field["street"].user)
    assert "已办结" in client.get(f"/tenants/{tree['a_street'].id}/trace").get_data(as_text=True).split('id="letters"')[1]
    login(client, field["discipline"].user)
    text = _pdf_text(_document(session, post(client, f"/tenants/{tree['a_street'].id}/trace/export")).content)
    for expected in ("提醒函、督办函及回复", "督办函", "甲纪督〔2026〕1号", "报送专项行动方案逾期未办结",
                     "已报送专项行动方案并说明原因。", "整改情况报告.pdf", "已办结", "按要求整改，予以办结。"):
        assert expected in text, expected


def test_a_failed_duty_grounds_a_letter_to_the_enterprise_or_those_answering_for_it(session, tree, field):
    from portal.checklists.models import ComplianceFinding
    finding = ComplianceFinding(tenant=tree["a_plant"], code="monthly_key_post", text="未按月开展重点岗位检查",
                                since=date(2024, 5, 1))
    session.add(finding)
    session.flush()
    source = letters.find(f"duty:{finding.id}")
    assert source.units[0].id == tree["a_plant"].id and "未按月开展重点岗位检查" in source.text
    letter = _send(field, f"duty:{finding.id}", tree["a_emergency"])  # the department that supervises it
    assert letter.tenant_id == tree["a_emergency"].id and letter.record.enterprise_id == tree["a_plant"].id
    finding.resolved_on = date(2024, 6, 1)
    session.flush()
    with pytest.raises(letters.LetterError, match="已经落实"):
        letters.find(f"duty:{finding.id}")
