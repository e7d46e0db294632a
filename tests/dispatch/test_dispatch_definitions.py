"""Tables defined in the app: composed from the catalogue of rows, extending a parent table
without dropping or loosening it, filled by the kinds of unit the owner chose (a village under a
street sends the district's table straight to the district), and versioned once filed on. The
pages answer 422 with every message and write nothing on bad input; every change is audited."""
import re
from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.auth import service as auth
from portal.dispatch import service
from portal.dispatch.models import ReportDefinition, ReportSubmission
from portal.extensions import db
from portal.plans.models import Campaign
from tenants import clock
from tenants.models import Tenant
from tenants.paths import attach
from tests.conftest import login, post, race, refused, unique
from tests.dispatch.test_dispatch_figures import member_of

TODAY = date(2024, 6, 5)


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: datetime(2024, 6, 5, 2))


def _spec(**fields):
    base = dict(name="甲区每周调度表", rows=["hazards.self_found", "lead.study_sessions"], period="week", due_day=1,
                due_time=time(12), fillers=["village"], cumulative=True)
    base.update(fields)
    return service.TableSpec(**base)


def _refused(fn, *args, match):
    with pytest.raises(service.DispatchError, match=match):
        fn(*args)


def test_a_table_composed_from_the_catalogue_puts_each_row_under_its_block(session, tree, campaign):
    d = service.create_definition(tree["a"], campaign, _spec(rows=["zero.reached", "lead.study_sessions",
                                                                   "hazards.self_found", "stock.open"]))
    assert [(b["title"], [r["code"] for r in b["rows"]]) for b in d.layout] == [
        ("总体情况", ["hazards.self_found"]), ("组织领导情况", ["lead.study_sessions"]),
        ("治本攻坚三年行动重大事故隐患存量、增量和动态清零情况", ["stock.open", "zero.reached"])]
    assert d.series_id == d.id and d.version == 1 and d.fillers == ["village"]
    event = session.query(AuditEvent).filter_by(action="dispatch.defined").one()
    assert event.data["due"] == "每周一 12:00前上报" and event.data["rows"] == service.codes(d)


def test_every_row_of_dispatch_rows_md_is_in_the_catalogue():
    listed = {"hazards.self_found", "hazards.self_rectified", "hazards.dept_found", "hazards.dept_rectified",
              "hazards.listed", "hazards.listed_rectified", "spot.enterprises", "spot.principal_not_studied",
              "spot.principal_not_led", "spot.no_duty_list", "spot.no_safety_staff", "spot.uncertified_welders",
              "spot.outsourcing_chaos", "spot.no_drill", "spot.no_safety_fund", "enf.assist_areas",
              "enf.assist_enterprises", "enf.penalties", "enf.double_penalties", "enf.referred_persons",
              "enf.suspended", "enf.exposed", "enf.cases_published", "enf.accountable_persons", "enf.interviews",
              "lead.study_sessions", "lead.principal_studies", "lead.site_supervision", "lead.enterprise_briefings",
              "lead.tip_rewards", "lead.media_column", "lead.inspectors", "lead.supervision_rounds"}
    assert listed <= set(service.METRICS)
    assert {code for _, _, rows in service.catalogue() for code, _ in rows} == set(service.METRICS)


def test_bad_definitions_are_refused_with_every_message_and_nothing_written(session, tree, campaign):
    before = session.query(ReportDefinition).count()
    with pytest.raises(service.DispatchError) as e:
        service.create_definition(tree["a"], campaign, _spec(name=" ", rows=[], due_day=None, fillers=[],
                                                             starts_on=date(2024, 5, 1), ends_on=date(2024, 4, 1)))
    message = str(e.value)
    for part in ("请填写调度表名称", "每周上报请选择截止的星期几", "不能早于开始上报日期", "请选择由哪些下级单位填报",
                 "请至少选择一行"):
        assert part in message
    _refused(service.create_definition, tree["a_street"], campaign, _spec(fillers=["district"]),
             match="甲街道之下没有这类单位：区县")
    _refused(service.create_definition, tree["a"], campaign, _spec(period="year", due_month=2, due_day=30),
             match="有效的截止日期")
    _refused(service.create_definition, tree["a"], campaign, _spec(period="month", due_day=None), match="次月的截止日")
    _refused(service.create_definition, tree["a"], campaign, _spec(rows=["hazards.nothing"]), match="未知的调度表行")
    assert session.query(ReportDefinition).count() == before


def test_a_child_table_keeps_its_parents_rows_and_may_not_report_less_often(session, tree, campaign):
    parent = service.create_definition(tree["city"], campaign, _spec(
        name="市月报", rows=["hazards.self_found", "stock.open"], period="month", due_day=5, due_time=None,
        fillers=["district", "street"]))
    _refused(service.create_definition, tree["a"], campaign, _spec(parent=parent, rows=["hazards.self_found"]),
             match="不得删减上级调度表的行：2023年及以前")
    both = ["hazards.self_found", "stock.open"]
    _refused(service.create_definition, tree["a"], campaign,
             _spec(parent=parent, rows=both, period="quarter", due_day=25), match="不得放宽上级调度表的上报要求")
    _refused(service.create_definition, tree["a"], campaign,
             _spec(parent=parent, rows=both, period="month", due_day=10, due_time=None),
             match="上级为“每月（次月 5 日前）上报”")
    _refused(service.create_definition, tree["a"], campaign, _spec(parent=parent, rows=both, cumulative=False),
             match="也须报累计数据")
    child = service.create_definition(tree["a"], campaign, _spec(parent=parent, rows=["lead.study_sessions", *both],
                                                                 fillers=["street"]))
    assert service.codes(child) == ["hazards.self_found", "stock.open", "lead.study_sessions"]
    # 甲区 fills the city's table; its street fills 甲区's, which holds every row of the city's.
    assert [d.id for d in service.reporting_definitions(tree["a"])] == [parent.id]
    assert [d.id for d in service.reporting_definitions(tree["a_street"])] == [child.id]
    _refused(service.create_definition, tree["b"], campaign, _spec(parent=child, rows=both), match="只能继承上级单位的调度表")
    # The city adds a row: 甲区's table gains it (nobody has filed, so in place).
    admin = member_of(make_admin(session, tree["city"]))
    spec = service.spec_of(parent)
    spec.rows = spec.rows + ["zero.reached"]
    service.change_definition(parent, spec, admin)
    assert "zero.reached" in service.codes(child) and child.version == 1


def make_admin(session, tenant):
    user = auth.create_user(tenant, username=f"admin{tenant.id}", display_name="管理员", password="Anquan@2023",
                            role="admin")
    session.flush()
    return user


def test_villages_under_a_street_send_the_districts_table_to_the_district(session, tree, campaign, make_tenant,
                                                                         make_user):
    village = make_tenant(tree["a_street"], kind="village", name="甲村")
    other = make_tenant(tree["a_street"], kind="village", name="乙村")
    station = make_tenant(tree["a_street"], kind="department", name="甲街道城建站")
    weekly = service.create_definition(tree["a"], campaign, _spec(fillers=["village", "station"]))
    assert service.filler_kind(station) == "station" and service.filler_kind(tree["a_dept"]) == "department"
    assert [d.id for d in service.reporting_definitions(village)] == [weekly.id]
    assert service.reporting_definitions(tree["a_street"]) == [] and service.reporting_definitions(tree["a_dept"]) == []
    period = service.current_period(weekly, TODAY)
    assert (period.start, period.end, period.due_label) == (date(2024, 6, 4), date(2024, 6, 10), "2024-06-10 12:00")
    board = service.board(weekly, tree["a"], period)
    assert [r.unit.name for r in board] == ["甲村", "乙村", "甲街道城建站"] and {r.state for r in board} == {"pending"}
    service.save_manual(weekly, village, period, {"lead.study_sessions": "2"})
    sub = service.submit(weekly, village, period, member_of(make_user(village, role="staff")))
    assert service.reviewer(weekly, village).id == tree["a"].id
    _refused(service.approve, sub, member_of(make_user(tree["a_street"], role="leader")), match="上一级（甲区）")
    service.approve(sub, member_of(make_user(tree["a"], role="leader")))
    assert [r.state for r in service.board(weekly, tree["a"], period)] == ["submitted", "pending", "pending"]
    assert other.id  # 乙村 has not filed


def test_changing_a_table_filed_on_makes_a_new_version_and_filed_periods_keep_theirs(session, tree, campaign,
                                                                                    make_tenant, make_user):
    village = make_tenant(tree["a_street"], kind="village", name="甲村")
    admin = member_of(make_user(tree["a"], role="admin"))
    weekly = service.create_definition(tree["a"], campaign, _spec())
    spec = service.spec_of(weekly)
    spec.name = "甲区每周调度表（村）"
    assert service.change_definition(weekly, spec, admin) is weekly and weekly.version == 1  # nobody filed: in place
    last_week = service.parse_period(weekly, "2024-06-03", TODAY)
    this_week = service.current_period(weekly, TODAY)
    filer = member_of(make_user(village, role="staff"))
    service.save_manual(weekly, village, last_week, {"lead.study_sessions": "1"})
    filed = service.submit(weekly, village, last_week, filer)
    draft = service.save_manual(weekly, village, this_week, {"lead.study_sessions": "4"})
    spec = service.spec_of(weekly)
    spec.rows = spec.rows + ["lead.inspectors"]
    v2 = service.change_definition(weekly, spec, admin)
    assert (v2.id != weekly.id, v2.version, v2.series_id, weekly.replaced_at is not None) == (True, 2, weekly.id, True)
    session.expire_all()
    assert session.get(ReportSubmission, filed.id).definition_id == weekly.id  # filed on version 1
    assert session.get(ReportSubmission, draft.id).definition_id == v2.id  # not filed: moves to version 2
    assert [d.id for d in service.definitions_for(village)] == [v2.id]
    assert service.submission(v2, village, last_week).id == filed.id
    _refused(service.change_definition, weekly, spec, admin, match="旧版本")
    events = [e.action for e in session.query(AuditEvent).order_by(AuditEvent.id)]
    assert events.count("dispatch.changed") == 1 and events.count("dispatch.versioned") == 1


def _form(**fields):
    data = {"name": "甲区村级周报", "campaign_id": "", "parent_id": "", "period": "week", "due_weekday": "1",
            "due_time": "12:00", "due_day": "", "due_month": "", "starts_on": "", "ends_on": "", "cumulative": "y",
            "fillers": ["village"], "rows": ["hazards.self_found", "stock.open", "lead.study_sessions"], "notes": ""}
    data.update(fields)
    return data


def test_the_definition_pages_validate_in_chinese_and_audit(session, client, tree, campaign, make_user):
    admin, staff = make_user(tree["a"], role="admin"), make_user(tree["a"], role="staff")
    login(client, staff)
    assert client.get("/dispatch/definitions/new").status_code == 403
    client.get("/logout")
    login(client, admin)
    page = client.get("/dispatch/definitions/new").get_data(as_text=True)
    assert "制定调度表" in page and "村/社区" in page and "站所" in page and "2023年及以前排查发现" in page
    before = session.query(ReportDefinition).count()
    bad = post(client, "/dispatch/definitions/new", _form(campaign_id=str(campaign.id), name="", due_day="40",
                                                          starts_on="2024-13-01"))
    assert bad.status_code == 422 and "此项必填" in bad.get_data(as_text=True)
    assert "截止日应为 1 到 31" in bad.get_data(as_text=True)
    bad = post(client, "/dispatch/definitions/new", _form(campaign_id=str(campaign.id), fillers=[], rows=[]))
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "请选择由哪些下级单位填报" in text and "请至少选择一行" in text
    assert session.query(ReportDefinition).count() == before
    done = post(client, "/dispatch/definitions/new", _form(campaign_id=str(campaign.id)))
    assert done.status_code == 303
    d = session.query(ReportDefinition).filter_by(name="甲区村级周报").one()
    assert (d.period, d.due_day, d.due_time, d.fillers) == ("week", 1, time(12), ["village"])
    index = client.get("/dispatch/").get_data(as_text=True)
    assert "每周一 12:00前上报" in index and "村/社区" in index
    edit = client.get(f"/dispatch/definitions/{d.id}/edit").get_data(as_text=True)
    assert re.search(r'value="stock.open" checked', edit)
    changed = post(client, f"/dispatch/definitions/{d.id}/edit", _form(period="quarter", due_day="25",
                                                                       due_time=""))
    session.expire_all()
    assert changed.status_code == 303 and (d.period, d.due_day, d.due_time) == ("quarter", 25, None)
    other = service.create_definition(tree["b"], campaign, _spec(name="乙区表"))
    assert client.get(f"/dispatch/definitions/{other.id}/edit").status_code == 404


def test_a_districts_typed_figures_hold_its_villages_past_a_street_that_does_not_fill(session, tree, campaign,
                                                                                     make_tenant, make_user):
    village = make_tenant(tree["a_street"], kind="village", name="甲村")
    weekly = service.create_definition(tree["a"], campaign, _spec())
    period = service.parse_period(weekly, "2024-06-03", TODAY)
    service.save_manual(weekly, village, period, {"lead.study_sessions": "3"})
    sub = service.submit(weekly, village, period, member_of(make_user(village, role="staff")))
    assert service.table(weekly, tree["a"], period).get("lead.study_sessions") == 0  # not yet accepted
    service.approve(sub, member_of(make_user(tree["a"], role="leader")))
    assert service.table(weekly, tree["a"], period).get("lead.study_sessions") == 3
    # The city above 甲区 gets them only through 甲区's own table, which 甲区 does not fill here.
    assert service.table(weekly, tree["city"], period).get("lead.study_sessions") == 0


def test_two_admins_changing_a_filed_table_at_once_make_one_new_version(committed_session):
    """Each in its own connection and transaction: one makes version 2, the other is refused."""
    district = attach(Tenant(kind="district", name=unique("并发区")), None)
    street = attach(Tenant(kind="street", name=unique("并发街道")), district)
    campaign = Campaign(name=unique("并发行动"), starts_on=date(2024, 1, 1), ends_on=date(2024, 12, 31))
    db.session.add(campaign)
    admins = [auth.create_user(district, username=unique("admin"), display_name="管理员", password="Anquan@2023",
                               role="admin").memberships[0] for _ in range(2)]
    table = service.create_definition(district, campaign, _spec(fillers=["street"]))
    period = service.period_of(table, date(2024, 6, 3))
    filer = auth.create_user(street, username=unique("staff"), display_name="街道", password="Anquan@2023",
                             role="staff").memberships[0]
    service.submit(table, street, period, filer, datetime(2024, 6, 3, 1))

    def adding(row):
        def act(definition, actor):
            spec = service.spec_of(definition)
            spec.rows = spec.rows + [row]
            return service.change_definition(definition, spec, actor)
        return act

    outcomes = race((adding("stock.open"), table, admins[0]), (adding("zero.overdue"), table, admins[1]))
    # PostgreSQL: both read version 1 at once, the loser's compare-and-set fails; SQLite queues them,
    # so the second finds version 1 replaced. Either way one is refused and told to use the new one.
    assert refused(outcomes) in (["该调度表刚刚已被他人修改，请刷新页面，在现行版本上修改。"], ["这是调度表的旧版本，请修改现行版本。"])
    versions = db.session.execute(select(ReportDefinition).where(ReportDefinition.series_id == table.id)
                                  .order_by(ReportDefinition.version)).scalars().all()
    assert [(d.version, d.replaced_at is None) for d in versions] == [(1, False), (2, True)]


def test_the_page_of_a_changed_table_shows_filed_periods_on_their_version(session, client, tree, campaign,
                                                                          make_tenant, make_user):
    village = make_tenant(tree["a_street"], kind="village", name="甲村")
    admin = member_of(make_user(tree["a"], role="admin"))
    weekly = service.create_definition(tree["a"], campaign, _spec())
    user = make_user(village, role="staff")
    last_week = service.parse_period(weekly, "2024-06-03", TODAY)
    service.submit(weekly, village, last_week, member_of(user))
    spec = service.spec_of(weekly)
    spec.rows = spec.rows + ["lead.inspectors"]
    v2 = service.change_definition(weekly, spec, admin)
    login(client, user)
    # The old version's link opens the table in force; this week has the new row to type.
    page = client.get(f"/dispatch/{weekly.id}/units/{village.id}").get_data(as_text=True)
    assert "配备专兼职技术检查员数量" in page and f"/dispatch/{v2.id}/units/{village.id}/figures" in page
    filed = client.get(f"/dispatch/{v2.id}/units/{village.id}?period=2024-06-03").get_data(as_text=True)
    assert "已报待审" in filed and "配备专兼职技术检查员数量" not in filed
