"""Large levels read a roll-up no older than an hour (数据截至 on the page); a typed figure or an
approval below drops it at once; `flask dispatch rollup` refreshes every large level; the
inspecting unit's path copy follows a moved node."""
from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal.dispatch import service
from portal.dispatch.models import DispatchRollup
from portal.inspections import service as inspections
from tenants import clock
from tenants.paths import move
from tenants.scope import Scope, scoped_as
from tests.conftest import login, post
from tests.dispatch.test_dispatch_figures import _hazard, member_of

TODAY = date(2024, 7, 3)
NOON = datetime(2024, 7, 3, 4)  # 12:00 in Beijing


def _at(monkeypatch, moment):
    monkeypatch.setattr(clock, "now", lambda: moment)


def test_a_large_level_shows_its_rollup_for_an_hour_then_counts_live(session, tree, national, monkeypatch):
    june = service.parse_period(national, "2024-06-30", TODAY)
    _hazard(session, tree["a_shop"], found=date(2024, 5, 1))
    session.flush()
    _at(monkeypatch, NOON)
    service.refresh_rollup(national, tree["city"], june)
    assert service.shown(national, tree["city"], june)[0].get("hazards.self_found") == 1

    _hazard(session, tree["a_plant"], found=date(2024, 6, 1))
    session.flush()
    _at(monkeypatch, NOON + timedelta(minutes=59))
    figures, as_of = service.shown(national, tree["city"], june)
    assert (figures.get("hazards.self_found"), as_of) == (1, NOON)  # counted at noon, and says so
    # A district is always counted live.
    assert service.shown(national, tree["a"], june)[1] is None
    assert service.shown(national, tree["a"], june)[0].get("hazards.self_found") == 2

    _at(monkeypatch, NOON + timedelta(minutes=61))
    figures, as_of = service.shown(national, tree["city"], june)
    assert (figures.get("hazards.self_found"), as_of) == (2, None)  # too old: counted live


def test_typed_figures_and_approvals_drop_the_rollups_above(session, tree, national, make_user, monkeypatch):
    june = service.parse_period(national, "2024-06-30", TODAY)
    _at(monkeypatch, NOON)
    for node in (tree["root"], tree["province"], tree["city"]):
        service.refresh_rollup(national, node, june)
    service.refresh_rollup(national, tree["city"], service.parse_period(national, "2024-05-31", TODAY))
    with scoped_as(Scope.of(tree["a"], "staff")):  # as 甲区 types it: the levels above are not its own
        service.save_manual(national, tree["a"], june, {"lead.study_sessions": "2"})
    assert session.execute(select(DispatchRollup)).scalars().all() == []

    service.refresh_rollup(national, tree["city"], june)
    street = member_of(make_user(tree["a_street"], role="staff"))
    service.save_manual(national, tree["a_street"], june, {"lead.study_sessions": "1"})
    service.refresh_rollup(national, tree["city"], june)
    sub = service.submit(national, tree["a_street"], june, street, NOON)
    assert service.shown(national, tree["city"], june)[1] == NOON  # a submission changes nothing above yet
    service.approve(sub, member_of(make_user(tree["a"], role="leader")))
    assert service.shown(national, tree["city"], june)[1] is None


def test_the_rollup_command_counts_every_large_level(session, app, tree, national, monkeypatch):
    _hazard(session, tree["a_shop"], found=date(2024, 5, 1))
    session.flush()
    _at(monkeypatch, NOON)
    # Root, province and city: the June table (reported until 7-05), and once January to May.
    assert len(list(service.refresh_rollups(TODAY))) == 3 * 6
    rows = session.execute(select(DispatchRollup)).scalars().all()
    assert {r.tenant_id for r in rows} == {tree["root"].id, tree["province"].id, tree["city"].id}
    assert {(r.span_start, r.span_end.month) for r in rows} == {(date(2024, 1, 1), m) for m in range(1, 7)}
    assert {r.figures["total"]["hazards.self_found"] for r in rows if r.span_end.month >= 5} == {"1"}
    assert {r.figures["total"]["hazards.self_found"] for r in rows if r.span_end.month < 5} == {"0"}
    # Later runs count only the current period again.
    _at(monkeypatch, NOON + timedelta(minutes=30))
    assert len(list(service.refresh_rollups(TODAY))) == 3
    assert {r.computed_at for r in rows if r.span_end.month == 6} == {NOON + timedelta(minutes=30)}
    assert {r.computed_at for r in rows if r.span_end.month < 6} == {NOON}


def test_a_large_level_history_reads_earlier_periods_from_their_rollups(session, tree, national, monkeypatch):
    _hazard(session, tree["a_shop"], found=date(2024, 2, 1))
    session.flush()
    _at(monkeypatch, NOON)
    list(service.refresh_rollups(TODAY))
    _hazard(session, tree["a_shop"], found=date(2024, 1, 15))  # recorded late: the roll-ups don't know it
    session.flush()
    _at(monkeypatch, NOON + timedelta(hours=5))
    points = service.series(national, tree["city"], "hazards.self_found", TODAY)
    assert [(p.end.month, v, as_of) for p, v, as_of in points] == [
        (1, 0, NOON), (2, 1, NOON), (3, 1, NOON), (4, 1, NOON), (5, 1, NOON), (6, 2, None)]
    # A district always counts live.
    assert [v for _, v, _ in service.series(national, tree["a"], "hazards.self_found", TODAY)] == [1, 2, 2, 2, 2, 2]


def test_the_page_says_when_the_figures_were_counted(session, client, tree, national, make_user, monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    _at(monkeypatch, NOON)
    staff = make_user(tree["city"], role="staff")
    discipline = make_user(tree["city"], role="discipline")
    url = f"/dispatch/{national.id}/units/{tree['city'].id}"
    login(client, staff)
    page = client.get(url).get_data(as_text=True)
    assert "数据为实时统计" in page
    response = post(client, f"{url}/rollup?period=2024-06-30")
    assert response.status_code == 303
    page = client.get(url + "?period=2024-06-30").get_data(as_text=True)
    assert "数据截至 2024-07-03 12:00" in page
    # A district has no roll-up to refresh.
    assert post(client, f"/dispatch/{national.id}/units/{tree['a'].id}/rollup?period=2024-06-30").status_code == 404
    post(client, "/logout")
    login(client, discipline)
    assert post(client, f"{url}/rollup?period=2024-06-30").status_code == 403


def test_a_moved_unit_takes_its_inspections_along(session, tree, inspect, field):
    inspect(on=date(2024, 3, 1), kind="spot", findings=("spot.no_drill",))
    before = inspections.dispatch_figures(tree["a"], date(2024, 1, 1), date(2024, 12, 31))
    assert before.get("spot.enterprises") == 1
    move(field["tree"]["a_emergency"], tree["b"])
    session.flush()
    assert inspections.dispatch_figures(tree["a"], date(2024, 1, 1), date(2024, 12, 31)).get("spot.enterprises") == 0
    assert inspections.dispatch_figures(tree["b"], date(2024, 1, 1), date(2024, 12, 31)).get("spot.enterprises") == 1


def test_the_rollup_command_commits_each_count(app, session, tree, national, monkeypatch):
    _hazard(session, tree["a_shop"], found=date(2024, 5, 1))
    session.commit()
    _at(monkeypatch, NOON)
    result = app.test_cli_runner().invoke(args=["dispatch", "rollup"])
    assert result.exit_code == 0, result.output
    assert "汇总完成：18 个单位" in result.output
    root = session.execute(select(DispatchRollup).where(DispatchRollup.tenant_id == tree["root"].id,
                                                        DispatchRollup.span_end == date(2024, 6, 30))).scalar_one()
    assert (root.figures["total"]["hazards.self_found"], root.computed_at) == ("1", NOON)
