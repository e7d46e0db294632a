"""The reporting cadences of the seeds with their real dates: period boundaries, the due moment
in Beijing time, which period is current on a day, and lateness of a real submission.

- 河北区商务局 (seed 001): weekly, by Monday noon, from 2023-05-25;
- 河东区 (seed 000): half-monthly;
- 东丽经开区 (seed 004): quarterly by the 25th of the quarter's last month and yearly by 12-25,
  from 2024-04-01 through 2026;
- 国务院安委会 (seed 002): monthly by the 5th, figures to the end of last month.
"""
from datetime import date, datetime, time

import pytest

from portal.dispatch import service
from portal.plans.models import Campaign
from tests.dispatch.test_dispatch_figures import member_of


@pytest.fixture
def campaigns(session):
    c2023 = Campaign(name="重大事故隐患专项排查整治2023行动", starts_on=date(2023, 5, 1), ends_on=date(2023, 12, 31))
    three = Campaign(name="安全生产治本攻坚三年行动", starts_on=date(2024, 3, 1), ends_on=date(2026, 12, 31))
    session.add_all([c2023, three])
    session.flush()
    return {"2023": c2023, "three": three}


def _table(tree, campaign, owner="a", **fields):
    fields.setdefault("rows", ["hazards.self_found", "lead.study_sessions"])
    fields.setdefault("fillers", ["street", "department"] if owner != "root" else ["province", "city", "district"])
    return service.create_definition(tree[owner], campaign, service.TableSpec(name=f"{fields['period']}表", **fields))


def _span(p):
    return p.start, p.end, p.due_label


def test_hebei_weekly_by_monday_noon_from_2023_05_25(session, tree, campaigns, make_user):
    weekly = _table(tree, campaigns["2023"], period="week", due_day=1, due_time=time(12),
                    starts_on=date(2023, 5, 25))
    first = service.current_period(weekly, date(2023, 5, 20))  # before reporting starts: the first period
    assert _span(first) == (date(2023, 5, 23), date(2023, 5, 29), "2023-05-29 12:00")
    assert first.deadline == datetime(2023, 5, 29, 4)  # noon in Beijing is 04:00 UTC
    assert service.current_period(weekly, date(2023, 5, 29)) == first  # due day: still this week
    assert _span(service.current_period(weekly, date(2023, 5, 30))) == (date(2023, 5, 30), date(2023, 6, 5),
                                                                        "2023-06-05 12:00")
    assert service.period_of(weekly, date(2023, 12, 25)).end == date(2023, 12, 25)
    with pytest.raises(service.DispatchError, match="开始上报（2023-05-25）之前"):
        service.parse_period(weekly, "2023-05-22", date(2023, 6, 1))
    periods = service.periods(weekly, date(2023, 6, 14))
    assert [p.end for p in periods] == [date(2023, 5, 29), date(2023, 6, 5), date(2023, 6, 12), date(2023, 6, 19)]
    assert service.current_period(weekly, date(2024, 3, 1)).end == date(2024, 1, 1)  # the campaign's last week
    # A real submission: 11:59 on Monday in time, 12:00 late.
    dept = member_of(make_user(tree["a_dept"], role="staff"))
    street = member_of(make_user(tree["a_street"], role="staff"))
    assert not service.submit(weekly, tree["a_dept"], first, dept, datetime(2023, 5, 29, 3, 59)).late
    assert service.submit(weekly, tree["a_street"], first, street, datetime(2023, 5, 29, 4)).late
    board = service.board(weekly, tree["a"], service.period_of(weekly, date(2023, 6, 5)), datetime(2023, 6, 5, 4))
    assert {r.state for r in board} == {"overdue"}
    board = service.board(weekly, tree["a"], service.period_of(weekly, date(2023, 6, 5)), datetime(2023, 6, 5, 3))
    assert {r.state for r in board} == {"pending"}


def test_hedong_half_monthly(session, tree, campaigns):
    half = _table(tree, campaigns["2023"], period="half_month")
    assert _span(service.period_of(half, date(2023, 6, 15))) == (date(2023, 6, 1), date(2023, 6, 15), "2023-06-16")
    assert _span(service.period_of(half, date(2023, 6, 16))) == (date(2023, 6, 16), date(2023, 6, 30), "2023-07-01")
    leap = service.period_of(half, date(2024, 2, 20))
    assert (leap.start, leap.end, leap.due) == (date(2024, 2, 16), date(2024, 2, 29), date(2024, 3, 1))
    assert service.current_period(half, date(2023, 7, 1)).end == date(2023, 6, 30)  # due today: still June's
    assert service.current_period(half, date(2023, 7, 2)).end == date(2023, 7, 15)
    june = service.period_of(half, date(2023, 6, 30))
    assert june.deadline == datetime(2023, 7, 1, 16)  # midnight after the due day, Beijing
    assert not june.late(datetime(2023, 7, 1, 15, 59)) and june.late(datetime(2023, 7, 1, 16))


def test_dongli_quarterly_by_the_25th_and_yearly_by_12_25_through_2026(session, tree, campaigns, make_user):
    quarterly = _table(tree, campaigns["three"], period="quarter", due_day=25, starts_on=date(2024, 4, 1),
                       cumulative=False)
    yearly = _table(tree, campaigns["three"], period="year", due_month=12, due_day=25, starts_on=date(2024, 4, 1),
                    rows=["stock.open", "increment.found", "zero.reached"])
    q2 = service.current_period(quarterly, date(2024, 6, 25))
    assert _span(q2) == (date(2024, 4, 1), date(2024, 6, 30), "2024-06-25")
    assert q2.deadline == datetime(2024, 6, 25, 16)
    assert service.current_period(quarterly, date(2024, 6, 28)) == q2  # past due, not yet over: still Q2 (late)
    assert service.current_period(quarterly, date(2024, 7, 1)).end == date(2024, 9, 30)
    assert service.current_period(quarterly, date(2024, 3, 15)) == q2  # before 2024-04-01: the first
    assert _span(service.period_of(quarterly, date(2026, 11, 2))) == (date(2026, 10, 1), date(2026, 12, 31),
                                                                     "2026-12-25")
    every = service.periods(quarterly, date(2027, 2, 1))
    assert len(every) == 11 and every[0] == q2 and every[-1].end == date(2026, 12, 31)  # through 2026
    assert service.span(quarterly, q2) == (date(2024, 4, 1), date(2024, 6, 30))  # not cumulative: the quarter
    y2024 = service.current_period(yearly, date(2024, 12, 26))
    assert _span(y2024) == (date(2024, 1, 1), date(2024, 12, 31), "2024-12-25")
    assert service.current_period(yearly, date(2025, 1, 10)).end == date(2025, 12, 31)
    assert [p.end.year for p in service.periods(yearly, date(2027, 6, 1))] == [2024, 2025, 2026]
    with pytest.raises(service.DispatchError, match="停止上报（2026-12-31）之后"):
        service.parse_period(yearly, "2027-12-31", date(2028, 1, 5))
    dept = member_of(make_user(tree["a_dept"], role="staff"))
    assert service.submit(yearly, tree["a_dept"], y2024, dept, datetime(2024, 12, 25, 15, 59)).late is False
    street = member_of(make_user(tree["a_street"], role="staff"))
    assert service.submit(quarterly, tree["a_street"], q2, street, datetime(2024, 6, 25, 16)).late is True


def test_national_monthly_by_the_5th(session, tree, campaigns):
    monthly = _table(tree, campaigns["2023"], owner="root", period="month", due_day=5, starts_on=date(2023, 6, 1))
    june = service.current_period(monthly, date(2023, 7, 5))
    assert _span(june) == (date(2023, 6, 1), date(2023, 6, 30), "2023-07-05")
    assert june.deadline == datetime(2023, 7, 5, 16)
    assert service.current_period(monthly, date(2023, 7, 6)).end == date(2023, 7, 31)
    assert service.current_period(monthly, date(2024, 1, 3)).end == date(2023, 12, 31)
    assert service.current_period(monthly, date(2024, 2, 1)).end == date(2023, 12, 31)  # after the campaign
    assert service.span(monthly, june) == (date(2023, 5, 1), date(2023, 6, 30))  # cumulative from the campaign
    assert [p.end.month for p in service.periods(monthly, date(2023, 9, 2))] == [6, 7, 8]
