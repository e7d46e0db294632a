"""Two people acting on one period's dispatch table at the same moment, on real concurrent
connections: one submission, one decision; the other is told the table's state."""
from datetime import datetime

import pytest
from sqlalchemy import func, select

from portal.dispatch import service
from portal.dispatch.models import ReportSubmission
from tests.conftest import audited, race, refused
from tests.dispatch.conftest import START


@pytest.fixture
def session(committed_session):
    return committed_session


def submitted(weekly, tree, make_user):
    period = service.period_of(weekly, START)
    service.save_manual(weekly, tree["a_dept"], period, {"lead.study_sessions": "2"})
    (staff,) = make_user(tree["a_dept"], role="staff").memberships
    return service.submit(weekly, tree["a_dept"], period, staff, datetime(2024, 1, 1, 2))


def test_two_submissions_of_one_period_at_once_make_one(session, tree, weekly, make_user):
    """Two staff of the department press 上报 for a period nobody has opened yet."""
    period = service.period_of(weekly, START)
    (first,) = make_user(tree["a_dept"], role="staff").memberships
    (second,) = make_user(tree["a_dept"], role="staff").memberships

    def submit(definition, unit, actor):
        return service.submit(definition, unit, period, actor, datetime(2024, 1, 1, 2))

    outcomes = race((submit, weekly, tree["a_dept"], first), (submit, weekly, tree["a_dept"], second))

    (message,) = refused(outcomes)
    assert "已经上报过（当前为“已报待审”）" in message
    (sub,) = session.execute(select(ReportSubmission).where(ReportSubmission.tenant_id == tree["a_dept"].id,
                                                            ReportSubmission.period_end == period.end)).scalars()
    assert sub.status == "submitted"
    assert audited(sub, "dispatch.submitted") == ["dispatch.submitted"]


def test_approve_and_return_of_one_table_at_once(session, tree, weekly, make_user):
    """通过 by 甲区's admin and 退回 by its leader, on the department's submitted table."""
    sub = submitted(weekly, tree, make_user)
    (admin,) = make_user(tree["a"], role="admin").memberships
    (leader,) = make_user(tree["a"], role="leader").memberships

    outcomes = race((lambda s, m: service.approve(s, m), sub, admin),
                    (lambda s, m: service.return_(s, m, "学习次数有误"), sub, leader))

    (message,) = refused(outcomes)
    steps = audited(sub, "dispatch.approved", "dispatch.returned")
    assert len(steps) == 1
    assert sub.status == {"dispatch.approved": "approved", "dispatch.returned": "returned"}[steps[0]]
    assert f"当前为“{sub.status_label}”" in message
    # The figures stay frozen with an approval and go with a return, never half of each.
    assert (sub.figures is not None) == (sub.status == "approved")
    assert session.execute(select(func.count()).select_from(ReportSubmission)).scalar() == 1
