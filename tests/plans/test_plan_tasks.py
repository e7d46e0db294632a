"""Tasks and assignments: who may assign to whom, deadlines, the state machine (every illegal step
refused), cascade, reminders, files; every refusal leaves nothing written."""
from datetime import date

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.errors import Refused
from portal.plans import service
from portal.plans.models import STATES, Assignment, AssignmentReport, Notification, Task, TaskAttachment
from portal.uploads.models import Upload
from tests.plans.conftest import TODAY, assign, assignment_of, first_phase_of, membership
from tests.uploads.test_uploads import docx_bytes

pytestmark = pytest.mark.usefixtures("frozen")


def _count(session, model, *where):
    return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_assigning_to_streets_creates_one_assignment_each_audited_and_notified(session, tree, national, streets,
                                                                              people):
    task = assign(tree, people, national, streets)
    rows = session.execute(select(Assignment).where(Assignment.task_id == task.id)).scalars().all()
    assert {a.tenant_id for a in rows} == {s.id for s in streets}
    assert all(a.state == "pending" and a.deadline == date(2023, 6, 30) and a.assigner_id == tree["a"].id
               for a in rows)
    created = session.execute(select(AuditEvent).where(AuditEvent.action == "assignment.created")).scalars().all()
    assert {e.tenant_id for e in created} == {s.id for s in streets}  # in each receiver's own chain
    assert _count(session, AuditEvent, AuditEvent.action == "task.created", AuditEvent.tenant_id == tree["a"].id) == 1
    notes = session.execute(select(Notification).where(Notification.kind == "task")).scalars().all()
    assert {n.tenant_id for n in notes} == {s.id for s in streets}
    assert "制定本街道专项行动方案并动员部署" in notes[0].text and "2023-06-30" in notes[0].text


def test_all_children_of_a_kind(session, tree, national, streets, people):
    phase = first_phase_of(national, "企业自查自改")
    task = service.create_task(tree["a"], membership(people["district"]), title="全部街道", body="内容",
                               deadline=date(2023, 6, 20), phase_id=phase.id, receiver_kinds=["street"],
                               request_key="kinds")
    receivers = {a.tenant_id for a in session.execute(select(Assignment).where(Assignment.task_id == task.id)).scalars()}
    assert receivers == {s.id for s in streets}  # not the department, not 乙区's street


def test_a_township_assigns_to_all_its_villages_which_sign_and_report(session, tree, national, people,
                                                                      make_tenant, make_user):
    township = tree["a_street"]
    villages = [make_tenant(township, kind="village", name=name) for name in ("甲一村", "甲二社区")]
    make_tenant(township, kind="department", name="甲街道城建站", supervised_industries=["construction"])
    phase = first_phase_of(national, "企业自查自改")
    task = service.create_task(township, membership(people["street"]), title="全部村/社区", body="内容",
                               deadline=date(2023, 6, 20), phase_id=phase.id, receiver_kinds=["village"],
                               request_key="villages")
    rows = session.execute(select(Assignment).where(Assignment.task_id == task.id)).scalars().all()
    assert {a.tenant_id for a in rows} == {v.id for v in villages}  # not the 站所, not the enterprises
    village_staff = make_user(villages[0], role="staff")
    received = assignment_of(session, task, villages[0])
    service.sign(received, membership(village_staff))
    service.report(received, membership(village_staff), body="本村已部署")
    assert received.state == "reported"


@pytest.mark.parametrize("deadline,message", [
    (date(2023, 7, 1), "不能晚于“企业自查自改”阶段的结束日期 2023-06-30"),
    (date(2023, 6, 9), "已经过去"),
    (None, "请填写截止日期"),
])
def test_deadline_bounds(session, tree, national, streets, people, deadline, message):
    with pytest.raises(Refused, match=message):
        assign(tree, people, national, streets, deadline=deadline)
    assert _count(session, Task) == 0 and _count(session, Assignment) == 0


def test_a_phase_without_dates_is_bounded_by_the_campaign(session, tree, national, streets, people):
    phase = first_phase_of(national, "部门帮扶/精准执法")
    kwargs = dict(title="精准执法", body="内容", phase_id=phase.id, receiver_ids=[streets[0].id])
    with pytest.raises(Refused, match="2023-12-31"):
        service.create_task(tree["a"], membership(people["district"]), deadline=date(2024, 1, 1), request_key="x", **kwargs)
    service.create_task(tree["a"], membership(people["district"]), deadline=date(2023, 12, 31), request_key="y", **kwargs)


def test_assigning_outside_ones_children_or_from_another_node_is_refused(session, tree, national, streets, people):
    with pytest.raises(Refused, match="只能向“甲区”的直接下级单位交办"):
        assign(tree, people, national, [streets[0], tree["b_street"]])
    with pytest.raises(Refused, match="只能向“甲区”的直接下级单位交办"):
        assign(tree, people, national, [tree["a_shop"]])  # a grandchild: the street passes it down
    phase = first_phase_of(national, "企业自查自改")
    for who in ("street", "district_discipline"):
        with pytest.raises(Refused, match="只有“甲区”的管理员、领导或工作人员才能"):
            service.create_task(tree["a"], membership(people[who]), title="越权", body="内容",
                                deadline=date(2023, 6, 20), phase_id=phase.id, receiver_ids=[streets[0].id],
                                request_key=who)
    with pytest.raises(Refused, match="请选择接收单位"):
        assign(tree, people, national, [])
    assert _count(session, Task) == 0


def test_a_phase_of_another_plan_is_refused(session, tree, campaign, national, streets, people):
    other = service.create_plan(tree["b"], campaign, title="乙区方案", issuer="乙区安委会")
    with pytest.raises(Refused, match="请选择任务服务的阶段"):
        service.create_task(tree["a"], membership(people["district"]), title="任务", body="内容",
                            deadline=date(2023, 6, 20), phase_id=other.phases[1].id, receiver_ids=[streets[0].id],
                            request_key="p")


def test_the_same_form_submitted_twice_creates_one_task(session, tree, national, streets, people):
    assign(tree, people, national, streets, key="once")
    with pytest.raises(Refused, match="已经提交过了"):
        assign(tree, people, national, streets, key="once")
    assert _count(session, Task) == 1 and _count(session, Assignment) == len(streets)


def _walk(a, people, to):
    """Bring assignment `a` into state `to` the legal way."""
    street, district = membership(people["street"]), membership(people["district"])
    path = {"pending": [], "in_progress": ["sign"], "reported": ["sign", "report"],
            "done": ["sign", "report", "approve"], "returned": ["sign", "report", "return"],
            "withdrawn": ["sign", "withdraw"]}[to]
    for step in path:
        {"sign": lambda: service.sign(a, street),
         "report": lambda: service.report(a, street, body="已制定方案并召开动员部署会。"),
         "approve": lambda: service.approve(a, district),
         "return": lambda: service.return_(a, district, reason="方案缺少任务分工。"),
         "withdraw": lambda: service.withdraw(a.task, district, reason="误发。")}[step]()
    assert a.state == to


ACTIONS = {
    "sign": lambda a, p: service.sign(a, membership(p["street"])),
    "report": lambda a, p: service.report(a, membership(p["street"]), body="再次上报"),
    "approve": lambda a, p: service.approve(a, membership(p["district"])),
    "return": lambda a, p: service.return_(a, membership(p["district"]), reason="理由"),
    "resume": lambda a, p: service.resume(a, membership(p["street"])),
}
LEGAL = {("pending", "sign"), ("in_progress", "report"), ("reported", "approve"), ("reported", "return"),
         ("returned", "resume")}


@pytest.mark.parametrize("state,action", [(s, a) for s in STATES for a in ACTIONS if (s, a) not in LEGAL])
def test_every_illegal_transition_is_refused_and_changes_nothing(session, tree, national, streets, people,
                                                                 state, action):
    task = assign(tree, people, national, streets[:1])
    a = assignment_of(session, task, streets[0])
    _walk(a, people, state)
    events = _count(session, AuditEvent)
    with pytest.raises(Refused, match="不能|请勿重复|请先点击"):
        ACTIONS[action](a, people)
    session.refresh(a)
    assert a.state == state
    assert _count(session, AuditEvent) == events


def test_the_whole_road_with_a_return_is_dated_and_on_the_timeline(session, tree, national, streets, people, frozen):
    task = assign(tree, people, national, streets[:1])
    a = assignment_of(session, task, streets[0])
    street, district = membership(people["street"]), membership(people["district"])
    service.sign(a, street)
    service.report(a, street, body="初稿")
    service.return_(a, district, reason="缺少分工")
    service.resume(a, street)
    frozen(date(2023, 6, 12))
    service.report(a, street, body="修改稿")
    service.approve(a, district)
    assert a.state == "done" and a.signed_at and a.reported_at and a.done_at
    reports = session.execute(select(AssignmentReport).where(AssignmentReport.assignment_id == a.id)
                              .order_by(AssignmentReport.id)).scalars().all()
    assert [(r.body, r.outcome, r.reason) for r in reports] == [("初稿", "returned", "缺少分工"), ("修改稿", "approved", "")]
    steps = [e.action for e in service.timeline(a)]
    assert steps == ["assignment.created", "assignment.signed", "assignment.reported", "assignment.returned",
                     "assignment.resumed", "assignment.reported", "assignment.approved"]
    actors = {e.action: e.actor_id for e in service.timeline(a)}
    assert actors["assignment.returned"] == people["district"].id and actors["assignment.signed"] == people["street"].id
    kinds = [n.kind for n in session.execute(select(Notification).order_by(Notification.id)).scalars()]
    assert kinds == ["task", "reported", "returned", "reported", "approved"]


@pytest.mark.parametrize("who", ["district", "district_leader", "street_inspector", "principal", "sibling"])
def test_only_the_receiver_reports(session, tree, national, streets, people, who):
    task = assign(tree, people, national, streets[:1])
    a = assignment_of(session, task, streets[0])
    service.sign(a, membership(people["street"]))
    with pytest.raises(Refused, match="只有接收单位“甲街道”的人员才能上报"):
        service.report(a, membership(people[who]), body="代为上报")
    assert a.state == "in_progress"


@pytest.mark.parametrize("who", ["street", "district_discipline", "sibling"])
def test_only_the_assigner_reviews(session, tree, national, streets, people, who):
    task = assign(tree, people, national, streets[:1])
    a = assignment_of(session, task, streets[0])
    _walk(a, people, "reported")
    for review in (lambda: service.approve(a, membership(people[who])),
                   lambda: service.return_(a, membership(people[who]), reason="越权退回")):
        with pytest.raises(Refused, match="只有交办单位“甲区”的人员才能"):
            review()
    assert a.state == "reported"


def test_a_stale_second_click_cannot_pass_the_state_twice(session, tree, national, streets, people):
    """Two approvals of one report (two tabs): the row has moved on, the second is refused."""
    task = assign(tree, people, national, streets[:1])
    a = assignment_of(session, task, streets[0])
    _walk(a, people, "reported")
    session.execute(Assignment.__table__.update().where(Assignment.id == a.id).values(state="done"))
    with pytest.raises(Refused, match="刚刚已被他人处理"):
        service.approve(a, membership(people["district"]))  # `a` still says 已上报 in memory


def test_cascade_rolls_up_to_the_district(session, tree, national, streets, people, make_tenant):
    shops = [tree["a_shop"], tree["a_plant"], make_tenant(tree["a_street"], kind="enterprise", name="甲超市")]
    task = assign(tree, people, national, streets, deadline=date(2023, 6, 25))
    a = assignment_of(session, task, streets[0])
    street = membership(people["street"])
    with pytest.raises(Refused, match="签收后、上报前才能向下交办"):
        service.create_task(streets[0], street, title="企业自查", body="内容", deadline=date(2023, 6, 20),
                            phase_id=None, receiver_ids=[s.id for s in shops], request_key="c0", parent_assignment=a)
    service.sign(a, street)
    with pytest.raises(Refused, match="不能晚于上级任务的截止日期 2023-06-25"):  # inside the phase, after the district's
        service.create_task(streets[0], street, title="企业自查", body="内容", deadline=date(2023, 6, 28),
                            phase_id=None, receiver_ids=[s.id for s in shops], request_key="c1", parent_assignment=a)
    sub = service.create_task(streets[0], street, title="企业自查", body="内容", deadline=date(2023, 6, 20),
                              phase_id=None, receiver_ids=[s.id for s in shops], request_key="c2", parent_assignment=a)
    assert sub.phase_id == task.phase_id and sub.parent_assignment_id == a.id
    principal = membership(people["principal"])  # of 甲商场
    shop_a = assignment_of(session, sub, tree["a_shop"])
    service.sign(shop_a, principal)
    service.report(shop_a, principal, body="已建立隐患台账。")
    service.approve(shop_a, street)
    rollup = service.sub_rollups([a.id])[a.id]
    assert (rollup.total, rollup.done, rollup.open, rollup.pending, rollup.overdue) == (3, 1, 0, 2, 0)
    assert rollup.sentence() == "3 个企业：已办结 1，已上报 0，办理中 0，待签收 2，逾期 0"
    steps = [e.action for e in service.timeline(a)]
    assert "assignment.passed_down" in steps


def test_the_daily_overdue_notice_reaches_each_late_receiver_without_counting_a_reminder(
        session, tree, national, streets, people, frozen):
    task = assign(tree, people, national, streets, deadline=date(2023, 6, 15))
    frozen(date(2023, 6, 17))
    _walk(assignment_of(session, task, streets[0]), people, "done")
    # Run by the scheduler (portal.schedule): two of three are still open after their deadline.
    assert service.notify_overdue(date(2023, 6, 17)) == 2
    notices = session.execute(select(Notification).where(Notification.kind == "overdue")).scalars().all()
    assert sorted(n.tenant_id for n in notices) == sorted(s.id for s in streets[1:])
    assert all("已逾期（截止 2023-06-15）" in n.text for n in notices)
    assert [assignment_of(session, task, s).reminders for s in streets] == [0, 0, 0]


def test_reminders_reach_the_receiver_once_a_day(session, tree, national, streets, people, frozen):
    task = assign(tree, people, national, streets, deadline=date(2023, 6, 15))
    district = membership(people["district"])
    a = assignment_of(session, task, streets[0])
    service.remind(a, district)
    with pytest.raises(Refused, match="今天已经催办过“甲街道”"):
        service.remind(a, district)
    with pytest.raises(Refused, match="只有交办单位"):
        service.remind(a, membership(people["street"]))
    frozen(date(2023, 6, 16))  # all three are now overdue
    assert service.remind_overdue(tree["a"], district) == (3, 0)
    assert service.remind_overdue(tree["a"], district) == (0, 3)
    assert a.reminders == 2
    reminders = session.execute(select(Notification).where(Notification.kind == "reminder")).scalars().all()
    assert len(reminders) == 4 and "甲区催办" in reminders[0].text
    frozen(date(2023, 6, 17))
    _walk(a, people, "done")
    with pytest.raises(Refused, match="已办结，无需催办"):
        service.remind(a, district)
    assert service.remind_overdue(tree["a"], district) == (2, 0)


def test_files_of_tasks_and_reports_are_checked_and_stored(session, tree, national, streets, people):
    task = assign(tree, people, national, streets[:1], files=[("动员部署通知.pdf", b"%PDF-1.7 notice"),
                                                             ("任务分工表.docx", docx_bytes())])
    kept = session.execute(select(TaskAttachment).where(TaskAttachment.task_id == task.id)).scalars().all()
    assert [(f.filename, f.kind, f.tenant_id) for f in kept] == [("动员部署通知.pdf", "pdf", tree["a"].id),
                                                                ("任务分工表.docx", "office", tree["a"].id)]
    a = assignment_of(session, task, streets[0])
    service.sign(a, membership(people["street"]))
    entry = service.report(a, membership(people["street"]), body="附方案。", files=[("方案.pdf", b"%PDF-1.4 plan")])
    assert [(f.upload.filename, f.upload.tenant_id) for f in entry.files] == [("方案.pdf", streets[0].id)]


@pytest.mark.parametrize("name,data,message", [
    ("大.pdf", b"%PDF-" + b"0" * (20 * 1024 * 1024), "超过 20 MB"),
    ("程序.exe", b"MZ\x90\x00", "类型不允许上传"),
    ("伪装.pdf", b"\x89PNG\r\n\x1a\nrest", "内容不是扩展名所说的类型"),
    ("../../etc/方案.pdf", b"%PDF-1.7", "含有路径"),
    ("C:\\Users\\张三\\方案.pdf", b"%PDF-1.7", "含有路径"),
])
def test_bad_files_are_refused_and_nothing_is_written(session, tree, national, streets, people, name, data, message):
    with pytest.raises(Refused, match=message):
        assign(tree, people, national, streets[:1], files=[("通知.pdf", b"%PDF-1.7"), (name, data)])
    assert _count(session, Task) == 0 and _count(session, TaskAttachment) == 0
    task = assign(tree, people, national, streets[:1], key="ok")
    a = assignment_of(session, task, streets[0])
    service.sign(a, membership(people["street"]))
    with pytest.raises(Refused, match=message):
        service.report(a, membership(people["street"]), body="上报", files=[(name, data)])
    assert a.state == "in_progress" and _count(session, AssignmentReport) == 0 and _count(session, Upload) == 0


def test_today_is_the_frozen_clock():
    from tenants import clock
    assert clock.today() == TODAY
