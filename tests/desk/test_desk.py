"""The desk: each role sees its panels, and every count opens a page listing exactly the records
it counted (the same number), on the demo's data."""
import re

import pytest
from sqlalchemy import select

from portal.auth.models import User
from portal.demo import PASSWORD, seed
from portal.dispatch import service as dispatch
from portal.plans.models import Campaign
from tenants.models import Tenant
from tests.conftest import IsolatedClient, login

# Demo accounts, one per kind of desk: the panels each must show.
DESKS = {
    "hedong_admin": {"tasks", "dispatch", "hazards", "targets", "duties", "tips", "accidents", "letters"},
    "hedong_leader": {"tasks", "dispatch", "hazards", "targets", "duties", "accidents", "letters"},
    "hedong_staff": {"tasks", "dispatch", "hazards", "targets", "duties", "tips", "accidents", "letters"},
    "hedong_inspector": {"hazards", "targets", "duties", "accidents"},
    "hedong_discipline": {"hazards", "targets", "duties", "accidents", "letters"},
    "hedong_principal": {"todo", "tasks", "hazards", "letters"},
    "hebei_commerce": {"tasks", "dispatch", "hazards", "targets", "duties", "tips", "accidents", "letters"},
}


@pytest.fixture
def demo(session):
    seed()
    session.flush()


def _user(session, username):
    return session.execute(select(User).where(User.username == username)).scalar_one()


def _client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


def _counts(html: str) -> list[tuple[str, int, str]]:
    """(label, figure, link) of every linked count on the desk."""
    return [(label, int(value), href.replace("&amp;", "&")) for href, label, value in re.findall(
        r'<a href="([^"]+)" data-count="([^"]+)"><strong>(\d+)</strong>', html)]


def _listed(html: str) -> int:
    """How many records the opened list page says it lists."""
    board = re.search(r"下级上报情况：\S+ (\d+) 个单位", html)
    if board:
        return int(board.group(1))
    return int(re.search(r"共 (\d+) 条", html).group(1))


def test_every_count_opens_exactly_its_records(demo, session, app):
    # One seed for every desk (it takes seconds): a client of its own per account.
    for username, panels in DESKS.items():
        client = _client(app)
        login(client, _user(session, username), PASSWORD)
        page = client.get("/")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert set(re.findall(r'data-panel="(\w+)"', html)) == panels, username
        counts = _counts(html)
        assert counts, f"{username}: a desk with nothing to follow"
        for label, value, href in counts:
            opened = client.get(href)
            assert opened.status_code == 200, (label, href)
            text = opened.get_data(as_text=True)
            if href.startswith("/dispatch/") and "board=" not in href:
                # The unit's own table for the period it has not filed.
                assert value == 1 and re.search(r'id="status">(未报|已退回)<', text), (username, label)
            else:
                assert _listed(text) == value, (username, label, href)


def test_a_table_still_running_shows_its_units_not_reported(demo, session, app):
    hedong = session.execute(select(Tenant).where(Tenant.name == "河东区")).scalar_one()
    three_year = session.execute(select(Campaign).where(Campaign.name.contains("三年行动"))).scalar_one()
    dispatch.create_definition(hedong, three_year, name="河东区三年行动月报", period="month", due_day=5,
                               rows=["stock.open", "increment.found"], fillers=["street"])
    session.flush()
    client = _client(app)
    login(client, _user(session, "hedong_admin"), PASSWORD)
    html = client.get("/desk?panel=dispatch", headers={"HX-Request": "true"}).get_data(as_text=True)
    counts = [c for c in _counts(html) if "河东区三年行动月报" in c[0]]
    assert {label.rsplit("下级", 1)[1] for label, _, _ in counts} == {"逾期", "未报"}
    assert sum(value for _, value, _ in counts) == 13  # every street: none has reported yet
    for label, value, href in counts:
        assert _listed(client.get(href).get_data(as_text=True)) == value, (label, href)


def test_demo_district_admin_has_overdue_hazards_and_a_new_accident(demo, session, client):
    login(client, _user(session, "hedong_admin"), PASSWORD)
    counts = {label: value for label, value, _ in _counts(client.get("/").get_data(as_text=True))}
    assert counts["逾期未整改"] > 0
    assert counts["近 30 日事故"] == 1  # 铁厂化工's fire, 20 days ago


def test_a_panel_alone_for_htmx_and_its_refresh_needs_the_panel_to_be_the_users(demo, session, client):
    login(client, _user(session, "hedong_principal"), PASSWORD)
    alone = client.get("/desk?panel=todo", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-panel="todo"' in alone and "<html" not in alone
    assert "本企业待办" in alone
    # An enterprise has no dispatch panel: asking for it is a 404, not someone else's figures.
    assert client.get("/desk?panel=dispatch", headers={"HX-Request": "true"}).status_code == 404
    assert client.get("/desk?panel=nothing").status_code == 404


def test_the_enterprise_to_dos_are_its_own_earliest_deadline_first(demo, session, client):
    login(client, _user(session, "jinhua_principal"), PASSWORD)
    html = client.get("/desk?panel=todo", headers={"HX-Request": "true"}).get_data(as_text=True)
    deadlines = re.findall(r'data-label="期限">(\d{4}-\d\d-\d\d)', html)
    assert deadlines == sorted(deadlines)
    for href in re.findall(r'href="(/(?:hazards|assignments)/\d+)"', html):
        assert client.get(href).status_code == 200
