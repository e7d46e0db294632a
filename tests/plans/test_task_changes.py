"""Changing a task once sent: 延期 (a new deadline under the rules of assigning, told to the
receivers still at work, read by the ladder) and 撤回 (while nobody has reported; with the tasks
passed down from it; kept, but out of every list of open work and every count)."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.errors import Refused
from portal.plans import service
from portal.plans.models import Assignment, Notification, Task
from tests.conftest import login, post
from tests.plans.conftest import TODAY, assign, assignment_of, membership

pytestmark = pytest.mark.usefixtures("frozen")


def _count(session, model, *where):
    return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _notes(session, kind):
    return session.execute(select(Notification).where(Notification.kind == kind).order_by(Notification.id)
                           ).scalars().all()


def _pass_down(session, tree, people, a, deadline=date(2023, 6, 20), key="down"):
    """甲街道 signs its assignment `a` and passes it down to its two enterprises."""
    street = membership(people["street"])
    if a.state == "pending":
        service.sign(a, street)
    return service.create_task(tree["a_street"], street, title="企业自查", body="内容", deadline=deadline,
                               phase_id=None, receiver_ids=[tree["a_shop"].id, tree["a_plant"].id],
                               request_key=key, parent_assignment=a)


# ---------------------------------------------------------------- 延期

def test_a_new_deadline_moves_task_and_assignments_and_tells_the_receivers_still_at_work(session, tree, national,
                                                                                         streets, people, make_user):
    task = assign(tree, people, national, streets, deadline=date(2023, 6, 20))
    finished = assignment_of(session, task, streets[2])
    street3 = make_user(streets[2], role="staff")
    for step in (lambda: service.sign(finished, membership(street3)),
                 lambda: service.report(finished, membership(street3), body="完成"),
                 lambda: service.approve(finished, membership(people["district"]))):
        step()
    service.change_deadline(task, membership(people["district"]), deadline=date(2023, 6, 28), reason="  街道反映时间紧  ")
    session.expire_all()
    rows = session.execute(select(Assignment).where(Assignment.task_id == task.id)).scalars().all()
    assert session.get(Task, task.id).deadline == date(2023, 6, 28)
    assert {a.deadline for a in rows} == {date(2023, 6, 28)}  # the copy the boards read, every row
    notes = _notes(session, "deadline")
    assert {n.tenant_id for n in notes} == {streets[0].id, streets[1].id}  # not the one already done
    assert "2023-06-20" in notes[0].text and "2023-06-28" in notes[0].text and "街道反映时间紧" in notes[0].text
    events = session.execute(select(AuditEvent).where(AuditEvent.action.like("%deadline_changed"))).scalars().all()
    assert {(e.action, e.tenant_id) for e in events} == {("task.deadline_changed", tree["a"].id),
                                                         ("assignment.deadline_changed", streets[0].id),
                                                         ("assignment.deadline_changed", streets[1].id)}
    assert all(e.data == {"old_deadline": "2023-06-20", "deadline": "2023-06-28", "reason": "街道反映时间紧"}
               and e.actor_id == people["district"].id for e in events)
    assert "task.deadline_changed" in [e.action for e in service.task_timeline(task)]
    assert "assignment.deadline_changed" in [e.action for e in service.timeline(assignment_of(session, task, streets[0]))]


@pytest.mark.parametrize("deadline,reason,message", [
    (date(2023, 7, 1), "顺延", "不能晚于“企业自查自改”阶段的结束日期 2023-06-30"),
    (TODAY - timedelta(days=1), "提前", "已经过去"),
    (None, "顺延", "请填写截止日期"),
    (date(2023, 6, 25), "  ", "请填写调整理由"),
    (date(2023, 6, 25), "理" * 501, "调整理由最多 500 个字"),
    (date(2023, 6, 20), "不变", "与原截止日期 2023-06-20 相同"),
])
def test_a_new_deadline_follows_the_rules_of_assigning(session, tree, national, streets, people, deadline, reason,
                                                       message):
    task = assign(tree, people, national, streets, deadline=date(2023, 6, 20))
    events, notes = _count(session, AuditEvent), _count(session, Notification)
    with pytest.raises(Refused, match=message):
        service.change_deadline(task, membership(people["district"]), deadline=deadline, reason=reason)
    assert task.deadline == date(2023, 6, 20)
    assert _count(session, AuditEvent) == events and _count(session, Notification) == notes


def test_a_passed_down_task_stays_within_its_parent_and_a_parent_above_its_sub_tasks(session, tree, national,
                                                                                      streets, people):
    task = assign(tree, people, national, streets, deadline=date(2023, 6, 25))
    a = assignment_of(session, task, streets[0])
    sub = _pass_down(session, tree, people, a, deadline=date(2023, 6, 20))
    street = membership(people["street"])
    with pytest.raises(Refused, match="不能晚于上级任务的截止日期 2023-06-25"):
        service.change_deadline(sub, street, deadline=date(2023, 6, 26), reason="顺延")
    with pytest.raises(Refused, match=r"不能早于接收单位已向下分解的任务：甲街道的《企业自查》（截止 2023-06-20）.*2023-06-20 或以后"):
        service.change_deadline(task, membership(people["district"]), deadline=date(2023, 6, 18), reason="提前")
    assert task.deadline == date(2023, 6, 25) and sub.deadline == date(2023, 6, 20)
    service.change_deadline(task, membership(people["district"]), deadline=date(2023, 6, 20), reason="提前")
    service.change_deadline(sub, street, deadline=date(2023, 6, 15), reason="提前")
    assert assignment_of(session, sub, tree["a_shop"]).deadline == date(2023, 6, 15)


@pytest.mark.parametrize("who", ["street", "district_discipline", "sibling"])
def test_only_the_assigner_changes_or_withdraws(session, tree, national, streets, people, who):
    task = assign(tree, people, national, streets)
    with pytest.raises(Refused, match="只有交办单位“甲区”的人员才能调整截止日期"):
        service.change_deadline(task, membership(people[who]), deadline=date(2023, 6, 25), reason="顺延")
    with pytest.raises(Refused, match="只有交办单位“甲区”的人员才能撤回"):
        service.withdraw(task, membership(people[who]), reason="误发")
    assert task.deadline == date(2023, 6, 30) and task.withdrawn_at is None


def test_the_ladder_reads_the_new_deadline(session, tree, national, streets, people, frozen):
    task = assign(tree, people, national, streets[:1], deadline=date(2023, 6, 12))
    a = assignment_of(session, task, streets[0])
    district = membership(people["district"])
    assert service.ladder(a) == "yellow" and service.rollups([task.id])[task.id].colours == {"yellow": 1}
    frozen(date(2023, 6, 13))
    assert service.ladder(a) == "red" and service.rollups([task.id])[task.id].overdue == 1
    service.change_deadline(task, district, deadline=date(2023, 6, 15), reason="顺延")
    assert service.ladder(a) == "yellow" and service.rollups([task.id])[task.id].colours == {"yellow": 1}
    service.change_deadline(task, district, deadline=date(2023, 6, 30), reason="再顺延")
    assert service.ladder(a) == "green" and service.rollups([task.id])[task.id].colours == {"green": 1}
    assert [r.overdue for _, r in service.child_rollups(tree["a"])] == [0]
    assert service.remind_overdue(tree["a"], district) == (0, 0)
    frozen(date(2023, 6, 16))
    with pytest.raises(Refused, match="已经过去"):
        service.change_deadline(task, district, deadline=date(2023, 6, 15), reason="提前")


# ---------------------------------------------------------------- 撤回

def test_withdrawing_is_refused_once_a_receiver_has_reported(session, tree, national, streets, people):
    task = assign(tree, people, national, streets)
    a = assignment_of(session, task, streets[0])
    street, district = membership(people["street"]), membership(people["district"])
    service.sign(a, street)
    service.report(a, street, body="初稿")
    events = _count(session, AuditEvent)
    with pytest.raises(Refused, match="已有 1 个单位上报过办理情况，不能撤回"):
        service.withdraw(task, district, reason="误发")
    service.return_(a, district, reason="缺少分工")
    service.resume(a, street)  # back in progress, but a report was made: still refused
    with pytest.raises(Refused, match="已有 1 个单位上报过办理情况"):
        service.withdraw(task, district, reason="误发")
    assert task.withdrawn_at is None and _count(session, Assignment, Assignment.state == "withdrawn") == 0
    assert _count(session, AuditEvent) == events + 2  # the return and the resume, nothing of the refusals
    with pytest.raises(Refused, match="请填写撤回理由"):
        service.withdraw(assign(tree, people, national, streets, key="other"), district, reason=" ")


def test_withdrawing_is_refused_when_a_unit_below_has_reported(session, tree, national, streets, people):
    task = assign(tree, people, national, streets)
    sub = _pass_down(session, tree, people, assignment_of(session, task, streets[0]))
    shop = assignment_of(session, sub, tree["a_shop"])
    service.sign(shop, membership(people["principal"]))
    service.report(shop, membership(people["principal"]), body="已自查")
    with pytest.raises(Refused, match="已有 1 个单位上报过办理情况（其中 1 个在向下分解的任务中），不能撤回"):
        service.withdraw(task, membership(people["district"]), reason="误发")


def test_withdrawing_takes_the_passed_down_tasks_with_it_keeps_every_row_and_tells_every_receiver(
        session, tree, national, streets, people):
    task = assign(tree, people, national, streets)
    a = assignment_of(session, task, streets[0])
    sub = _pass_down(session, tree, people, a)
    tasks_before, assignments_before = _count(session, Task), _count(session, Assignment)
    service.withdraw(task, membership(people["district"]), reason="发错了阶段")
    session.expire_all()
    assert _count(session, Task) == tasks_before and _count(session, Assignment) == assignments_before
    task, sub = session.get(Task, task.id), session.get(Task, sub.id)
    assert task.withdrawn_at is not None and task.withdrawn_reason == "发错了阶段"
    assert sub.withdrawn_at == task.withdrawn_at and sub.withdrawn_reason == "随上级任务《制定本街道专项行动方案并动员部署》撤回：发错了阶段"
    states = session.execute(select(Assignment.state).where(Assignment.task_id.in_([task.id, sub.id]))).scalars().all()
    assert states == ["withdrawn"] * 5
    told = {n.tenant_id: n.text for n in _notes(session, "withdrawn")}
    assert set(told) == {s.id for s in streets} | {tree["a_shop"].id, tree["a_plant"].id}
    assert "甲区撤回了任务《制定本街道专项行动方案并动员部署》：发错了阶段" in told[streets[0].id]
    assert "甲街道撤回了任务《企业自查》" in told[tree["a_shop"].id]
    withdrawn = session.execute(select(AuditEvent.action, AuditEvent.tenant_id, AuditEvent.actor_id)
                                .where(AuditEvent.action.like("%withdrawn"))).all()
    assert sorted(withdrawn) == sorted(
        [("task.withdrawn", tree["a"].id, people["district"].id), ("task.withdrawn", streets[0].id, people["district"].id)]
        + [("assignment.withdrawn", u, people["district"].id)
           for u in [s.id for s in streets] + [tree["a_shop"].id, tree["a_plant"].id]])
    with pytest.raises(Refused, match="任务已撤回"):
        service.withdraw(task, membership(people["district"]), reason="再撤")
    with pytest.raises(Refused, match="任务已撤回，不能调整截止日期"):
        service.change_deadline(task, membership(people["district"]), deadline=date(2023, 6, 25), reason="顺延")


def test_a_withdrawn_task_leaves_the_lists_and_counts_of_open_work(session, tree, national, streets, people, frozen):
    kept = assign(tree, people, national, streets, deadline=date(2023, 6, 12), key="kept", title="保留任务")
    gone = assign(tree, people, national, streets, deadline=date(2023, 6, 12), key="gone", title="误发任务")
    sub = _pass_down(session, tree, people, assignment_of(session, gone, streets[0]), deadline=date(2023, 6, 11))
    kept_sub = _pass_down(session, tree, people, assignment_of(session, kept, streets[0]), deadline=date(2023, 6, 11),
                          key="kept-down")
    service.withdraw(gone, membership(people["district"]), reason="误发")
    frozen(date(2023, 6, 13))  # everything open is now overdue
    counts = service.rollups([kept.id, gone.id, sub.id])
    assert counts[kept.id].total == 3 and counts[kept.id].overdue == 3
    assert counts[gone.id].total == 0 and counts[sub.id].total == 0
    assert [(u.name, r.total, r.overdue) for u, r in service.child_rollups(tree["a"])] == \
        [(s.name, 1, 1) for s in streets]
    below = service.sub_rollups([assignment_of(session, gone, streets[0]).id,
                                 assignment_of(session, kept, streets[0]).id])
    assert below[assignment_of(session, gone, streets[0]).id].total == 0
    assert below[assignment_of(session, kept, streets[0]).id].total == 2
    open_work = session.execute(service.received(streets[0])).scalars().all()
    assert [a.task_id for a in open_work] == [kept.id]
    assert [a.task_id for a in session.execute(service.received(streets[0], overdue=True)).scalars()] == [kept.id]
    assert [a.task_id for a in session.execute(service.received(tree["a_shop"])).scalars()] == [kept_sub.id]
    assert [a.task_id for a in session.execute(service.received(streets[0], state="withdrawn")).scalars()] == [gone.id]
    assert service.ladder(assignment_of(session, gone, streets[0])) == "withdrawn"
    assert service.remind_overdue(tree["a"], membership(people["district"])) == (3, 0)  # only the kept task's
    with pytest.raises(Refused, match="任务已撤回，无需催办"):
        service.remind(assignment_of(session, gone, streets[1]), membership(people["district"]))


@pytest.mark.parametrize("step", ["sign", "report", "pass_down"])
def test_a_receiver_cannot_act_on_a_withdrawn_task(session, tree, national, streets, people, step):
    task = assign(tree, people, national, streets)
    a = assignment_of(session, task, streets[0])
    street = membership(people["street"])
    if step != "sign":
        service.sign(a, street)
    service.withdraw(task, membership(people["district"]), reason="误发")
    events = _count(session, AuditEvent)
    act = {"sign": lambda: service.sign(a, street),
           "report": lambda: service.report(a, street, body="上报"),
           "pass_down": lambda: _pass_down(session, tree, people, a)}[step]
    with pytest.raises(Refused, match="撤回"):
        act()
    assert a.state == "withdrawn" and _count(session, AuditEvent) == events


# ---------------------------------------------------------------- pages

def test_the_assigner_changes_and_withdraws_from_the_task_page(client, session, tree, national, streets, people):
    task = assign(tree, people, national, streets, deadline=date(2023, 6, 20))
    a = assignment_of(session, task, streets[0])
    session.commit()
    login(client, people["district"])
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "调整截止日期</button>" in html and f'action="/tasks/{task.id}/withdraw" data-confirm="' in html
    assert "撤回任务</button>" in html
    r = post(client, f"/tasks/{task.id}/deadline", {"deadline": "2023-07-05", "reason": "顺延"})
    assert r.status_code == 422 and "不能晚于“企业自查自改”阶段的结束日期 2023-06-30" in r.get_data(as_text=True)
    r = post(client, f"/tasks/{task.id}/deadline", {"deadline": "2023-06-25", "reason": ""})
    assert r.status_code == 422 and "请填写调整理由" in r.get_data(as_text=True)
    assert post(client, f"/tasks/{task.id}/deadline", {"deadline": "2023-06-25", "reason": "街道反映时间紧"}).status_code == 303
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "截止日期 2023-06-20 → 2023-06-25" in html and "理由：街道反映时间紧" in html
    r = post(client, f"/tasks/{task.id}/withdraw", {"reason": ""})
    assert r.status_code == 422 and "请填写撤回理由" in r.get_data(as_text=True)
    assert post(client, f"/tasks/{task.id}/withdraw", {"reason": "发错了阶段"}).status_code == 303
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "已撤回" in html and "理由：发错了阶段" in html and "撤回任务</button>" not in html
    assert "已撤回" in client.get("/tasks/").get_data(as_text=True)
    r = post(client, f"/tasks/{task.id}/withdraw", {"reason": "再撤"})
    assert r.status_code == 422 and "任务已撤回" in r.get_data(as_text=True)

    receiver = client.application.test_client()
    login(receiver, people["street"])
    assert "制定本街道专项行动方案并动员部署" not in receiver.get("/tasks/received").get_data(as_text=True)
    html = receiver.get(f"/assignments/{a.id}").get_data(as_text=True)
    assert "甲区已于" in html and "撤回本任务" in html and "理由：发错了阶段" in html and ">签收<" not in html
    r = post(receiver, f"/assignments/{a.id}/sign")
    assert r.status_code == 422 and "交办单位已撤回该任务（发错了阶段），不能签收" in r.get_data(as_text=True)
    session.expire_all()
    assert session.get(Assignment, a.id).state == "withdrawn"


def test_withdraw_is_not_offered_once_reported_and_the_wrong_side_gets_403_or_404(client, session, tree, national,
                                                                                  streets, people):
    task = assign(tree, people, national, streets)
    a = assignment_of(session, task, streets[0])
    service.sign(a, membership(people["street"]))
    service.report(a, membership(people["street"]), body="初稿")
    session.commit()
    login(client, people["district"])
    html = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "撤回任务</button>" not in html and "已有 1 个单位上报过办理情况，不能撤回" in html
    r = post(client, f"/tasks/{task.id}/withdraw", {"reason": "误发"})
    assert r.status_code == 422 and "已有 1 个单位上报过办理情况" in r.get_data(as_text=True)
    for who, status in (("district_discipline", 403), ("street", 404), ("sibling", 404)):
        other = client.application.test_client()
        login(other, people[who])
        assert "调整截止日期</button>" not in other.get(f"/tasks/{task.id}").get_data(as_text=True)
        assert post(other, f"/tasks/{task.id}/deadline", {"deadline": "2023-06-25", "reason": "顺延"}).status_code == status
        assert post(other, f"/tasks/{task.id}/withdraw", {"reason": "误发"}).status_code == status
    session.expire_all()
    assert session.get(Task, task.id).deadline == date(2023, 6, 30)
