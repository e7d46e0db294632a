"""Inspectors acting on one record at the same moment, on real concurrent connections: both may
sign, and the record is finalized once; an edit and the first signature never both pass unless
the signature covers the edit; a correction submitted twice is made once."""
from datetime import date

import pytest
from sqlalchemy import select

from portal.inspections import service
from portal.inspections.models import Inspection
from tests.conftest import PASSWORD, audited, race, refused
from tests.inspections.conftest import TODAY


@pytest.fixture
def session(committed_session):
    return committed_session


def sign(inspection, user):
    return service.sign(inspection, user.id, user, PASSWORD)


def test_both_inspectors_signing_at_once_finalize_the_record_once(session, field, inspect):
    inspection = inspect(sign=False)

    outcomes = race((sign, inspection, field["wang"].user), (sign, inspection, field["zhao"].user))

    assert refused(outcomes) == []
    assert audited(inspection, "inspection.signed", "inspection.finalized") == [
        "inspection.signed", "inspection.signed", "inspection.finalized"]
    assert inspection.status == "signed"
    assert {s.content_sha256 for s in inspection.signatures} == {inspection.content_sha256}
    assert service.intact(inspection) is True


def test_an_edit_and_the_first_signature_at_once_never_leave_a_signature_that_misses_the_edit(session, field,
                                                                                              inspect):
    inspection = inspect(sign=False)

    def edit(i, m):
        return service.update(i, m, inspected_on=date(2024, 3, 1), partners="", notes="补记：装卸区静电接地不规范",
                              today=TODAY)

    outcomes = race((edit, inspection, field["zhao"]), (sign, inspection, field["wang"].user))

    edited = outcomes[0][1] is None
    assert outcomes[1][1] is None  # the signature always goes through
    assert (inspection.notes == "补记：装卸区静电接地不规范") == edited
    if not edited:
        assert outcomes[0][1] == "已有检查人员签名，记录内容已锁定，不能修改。"
    assert service.intact(inspection) is True
    assert len(audited(inspection, "inspection.updated")) == edited


def test_a_correction_submitted_twice_at_once_is_made_once(session, field, inspect):
    original = inspect()
    ids = [field["wang"].user_id, field["zhao"].user_id]

    def amend(i, m):
        return service.amend(i, m, notes="检查日期误记，应为 2024-03-02", inspector_ids=ids, today=TODAY)

    outcomes = race((amend, original, field["wang"]), (amend, original, field["wang"]))

    (message,) = refused(outcomes)
    assert "已有一份更正记录" in message and "尚未完成签名" in message
    assert len(session.execute(select(Inspection).where(Inspection.amends_id == original.id)).scalars().all()) == 1


def test_a_found_hazard_sent_twice_at_once_is_recorded_once(session, field, inspect):
    from portal.hazards import service as hazards
    from portal.inspections.models import InspectionHazard
    inspection = inspect(sign=False, items=())

    def send(record, member):
        finding = hazards.Finding(level="general", description="储罐区防火堤破损", found_at=None)
        return service.record_hazard(record, member, finding, today=TODAY, request_key="one-form")

    outcomes = race((send, inspection, field["wang"]), (send, inspection, field["wang"]))
    assert refused(outcomes) == []
    links = session.execute(select(InspectionHazard).where(InspectionHazard.inspection_id == inspection.id)) \
        .scalars().all()
    assert len(links) == 1 and audited(inspection, "inspection.hazard_linked") == ["inspection.hazard_linked"]
