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


def test_two_reviewers_of_a_departments_task_at_once(session, tree, make_user, national, frozen):
    """甲区商务局's staff approves while its leader returns 甲商场's report of the department's task."""
    from tests.plans.conftest import first_phase_of
    staff, leader = (membership(make_user(tree["a_dept"], role=role)) for role in ("staff", "leader"))
    principal = membership(make_user(tree["a_shop"], role="principal"))
    task = service.create_task(tree["a_dept"], staff, title="燃气报警装置排查", body="请排查并上报。",
                               deadline=national.phases[1].ends_on, phase_id=first_phase_of(national, "企业自查自改").id,
                               receiver_industries=["commerce"], request_key="dept-race")
    assignment = assignment_of(session, task, tree["a_shop"])
    service.sign(assignment, principal)
    service.report(assignment, principal, body="已安装燃气报警器。")

    outcomes = race((lambda a, m: service.approve(a, m), assignment, staff),
                    (lambda a, m: service.return_(a, m, reason="请附照片"), assignment, leader))

    (message,) = refused(outcomes)
    steps = audited(assignment, "assignment.approved", "assignment.returned")
    assert len(steps) == 1
    assert assignment.state == {"assignment.approved": "done", "assignment.returned": "returned"}[steps[0]]
    assert f"当前为“{assignment.state_label}”" in message
