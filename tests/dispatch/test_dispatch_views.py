"""The dispatch pages as a department and its district use them: derived rows filled, manual rows
typed and checked (422 with the message, nothing written), submit, approve, drill-down, history,
exports; another district's table and submissions are 404; the weekly table due by Monday noon;
a reminder in the units' bell; a spot-check number opening exactly the records behind it."""
import html
import re
from datetime import date, datetime

import pytest

from portal.dispatch import service
from portal.dispatch.models import ManualFigure, ReportSubmission
from portal.exports.models import ExportDocument
from tenants import clock
from tests.conftest import login, post
from tests.dispatch.test_dispatch_figures import _hazard

TODAY = date(2024, 6, 3)  # a Monday: 甲区's weekly table is due by noon


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    """Freeze the one clock at 10:00 in Beijing on TODAY; returns a function that moves it."""
    def at(moment: datetime):
        monkeypatch.setattr(clock, "now", lambda: moment)
    at(datetime(2024, 6, 3, 2))
    return at


def test_a_department_types_and_submits_and_the_district_approves(session, client, tree, weekly, make_user):
    _hazard(session, tree["a_shop"], found=date(2024, 5, 30))
    dept_user, district_user = make_user(tree["a_dept"], role="staff"), make_user(tree["a"], role="leader")
    session.flush()
    url = f"/dispatch/{weekly.id}/units/{tree['a_dept'].id}"
    login(client, dept_user)
    page = client.get(url).get_data(as_text=True)
    assert "甲区重大事故隐患专项排查整治行动进展情况调度表" in page and "截至 2024-06-03" in page
    assert 'data-code="hazards.self_found"' in page
    bad = post(client, url + "/figures", {"period": "2024-06-03", "lead__study_sessions": "-2"})
    assert bad.status_code == 422 and "不能为负数" in bad.get_data(as_text=True)
    assert session.query(ManualFigure).count() == 0
    ok = post(client, url + "/figures", {"period": "2024-06-03", "lead__study_sessions": "2",
                                         "lead__media_column": "是"})
    assert ok.status_code == 303
    assert post(client, url + "/submit?period=2024-06-03").status_code == 303
    again = post(client, url + "/submit?period=2024-06-03")
    assert again.status_code == 422 and "不能重复上报" in again.get_data(as_text=True)
    future = post(client, url + "/figures", {"period": "2024-06-10", "lead__study_sessions": "1"})
    assert future.status_code == 422 and "尚未开始" in future.get_data(as_text=True)

    client.get("/logout")
    login(client, district_user)
    board = client.get(f"/dispatch/{weekly.id}/units/{tree['a'].id}").get_data(as_text=True)
    assert "甲区商务局" in board and "已报" in board and "甲街道" in board and "未报" in board
    sub = session.query(ReportSubmission).filter_by(tenant_id=tree["a_dept"].id, status="submitted").one()
    assert post(client, f"/dispatch/submissions/{sub.id}/approve").status_code == 303
    session.refresh(sub)
    assert sub.status == "approved"
    drill = client.get(f"/dispatch/{weekly.id}/units/{tree['a'].id}/rows/lead.study_sessions?period=2024-06-03")
    assert drill.status_code == 200 and "甲区商务局" in drill.get_data(as_text=True)
    assert ">2<" in drill.get_data(as_text=True)
    # Derived numbers open the records behind them.
    for code, target in (("hazards.self_found", "/hazards/?within="), ("enf.penalties.amount", "/inspections/"),
                         ("spot.no_drill", "/inspections/?")):
        page = client.get(f"/dispatch/{weekly.id}/units/{tree['a'].id}/rows/{code}?period=2024-06-03")
        assert page.status_code == 200 and target in page.get_data(as_text=True), code
    history = client.get(f"/dispatch/{weekly.id}/units/{tree['a'].id}/history/hazards.self_found")
    assert history.status_code == 200 and "<svg" in history.get_data(as_text=True)
    xlsx = post(client, f"/dispatch/{weekly.id}/units/{tree['a'].id}/export",
                {"period": "2024-06-03", "file_type": "xlsx", "children": "y"})
    assert xlsx.status_code == 303
    doc = session.query(ExportDocument).order_by(ExportDocument.id.desc()).first()
    assert doc.status == "done" and doc.content[:2] == b"PK"


def test_another_district_sees_nothing(session, client, tree, weekly, national, make_user):
    b_user = make_user(tree["b"], role="leader")
    sub = service.submit(weekly, tree["a_dept"], service.period_of(weekly, TODAY),
                         make_user(tree["a_dept"], role="staff").memberships[0])
    session.flush()
    login(client, b_user)
    assert client.get(f"/dispatch/{weekly.id}/units/{tree['a'].id}").status_code == 404
    assert client.get(f"/dispatch/{national.id}/units/{tree['a'].id}").status_code == 404
    assert post(client, f"/dispatch/submissions/{sub.id}/approve").status_code == 404
    assert client.get(f"/dispatch/{national.id}/units/{tree['b'].id}").status_code == 200


def test_the_weekly_table_is_due_by_noon_on_its_monday(session, client, tree, weekly, national, make_user, frozen):
    """河北区: 每周一中午前. 11:59 on the Monday is on time, 12:01 is late, and the board says 逾期
    from noon on; a monthly table stays due by the end of its due day."""
    street, dept = (make_user(tree[k], role="staff").memberships[0] for k in ("a_street", "a_dept"))
    leader = make_user(tree["a"], role="leader")
    week = service.period_of(weekly, date(2024, 7, 1))
    assert week.deadline == datetime(2024, 7, 1, 4)  # 12:00 in Beijing
    assert service.period_of(national, date(2024, 6, 30)).deadline == datetime(2024, 7, 5, 16)  # 7-06 00:00
    frozen(datetime(2024, 7, 1, 3, 59))
    assert not service.submit(weekly, tree["a_street"], week, street).late
    assert [r.state for r in service.board(weekly, tree["a"], week)] == ["submitted", "pending"]
    frozen(datetime(2024, 7, 1, 4, 1))
    login(client, leader)
    page = client.get(f"/dispatch/{weekly.id}/units/{tree['a'].id}").get_data(as_text=True)
    assert "截止上报 2024-07-01 12:00" in page
    assert '<span class="badge danger">逾期</span>' in page
    assert service.submit(weekly, tree["a_dept"], week, dept).late
    monthly = client.get(f"/dispatch/{national.id}/units/{tree['a'].id}?period=2024-06-30").get_data(as_text=True)
    assert "截止上报 2024-07-05" in monthly and "2024-07-05 12:00" not in monthly


def test_a_reminder_rings_the_bell_of_the_units_that_have_not_reported(session, client, tree, weekly, make_user):
    leader, dept_user = make_user(tree["a"], role="leader"), make_user(tree["a_dept"], role="staff")
    b_user = make_user(tree["b"], role="leader")
    login(client, leader)
    assert post(client, f"/dispatch/{weekly.id}/units/{tree['a'].id}/remind?period=2024-06-03").status_code == 303
    assert client.get("/notifications/count").get_data(as_text=True) == ""  # the sender is not told
    again = post(client, f"/dispatch/{weekly.id}/units/{tree['a'].id}/remind?period=2024-06-03")
    assert again.status_code == 422 and "今天已催报过" in again.get_data(as_text=True)

    client.get("/logout")
    login(client, dept_user)
    assert "1 条未读" in client.get("/notifications/count").get_data(as_text=True)
    html = client.get("/notifications/").get_data(as_text=True)
    assert "催报" in html and "甲区催报：请上报《甲区重大事故隐患专项排查整治行动进展情况调度表》（截至 2024-06-03）" in html
    note_id = re.search(r"/notifications/(\d+)/read", html).group(1)
    opened = post(client, f"/notifications/{note_id}/read")
    table = f"/dispatch/{weekly.id}/units/{tree['a_dept'].id}?period=2024-06-03"
    assert opened.status_code == 303 and opened.headers["Location"] == table
    page = client.get(table)
    assert page.status_code == 200 and "上级已于 2024-06-03 催报" in page.get_data(as_text=True)
    assert client.get("/notifications/count").get_data(as_text=True) == ""

    client.get("/logout")
    login(client, b_user)
    assert client.get("/notifications/count").get_data(as_text=True) == ""


def _listed(page: str) -> list[tuple[str, str, str]]:
    """(date, enterprise, inspecting unit) of each row of the inspections list."""
    return re.findall(r"<td>(\d{4}-\d\d-\d\d)</td><td>([^<]*)</td><td>([^<]*)</td>", page)


def test_a_spot_check_number_opens_exactly_the_records_that_make_it(session, client, national, history, frozen):
    """甲区's spot-check rows count its own units' signed checks (not the city's check of an
    enterprise inside 甲区, not a draft, not one before the campaign), by enterprise; the list the
    drill-down opens holds those records and names as many enterprises as the number."""
    t = history["tree"]
    frozen(datetime(2024, 7, 3, 2))
    login(client, history["leader"].user)
    base = f"/dispatch/{national.id}/units/{t['a'].id}/rows/"
    for code, number, rows in (
            ("spot.no_drill", 2, [("2024-04-01", "甲二化工", "甲区应急管理局"), ("2024-03-01", "甲化工厂", "甲区应急管理局")]),
            ("spot.principal_not_led", 1, [("2024-05-01", "甲化工厂", "甲区应急管理局"),
                                           ("2024-03-01", "甲化工厂", "甲区应急管理局")]),
            ("spot.enterprises", 2, None)):
        drill = client.get(base + code + "?period=2024-06-30").get_data(as_text=True)
        assert f'<strong id="value">{number}</strong>' in drill, code
        link = html.unescape(re.search(r'<a class="button" href="([^"]+)">查看抽查记录</a>', drill).group(1))
        assert "by_unit=1" in link and "start=2024-01-01" in link and "end=2024-06-30" in link
        listed = client.get(link)
        page = listed.get_data(as_text=True)
        assert listed.status_code == 200 and f"涉及企业 {number} 家" in page, code
        assert "检查单位：甲区及其下级单位" in page
        if rows is not None:
            assert _listed(page) == rows, code
    # By the inspected enterprise instead, 甲区's list also holds the city's check of 甲化工厂.
    by_enterprise = client.get("/inspections/?within=%d&status=signed&kind=spot&finding=spot.no_drill&start=2024-01-01"
                               % t["a"].id).get_data(as_text=True)
    assert ("2024-03-10", "甲化工厂", "市应急管理局") in _listed(by_enterprise) and "涉及企业 2 家" in by_enterprise
    bad = client.get("/inspections/?start=2024-13-01")
    assert bad.status_code == 422 and "检查日期格式应为 年-月-日" in bad.get_data(as_text=True)
    assert client.get("/inspections/?start=2024-06-30&end=2024-01-01").status_code == 422
    assert client.get(f"/inspections/?within={t['b'].id}&by_unit=1").status_code == 404
