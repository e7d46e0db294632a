"""Each 倒查 question against a hand-built history of 甲化工: the inspection that missed a hazard is
named, the one that found it is not; hazards found and left open; inspections without sanction;
fines that stood in for rectification. Then the same for the department as a node."""
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.accountability import service
from portal.hazards import service as hazards
from portal.inspections import service as inspections
from portal.plans.models import Assignment
from tests.inspections.conftest import TODAY, item
from tests.plans.conftest import campaign, frozen, national  # noqa: F401  (fixtures)


def _fix(hazard, principal, reviewer, reported: date, returned_first: bool = False):
    hazards.transition(hazard, principal, "start", today=reported)
    if returned_first:
        hazards.transition(hazard, principal, "report", today=reported)
        hazards.transition(hazard, reviewer, "return", reason="报警器未联网", today=reported)
    hazards.transition(hazard, principal, "report", today=reported)


@pytest.fixture
def history(session, field, inspect):
    """I1 covers items 01, 02 and finds nothing; I2 finds H2 (03) and does nothing; I3 fines H3 (04),
    left open past its deadline; I4 fines H4 (05), fixed in time after one return; the plant
    itself finds H1 (01) on 05-01; I5 covers 01 and finds H5 (01) on 05-20."""
    plant = field["tree"]["a_plant"]
    i1 = inspect(on=date(2024, 1, 10), items=("HC2017-01", "HC2017-02"))
    i2 = inspect(on=date(2024, 2, 10), items=("HC2017-03",), found=[("装卸区无静电接地", "HC2017-03", "major", date(2024, 3, 31))])
    i3 = inspect(on=date(2024, 3, 10), items=("HC2017-04",), found=[("储罐无液位报警", "HC2017-04", "major", date(2024, 5, 31))],
                 actions=[("penalty", "3", 0)])
    i4 = inspect(on=date(2024, 4, 10), items=("HC2017-05",), found=[("泄压阀失效", "HC2017-05", "major", date(2024, 4, 30))],
                 actions=[("penalty", "2", 0)])
    _fix(i4.recorded[0], field["plant"], field["wang"], date(2024, 4, 20), returned_first=True)
    h1 = hazards.record(plant, field["plant"], hazards.Finding(
        level="major", description="自查：可燃气体报警器失效", found_at=date(2024, 5, 1), item_id=item(plant, "HC2017-01").id,
        fixes=hazards.Fixes(owner="厂长", measures="更换", funds=Decimal("1"), deadline=date(2024, 7, 1), contingency="巡检")),
        today=TODAY)
    i5 = inspect(on=date(2024, 5, 20), items=("HC2017-01",), found=[("报警器未联网", "HC2017-01", "general", date(2024, 6, 30))])
    return dict(field=field, plant=plant, i1=i1, i2=i2, i3=i3, i4=i4, i5=i5, h1=h1, h2=i2.recorded[0],
                h3=i3.recorded[0], h4=i4.recorded[0], h5=i5.recorded[0])


def _named(t, code):
    return {(q.inspection.id, q.hazard.id if q.hazard else None) for q in t.questions if q.code == code}


def test_missed_names_the_inspection_that_covered_a_hazard_found_later(session, history):
    h = history
    t = service.trace(h["plant"], TODAY)
    assert _named(t, "missed") == {(h["i1"].id, h["h1"].id)}
    # I5 found H5 itself; I2 never covered item 01: neither is named. Nor is I1 for H5: H1, of the
    # same item, was found and dealt with between them.
    missed = [q for q in t.questions if q.code == "missed"]
    assert all(q.people == [s.user.display_name for s in h["i1"].signatures] for q in missed)
    assert "HC2017-01" in missed[0].text


def test_not_followed_names_hazards_found_and_left_open_past_their_deadline(session, history):
    h = history
    t = service.trace(h["plant"], TODAY)
    assert _named(t, "not_followed") == {(h["i2"].id, h["h2"].id), (h["i3"].id, h["h3"].id)}
    life = next(x for x in t.hazards if x.hazard.id == h["h2"].id)
    assert life.open_at_end and life.open_days == (TODAY - date(2024, 2, 10)).days
    assert life.overdue_days == (TODAY - date(2024, 3, 31)).days and life.found_by.id == h["i2"].id
    fixed = next(x for x in t.hazards if x.hazard.id == h["h4"].id)
    assert not fixed.open_at_end and fixed.returned == 1 and fixed.overdue_days == 0


def test_no_sanction_names_inspections_that_found_a_major_hazard_and_punished_nothing(session, history):
    h = history
    t = service.trace(h["plant"], TODAY)
    # I5 found only a general hazard; I3 and I4 fined.
    assert _named(t, "no_sanction") == {(h["i2"].id, h["h2"].id)}


def test_fine_instead_names_a_fine_whose_hazard_was_left_open(session, history):
    h = history
    t = service.trace(h["plant"], TODAY)
    assert _named(t, "fine_instead") == {(h["i3"].id, h["h3"].id)}


def test_the_trace_stops_at_its_date(session, history):
    h = history
    t = service.trace(h["plant"], date(2024, 4, 30))
    assert _named(t, "missed") == set()
    assert _named(t, "not_followed") == {(h["i2"].id, h["h2"].id)}  # H3's deadline (05-31) is still ahead
    assert h["i5"].id not in {i.id for i in t.inspections}
    assert all(e.on <= date(2024, 4, 30) for e in t.entries)


def test_at_an_accident_every_hazard_still_open_counts(session, history):
    h = history
    accident = inspections.record_accident(h["field"]["wang"], h["plant"], occurred_on=date(2024, 4, 15), kind="fire",
                                           deaths=1, injuries=2, summary="储罐区起火", today=TODAY)
    t = service.trace(h["plant"], accident=accident)
    assert t.until == date(2024, 4, 15)
    assert _named(t, "not_followed") == {(h["i2"].id, h["h2"].id), (h["i3"].id, h["h3"].id), (h["i4"].id, h["h4"].id)}
    assert _named(t, "fine_instead") == {(h["i3"].id, h["h3"].id), (h["i4"].id, h["h4"].id)}
    assert t.entries[-1].kind == "accident"


def test_timeline_merges_every_kind_in_date_order(session, history):
    t = service.trace(history["plant"], TODAY)
    kinds = {e.kind for e in t.entries}
    assert {"inspection", "hazard", "action"} <= kinds
    assert [e.on for e in t.entries] == sorted(e.on for e in t.entries)
    inspection_entry = next(e for e in t.entries if e.key == f"inspection:{history['i2'].id}")
    assert {q.code for q in inspection_entry.questions} == {"not_followed", "no_sanction"}
    assert "签名" in inspection_entry.title
    assert set(t.items()) >= {q.key for q in t.questions}


def test_tasks_to_the_street_that_went_unanswered_appear(session, history, national, frozen):
    from portal.plans import service as plans
    field = history["field"]
    frozen(date(2023, 6, 1))
    phase = plans.phase_choices(field["tree"]["a"])[1]
    task = plans.create_task(field["tree"]["a"], field["admin"], title="开展危化企业隐患排查", body="五日内报送",
                             deadline=date(2023, 6, 20), phase_id=phase.id, receiver_ids=[field["tree"]["a_street"].id],
                             request_key="trace-1")
    # Rows take their creation time from the real clock; the task was given on the frozen day.
    for a in session.execute(select(Assignment).where(Assignment.task_id == task.id)).scalars():
        a.created_at = datetime(2023, 6, 1, 2)
    t = service.trace(history["plant"], TODAY)
    (task,) = [e for e in t.entries if e.kind == "task"]
    assert "开展危化企业隐患排查" in task.title and "逾期未办结" in task.detail and task.key in t.items()


def test_node_trace_counts_what_each_inspector_signed_and_missed(session, history):
    h = history
    t = service.trace_node(h["field"]["tree"]["a_emergency"], TODAY)
    assert {i.id for i in t.inspections} == {h[k].id for k in ("i1", "i2", "i3", "i4", "i5")}
    wang = next(s for s in t.inspectors if s.name == h["field"]["wang"].user.display_name)
    assert wang.inspections == 5
    assert wang.counts == {"missed": 1, "not_followed": 2, "no_sanction": 1, "fine_instead": 1}
    # The district sees the same through its own subtree.
    assert len(service.trace_node(h["field"]["tree"]["a"], TODAY).questions) == len(t.questions)


def test_the_enterprises_failed_duties_appear_until_the_trace_date(session, history):
    from portal.checklists.models import ComplianceFinding
    plant = history["plant"]
    session.add_all([
        ComplianceFinding(tenant=plant, code="inspection", spot_row="spot.principal_not_led", subject="",
                          text="主要负责人 2024 年第一季度未带队检查", since=date(2024, 4, 1)),
        ComplianceFinding(tenant=plant, code="drill", subject="", text="2024 年上半年未开展应急演练",
                          since=date(2024, 7, 1))])
    session.flush()
    t = service.trace(plant, TODAY)
    (duty,) = [e for e in t.entries if e.kind == "duty" and e.key.startswith("compliance:")]
    assert "未带队检查" in duty.title and "仍未落实" in duty.detail and duty.key in t.items()



def test_a_trace_at_an_accident_cites_nothing_that_came_after_it(session, history, national, frozen):
    """On the accident's day, a task sent after the accident was recorded is not in the trace and
    cannot be cited; a trace up to a later date has it."""
    from portal.plans import service as plans
    h, field = history, history["field"]
    accident = inspections.record_accident(field["wang"], h["plant"], occurred_on=date(2024, 4, 15), kind="fire",
                                           deaths=0, injuries=1, summary="储罐区起火", today=TODAY)
    accident.created_at = datetime(2024, 4, 15, 1)
    frozen(date(2023, 6, 1))
    phase = plans.phase_choices(field["tree"]["a"])[1]
    task = plans.create_task(field["tree"]["a"], field["admin"], title="事故后立即开展全面排查", body="当日报送",
                             deadline=date(2023, 6, 20), phase_id=phase.id,
                             receiver_ids=[field["tree"]["a_street"].id], request_key="after-accident")
    # Sent that morning, after the accident was recorded (rows take their time from the real clock).
    for a in session.execute(select(Assignment).where(Assignment.task_id == task.id)).scalars():
        a.created_at = datetime(2024, 4, 15, 3)
    t = service.trace(h["plant"], accident=accident)
    assert t.until == date(2024, 4, 15)
    assert not [e for e in t.entries if e.kind == "task"]
    assert all(e.on <= t.until for e in t.entries if e.key)
    later = service.trace(h["plant"], date(2024, 4, 30))
    assert [e for e in later.entries if e.kind == "task"]


def test_a_sanction_decided_after_the_cut_off_is_neither_cited_nor_counted(session, history):
    """I2 found a major hazard and fined nothing by 04-30; a fine decided in May does not answer
    只检查不处罚 on a trace up to 04-30, and is not offered as grounds."""
    from portal.inspections.models import EnforcementAction
    h = history
    fine = EnforcementAction(tenant=h["i2"].tenant, inspection_id=h["i2"].id, kind="penalty", decided_on=date(2024, 5, 10), amount=Decimal("1"),
                             hazard_id=h["h2"].id)
    session.add(fine)
    session.flush()
    session.refresh(h["i2"])
    t = service.trace(h["plant"], date(2024, 4, 30))
    assert (h["i2"].id, h["h2"].id) in _named(t, "no_sanction")
    assert f"action:{fine.id}" not in t.items()
    assert (h["i2"].id, h["h2"].id) not in _named(service.trace(h["plant"], TODAY), "no_sanction")


def test_the_accountability_page_lists_accidents_to_start_from(client, session, history):
    from tests.conftest import login
    h = history
    accident = inspections.record_accident(h["field"]["wang"], h["plant"], occurred_on=date(2024, 4, 15), kind="fire",
                                           deaths=1, injuries=2, summary="储罐区起火", today=TODAY)
    session.flush()
    login(client, h["field"]["discipline"].user)
    html = client.get("/accountability/").get_data(as_text=True)
    assert "从事故开始倒查" in html and f"/tenants/{h['plant'].id}/trace?accident={accident.id}" in html
    page = client.get(f"/tenants/{h['plant'].id}/trace?accident={accident.id}").get_data(as_text=True)
    assert "截至 2024-04-15（火灾事故当日）" in page
