"""Kept figures: a district and every level above keep their figures, equal to counting them live;
a write logs where it changed in its own transaction; the refresh recounts the changed districts
and re-sums the levels above; a page shows kept figures while a change has waited at most a
minute; the inspecting unit's path copy follows a moved node."""
from datetime import date, datetime, timedelta

from sqlalchemy import select

from portal.dispatch import service
from portal.dispatch.models import DispatchChange, DispatchRollup
from portal.hazards import service as hazards
from portal.hazards.models import Hazard
from portal.inspections import service as inspections
from tenants import clock, inherit
from tenants.paths import move
from tenants.scope import Scope, scoped_as
from tests.conftest import login
from tests.dispatch.test_dispatch_figures import _hazard, _records, _tip, member_of

TODAY = date(2024, 7, 3)
NOON = datetime(2024, 7, 3, 4)  # 12:00 in Beijing


def _at(monkeypatch, moment):
    monkeypatch.setattr(clock, "now", lambda: moment)


def _changes(session) -> list[str]:
    return sorted(session.execute(select(DispatchChange.path)).scalars())


def _computed(session, tenant, end=date(2024, 6, 30)):
    return session.execute(select(DispatchRollup.computed_at).where(
        DispatchRollup.tenant_id == tenant.id, DispatchRollup.span_end == end)).scalar_one()


def _assert_exact(national, nodes, june):
    """Each node's page shows, kept, exactly what compute() counts live in the node's scope."""
    for node in nodes:
        with scoped_as(Scope.of(node, "staff")):
            figures, as_of = service.shown(national, node, june, TODAY)
            assert as_of is None, node.name
            assert service.frozen(figures) == service.frozen(service.compute(node, *service.span(national, june))), \
                node.name


def test_kept_figures_equal_live_counting_at_every_level(session, history, national, make_tenant, make_user,
                                                         monkeypatch):
    t = history["tree"]
    _records(session, t)
    # Records of a level's own part: an enterprise under the city itself; the city's department's
    # inspections (in history) check 甲区's plant, which 甲区 checked too: counted once above.
    city_shop = make_tenant(t["city"], kind="enterprise", name="市直企业")
    _hazard(session, city_shop, found=date(2024, 6, 2))
    # 乙区 set its own stock cut-off: the levels above count its hazards with theirs.
    inherit.set_value(t["b"], hazards.STOCK_CUTOFF, "2023-06-01")
    _hazard(session, t["b_shop"], found=date(2023, 9, 1))
    session.flush()
    june = service.parse_period(national, "2024-06-30", TODAY)
    nodes = (t["a"], t["b"], t["city"], t["province"], t["root"])
    _at(monkeypatch, NOON)
    service.refresh_rollups(TODAY)
    _assert_exact(national, nodes, june)

    # Added, changed and deleted under both districts, and approved typed figures.
    _hazard(session, t["b_shop"], source="department", found=date(2024, 6, 5))
    _tip(session, t["b_street"], 9, "2", False, date(2024, 6, 9))
    open_one = session.execute(select(Hazard).where(Hazard.tenant_id == t["a_shop"].id,
                                                    Hazard.found_at == date(2024, 5, 1))).scalar_one()
    open_one.status, open_one.accepted_on, open_one.closed_on = "closed", date(2024, 6, 10), date(2024, 6, 10)
    session.delete(session.execute(select(Hazard).where(Hazard.tenant_id == t["a_plant"].id,
                                                        Hazard.found_at == date(2024, 2, 1))).scalar_one())
    street = member_of(make_user(t["a_street"], role="staff"))
    service.save_manual(national, t["a_street"], june, {"lead.study_sessions": "2"})
    sub = service.submit(national, t["a_street"], june, street, NOON)
    service.approve(sub, member_of(make_user(t["a"], role="leader")))
    session.flush()
    service.refresh_rollups(TODAY)
    _assert_exact(national, nodes, june)
    assert service.shown(national, t["root"], june, TODAY)[0].get("lead.tip_rewards") > 0


def test_a_write_logs_its_place_in_its_own_transaction_and_the_refresh_recounts_only_there(
        session, tree, national, monkeypatch):
    _at(monkeypatch, NOON)
    assert service.refresh_rollups(TODAY) == 5 * 6  # root, province, city, 甲区, 乙区 × January … June
    assert _changes(session) == []

    rolled_back = session.begin_nested()
    _hazard(session, tree["b_shop"], found=date(2024, 6, 1))
    session.flush()
    assert _changes(session) == [tree["b_shop"].path]
    rolled_back.rollback()
    assert _changes(session) == []

    _hazard(session, tree["a_shop"], found=date(2024, 6, 1))
    session.commit()
    assert _changes(session) == [tree["a_shop"].path]
    _at(monkeypatch, NOON + timedelta(seconds=30))
    # 甲区 and the levels above it, for the current period only; 乙区 is not counted again.
    assert service.refresh_rollups(TODAY) == 4
    assert _changes(session) == []
    assert _computed(session, tree["a"]) == _computed(session, tree["root"]) == NOON + timedelta(seconds=30)
    assert _computed(session, tree["b"]) == _computed(session, tree["a"], date(2024, 5, 31)) == NOON
    june = service.parse_period(national, "2024-06-30", TODAY)
    assert service.shown(national, tree["root"], june, TODAY)[0].get("hazards.self_found") == 1
    # Nothing logged: nothing counted.
    assert service.refresh_rollups(TODAY) == 0


def test_the_refresh_counts_the_current_period_first_and_the_history_as_time_allows(session, tree, national,
                                                                                  monkeypatch):
    _at(monkeypatch, NOON)
    # No time for the history: the June table of root, province, city, 甲区 and 乙区 only.
    assert service.refresh_rollups(TODAY, history=timedelta(0)) == 5
    assert {r.span_end for r in session.execute(select(DispatchRollup)).scalars()} == {date(2024, 6, 30)}
    # The next run counts January to May once.
    assert service.refresh_rollups(TODAY) == 5 * 5
    assert service.refresh_rollups(TODAY) == 0


def test_a_page_shows_kept_figures_while_a_change_waits_at_most_a_minute(session, tree, national, monkeypatch):
    june = service.parse_period(national, "2024-06-30", TODAY)
    _hazard(session, tree["a_shop"], found=date(2024, 5, 1))
    session.flush()
    _at(monkeypatch, NOON)
    service.refresh_rollups(TODAY)
    assert service.shown(national, tree["city"], june, TODAY) == (service.compute(tree["city"], *service.span(
        national, june)), None)

    _hazard(session, tree["a_plant"], found=date(2024, 6, 1))
    session.flush()
    _at(monkeypatch, NOON + timedelta(seconds=59))
    figures, as_of = service.shown(national, tree["city"], june, TODAY)
    assert (figures.get("hazards.self_found"), as_of) == (1, NOON)  # exact as of the waiting change, and says so
    # A district counts live as soon as a change below it waits.
    assert service.shown(national, tree["a"], june, TODAY)[0].get("hazards.self_found") == 2
    assert service.shown(national, tree["a"], june, TODAY)[1] is None

    _at(monkeypatch, NOON + timedelta(seconds=61))
    figures, as_of = service.shown(national, tree["city"], june, TODAY)
    assert (figures.get("hazards.self_found"), as_of) == (2, None)  # waited too long: counted live


def test_a_history_reads_earlier_periods_from_their_kept_figures(session, tree, national, monkeypatch):
    _hazard(session, tree["a_shop"], found=date(2024, 2, 1))
    session.flush()
    _at(monkeypatch, NOON)
    service.refresh_rollups(TODAY)
    _hazard(session, tree["a_shop"], found=date(2024, 1, 15))  # recorded late: earlier periods are counted once
    session.flush()
    _at(monkeypatch, NOON + timedelta(seconds=30))
    service.refresh_rollups(TODAY)
    for node in (tree["city"], tree["a"]):
        points = service.series(national, node, "hazards.self_found", TODAY)
        assert [(p.end.month, v, as_of) for p, v, as_of in points] == [
            (1, 0, NOON), (2, 1, NOON), (3, 1, NOON), (4, 1, NOON), (5, 1, NOON), (6, 2, None)]


def test_the_page_says_when_the_figures_were_counted(session, client, tree, national, make_user, monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    _at(monkeypatch, NOON)
    staff = make_user(tree["city"], role="staff")
    url = f"/dispatch/{national.id}/units/{tree['city'].id}?period=2024-06-30"
    service.refresh_rollups(TODAY)
    _hazard(session, tree["a_shop"], found=date(2024, 6, 1))
    session.commit()
    login(client, staff)
    _at(monkeypatch, NOON + timedelta(seconds=20))
    assert "数据截至 2024-07-03 12:00（此后的变动每 30 秒计入一次）" in client.get(url).get_data(as_text=True)
    service.refresh_rollups(TODAY)
    assert "数据为实时统计" in client.get(url).get_data(as_text=True)


def test_a_moved_unit_takes_its_inspections_along(session, tree, inspect, field):
    inspect(on=date(2024, 3, 1), kind="spot", findings=("spot.no_drill",))
    before = inspections.dispatch_figures(tree["a"], date(2024, 1, 1), date(2024, 12, 31))
    assert before.get("spot.enterprises") == 1
    move(field["tree"]["a_emergency"], tree["b"])
    session.flush()
    assert inspections.dispatch_figures(tree["a"], date(2024, 1, 1), date(2024, 12, 31)).get("spot.enterprises") == 0
    assert inspections.dispatch_figures(tree["b"], date(2024, 1, 1), date(2024, 12, 31)).get("spot.enterprises") == 1


def test_the_refresh_command_commits_each_count(app, session, tree, national, monkeypatch):
    _hazard(session, tree["a_shop"], found=date(2024, 5, 1))
    session.commit()
    _at(monkeypatch, NOON)
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    result = app.test_cli_runner().invoke(args=["dispatch", "rollup"])
    assert result.exit_code == 0, result.output
    assert "更新完成：30 个单位" in result.output
    root = session.execute(select(DispatchRollup).where(DispatchRollup.tenant_id == tree["root"].id,
                                                        DispatchRollup.span_end == date(2024, 6, 30))).scalar_one()
    assert (root.figures["total"]["hazards.self_found"], root.computed_at) == ("1", NOON)
