"""Three-year targets: the figures per node and year, the units below furthest from target first,
the warning as the stock deadline nears, and every figure opening exactly its hazards."""
import re
from datetime import date

from portal.targets import service
from tests.conftest import login
from tests.hazards.conftest import people, standards  # noqa: F401  (fixtures)
from tests.hazards.test_figures import ledger  # noqa: F401  (fixture)
from tenants.scope import Scope, scoped_as


def _hand_built(ledger, make_tenant, t):  # noqa: F811
    """甲街道: one stock hazard cleared, one left; 丙街道: three left; increments in 2023 and 2024."""
    t["c_street"] = make_tenant(t["a"], kind="street", name="丙街道")
    t["c_shop"] = make_tenant(t["c_street"], kind="enterprise", name="丙商场", industry="commerce")
    ledger(found=date(2023, 6, 1), status="closed", accepted=date(2024, 2, 1), closed=date(2024, 2, 3))
    ledger(found=date(2023, 9, 1))
    for _ in range(3):
        ledger(enterprise="c_shop", found=date(2023, 10, 1))
    ledger(found=date(2024, 4, 1), deadline=date(2024, 5, 1))  # 2024 increment, overdue by the year's end
    ledger(enterprise="c_shop", found=date(2024, 8, 1), status="closed", accepted=date(2024, 8, 9),
           closed=date(2024, 8, 10))
    ledger(enterprise="b_shop", found=date(2023, 1, 1))  # 乙区: never counted for 甲区


def test_a_district_and_its_streets_furthest_from_target_first(session, people, ledger, make_tenant):  # noqa: F811
    t = people["tree"]
    _hand_built(ledger, make_tenant, t)
    with scoped_as(Scope.of(t["a"], "admin")):
        mine = service.progress(t["a"], 2024, today=date(2026, 1, 10))
        assert (mine.stock, mine.stock_open, mine.stock_cleared) == (5, 4, 1)
        assert (mine.increment, mine.increment_before, mine.overdue) == (2, 0, 1)
        assert not mine.on_target and not mine.dynamic_zero and mine.stock_done_percent == 20
        units = service.units_below(t["a"], 2024, today=date(2026, 1, 10))
    assert [p.unit.name for p in units] == ["丙街道", "甲街道"]
    c, a = units
    assert (c.stock_open, c.stock_cleared, c.increment, c.overdue) == (3, 0, 1, 0)
    assert (a.stock_open, a.stock_cleared, a.increment, a.overdue) == (1, 1, 1, 1)


def test_the_stock_deadline_warns_as_it_nears_and_after_it_passes(session, people, ledger, make_tenant):  # noqa: F811
    t = people["tree"]
    _hand_built(ledger, make_tenant, t)
    with scoped_as(Scope.of(t["a"], "admin")):
        assert service.warning(service.progress(t["a"], 2024, today=date(2024, 6, 1)), date(2024, 6, 1)) is None
        tone, text = service.warning(service.progress(t["a"], 2024, today=date(2024, 11, 1)), date(2024, 11, 1))
        assert tone == "warn" and "还有 60 天" in text and "4 项" in text
        tone, text = service.warning(service.progress(t["a"], 2025, today=date(2025, 1, 2)), date(2025, 1, 2))
        assert tone == "danger" and "期限已过" in text
        street = service.progress(t["a_street"], 2025, today=date(2025, 3, 1))
    assert street.stock_open == 1


def test_every_figure_opens_exactly_its_hazards(session, people, ledger, make_tenant, client, make_user):  # noqa: F811
    t = people["tree"]
    _hand_built(ledger, make_tenant, t)
    admin = make_user(t["a"], role="admin")
    session.commit()
    login(client, admin)
    html = client.get("/targets/?year=2024").get_data(as_text=True)
    assert "丙街道" in html and "2024年底前全面消除" in html
    assert html.index("丙街道") < html.index("甲街道")
    links = re.findall(r'<a href="([^"]+)" data-figure="[^"]+">(\d+)</a>', html)
    assert len(links) == 5 + 4 * 2  # the district's five figures, four for each street
    for href, value in links:
        listed = client.get(href.replace("&amp;", "&")).get_data(as_text=True)
        assert int(re.search(r"共 (\d+) 条", listed).group(1)) == int(value), href
    # A sibling district's street is not a node this admin may open.
    assert client.get(f"/targets/?within={t['b_street'].id}").status_code == 404
