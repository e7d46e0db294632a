"""Typing, submitting, approving and returning tables; bad input refused with nothing written;
locking and supersession when the records change after approval; reminders; the Excel layout."""
import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, select

from portal.dispatch import service
from portal.dispatch.models import ManualFigure
from portal.exports import jobs
from portal.plans.models import Notification
from tenants.models import Tenant
from tests.dispatch.test_dispatch_figures import _hazard, member_of
from tests.exports.test_pdf import pdf_text

TODAY = date(2024, 7, 3)
NOW = datetime(2024, 7, 3, 2)  # 10:00 in Beijing


@pytest.fixture
def people(session, tree, make_user):
    return {"street": member_of(make_user(tree["a_street"], role="staff")),
            "dept": member_of(make_user(tree["a_dept"], role="staff")),
            "a": member_of(make_user(tree["a"], role="leader")),
            "b": member_of(make_user(tree["b"], role="leader")),
            "city": member_of(make_user(tree["city"], role="leader"))}


def _refused(fn, *args, match):
    with pytest.raises(service.DispatchError, match=match):
        fn(*args)


def test_bad_manual_input_is_refused_and_nothing_is_written(session, tree, national):
    june = service.parse_period(national, "2024-06-30", TODAY)
    a = tree["a"]
    _refused(service.save_manual, national, a, june, {"lead.study_sessions": "-1"}, match="不能为负数")
    _refused(service.save_manual, national, a, june, {"lead.study_sessions": "三"}, match="应填写数字")
    _refused(service.save_manual, national, a, june, {"lead.study_sessions": "1.5"}, match="应为整数")
    _refused(service.save_manual, national, a, june, {"lead.media_column": "有"}, match="是”或“否")
    _refused(service.save_manual, national, a, june, {"hazards.self_found": "3"}, match="自动统计，不能手工填写")
    _refused(service.save_manual, national, a, june, {"lead.study_sessions": "2", "lead.inspectors": "x"},
             match="应填写数字")
    _refused(service.save_manual, national, tree["a_shop"], june, {"lead.study_sessions": "1"}, match="不填报")
    assert session.query(ManualFigure).count() == 0
    _refused(service.parse_period, national, "2024-08-31", TODAY, match="尚未开始")
    _refused(service.parse_period, national, "2024-06-29", TODAY, match="不是本调度表的报告期截止日")
    _refused(service.parse_period, national, "2023-12-31", TODAY, match="开始上报（2024-01-01）之前")


def test_submit_approve_lock_and_return(session, tree, national, people):
    june = service.parse_period(national, "2024-06-30", TODAY)
    street = tree["a_street"]
    service.save_manual(national, street, june, {"lead.study_sessions": "2"})
    sub = service.submit(national, street, june, people["street"], NOW)
    assert sub.status == "submitted" and not sub.late  # due 7-05
    _refused(service.submit, national, street, june, people["street"], NOW, match="不能重复上报")
    _refused(service.save_manual, national, street, june, {"lead.study_sessions": "3"}, match="等待上级审核")
    _refused(service.approve, sub, people["b"], match="上一级")
    _refused(service.approve, sub, people["city"], match="上一级")
    _refused(service.return_, sub, people["a"], " ", match="原因")
    service.return_(sub, people["a"], "专题学习次数与台账不符")
    assert sub.status == "returned" and sub.figures is None
    service.save_manual(national, street, june, {"lead.study_sessions": "3"})
    sub = service.submit(national, street, june, people["street"], datetime(2024, 7, 5, 16))  # 7-06 00:00
    assert sub.late
    service.approve(sub, people["a"])
    assert sub.status == "approved"
    _refused(service.save_manual, national, street, june, {"lead.study_sessions": "4"}, match="锁定")
    _refused(service.approve, sub, people["a"], match="没有待审核")
    assert service.table(national, tree["a"], june).get("lead.study_sessions") == 3


def test_a_change_after_approval_shows_in_the_next_table_and_supersedes_the_locked_one(session, tree, national,
                                                                                         people):
    hazard = _hazard(session, tree["a_shop"], found=date(2024, 6, 10), accepted=date(2024, 6, 20))
    session.flush()
    june = service.parse_period(national, "2024-06-30", TODAY)
    sub = service.submit(national, tree["a_street"], june, people["street"], NOW)
    service.approve(sub, people["a"])
    assert sub.figures["total"]["hazards.self_rectified"] == "1"
    # 反销号: the hazard is re-opened after the period was locked.
    hazard.accepted_on, hazard.status = None, "rectifying"
    session.flush()
    assert sub.figures["total"]["hazards.self_rectified"] == "1"  # the locked table does not move
    july = service.parse_period(national, "2024-07-31", date(2024, 8, 2))
    later = service.submit(national, tree["a_street"], july, people["street"], datetime(2024, 8, 2, 2))
    assert later.corrections == {"2024-06-30": {"hazards.self_rectified": ["1", "0"]}}
    assert sub.superseded_by_id == later.id
    assert later.figures["total"]["hazards.self_rectified"] == "0"


def test_board_and_reminders(session, tree, national, people):
    june = service.parse_period(national, "2024-06-30", TODAY)
    service.submit(national, tree["a_street"], june, people["street"], NOW)
    states = {r.unit.name: r.state_label for r in service.board(national, tree["a"], june, NOW)}
    assert states == {"甲街道": "已报", "甲区商务局": "未报"}
    late = {r.unit.name: r.state_label for r in service.board(national, tree["a"], june, datetime(2024, 7, 5, 16))}
    assert late == {"甲街道": "已报", "甲区商务局": "逾期"}
    assert [u.name for u in service.remind(national, tree["a"], june, people["a"], NOW)] == ["甲区商务局"]
    _refused(service.remind, national, tree["a"], june, people["a"], NOW, match="没有需要催报")


def test_excel_reproduces_the_form_cell_by_cell(session, tree, national, weekly):
    _hazard(session, tree["a_shop"], found=date(2024, 6, 10), accepted=date(2024, 6, 20))
    session.flush()
    june = service.period_of(national, date(2024, 6, 30))
    data = service.write_xlsx(national, june, [("甲区", service.table(national, tree["a"], june))])
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["A1"].value == "全国重大事故隐患专项排查整治行动进展情况调度表"
    assert ws["A2"].value == "填报单位：甲区" and ws["M2"].value == "时间：2024年6月30日"
    # The national table counts some rows by level: a header over each row's figure cells.
    assert [ws.cell(3, c).value for c in range(2, 14)] == [None, None, "合计", "省级", "市级", "县级"] * 2
    assert ws["A4"].value == "总体情况" and "A4:A6" in ws.merged_cells
    assert [ws.cell(4, c).value for c in range(2, 14)] == [
        1, "企业自查发现的重大事故隐患（个）", 1, None, None, None,
        2, "企业自查发现重大事故隐患中已完成整改的（个）", 1, None, None, None]
    assert [ws.cell(6, c).value for c in range(2, 8)] == [5, "政府挂牌督办的重大事故隐患（个）", 0, 0, 0, 0]
    assert ws["A7"].value == "对企业自查自改进行抽查情况" and ws.cell(10, 9).value == "未按规定开展应急演练、员工不熟悉逃生出口（家）"
    assert ws["A11"].value == "部门精准严格执法情况"
    assert ws.cell(12, 3).value == "行政处罚（次，万元）" and ws.cell(12, 4).value == "0 / 0.00"
    assert ws.cell(14, 9).value == "公布典型执法案例（个），其中危险作业罪案例（个）"
    assert ws["A16"].value == "党委政府组织领导情况"
    assert ws.cell(18, 3).value == "举报奖励（万元），其中匿名举报查实奖励（万元）" and ws.cell(18, 4).value == "0.00 / 0.00"
    assert ws.cell(18, 10).value == "否"
    # The weekly table has its extra row 2.9 on a line of its own; with children, a column each.
    week = service.period_of(weekly, date(2024, 6, 24))
    columns = [(t.name, service.table(weekly, t, week)) for t in (tree["a"], tree["a_street"], tree["a_dept"])]
    ws = load_workbook(io.BytesIO(service.write_xlsx(weekly, week, columns))).active
    assert [ws.cell(3, c).value for c in range(4, 7)] == ["甲区", "甲街道", "甲区商务局"]
    labels = [ws.cell(r, 3).value for r in range(4, ws.max_row + 1)]
    assert "未按规定比例提取安全生产费用（家）" in labels
    row = 4 + labels.index("企业自查发现重大事故隐患中已完成整改的（个）")
    assert [ws.cell(row, c).value for c in range(4, 7)] == [1, 1, 1]


def test_excel_gives_each_level_figure_a_cell_of_its_own(session, tree, national, people):
    june = service.parse_period(national, "2024-06-30", TODAY)
    service.save_manual(national, tree["city"], june, {"lead.study_sessions": "2"})
    service.save_manual(national, tree["a"], june, {"lead.study_sessions": "3"})
    service.approve(service.submit(national, tree["a"], june, people["a"], NOW), people["city"])
    columns = [(t.name, service.table(national, t, june)) for t in (tree["city"], tree["a"], tree["b"])]
    ws = load_workbook(io.BytesIO(service.write_xlsx(national, june, columns))).active
    assert [ws.cell(3, c).value for c in (4, 8, 12)] == ["某市辖区", "甲区", "乙区"] and "D3:G3" in ws.merged_cells
    assert [ws.cell(4, c).value for c in range(4, 16)] == ["合计", "省级", "市级", "县级"] * 3
    labels = [ws.cell(r, 3).value for r in range(5, ws.max_row + 1)]
    row = 5 + labels.index("省、市、县党委政府分别组织专题学习安全生产十五条硬措施（次）")
    assert [ws.cell(row, c).value for c in range(4, 16)] == [5, 0, 2, 3, 3, 0, 0, 3, 0, 0, 0, 0]
    # Numbers, not text: Excel sums the levels to the total.
    assert sum(ws.cell(row, c).value for c in (5, 6, 7)) == ws.cell(row, 4).value
    # A row the form does not split leaves its level cells empty.
    row = 5 + labels.index("组织开展考核巡查督导检查（次）")
    assert [ws.cell(row, c).value for c in range(4, 8)] == [0, None, None, None]
    # The PDF prints the same rows, the levels under the label.
    doc = service.request_export(national, tree["city"], june, "pdf", True)
    jobs.run(doc.id, people["city"].id)
    text = pdf_text(doc.content)
    assert "市级：2 / 0 / 0" in text and "县级：3 / 3 / 0" in text


def test_the_fillers_of_a_table_are_exactly_the_units_it_is_in_force_for(session, tree, national, weekly):
    """fillers (the daily reminder's list) agrees with reporting_definitions unit by unit: 甲区's own
    weekly table takes its streets and departments off the national one."""
    units = session.execute(select(Tenant)).scalars().all()
    for definition in (national, weekly):
        assert {t.id for t in service.fillers(definition)} == {t.id for t in units if service.fills(definition, t)}
    assert tree["a_dept"] in service.fillers(weekly) and tree["a_dept"] not in service.fillers(national)
    assert tree["b_street"] in service.fillers(national)


def test_the_daily_reminder_tells_each_unit_that_has_not_filed_the_period_due(session, tree, national, people):
    june = service.parse_period(national, "2024-06-30", TODAY)
    service.submit(national, tree["a_street"], june, people["street"], NOW)
    unfiled = [t for t in service.fillers(national) if t != tree["a_street"]]
    # 2024-07-05 08:30 Beijing, the national table's due day for June.
    assert service.notify_unfiled(datetime(2024, 7, 5, 0, 30)) == len(unfiled)
    notes = session.execute(select(Notification).where(Notification.kind == "overdue")).scalars().all()
    assert {n.tenant_id for n in notes} == {t.id for t in unfiled}
    dept = next(n for n in notes if n.tenant_id == tree["a_dept"].id)
    assert dept.text == f"《{national.name}》（截至 2024-06-30）今天截止（2024-07-05），请按时上报"
    assert dept.link == service.table_link(national, tree["a_dept"], june)
    # The next morning it is late; counting no 催报 against the unit.
    session.execute(delete(Notification))
    assert service.notify_unfiled(datetime(2024, 7, 6, 0, 30)) == len(unfiled)
    dept = session.execute(select(Notification).where(Notification.tenant_id == tree["a_dept"].id)).scalar_one()
    assert dept.text == f"《{national.name}》（截至 2024-06-30）已逾期未报，请尽快上报"
    assert service.submission(national, tree["a_dept"], june) is None
    # Before the table's first period falls due nobody is told.
    session.execute(delete(Notification))
    assert service.notify_unfiled(datetime(2024, 1, 20, 0, 30)) == 0
