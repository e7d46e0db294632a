"""The demo's plans are the seeds' plans: what each level issued, what it tightened, and 河东区's task
to its 13 streets in every state."""
from datetime import date

import pytest
from sqlalchemy import select

from portal.plans import rules, service
from portal.plans.models import Assignment, Campaign, Plan, Task
from tenants.models import Tenant


def _one(session, model, **where):
    return session.execute(select(model).filter_by(**where)).scalar_one()


@pytest.fixture
def demo(session, seeded):
    return {name: _one(session, Tenant, name=name) for name in (
        "国务院安委会", "天津市", "河东区", "河北区", "河北区商务局", "积翠镇", "东丽区经济技术开发区")}


def test_the_national_plan_has_its_fifteen_tasks_four_phases_and_the_monthly_table(session, demo):
    campaign = _one(session, Campaign, name="重大事故隐患专项排查整治2023行动")
    national = _one(session, Plan, tenant_id=demo["国务院安委会"].id, campaign_id=campaign.id)
    sections = service.sections(service.effective_clauses(national))
    assert [len(items) for _, items in sections] == [5, 5, 5, 1]
    assert [p.name for p in national.phases] == ["动员部署", "企业自查自改和部门帮扶", "部门精准执法", "总结提高"]
    assert national.phases[0].ends_on == date(2023, 5, 10) and national.phases[3].starts_on == date(2023, 12, 1)
    report = service.effective_rule(demo["天津市"], campaign.id, "dispatch_report")
    assert rules.describe("dispatch_report", report) == "每月 5 日前上报上月情况（累计数据）"


def test_each_level_implements_the_one_above_and_tightens_as_its_document_says(session, demo):
    campaign = _one(session, Campaign, name="重大事故隐患专项排查整治2023行动")
    plan_of = {name: service.effective_plan(t, campaign.id) for name, t in demo.items() if name != "东丽区经济技术开发区"}
    assert plan_of["河东区"].parent_plan.tenant.name == "天津市"
    assert plan_of["天津市"].parent_plan.tenant.name == "国务院安委会"
    assert plan_of["河北区商务局"].parent_plan.tenant.name == "天津市"
    assert plan_of["积翠镇"].parent_plan.tenant.name == "国务院安委会" and plan_of["积翠镇"].doc_number == "方积政发〔2023〕11号"
    rule = lambda name, code: rules.describe(code, service.effective_rule(demo[name], campaign.id, code))  # noqa: E731
    assert rule("河东区", "drill") == "每年至少 1 次（高危行业领域企业每季度至少 1 次）"
    assert rule("河北区", "drill") == "每年至少 1 次（高危行业领域企业每半年至少 1 次）"
    assert rule("河东区", "key_post_check") == "每月至少 1 次"
    assert rule("河北区商务局", "dispatch_report") == "每周一上报（累计数据）"
    assert rule("河东区", "dispatch_report") == "每半月上报（累计数据）"
    assert rule("积翠镇", "principal_inspection") == "每月至少 1 次（高危行业领域企业每月至少 1 次）"
    assert rule("积翠镇", "progress_circular") == "每季度至少 1 次"
    three_year = _one(session, Campaign, name="安全生产治本攻坚三年行动（2024—2026年）")
    zone = demo["东丽区经济技术开发区"]
    assert rules.describe("dispatch_report", service.effective_rule(zone, three_year.id, "dispatch_report")) \
        == "每季度末月 25 日前上报当季情况"
    tightened = [i.clause.title for i in service.effective_clauses(plan_of["河东区"])
                 if i.owner.id == plan_of["河东区"].id and i.tightened]
    assert tightened == ["组织对动火等危险作业开展排查整治", "组织开展事故应急救援演练活动", "严格督导问效"]


def test_hedong_assigned_its_thirteen_streets_and_the_board_counts_them(session, demo):
    task = _one(session, Task, tenant_id=demo["河东区"].id, title="制定本街道专项行动方案并动员部署")
    before = service.rollups([task.id], date(2023, 5, 25))[task.id]
    # 已上报 1, 退回后重新办理 and 办理中 2, 待签收 1 (README).
    assert before.sentence() == "13 个街道：已办结 9，已上报 1，办理中 2，待签收 1，逾期 0"
    after = service.rollups([task.id], date(2023, 6, 1))[task.id]
    assert after.sentence() == "13 个街道：已办结 9，已上报 0，办理中 0，待签收 0，逾期 4"
    states = sorted(a.state for a in session.execute(select(Assignment).where(Assignment.task_id == task.id)).scalars())
    assert states.count("done") == 9 and {"pending", "in_progress", "reported"} <= set(states)
    dawangzhuang = _one(session, Assignment, task_id=task.id, tenant_id=_one(session, Tenant, name="大王庄街道").id)
    passed = service.sub_rollups([dawangzhuang.id], date(2023, 5, 25))[dawangzhuang.id]
    assert passed.total == 3 and passed.noun == "企业"
