"""Stock and increment at the cut-off, dynamic zero, the monthly trend, and the dispatch figures
against a ledger built by hand."""
from datetime import date

import pytest

from portal.hazards import service
from portal.hazards.models import Hazard
from tenants import inherit
from tenants.scope import Scope, scoped_as


@pytest.fixture
def ledger(session, people):
    """Rows written directly with the dates and states the figures count."""
    t = people["tree"]

    def add(enterprise="a_plant", level="major", source="self", found=date(2024, 3, 1), status="pending",
            accepted=None, closed=None, deadline=None, listed_by=None, listed_on=None):
        h = Hazard(tenant=t[enterprise], level=level, source=source, industry=t[enterprise].industry,
                   description="手工台账", found_at=found, found_by_unit=t[enterprise], status=status,
                   accepted_on=accepted, closed_on=closed, fix_deadline=deadline,
                   listed_by=t[listed_by] if listed_by else None, listed_level=t[listed_by].kind if listed_by else None,
                   listed_on=listed_on)
        session.add(h)
        session.flush()
        return h
    return add


def test_stock_is_found_before_the_cut_off_and_still_open(session, people, ledger):
    a = people["tree"]["a"]
    ledger(found=date(2023, 12, 31))  # stock, open
    ledger(found=date(2023, 6, 1), status="closed", accepted=date(2024, 2, 1), closed=date(2024, 2, 3))  # stock, cleared
    ledger(found=date(2024, 1, 1))  # increment: the cut-off day itself is new
    ledger(found=date(2024, 5, 5), status="closed", accepted=date(2024, 5, 20), closed=date(2024, 5, 21))
    ledger(found=date(2024, 5, 6), level="general")  # not counted: general
    ledger(enterprise="b_shop", found=date(2023, 1, 1))  # not counted: 乙区
    f = service.stock_figures(a, 2024, today=date(2024, 6, 15))
    assert (f.cutoff, f.as_of) == (date(2024, 1, 1), date(2024, 6, 15))
    assert (f.stock, f.stock_open, f.stock_cleared_in_year) == (2, 1, 1)
    assert (f.increment, f.increment_open, f.overdue) == (2, 1, 0)
    assert not f.dynamic_zero
    # As of the end of 2023 the cleared one was still open, and there was no increment yet.
    f2023 = service.stock_figures(a, 2023, today=date(2024, 6, 15))
    assert (f2023.stock, f2023.stock_open, f2023.increment) == (2, 2, 0)


def test_dynamic_zero_needs_no_stock_and_nothing_overdue(session, people, ledger):
    a = people["tree"]["a"]
    ledger(found=date(2023, 11, 1), status="closed", accepted=date(2024, 1, 5), closed=date(2024, 1, 6))
    on_time = ledger(found=date(2024, 6, 1), deadline=date(2024, 6, 30))
    assert service.stock_figures(a, 2024, today=date(2024, 6, 15)).dynamic_zero
    late = service.stock_figures(a, 2024, today=date(2024, 7, 1))
    assert late.overdue == 1 and not late.dynamic_zero
    on_time.status = "rectified"
    assert service.stock_figures(a, 2024, today=date(2024, 7, 1)).dynamic_zero


def test_a_level_may_set_its_own_cut_off(session, people, ledger):
    a = people["tree"]["a"]
    ledger(found=date(2024, 3, 1))
    inherit.set_value(a, service.STOCK_CUTOFF, "2024-06-01")
    f = service.stock_figures(people["tree"]["a_street"], 2024, today=date(2024, 6, 15))
    assert (f.cutoff, f.stock, f.increment) == (date(2024, 6, 1), 1, 0)


def test_the_monthly_trend(session, people, ledger):
    a = people["tree"]["a"]
    ledger(found=date(2023, 10, 1))  # stock, closed in March
    ledger(found=date(2023, 10, 2), status="closed", closed=date(2024, 3, 10), accepted=date(2024, 3, 9))
    ledger(found=date(2024, 1, 15))
    ledger(found=date(2024, 1, 20), status="closed", accepted=date(2024, 2, 1), closed=date(2024, 2, 2))
    ledger(found=date(2024, 3, 3))
    months = service.monthly_trend(a, 2024, today=date(2024, 4, 10))
    assert [(m.month, m.found, m.closed, m.open_at_end, m.stock_open_at_end) for m in months] == [
        (1, 2, 0, 4, 2), (2, 0, 1, 3, 2), (3, 1, 1, 3, 1), (4, 0, 0, 3, 1)]
    assert service.monthly_trend(a, 2025, today=date(2024, 4, 10)) == []


def test_dispatch_figures_against_a_hand_built_ledger(session, people, ledger):
    t = people["tree"]
    start, end = date(2024, 1, 1), date(2024, 6, 30)
    # Self-inspection: 3 found in the period, 2 of them accepted by the end.
    ledger(source="self", found=date(2024, 1, 1), status="accepted", accepted=date(2024, 2, 1))
    ledger(source="self", found=date(2024, 6, 30), status="closed", accepted=date(2024, 6, 30), closed=date(2024, 7, 2))
    ledger(source="self", found=date(2024, 3, 1), status="rectified")
    ledger(source="self", found=date(2024, 4, 1), status="accepted", accepted=date(2024, 7, 1))  # accepted after end
    ledger(source="self", found=date(2023, 12, 31))  # before the period
    ledger(source="self", found=date(2024, 7, 1))  # after the period
    ledger(source="self", level="general", found=date(2024, 2, 1))  # general: not a dispatch row
    # Departments: 2 found, 1 accepted; one of them also listed by the district.
    ledger(source="department", enterprise="a_shop", found=date(2024, 2, 10), status="closed",
           accepted=date(2024, 3, 1), closed=date(2024, 3, 2), listed_by="a", listed_on=date(2024, 2, 12))
    ledger(source="department", found=date(2024, 5, 10))
    # A 2023 stock hazard listed by the city in the period: listed counts, found does not.
    ledger(source="self", found=date(2023, 9, 1), listed_by="city", listed_on=date(2024, 1, 10))
    # Found by a tip and listed by the street, accepted.
    ledger(source="tip", found=date(2024, 4, 4), status="accepted", accepted=date(2024, 4, 20),
           listed_by="a_street", listed_on=date(2024, 4, 5))
    ledger(source="department", enterprise="b_shop", found=date(2024, 3, 3))  # 乙区
    f = service.dispatch_figures(t["a"], start, end)
    assert (f["hazards.self_found"], f["hazards.self_rectified"]) == (4, 2)
    assert (f["hazards.dept_found"], f["hazards.dept_rectified"]) == (2, 1)
    assert (f["hazards.listed"], f["hazards.listed_rectified"]) == (3, 2)
    assert {k: v for k, v in f.items() if "@" in k} == {
        "hazards.listed@district": 1, "hazards.listed_rectified@district": 1, "hazards.listed@city": 1,
        "hazards.listed@street": 1, "hazards.listed_rectified@street": 1}
    assert (f["hazards.tip_found"], f["hazards.tip_rectified"]) == (1, 1)
    # The same for the street, and for the commerce department (only its industry).
    assert service.dispatch_figures(t["a_street"], start, end)["hazards.self_found"] == 4
    commerce = service.dispatch_figures(t["a_dept"], start, end)
    assert (commerce["hazards.self_found"], commerce["hazards.dept_found"], commerce["hazards.listed"]) == (0, 1, 1)
    sibling = service.dispatch_figures(t["b"], start, end)
    assert (sibling["hazards.dept_found"], sibling["hazards.self_found"], sibling["hazards.listed"]) == (1, 0, 0)


def test_dispatch_figures_respect_the_callers_scope(session, people, ledger):
    t = people["tree"]
    ledger(source="self", found=date(2024, 3, 1))
    with scoped_as(Scope.of(t["b"], "admin")):
        assert service.dispatch_figures(t["a"], date(2024, 1, 1), date(2024, 12, 31))["hazards.self_found"] == 0
    with scoped_as(Scope.of(t["city"], "admin")):
        assert service.dispatch_figures(t["a"], date(2024, 1, 1), date(2024, 12, 31))["hazards.self_found"] == 1


def test_dispatch_figures_are_one_query(session, people, ledger, app):
    from sqlalchemy import event
    ledger()
    statements = []
    engine = session.get_bind().engine

    def count(conn, cursor, statement, *args):
        statements.append(statement)
    event.listen(engine, "before_cursor_execute", count)
    try:
        service.dispatch_figures(people["tree"]["a"], date(2024, 1, 1), date(2024, 12, 31))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # The stock cut-off in force (one setting lookup) and one grouped count.
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2 and "tenant_settings" in selects[0]
