"""The dispatch table's spot-check and enforcement rows (sections 二 and 三) against hand-built
records: distinct enterprises, sums in 万元, the 省/市/县 split, and what is not counted."""
from datetime import date
from decimal import Decimal

import pytest

from portal.accountability import service as accountability
from portal.inspections import service
from tests.conftest import PASSWORD
from tests.inspections.conftest import TODAY, member

START = date(2024, 1, 1)


def _signed(pair, target, on, kind="spot", findings=(), actions=(), sign=True):
    one, two = pair
    inspection = service.create(one, target, kind=kind, inspected_on=on, inspector_ids=[one.user_id, two.user_id],
                                today=TODAY)
    for code in findings:
        service.add_finding(inspection, one, code)
    for kind_, extra in actions:
        service.add_action(inspection, one, service.ActionInput(kind=kind_, decided_on=on, **extra), today=TODAY)
    if sign:
        for m in pair:
            service.sign(inspection, m.user_id, m.user, PASSWORD)
    return inspection


@pytest.fixture
def history(session, field, make_tenant, make_user):
    t = field["tree"]
    district = (field["wang"], field["zhao"])
    city_dept = make_tenant(t["city"], kind="department", name="市应急管理局", supervised_industries=["hazchem"])
    city = tuple(member(make_user(city_dept, role="inspector")) for _ in range(2))
    street_staff = tuple(member(make_user(t["a"], role="staff")) for _ in range(2))
    plant, plant2 = t["a_plant"], make_tenant(t["a_street"], kind="enterprise", name="甲二化工", industry="hazchem")
    b_dept = make_tenant(t["b"], kind="department", name="乙区应急管理局", supervised_industries=["hazchem"])
    b_plant = make_tenant(t["b_street"], kind="enterprise", name="乙化工", industry="hazchem")
    b_pair = tuple(member(make_user(b_dept, role="inspector")) for _ in range(2))

    a1 = _signed(district, plant, date(2024, 3, 1), findings=["spot.principal_not_led", "spot.no_drill"],
                 actions=[("penalty", dict(amount=Decimal("3.5"))), ("double_penalty", dict(amount=Decimal("2")))])
    _signed(district, plant2, date(2024, 4, 1), findings=["spot.no_drill"],
            actions=[("suspension", {}), ("exposure", {}), ("referral", dict(persons=2, person_names="甲、乙")),
                     ("joint_punishment", dict(published_case=True, dangerous_operation_crime=True))])
    _signed(district, plant, date(2024, 5, 1), findings=["spot.principal_not_led"])
    _signed(city, plant, date(2024, 3, 10), findings=["spot.no_drill"],
            actions=[("penalty", dict(amount=Decimal("1.25")))])
    # Not counted: a draft, work before the period, another district's work.
    _signed(district, plant2, date(2024, 5, 2), findings=["spot.no_safety_staff"],
            actions=[("penalty", dict(amount=Decimal("9")))], sign=False)
    _signed(district, plant, date(2023, 12, 1), findings=["spot.no_duty_list"],
            actions=[("penalty", dict(amount=Decimal("7")))])
    _signed(b_pair, b_plant, date(2024, 3, 1), findings=["spot.no_drill"], actions=[("penalty", dict(amount=Decimal("4")))])
    # 帮扶指导: the district office to a street, the department to an enterprise.
    _signed(street_staff, t["a_street"], date(2024, 2, 1), kind="assist")
    _signed(district, plant, date(2024, 2, 2), kind="assist")
    # An amendment adds its own action but is no extra visit.
    amendment = service.amend(a1, field["wang"], notes="补充：约谈企业主要负责人", inspector_ids=[m.user_id for m in district],
                              today=TODAY)
    service.add_action(amendment, field["wang"], service.ActionInput(kind="interview", decided_on=TODAY), today=TODAY)
    for m in district:
        service.sign(amendment, m.user_id, m.user, PASSWORD)

    # Accountability: one person twice (counted once), a unit interviewed, a letter naming a person.
    trace = accountability.trace(plant, TODAY)
    basis = list(trace.items())[:1]
    for actor, measure, person in ((field["discipline"], "accountability", "张三"), (field["discipline"], "circular", "张三"),
                                   (field["discipline"], "interview", ""), (field["discipline"], "reminder_letter", "李四"),
                                   (member(make_user(t["city"], role="leader")), "circular", "")):
        accountability.record(actor, trace, accountability.RecordInput(
            measure=measure, subject_unit_id=t["a_emergency"].id, subject_person=person, reason="排查整治不力",
            basis=basis, decided_on=TODAY), today=TODAY)
    session.flush()
    return field


def test_district_figures_count_only_its_own_signed_work_in_the_period(session, history):
    f = accountability.dispatch_figures(history["tree"]["a"], START, TODAY)
    assert f.get("spot.enterprises") == 2
    assert f.get("spot.principal_not_led") == 1  # two spot checks of one enterprise: one enterprise
    assert f.get("spot.no_drill") == 2
    assert f.get("spot.no_safety_staff") == 0 and f.get("spot.no_duty_list") == 0
    assert f.get("enf.penalties") == 2 and f.get("enf.penalties.amount") == Decimal("5.50")
    assert f.get("enf.double_penalties") == 1
    assert f.get("enf.referred_persons") == 2
    assert f.get("enf.suspended") == 1
    assert f.get("enf.exposed") == 2  # exposure and joint punishment of 甲二化工, the amendment's interview of 甲化工
    assert f.get("enf.cases_published") == 1 and f.get("enf.cases_published.crime") == 1
    assert f.get("enf.assist_areas") == 1 and f.get("enf.assist_enterprises") == 1
    assert f.get("enf.accountable_persons") == 1
    assert f.get("enf.interviews") == 1
    assert set(f.by_level) == {"district"}


def test_city_figures_split_by_the_level_that_did_the_work(session, history):
    f = accountability.dispatch_figures(history["tree"]["city"], START, TODAY)
    # 甲化工 was spot-checked by both levels: once in the total, once in each level's column.
    assert f.get("spot.enterprises") == 3  # 甲化工, 甲二化工, 乙化工
    assert f.get("spot.enterprises", "district") == 3 and f.get("spot.enterprises", "city") == 1
    assert f.get("spot.no_drill") == 3 and f.get("spot.no_drill", "city") == 1
    assert f.get("enf.penalties") == 4 and f.get("enf.penalties.amount") == Decimal("10.75")
    assert f.get("enf.penalties", "city") == 1 and f.get("enf.penalties.amount", "city") == Decimal("1.25")
    assert f.get("enf.interviews") == 2 and f.get("enf.interviews", "city") == 1
    assert f.get("enf.accountable_persons", "district") == 1


def test_figures_of_a_department_are_its_own_work(session, history):
    f = service.dispatch_figures(history["tree"]["a_emergency"], START, TODAY)
    assert f.get("spot.enterprises") == 2 and f.get("enf.penalties.amount") == Decimal("5.50")
    assert f.get("enf.assist_areas") == 0 and f.get("enf.assist_enterprises") == 1


def test_the_period_bounds_are_inclusive(session, history):
    f = service.dispatch_figures(history["tree"]["a"], date(2024, 3, 1), date(2024, 3, 1))
    assert f.get("spot.enterprises") == 1 and f.get("enf.penalties") == 2
    assert service.dispatch_figures(history["tree"]["a"], date(2023, 1, 1), date(2023, 12, 31)).get("enf.penalties") == 1
