"""An accountability record submitted twice at the same moment (a double click, two tabs of one
form), on real concurrent connections: one record, one audit event; the other is told."""
import pytest
from sqlalchemy import select

from portal.accountability import service
from portal.accountability.models import AccountabilityRecord
from portal.audit.models import AuditEvent
from tests.accountability.test_accountability_records import _input, missed  # noqa: F401  (fixture)
from tests.conftest import race, refused
from tests.inspections.conftest import TODAY


@pytest.fixture
def session(committed_session):
    return committed_session


def test_one_form_submitted_twice_at_once_records_once(session, field, missed):
    plant = field["tree"]["a_plant"]

    def record(m, enterprise):
        t = service.trace(enterprise, TODAY)
        return service.record(m, t, _input(t, request_key="form-1"), today=TODAY)

    outcomes = race((record, field["discipline"], plant), (record, field["discipline"], plant))

    assert refused(outcomes) == [service.SUBMITTED]
    (entry,) = session.execute(select(AccountabilityRecord)).scalars()
    assert session.execute(select(AuditEvent.action).where(AuditEvent.action == "accountability.recorded")
                           ).scalars().all() == ["accountability.recorded"]
    assert entry.request_key == "form-1"
