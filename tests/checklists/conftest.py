"""A campaign whose national plan sets the principal's inspection and drill rules, templates at
three levels, and users of the enterprises and the levels above them."""
from datetime import date, datetime

import pytest

from portal.checklists import service
from portal.plans import service as plans
from tenants import clock

# The last day of the third quarter: the boundary every periodic rule is tested at.
QUARTER_END = date(2026, 9, 30)
INSPECTION = {"all": {"times": 1, "per": "quarter"}, "high_risk": {"times": 1, "per": "month"}}
DRILL = {"all": {"times": 1, "per": "year"}, "high_risk": {"times": 1, "per": "half_year"}}
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db40000000049454e44ae426082")


@pytest.fixture
def frozen(monkeypatch):
    """Freeze tenants.clock at a Beijing day; returns the function that moves it."""
    def set_today(day: date):
        monkeypatch.setattr(clock, "now", lambda: datetime(day.year, day.month, day.day, 2))
    set_today(QUARTER_END)
    return set_today


@pytest.fixture
def campaign(session, tree):
    # Begins with the second quarter, so the periods before it are never judged.
    return plans.create_campaign(tree["root"], name="重大事故隐患专项排查整治2026行动", starts_on=date(2026, 4, 1),
                                 ends_on=date(2026, 12, 31))


def registered(*enterprises, on=date(2026, 1, 1)):
    """Enterprises registered on the platform before the campaign: every period of it is judged."""
    for e in enterprises:
        e.created_at = datetime(on.year, on.month, on.day)


@pytest.fixture
def national(session, tree, campaign):
    """The national plan: quarterly inspections (monthly when high-risk), yearly drills (half-yearly)."""
    registered(tree["a_shop"], tree["a_plant"], tree["b_shop"])
    plan = plans.create_plan(tree["root"], campaign, title="重大事故隐患专项排查整治2026行动总体方案", issuer="国务院安全生产委员会")
    plans.save_clause(plan, section="企业主体责任", title="主要负责人带队检查", body="每季度至少1次（高危每月）。",
                      rule="principal_inspection", rule_value=INSPECTION)
    plans.save_clause(plan, section="企业主体责任", title="应急演练", body="每年至少1次（高危每半年）。",
                      rule="drill", rule_value=DRILL)
    session.flush()
    return plan


def tighten(tenant, campaign, national, code, value):
    """`tenant` issues its own plan and makes the rule `code` stricter (积翠镇, 河东区)."""
    plan = plans.effective_plan(tenant, campaign.id)
    if plan is None or plan.tenant_id != tenant.id:
        plan = plans.create_plan(tenant, campaign, title=f"{tenant.name}实施方案", issuer=tenant.name)
    clause = next(i.clause for i in plans.effective_clauses(plan) if i.clause.rule == code)
    plans.save_clause(plan, replaces=clause, title=clause.title, body="从严。", rule_value=value)


@pytest.fixture
def lists(session, tree):
    """专项行动工作清单 at three levels: two national items, one of 甲区 (proof by file), two of 甲街道."""
    root, a, street = tree["root"], tree["a"], tree["a_street"]
    items = {
        "national_1": service.add_item(root, "campaign_tasks", title="研究组织本企业重大事故隐患排查整治", evidence="text"),
        "national_2": service.add_item(root, "campaign_tasks", title="组织开展事故应急救援演练活动", evidence="none"),
        "district": service.add_item(a, "campaign_tasks", title="加强劳务派遣和灵活用工人员安全管理", evidence="file"),
        "street_1": service.add_item(street, "campaign_tasks", title="每月向街道报送隐患台账"),
        "street_2": service.add_item(street, "campaign_tasks", title="参加街道安全生产专题培训"),
    }
    session.flush()
    return items


def fill_all(fill, today=QUARTER_END, **overrides):
    """Answer every item of the fill's list completely, a file for each."""
    for li in service.effective_items(fill.tenant, fill.kind):
        values = dict(responsible_name="张建华", responsible_post="总经理", state="done", evidence_text="已落实，见附件。",
                      evidence_date=today, files=[("证明.png", PNG)])
        values.update(overrides)
        service.save_entry(fill, li.item, today=today, **values)


def sample_records(session, tree) -> dict:
    """One of each checklist record inside 甲区, for the access matrix. Returns its URL parameters."""
    shop = tree["a_shop"]
    item = service.add_item(tree["a"], "campaign_tasks", title="甲区机密清单事项", evidence="file")
    fill = service.start(shop, "campaign_tasks")
    service.save_entry(fill, item, responsible_name="甲区机密责任人", responsible_post="总经理", state="done",
                       files=[("甲区机密证明.png", PNG)], today=QUARTER_END)
    duty = service.record_duty(shop, "inspection", occurred_on=QUARTER_END, person="甲区机密带队人", subject="全厂",
                               today=QUARTER_END)
    worker = service.add_worker(shop, name="甲区机密焊工", work_type="welding", certificate_no="T0",
                                expires_on=date(2026, 2, 1), today=date(2026, 1, 1))
    service.refresh([shop], QUARTER_END)
    session.flush()
    return {"fill_id": [fill.id], "item_id": [item.id], "duty_id": [duty.id], "worker_id": [worker.id],
            "list_kind": ["campaign_tasks", "leadership_duties"], "duty": ["inspection"]}
