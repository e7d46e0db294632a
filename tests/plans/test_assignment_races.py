"""Two people acting on one task at the same moment, on real concurrent connections: one succeeds,
the other is told what the task is now, and the audit trail holds one step from each state."""
import pytest

from portal.plans import service
from tests.conftest import audited, race, refused
from tests.plans.conftest import assign, assignment_of, membership


@pytest.fixture
def session(committed_session):
    return committed_session


def test_approve_and_return_of_one_report_at_once(session, tree, people, national, frozen):
    """审核办结 by 甲区's admin and 退回 by its leader, on the street's report."""
    task = assign(tree, people, national, [tree["a_street"]])
    assignment = assignment_of(session, task, tree["a_street"])
    street = membership(people["street"])
    service.sign(assignment, street)
    service.report(assignment, street, body="已制定方案并召开动员部署会。")

    outcomes = race((lambda a, m: service.approve(a, m), assignment, membership(people["district"])),
                    (lambda a, m: service.return_(a, m, reason="方案缺少时间安排"), assignment,
                     membership(people["district_leader"])))

    (message,) = refused(outcomes)
    steps = audited(assignment, "assignment.approved", "assignment.returned")
    assert len(steps) == 1
    state = {"assignment.approved": "done", "assignment.returned": "returned"}[steps[0]]
    assert assignment.state == state
    assert f"当前为“{assignment.state_label}”" in message
    (report,) = assignment.reports
    assert report.outcome == state.replace("done", "approved")


def test_two_withdrawals_of_one_task_at_once(session, tree, people, national, frozen):
    task = assign(tree, people, national, [tree["a_street"]])
    district = membership(people["district"])

    outcomes = race((lambda t, m: service.withdraw(t, m, reason="发错了"), task, district),
                    (lambda t, m: service.withdraw(t, m, reason="重复交办"), task, district))

    assert refused(outcomes) == ["任务已撤回。"]
    assert audited(task, "task.withdrawn") == ["task.withdrawn"]
