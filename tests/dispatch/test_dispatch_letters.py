"""A unit's late or missing dispatch report grounds a 提醒函/督办函 (portal.accountability.letters):
the table's unit for the period, read by the level it reports to."""
from datetime import date

import pytest

from portal.accountability import letters
from portal.accountability import service as accountability
from portal.dispatch import service
from tenants import clock


def test_a_missing_report_past_its_deadline_grounds_a_letter_to_the_unit(session, tree, field, weekly):
    street = tree["a_street"]
    period = service.period_of(weekly, date(2024, 3, 10))
    key = f"dispatch:{weekly.id}:{street.id}:{period.key}"
    found = letters.find(key)
    assert [u.id for u in found.units] == [street.id]
    assert found.text.endswith(f"{street.name}逾期未报") and weekly.name in found.text
    entry = letters.send(field["discipline"], key, accountability.RecordInput(
        measure="reminder_letter", subject_unit_id=street.id, reason="周调度表逾期未报", decided_on=clock.today()))
    assert entry.basis == [{"key": found.key, "text": found.text}] and entry.subject_unit_id == street.id
    # No such table, period or unit that fills it: nothing to rest on.
    assert letters.find(f"dispatch:{weekly.id}:{tree['a_shop'].id}:{period.key}") is None
    assert letters.find(f"dispatch:{weekly.id}:{street.id}:2024-03-12") is None
    assert letters.find("dispatch:x") is None


def test_a_report_sent_in_time_grounds_none(session, tree, field, weekly):
    street = tree["a_street"]
    period = service.period_of(weekly, date(2024, 3, 10))
    sub = service._draft(weekly, street, period)
    sub.status, sub.late = "submitted", False
    session.flush()
    with pytest.raises(letters.LetterError, match="没有逾期"):
        letters.find(f"dispatch:{weekly.id}:{street.id}:{period.key}")
    sub.late = True  # sent after the deadline: 逾期上报
    session.flush()
    assert letters.find(f"dispatch:{weekly.id}:{street.id}:{period.key}").text.endswith("逾期上报")
