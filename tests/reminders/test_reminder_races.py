"""The morning digest and the quarter-hour retry delivering at the same moment (two hosts), on
real concurrent connections: each message goes out once."""
import pytest
from sqlalchemy import select

from portal.plans import service as plans
from portal.reminders import service as reminders
from portal.reminders.models import ReminderSend
from tenants.scope import unscoped
from tests.conftest import results_at_once


@pytest.fixture
def session(committed_session):
    return committed_session


def test_two_schedulers_delivering_at_once_send_each_message_once(session, committed_app, tree, make_user):
    for n in range(3):
        user = make_user(tree["a_street"], role="staff")
        user.email = f"staff{n}@example.gov.cn"
    plans.notify_units([(tree["a_street"], "/tasks/received")], "overdue", "《制定方案》已逾期，请尽快办理")
    assert reminders.queue_digests() == 3
    session.commit()

    def deliver():
        with unscoped():
            return reminders.deliver()
    outcomes = results_at_once(committed_app, deliver, 2)
    assert sum(sent for sent, _ in outcomes) == 3 and sum(failed for _, failed in outcomes) == 0
    session.expire_all()
    sends = session.execute(select(ReminderSend)).scalars().all()
    assert [(s.status, s.attempts) for s in sends] == [("sent", 1)] * 3
