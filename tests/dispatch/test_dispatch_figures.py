"""Every row of the national table against a hand-built subtree counted by hand, the 省/市/县
split, and cumulative against period figures at the periods' boundaries."""
from datetime import date, datetime
from decimal import Decimal

from portal.dispatch import service
from portal.hazards.models import Hazard
from portal.tips.models import Tip
from tests.dispatch.conftest import START

JUNE = date(2024, 6, 30)


def _hazard(session, enterprise, *, source="self", level="major", found, accepted=None, listed_by=None,
            listed_on=None):
    h = Hazard(tenant=enterprise, level=level, source=source, industry=enterprise.industry or "", description="隐患",
               found_at=found, found_by_unit_id=enterprise.id, status="accepted" if accepted else "pending",
               accepted_on=accepted, listed_by_id=listed_by.id if listed_by else None,
               listed_level=listed_by.kind if listed_by else None, listed_on=listed_on)
    session.add(h)
    return h


def _tip(session, street, n, reward, anonymous, on):
    session.add(Tip(tenant=street, code_digest=f"{n:064d}", enterprise_name="甲商场", description="占用消防通道",
                    anonymous=anonymous, status="verified", reward=Decimal(reward), rewarded_on=on))


def _records(session, t):
    plant, shop = t["a_plant"], t["a_shop"]
    _hazard(session, plant, found=date(2024, 2, 1), accepted=date(2024, 3, 1))        # self, rectified
    _hazard(session, shop, found=date(2024, 5, 1))                                    # self, open
    _hazard(session, shop, found=date(2024, 5, 2), level="general")                   # not major: no row
    _hazard(session, plant, source="department", found=date(2024, 4, 1), accepted=date(2024, 7, 5))  # fixed later
    _hazard(session, plant, source="department", found=date(2024, 6, 30), accepted=date(2024, 6, 30))
    _hazard(session, plant, found=date(2023, 11, 1), listed_by=t["city"], listed_on=date(2024, 3, 1),
            accepted=date(2024, 4, 1))                                                # stock, listed by the city
    _hazard(session, plant, source="department", found=date(2024, 3, 3), listed_by=t["a"], listed_on=date(2024, 3, 4))
    _hazard(session, t["b_shop"], found=date(2024, 3, 1))                             # 乙区: not ours
    _tip(session, t["a_street"], 1, "0.50", True, date(2024, 4, 1))
    _tip(session, t["a_street"], 2, "1.25", False, date(2024, 6, 1))
    _tip(session, t["a_street"], 3, "9", True, date(2024, 7, 1))                      # after June
    session.flush()


def test_every_national_row_of_a_district_counted_by_hand(session, history, national, make_user):
    t = history["tree"]
    _records(session, t)
    today = date(2024, 7, 3)
    june = service.parse_period(national, "2024-06-30", today)
    street = make_user(t["a_street"], role="staff").memberships[0]
    service.save_manual(national, t["a"], june, {"lead.study_sessions": "3", "lead.media_column": "是",
                                                 "lead.inspectors": "12"})
    service.save_manual(national, t["a_street"], june, {"lead.study_sessions": "2", "lead.site_supervision": "4"})
    sub = service.submit(national, t["a_street"], june, street, datetime(2024, 7, 3, 2))
    service.approve(sub, member_of(make_user(t["a"], role="leader")))
    # The department's figures are typed but not yet accepted: not in 甲区's table.
    service.save_manual(national, t["a_dept"], june, {"lead.study_sessions": "5"})

    f = service.table(national, t["a"], june)
    expected = {
        "hazards.self_found": 2, "hazards.self_rectified": 1, "hazards.dept_found": 3, "hazards.dept_rectified": 1,
        "hazards.listed": 2, "hazards.listed_rectified": 1,
        "spot.enterprises": 2, "spot.principal_not_studied": 0, "spot.principal_not_led": 1, "spot.no_duty_list": 0,
        "spot.no_safety_staff": 0, "spot.uncertified_welders": 0, "spot.outsourcing_chaos": 0, "spot.no_drill": 2,
        "enf.assist_areas": 1, "enf.assist_enterprises": 1, "enf.penalties": 2, "enf.penalties.amount": Decimal("5.50"),
        "enf.double_penalties": 1, "enf.referred_persons": 2, "enf.suspended": 1, "enf.exposed": 2,
        "enf.cases_published": 1, "enf.cases_published.crime": 1, "enf.accountable_persons": 1, "enf.interviews": 1,
        "lead.study_sessions": 5, "lead.principal_studies": 0, "lead.site_supervision": 4,
        "lead.enterprise_briefings": 0, "lead.tip_rewards": Decimal("1.75"),
        "lead.tip_rewards.anonymous": Decimal("0.50"), "lead.media_column": 1, "lead.inspectors": 12,
        "lead.supervision_rounds": 0,
    }
    table_codes = service.codes(national) + [m.second[0] for m in service.METRICS.values() if m.second]
    assert sorted(table_codes) == sorted(expected)
    assert {code: f.get(code) for code in expected} == expected
    # The split by the level that did the work: the city listed one, the district one.
    assert f.get("hazards.listed", "city") == 1 and f.get("hazards.listed_rectified", "city") == 1
    assert f.get("hazards.listed", "district") == 1 and f.get("hazards.listed_rectified", "district") == 0
    assert f.get("lead.study_sessions", "district") == 3 and f.get("lead.study_sessions", "street") == 2
    # Up the tree: the city's table holds 甲区's derived rows plus the city's own work; manual
    # figures of 甲区 are not accepted yet, so the city does not count them.
    city = service.table(national, t["city"], june)
    assert city.get("hazards.self_found") == 3 and city.get("spot.enterprises") == 3
    assert city.get("lead.study_sessions") == 0
    assert city.get("enf.penalties", "city") == 1


def member_of(user):
    (m,) = user.memberships
    return m


def test_cumulative_and_period_figures_at_the_boundaries(session, tree, national, weekly, campaign):
    t = tree
    _hazard(session, t["a_shop"], found=date(2024, 5, 31))
    _hazard(session, t["a_shop"], found=date(2024, 6, 1))
    _hazard(session, t["a_shop"], found=date(2024, 6, 3))  # a Monday
    _hazard(session, t["a_shop"], found=date(2024, 6, 4))  # the Tuesday after
    session.flush()
    may, june = service.period_of(national, date(2024, 5, 31)), service.period_of(national, date(2024, 6, 1))
    assert (may.start, may.end, may.due) == (date(2024, 5, 1), date(2024, 5, 31), date(2024, 6, 5))
    assert service.table(national, t["a"], may).get("hazards.self_found") == 1
    assert service.table(national, t["a"], june).get("hazards.self_found") == 4
    national.cumulative = False
    assert service.table(national, t["a"], june).get("hazards.self_found") == 3
    national.cumulative = True
    # 甲区's weekly table runs Tuesday to Monday and is due that Monday.
    week = service.period_of(weekly, date(2024, 6, 3))
    assert (week.start, week.end, week.due) == (date(2024, 5, 28), date(2024, 6, 3), date(2024, 6, 3))
    assert service.period_of(weekly, date(2024, 6, 4)).end == date(2024, 6, 10)
    assert service.table(weekly, t["a_dept"], week).get("hazards.self_found") == 3  # commerce: its industry
    weekly.cumulative = False
    assert service.table(weekly, t["a_dept"], week).get("hazards.self_found") == 3
    assert service.table(weekly, t["a_dept"], service.period_of(weekly, date(2024, 6, 4))).get(
        "hazards.self_found") == 1
    # On the 5th the monthly table is last month's; on the 6th it is the running month's.
    assert service.current_period(national, date(2024, 6, 5)).end == date(2024, 5, 31)
    assert service.current_period(national, date(2024, 6, 6)).end == date(2024, 6, 30)
    assert service.current_period(weekly, date(2024, 6, 3)).end == date(2024, 6, 3)
    # A quarter is due on the 25th of its last month; before the campaign there is no period.
    national.period, national.due_day = "quarter", 25
    assert service.period_of(national, date(2024, 5, 2)).due == date(2024, 6, 25)
    national.period, national.due_day = "month", 5
    assert service.current_period(national, date(2023, 12, 1)).end == date(2024, 1, 31)


def test_the_definition_takes_the_plan_rule_and_may_not_loosen_it(session, tree, campaign):
    from portal.plans import rules
    from tenants import inherit
    inherit.set_value(tree["root"], rules.key(campaign.id, "dispatch_report"),
                      {"period": "month", "due_day": 5, "cumulative": True})
    d = service.create_definition(tree["root"], campaign, name="全国表", layout=service.NATIONAL_LAYOUT)
    assert (d.period, d.due_day, d.cumulative) == ("month", 5, True)
    try:
        service.create_definition(tree["a"], campaign, name="甲区表", layout=service.HEBEI_LAYOUT, period="quarter",
                                  due_day=25)
    except service.DispatchError as e:
        assert "不得放宽上级规定" in str(e)
    else:
        raise AssertionError("a looser period was accepted")
