"""The demo's lists and duty records: templates from the seeds at three levels, signed and revised
lists, and the findings the street sees (an expired certificate, a missed quarterly inspection …)."""
from sqlalchemy import func, select

from portal.checklists import service
from portal.checklists.models import ChecklistFill, ChecklistItem, ComplianceFinding, DutyRecord
from portal.demo import seed
from tenants.models import Tenant


def _one(session, **where):
    return session.execute(select(Tenant).filter_by(**where)).scalar_one()


def _counts(session):
    return [session.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (ChecklistItem, ChecklistFill, DutyRecord, ComplianceFinding)]


def test_demo_lists_duties_and_findings(session, seeded):
    wanda = _one(session, name="天津河东万达广场商业管理有限公司")
    titles = [li.item.title for li in service.effective_items(wanda, "campaign_tasks")]
    assert len(titles) == 9 and titles[0] == "研究组织本企业重大事故隐患排查整治"
    assert titles[5] == "加强劳务派遣和灵活用工人员安全管理" and titles[-1] == "参加街道组织的商场、市场消防安全专题培训"
    hebei_shop = _one(session, name="天津市河北区望海楼商贸有限公司")
    assert len(service.effective_items(hebei_shop, "campaign_tasks")) == 5
    assert service.current_fill(wanda, "deputy_duties").signed
    assert service.current_fill(wanda, "campaign_tasks") is None
    jinhua = _one(session, name="天津市河东区津化化工产品经营有限公司")
    assert [(v.version, v.status) for v in service.versions(jinhua, "campaign_tasks")] == [(2, "draft"), (1, "signed")]
    texts = {}
    for f in session.execute(select(ComplianceFinding).where(ComplianceFinding.resolved_on.is_(None))).scalars():
        texts[f.tenant.name] = texts.get(f.tenant.name, "") + f.text + "；"
    assert texts["天津市河东区津化化工产品经营有限公司"].startswith("特种作业人员 王某 焊工证 已过期")
    assert "未签订安全生产协议" in texts["天津市河东区城建工程有限公司"]
    assert "劳务派遣人员 马某 培训考核不合格" in texts["天津市河东区城建工程有限公司"]
    assert "不熟悉安全逃生出口" in texts["天津市河东区安泰液化石油气供应站"]
    # The store inspected in the quarter before last, not in the last one.
    assert "主要负责人未带队检查" in texts["天津市河东区中山门百货商场有限公司"]
    before = _counts(session)
    seed()
    session.flush()
    assert _counts(session) == before
