"""Inspection fixtures: 甲区's emergency department with two inspectors, the national standards,
and a factory that records and signs an inspection through the service as the inspectors would."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.hazards import service as hazards
from portal.inspections import service
from tests.conftest import PASSWORD

TODAY = date(2024, 6, 15)


def member(user):
    (m,) = user.memberships
    return m


def item(enterprise, code):
    return next(i for i in hazards.applicable_items(enterprise) if i.code == code)


@pytest.fixture
def field(session, tree, make_tenant, make_user):
    """Who works on 甲区's chemical plant: two inspectors of 甲区应急管理局, its principal, 甲区's
    discipline inspector and leader, and 乙区's discipline inspector."""
    hazards.load_national_standards(tree["root"])
    t = tree
    t["a_emergency"] = make_tenant(t["a"], kind="department", name="甲区应急管理局",
                                   supervised_industries=["hazchem", "industry_trade"])
    people = dict(
        tree=t,
        wang=member(make_user(t["a_emergency"], role="inspector", username="wang_inspector")),
        zhao=member(make_user(t["a_emergency"], role="inspector", username="zhao_inspector")),
        plant=member(make_user(t["a_plant"], role="principal")),
        street=member(make_user(t["a_street"], role="staff")),
        discipline=member(make_user(t["a"], role="discipline")),
        leader=member(make_user(t["a"], role="leader")),
        admin=member(make_user(t["a"], role="admin")),
        b_discipline=member(make_user(t["b"], role="discipline")),
    )
    session.flush()
    return people


@pytest.fixture
def inspect(session, field):
    """Record an inspection of the chemical plant by the two inspectors, covering `items`,
    finding `found` (description, item code, level, deadline), taking `actions` (kind, amount,
    hazard index), and — unless `sign` is false — signed by both."""
    def make(on=date(2024, 3, 1), items=("HC2017-01", "HC2017-02"), found=(), actions=(), kind="enforcement",
             findings=(), sign=True, enterprise=None, today=TODAY):
        enterprise = enterprise or field["tree"]["a_plant"]
        wang, zhao = field["wang"], field["zhao"]
        inspection = service.create(wang, enterprise, kind=kind, inspected_on=on,
                                    inspector_ids=[wang.user_id, zhao.user_id], notes="现场检查储罐区、装卸区",
                                    today=today)
        service.set_items(inspection, wang, [item(enterprise, c).id for c in items])
        recorded = []
        for description, code, level, deadline in found:
            fixes = hazards.Fixes(owner="李四", measures="立即整改", funds=Decimal("2"), deadline=deadline,
                                  contingency="停用相关设备") if deadline else None
            finding = hazards.Finding(level=level, description=description, found_at=on,
                                      item_id=item(enterprise, code).id if code else None, fixes=fixes)
            recorded.append(service.record_hazard(inspection, wang, finding, today=today))
        for code in findings:
            service.add_finding(inspection, wang, code)
        for kind_, amount, hazard_index in actions:
            service.add_action(inspection, wang, service.ActionInput(
                kind=kind_, decided_on=on, amount=Decimal(amount) if amount else None,
                hazard_id=recorded[hazard_index].id if hazard_index is not None else None,
                persons=1 if kind_ == "referral" else None, person_names="某某" if kind_ == "referral" else ""),
                today=today)
        if sign:
            service.sign(inspection, wang.user_id, wang.user, PASSWORD)
            service.sign(inspection, zhao.user_id, zhao.user, PASSWORD)
        session.flush()
        inspection.recorded = recorded
        return inspection
    return make


def sample_records(session, tree, make_user) -> dict:
    """For the access matrix: inside 甲区, a signed spot check of 甲商场 with every part (checked
    key item, hazard, finding, fine), an accident there, and a discipline inspector's
    accountability record. Returns the URL parameters that reach them."""
    from portal.accountability import service as accountability

    shop, today = tree["a_shop"], TODAY
    one, two = (member(make_user(tree["a_dept"], role="inspector")) for _ in range(2))
    standard = hazards.publish_key_items(tree["a"], name="甲区商贸重点检查事项", document_number="", industry="commerce",
                                         items=["疏散通道堵塞"])
    inspection = service.create(one, shop, kind="spot", inspected_on=date(2024, 3, 1), today=today,
                                inspector_ids=[one.user_id, two.user_id], notes="甲区检查机密记录")
    service.set_items(inspection, one, [standard.items[0].id])
    hazard = service.record_hazard(inspection, one, hazards.Finding(
        level="major", description="甲区隐患机密", found_at=None, item_id=standard.items[0].id), today=today)
    service.add_finding(inspection, one, "spot.no_drill")
    service.add_action(inspection, one, service.ActionInput(
        kind="penalty", decided_on=date(2024, 3, 1), hazard_id=hazard.id, amount=Decimal("2")), today=today)
    for signer in (one, two):
        service.sign(inspection, signer.user_id, signer.user, PASSWORD)
    accident = service.record_accident(one, shop, occurred_on=date(2024, 6, 1), kind="fire", deaths=0, injuries=1,
                                       summary="甲区事故机密", today=today)
    trace = accountability.trace(shop, accident=accident)
    record = accountability.record(member(make_user(tree["a"], role="discipline")), trace, accountability.RecordInput(
        measure="interview", subject_unit_id=tree["a_dept"].id, subject_person="甲区被约谈人", reason="甲区问责机密",
        basis=list(trace.items())[:1], decided_on=today), today=today)
    # A 督办函 to the shop, answered with a file (portal.accountability.letters).
    from datetime import timedelta

    from portal.accountability import letters
    from portal.accountability.models import Letter
    sent = accountability.record(member(make_user(tree["a"], role="leader")), trace, accountability.RecordInput(
        measure="supervision_letter", subject_unit_id=shop.id, reason="甲区督办机密", basis=list(trace.items())[:1],
        decided_on=today, reply_by=today + timedelta(days=7)), today=today)
    letter = session.execute(select(Letter).where(Letter.record_id == sent.id)).scalar_one()
    letters.reply(letter, member(make_user(shop, role="principal")), "甲区回复机密", [("甲区回复机密.pdf", b"%PDF-1.7 x")])
    session.flush()
    return {"inspection_id": [inspection.id], "record_id": [record.id, sent.id], "accident_id": [accident.id],
            "letter_id": [letter.id]}
