"""A campaign with a plan at the national root, whose rules and phases the levels below inherit,
and a clock frozen on a day inside the campaign."""
from datetime import date, datetime

import pytest
from sqlalchemy import select

from portal.plans import service
from tenants import clock
from tenants.models import Membership

# 2023-06-10 10:00 in Beijing: inside the campaign, in the self-inspection phase.
TODAY = date(2023, 6, 10)
DRILL = {"all": {"times": 1, "per": "year"}, "high_risk": {"times": 1, "per": "half_year"}}
INSPECTION = {"all": {"times": 1, "per": "quarter"}, "high_risk": {"times": 1, "per": "month"}}
MONTHLY_REPORT = {"period": "month", "due_day": 5, "cumulative": True}


@pytest.fixture
def frozen(monkeypatch):
    """Freeze tenants.clock (the one clock) at TODAY; returns a function that moves it."""
    def set_today(day: date, hour: int = 2):
        monkeypatch.setattr(clock, "now", lambda: datetime(day.year, day.month, day.day, hour))
    set_today(TODAY)
    return set_today


def membership(user) -> Membership:
    return user.memberships[0]


@pytest.fixture
def campaign(session, tree):
    return service.create_campaign(tree["root"], name="重大事故隐患专项排查整治2023行动",
                                   starts_on=date(2023, 5, 1), ends_on=date(2023, 12, 31))


@pytest.fixture
def national(session, tree, campaign):
    """The root's plan: four dated phases, an enterprise clause per rule, the monthly report."""
    plan = service.create_plan(tree["root"], campaign, title="全国重大事故隐患专项排查整治2023行动总体方案",
                               issuer="国务院安全生产委员会")
    for phase, (start, end) in zip(plan.phases, [(date(2023, 5, 1), date(2023, 5, 10)),
                                                  (date(2023, 5, 11), date(2023, 6, 30)),
                                                  (None, None), (date(2023, 12, 1), date(2023, 12, 31))]):
        service.update_phase(plan, phase, starts_on=start, ends_on=end, body="")
    section = "突出主要负责人第一责任带动企业全员安全生产岗位责任落实"
    service.save_clause(plan, section=section, title="研究组织本企业重大事故隐患排查整治",
                        body="主要负责人每季度要带队检查至少1次（高危行业领域企业每月至少1次）。",
                        rule="principal_inspection", rule_value=INSPECTION)
    service.save_clause(plan, section=section, title="组织开展事故应急救援演练活动",
                        body="至少组织开展1次事故应急救援预案演练（高危行业领域企业每半年至少1次）。",
                        rule="drill", rule_value=DRILL)
    service.save_clause(plan, section="调度通报", title="调度通报",
                        body="每月5日前上报截至上月末的累计情况。", rule="dispatch_report", rule_value=MONTHLY_REPORT)
    session.flush()
    return plan


def clause_with(plan, rule):
    return next(i.clause for i in service.effective_clauses(plan) if i.clause.rule == rule)


@pytest.fixture
def streets(session, tree, make_tenant):
    """甲区 with three streets (甲街道 and two more) and a street of 甲街道's own (a village)."""
    extra = [make_tenant(tree["a"], kind="street", name=name) for name in ("甲二街道", "甲三街道")]
    return [tree["a_street"], *extra]


class People(dict):
    """Users made on first use (hashing a password takes a while): 甲区's admin assigns, 甲街道's
    staff receives, the others may not act."""

    WHERE = {"district": ("a", "admin"), "district_leader": ("a", "leader"),
             "district_discipline": ("a", "discipline"), "street": ("a_street", "staff"),
             "street_inspector": ("a_street", "inspector"), "principal": ("a_shop", "principal"),
             "sibling": ("b", "admin")}

    def __init__(self, tree, make_user):
        super().__init__()
        self.tree, self.make_user = tree, make_user

    def __missing__(self, key):
        unit, role = self.WHERE[key]
        self[key] = self.make_user(self.tree[unit], role=role)
        return self[key]


@pytest.fixture
def people(session, tree, make_user):
    return People(tree, make_user)


def first_phase_of(plan, name):
    return next(p for p in plan.phases if p.name == name)


def assign(tree, people, national, receivers, *, deadline=date(2023, 6, 30), key="k", **kw):
    """甲区 assigns a task in the self-inspection phase (ends 2023-06-30)."""
    phase = first_phase_of(national, "企业自查自改")
    return service.create_task(tree["a"], membership(people["district"]), title=kw.pop("title", "制定本街道专项行动方案并动员部署"),
                               body="请于截止日期前上报方案和动员部署情况。", deadline=deadline, phase_id=phase.id,
                               receiver_ids=[r.id for r in receivers], request_key=key, **kw)


def assignment_of(session, task, receiver):
    from portal.plans.models import Assignment
    return session.execute(select(Assignment).where(Assignment.task_id == task.id,
                                                    Assignment.tenant_id == receiver.id)).scalar_one()


def sample_records(session, tree, street_staff, district_admin) -> dict:
    """One record of every plans model inside 甲区 (for the access matrix): 甲区's plan with its
    phases and a clause, a task with a file assigned to 甲街道, reported with evidence, notified."""
    from portal.plans.models import Assignment, Notification, TaskAttachment
    campaign = service.create_campaign(tree["root"], name="甲区矩阵专项行动", starts_on=date(2023, 5, 1),
                                       ends_on=date(2099, 12, 31))
    plan = service.create_plan(tree["a"], campaign, title="甲区机密方案", issuer="甲区安委会")
    clause = service.save_clause(plan, section="甲区部分", title="甲区机密条款", body="内容", rule="drill",
                                 rule_value={"all": {"times": 1, "per": "quarter"}})
    task = service.create_task(tree["a"], membership(district_admin), title="甲区机密任务", body="内容",
                               deadline=date(2099, 12, 31), phase_id=plan.phases[0].id,
                               receiver_ids=[tree["a_street"].id], request_key="matrix",
                               files=[("甲区机密附件.pdf", b"%PDF-1.7 secret")])
    assignment = session.execute(select(Assignment).where(Assignment.task_id == task.id)).scalar_one()
    service.sign(assignment, membership(street_staff))
    service.report(assignment, membership(street_staff), body="甲街道上报", files=[("甲街道证据.pdf", b"%PDF-1.7 x")])
    notification = session.execute(select(Notification).where(Notification.tenant_id == tree["a_street"].id)
                                   .order_by(Notification.id)).scalars().first()
    service.mark_read(membership(street_staff), notification)
    attachment = session.execute(select(TaskAttachment).where(TaskAttachment.task_id == task.id)).scalar_one()
    return {"plan_id": [plan.id], "clause_id": [clause.id], "phase_id": [plan.phases[0].id], "task_id": [task.id],
            "file_id": [attachment.id], "assignment_id": [assignment.id], "notification_id": [notification.id]}
