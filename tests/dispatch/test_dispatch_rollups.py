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
    assert service.refresh_rollups(TODAY) == 3  # root, province, city for the June table
    rows = session.execute(select(DispatchRollup).order_by(DispatchRollup.tenant_id)).scalars().all()
    assert [r.tenant_id for r in rows] == [tree["root"].id, tree["province"].id, tree["city"].id]
    assert {(r.span_start, r.span_end) for r in rows} == {(date(2024, 1, 1), date(2024, 6, 30))}
    assert all(r.figures["total"]["hazards.self_found"] == "1" for r in rows)


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
