"""Drill-down: under every derived figure the records it counts, exactly (the same span, status
and scope): as many as the figure for a row counted in records, enterprises or people; adding up
to it for a row in 万元 or persons referred. The hazard ledger opened from a figure holds exactly
those hazards too (it used to drop the period and list more)."""
import html
import re
from datetime import date, datetime
from decimal import Decimal

import pytest

from portal.dispatch import service
from tenants import clock
from tests.conftest import login
from tests.dispatch.test_dispatch_figures import _hazard, _records

# Rows whose figure adds up a value of each record rather than counting them.
SUMMED = {"enf.penalties.amount", "enf.referred_persons", "lead.tip_rewards", "lead.tip_rewards.anonymous"}


@pytest.fixture
def everything(session, history, campaign):
    """The inspections' history of 甲区 (spot checks, enforcement, accountability), the hazards and
    tips of the national table's test, and three-year-action hazards: 2023 stock open and cleared,
    one overdue; one table with every derived row of the catalogue."""
    t = history["tree"]
    _records(session, t)
    _hazard(session, t["a_plant"], found=date(2023, 10, 1))  # stock, still open
    cleared = _hazard(session, t["a_shop"], found=date(2023, 9, 1), accepted=date(2024, 4, 1))
    cleared.status, cleared.closed_on = "closed", date(2024, 4, 2)
    late = _hazard(session, t["a_shop"], found=date(2024, 2, 2))
    late.fix_deadline = date(2024, 3, 1)
    session.flush()
    derived = [code for code, m in service.METRICS.items() if not m.manual]
    table = service.create_definition(t["root"], campaign, service.TableSpec(
        name="全部自动统计行", rows=derived, period="month", due_day=5, fillers=["district"]))
    return t, table


@pytest.fixture
def june(client, everything, history, monkeypatch):
    """甲区's leader logged in on 2024-07-03; the table, June and 甲区's June figures."""
    t, table = everything
    monkeypatch.setattr(clock, "now", lambda: datetime(2024, 7, 3, 2))
    login(client, history["leader"].user)
    period = service.parse_period(table, "2024-06-30", date(2024, 7, 3))
    return t, table, period, service.table(table, t["a"], period)


def _figure(page: str) -> str:
    return re.search(r'<strong id="value">([^<]*)</strong>', page).group(1)


def test_every_derived_figure_lists_exactly_the_records_it_counts(session, client, june):
    t, table, june, figures = june
    codes = service.codes(table) + [m.second[0] for m in service.METRICS.values() if m.second]
    counted = 0
    for code in codes:
        page = client.get(f"/dispatch/{table.id}/units/{t['a'].id}/rows/{code}?period=2024-06-30")
        text = page.get_data(as_text=True)
        assert page.status_code == 200, code
        listed = len(re.findall(r'<tr class="record">', text))
        assert re.search(rf'id="record-count">{listed} 条<', text), code
        records = service.records(t["a"], code, *service.span(table, june))
        assert len(records) == listed, code
        figure = figures.get(code)
        if code == "zero.reached":
            assert figure == (0 if records else 1) and listed == 3  # two stock, one overdue
        elif code in SUMMED:
            assert sum(r.value for r in records) == figure, code
            assert _figure(text) == service.display(code, figure)
        else:
            assert listed == figure, code
            assert _figure(text) == str(figure)
        counted += bool(figure)
    # Every family holds records here, so the equalities are not 0 == 0.
    assert counted >= 25


def test_the_ledger_opened_from_a_hazard_figure_holds_exactly_its_hazards(session, client, june):
    t, table, _, figures = june
    for code in ("hazards.self_found", "hazards.self_rectified", "hazards.dept_found", "hazards.dept_rectified",
                 "hazards.listed", "hazards.listed_rectified", "stock.open", "stock.cleared", "increment.found",
                 "increment.open", "zero.overdue"):
        drill = client.get(f"/dispatch/{table.id}/units/{t['a'].id}/rows/{code}?period=2024-06-30")
        link = html.unescape(re.search(r'href="([^"]+)">在隐患台账中查看', drill.get_data(as_text=True)).group(1))
        assert "start=2024-01-01" in link and "end=2024-06-30" in link, code
        ledger = client.get(link).get_data(as_text=True)
        assert f"（共 {figures.get(code)} 条）" in ledger, code
    # 2024: three self-found (one accepted), three by departments; none closed out, so all six still open.
    assert [figures.get(c) for c in ("hazards.self_found", "hazards.self_rectified", "increment.found",
                                     "increment.open")] == [3, 1, 6, 6]
    # 2023 stock: two open (one accepted but not closed out), one closed out; one past its deadline.
    assert [figures.get(c) for c in ("stock.open", "stock.cleared", "zero.overdue", "zero.reached")] == [2, 1, 1, 0]
    assert client.get(f"/hazards/?within={t['a'].id}&row=stock.open&start=2024-13-01&end=2024-06-30").status_code == 422


def test_records_of_a_department_follow_its_industries(session, everything):
    """A department's hazard figure counts its industries' enterprises in its district, not its
    subtree (it has none): the records do the same."""
    t, table = everything
    june = service.period_of(table, date(2024, 6, 30))
    start, end = service.span(table, june)
    for code in ("hazards.dept_found", "stock.open"):
        figure = service.table(table, t["a_dept"], june).get(code)
        records = service.records(t["a_dept"], code, start, end)
        assert len(records) == figure and {r.unit for r in records} <= {"甲商场"}, code
    assert Decimal("0") == sum(r.value for r in service.records(t["a_dept"], "lead.tip_rewards", start, end))
