"""Costly figures kept between requests (portal.cache): the ledger's total, its figures block and
the desk's hazard panel are shown again with 数据截至 while nothing under the unit changed, counted
afresh after any write under it, and never shown to another scope; kept in this process or in
Redis (as several workers and hosts share them)."""
import re

import pytest

from portal.hazards import service
from tests.conftest import login
from tests.hazards.conftest import fixes

HX = {"HX-Request": "true"}


@pytest.fixture(params=["process", "redis"])
def kept_in(request, app, monkeypatch):
    if request.param == "redis":
        monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:6379/14")
    return request.param


def _ledger(client) -> str:
    return client.get("/hazards/", headers=HX).get_data(as_text=True)


def _total(html: str) -> int:
    return int(re.search(r"共 (\d+) 条", html).group(1))


def test_the_ledger_total_is_kept_until_someone_records_a_hazard_below(client, people, make_hazard, kept_in):
    make_hazard(description="报警器失效")
    login(client, people["district"].user)
    first = _ledger(client)
    assert _total(first) == 1 and "数据截至" not in first
    again = _ledger(client)
    assert _total(again) == 1 and "数据截至" in again
    # The shop, another unit of the district, records a hazard: the district's total has it at once.
    make_hazard(actor=people["shop"], enterprise=people["tree"]["a_shop"], level="general", description="灭火器过期")
    after = _ledger(client)
    assert _total(after) == 2 and "数据截至" not in after
    # Other filters are other figures.
    assert _total(client.get("/hazards/?level=general", headers=HX).get_data(as_text=True)) == 1


def test_the_ledger_rows_are_kept_until_a_hazard_below_changes(client, people, make_hazard, kept_in):
    hazard = make_hazard(description="报警器失效")
    login(client, people["district"].user)
    _ledger(client)
    again = _ledger(client)
    assert "报警器失效" in again and "数据截至" in again and f"/hazards/{hazard.id}" in again
    # The plant starts the fix (a compare-and-set on the hazard's status): the row says so at once.
    service.transition(hazard, people["plant"], "start")
    after = _ledger(client)
    assert "数据截至" not in after
    assert re.search(r"报警器失效.*?<td>整改中</td>", after, re.S)
    # The full page shows the same kept rows, with the time they were counted.
    page = client.get("/hazards/").get_data(as_text=True)
    assert "报警器失效" in page
    assert "数据截至" in client.get("/hazards/").get_data(as_text=True)


def test_kept_figures_never_reach_another_scope(client, people, make_hazard, kept_in):
    make_hazard()
    login(client, people["district"].user)
    _ledger(client), _ledger(client)
    assert "数据截至" in _ledger(client)
    login(client, people["sibling"].user)  # 乙区's admin, the same URL and filters
    sibling = _ledger(client)
    assert _total(sibling) == 0 and "数据截至" not in sibling


def test_the_desk_counts_a_reviewed_fix_at_once(client, people, make_hazard, kept_in):
    hazard = make_hazard()
    hazard.fixes = fixes()
    service.transition(hazard, people["plant"], "start")
    service.transition(hazard, people["plant"], "report")
    login(client, people["district"].user)

    def waiting() -> tuple[int, bool]:
        html = client.get("/desk?panel=hazards", headers=HX).get_data(as_text=True)
        return int(re.search(r"<strong>(\d+)</strong> 已整改待验收", html).group(1)), "数据截至" in html
    assert waiting() == (1, False)
    assert waiting() == (1, True)
    # The district accepts it (a compare-and-set on the hazard): the panel counts it at once.
    service.transition(hazard, people["district"], "accept")
    assert waiting() == (0, False)


def test_the_figures_block_says_when_it_was_counted(client, people, make_hazard, kept_in):
    make_hazard()
    login(client, people["district"].user)
    assert "数据截至" not in client.get("/hazards/figures", headers=HX).get_data(as_text=True)
    kept = client.get("/hazards/figures", headers=HX).get_data(as_text=True)
    assert "以下数字数据截至" in kept and "动态清零" in kept


def test_with_no_keeping_every_request_counts(client, app, people, make_hazard, monkeypatch):
    monkeypatch.setitem(app.config, "FIGURES_CACHE_SECONDS", 0)
    make_hazard()
    login(client, people["district"].user)
    _ledger(client)
    assert "数据截至" not in _ledger(client)


def test_with_redis_down_pages_count_and_writes_go_through(client, app, people, make_hazard, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    make_hazard(description="报警器失效")  # the write's generation bump fails quietly
    login(client, people["district"].user)
    first = _ledger(client)
    assert _total(first) == 1 and "数据截至" not in first
    make_hazard(actor=people["shop"], enterprise=people["tree"]["a_shop"], level="general", description="灭火器过期")
    assert _total(_ledger(client)) == 2
