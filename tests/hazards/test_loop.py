"""The closed loop: 待整改 → 整改中 → 已整改待验收 → 已验收 → 已销号, 退回 with a reason, nothing
skipped, the five fixes before leaving 待整改, who may take each step, and every step audited."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from portal.hazards import service
from portal.hazards.models import STATUSES, Hazard

from tests.hazards.conftest import TODAY, fixes

# The one legal move out of each state (and who makes it).
LEGAL = {("pending", "start"), ("rectifying", "report"), ("rectified", "return"), ("rectified", "accept"),
         ("accepted", "close")}


def _put(hazard, status):
    hazard.status = status
    return hazard


@pytest.mark.parametrize("status", list(STATUSES))
@pytest.mark.parametrize("action", list(service.TRANSITIONS))
def test_every_state_refuses_every_step_but_its_own(session, people, make_hazard, status, action):
    hazard = _put(make_hazard(), status)
    who = people["plant"] if service.TRANSITIONS[action][2] == "enterprise" else people["emergency"]
    if (status, action) in LEGAL:
        service.transition(hazard, who, action, reason="报警器型号不符，须更换为防爆型", today=TODAY)
        assert hazard.status == service.TRANSITIONS[action][1]
    else:
        with pytest.raises(service.HazardError, match="不能跳过"):
            service.transition(hazard, who, action, reason="理由", today=TODAY)
        assert hazard.status == status


def test_the_whole_loop_with_one_return_is_audited_step_by_step(session, people, make_hazard):
    hazard = make_hazard()
    plant, emergency = people["plant"], people["emergency"]
    steps = [(plant, "start", ""), (plant, "report", ""), (emergency, "return", "报警器未联网，须接入监控平台"),
             (plant, "report", "已接入"), (emergency, "accept", ""), (people["street"], "close", "")]
    for actor, action, reason in steps:
        service.transition(hazard, actor, action, reason, today=date(2024, 6, 20))
    assert hazard.status == "closed"
    assert (hazard.rectified_on, hazard.accepted_on, hazard.closed_on) == (date(2024, 6, 20),) * 3
    events = service.timeline(hazard)
    assert [e.action for e in events] == ["hazard.recorded", "hazard.started", "hazard.reported", "hazard.returned",
                                          "hazard.reported", "hazard.accepted", "hazard.closed"]
    assert [e.actor_id for e in events[1:]] == [a.user_id for a, _, _ in steps]
    assert events[3].data == {"from": "rectified", "to": "rectifying", "reason": "报警器未联网，须接入监控平台"}


def test_a_return_needs_a_reason(session, people, make_hazard):
    hazard = make_hazard()
    service.transition(hazard, people["plant"], "start")
    service.transition(hazard, people["plant"], "report")
    with pytest.raises(service.HazardError, match="退回须写明理由"):
        service.transition(hazard, people["emergency"], "return", reason="   ")
    assert hazard.status == "rectified" and hazard.rectified_on is not None


def test_no_five_fixes_no_leaving_pending_unless_fixed_on_the_spot(session, people, make_hazard):
    hazard = make_hazard(with_fixes=False)
    with pytest.raises(service.HazardError, match="五落实"):
        service.transition(hazard, people["plant"], "start")
    service.set_fixes(hazard, people["plant"], fixes())
    service.transition(hazard, people["plant"], "start")
    assert hazard.status == "rectifying"
    on_the_spot = make_hazard(with_fixes=False, on_the_spot=True, description="消防通道堆放杂物，已当场清理")
    service.transition(on_the_spot, people["plant"], "start")
    assert on_the_spot.status == "rectifying"


def test_the_enterprise_rectifies_and_only_others_accept(session, people, make_hazard):
    hazard = make_hazard()
    for outsider in (people["street"], people["emergency"], people["shop"]):
        with pytest.raises(service.HazardError, match="本企业"):
            service.transition(hazard, outsider, "start")
    service.transition(hazard, people["plant"], "start")
    service.transition(hazard, people["plant"], "report")
    with pytest.raises(service.HazardError, match="街道、负责该行业的部门或上级"):
        service.transition(hazard, people["plant"], "accept")
    # 商务局 does not supervise chemicals: not its hazard to accept.
    with pytest.raises(service.HazardError, match="街道、负责该行业的部门或上级"):
        service.transition(hazard, people["commerce"], "accept")
    service.transition(hazard, people["district"], "accept")
    assert hazard.status == "accepted"


@pytest.mark.parametrize("bad, message", [
    (dict(deadline=date(2024, 5, 1)), "不能早于发现日期"),
    (dict(funds=Decimal("-1")), "不能为负数"),
    (dict(owner=""), "还缺：责任人"),
    (dict(contingency="", measures=""), "还缺：整改措施、应急预案"),
])
def test_five_fixes_are_checked(session, people, make_hazard, bad, message):
    hazard = make_hazard(with_fixes=False)
    values = {**fixes().__dict__, **bad}
    with pytest.raises(service.HazardError, match=message):
        service.set_fixes(hazard, people["plant"], service.Fixes(**values))
    assert not hazard.has_fixes
    with pytest.raises(service.HazardError, match=message):
        service.record(people["tree"]["a_plant"], people["plant"], service.Finding(
            level="general", description="另一处", found_at=date(2024, 5, 10), fixes=service.Fixes(**values)),
            today=TODAY)


def test_a_hazard_is_checked_when_recorded(session, people):
    plant, t = people["plant"], people["tree"]

    def finding(**kw):
        return service.Finding(**{"level": "general", "description": "配电箱未接地", "found_at": date(2024, 5, 1), **kw})
    with pytest.raises(service.HazardError, match="晚于今天"):
        service.record(t["a_plant"], plant, finding(found_at=date(2024, 6, 16)), today=TODAY)
    with pytest.raises(service.HazardError, match="判定依据"):
        service.record(t["a_plant"], plant, finding(level="major"), today=TODAY)
    shop_item = service.applicable_items(t["a_shop"])[0]
    with pytest.raises(service.HazardError, match="不适用于该企业所属行业"):
        service.record(t["a_plant"], plant, finding(level="major", item_id=shop_item.id), today=TODAY)
    with pytest.raises(service.HazardError, match="只能登记本企业"):
        service.record(t["a_shop"], plant, finding(), today=TODAY)
    with pytest.raises(service.HazardError, match="不在您的管辖范围"):
        service.record(t["b_shop"], people["street"], finding(), today=TODAY)
    with pytest.raises(service.HazardError, match="隐患描述"):
        service.record(t["a_plant"], plant, finding(description=" "), today=TODAY)
    assert session.execute(select(Hazard)).first() is None


def test_self_found_and_department_found_are_told_apart(session, people, make_hazard):
    own = make_hazard()
    found = make_hazard(actor=people["emergency"], description="动火作业未审批")
    assert (own.source, own.found_by_unit_id) == ("self", people["tree"]["a_plant"].id)
    assert (found.source, found.found_by_unit_id) == ("department", people["tree"]["a_emergency"].id)
    assert own.industry == "hazchem"


def test_the_overdue_ladder(session, people, make_hazard):
    hazard = make_hazard(deadline=date(2024, 6, 20))
    assert service.light(hazard, date(2024, 6, 10)) == "green"
    assert service.light(hazard, date(2024, 6, 17)) == "yellow"
    assert service.light(hazard, date(2024, 6, 20)) == "yellow"
    assert service.light(hazard, date(2024, 6, 21)) == "red"
    service.transition(hazard, people["plant"], "start")
    assert service.light(hazard, date(2024, 6, 21)) == "red"
    service.transition(hazard, people["plant"], "report")
    assert service.light(hazard, date(2024, 6, 21)) == ""
    overdue = service.ledger(service.LedgerFilter(overdue=True), today=date(2024, 6, 21))
    assert session.execute(overdue).scalars().all() == []


def test_nothing_is_half_written_when_a_step_is_refused(session, people, make_hazard):
    hazard = make_hazard()
    before = session.execute(select(AuditEvent.id)).scalars().all()
    with pytest.raises(service.HazardError):
        service.transition(hazard, people["plant"], "close")
    assert session.execute(select(AuditEvent.id)).scalars().all() == before
