"""Enforcement on an inspection, the 依法不予处罚 warning, spot-check findings, and accidents."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.hazards import service as hazards
from portal.hazards.models import Hazard
from portal.inspections import service
from portal.inspections.models import EnforcementAction, SpotFinding
from tests.conftest import login, post
from tests.inspections.conftest import TODAY, item


def _self_reported(field, deadline=date(2024, 7, 31), found_at=date(2024, 2, 1)):
    """A major hazard the plant found itself and reported with its five fixes."""
    plant = field["tree"]["a_plant"]
    return hazards.record(plant, field["plant"], hazards.Finding(
        level="major", description="企业自查：储罐液位计失灵", found_at=found_at, item_id=item(plant, "HC2017-05").id,
        fixes=hazards.Fixes(owner="厂长", measures="更换液位计", funds=Decimal("1"), deadline=deadline,
                            contingency="人工巡检")), today=TODAY)


def test_fining_a_hazard_the_enterprise_reported_in_time_warns_and_needs_a_reason(session, field, inspect):
    wang = field["wang"]
    hazard = _self_reported(field)
    assert service.penalty_exempt(hazard, date(2024, 3, 1))
    inspection = inspect(sign=False)
    fine = service.ActionInput(kind="penalty", decided_on=date(2024, 3, 1), hazard_id=hazard.id, amount=Decimal("5"))
    with pytest.raises(service.PenaltyWarning, match="依法不予行政处罚"):
        service.add_action(inspection, wang, fine, today=TODAY)
    assert inspection.actions == []
    # A talk is no penalty: no warning.
    service.add_action(inspection, wang, service.ActionInput(kind="interview", decided_on=date(2024, 3, 1),
                                                             hazard_id=hazard.id), today=TODAY)
    fine.override_reason = "企业隐瞒液位计失灵期间仍在装卸作业，依《安全生产法》第一百零二条处罚"
    action = service.add_action(inspection, wang, fine, today=TODAY)
    assert action.override_reason.startswith("企业隐瞒") and action.amount == Decimal("5.00")


def test_an_overdue_or_late_self_report_is_not_exempt(session, field):
    overdue = _self_reported(field, deadline=date(2024, 2, 20))
    assert not service.penalty_exempt(overdue, date(2024, 3, 1))
    assert service.penalty_exempt(overdue, date(2024, 2, 15))
    later = _self_reported(field, found_at=date(2024, 3, 5))
    assert not service.penalty_exempt(later, date(2024, 3, 1))


def test_fine_on_a_self_reported_hazard_through_the_page(app, client, session, field, inspect):
    hazard = _self_reported(field)
    inspection = inspect(sign=False)
    session.commit()
    login(client, field["wang"].user)
    html = client.get(f"/inspections/{inspection.id}").get_data(as_text=True)
    assert "（企业自查，依法不予处罚）" in html
    form = {"kind": "penalty", "decided_on": "2024-03-01", "hazard_id": hazard.id, "amount": "5"}
    response = post(client, f"/inspections/{inspection.id}/actions", form)
    assert response.status_code == 422
    assert "依法不予行政处罚。如确需处罚，请在“处罚理由”中写明依据" in response.get_data(as_text=True)
    assert session.execute(select(func.count()).select_from(EnforcementAction)).scalar_one() == 0
    response = post(client, f"/inspections/{inspection.id}/actions", {**form, "override_reason": "拒不整改"})
    assert response.status_code == 302
    assert session.execute(select(EnforcementAction.override_reason)).scalar_one() == "拒不整改"


@pytest.mark.parametrize("data, message", [
    (dict(kind="penalty"), "须填写罚款金额"),
    (dict(kind="double_penalty", amount=Decimal("0")), "须填写罚款金额"),
    (dict(kind="suspension", amount=Decimal("3")), "不填写罚款金额"),
    (dict(kind="referral"), "须填写移送人数"),
    (dict(kind="referral", persons=2), "写明被移送人员姓名"),
    (dict(kind="exposure", published_case=False, dangerous_operation_crime=True), "须同时勾选"),
    (dict(kind="penalty", amount=Decimal("1"), decided_on=date(2024, 2, 1)), "决定日期应在检查日期与今天之间"),
    (dict(kind="nonsense"), "请选择执法措施"),
])
def test_bad_enforcement_is_refused(session, field, inspect, data, message):
    inspection = inspect(sign=False)
    with pytest.raises(service.InspectionError, match=message):
        service.add_action(inspection, field["wang"], service.ActionInput(**{"decided_on": date(2024, 3, 1), **data}),
                           today=TODAY)
    assert inspection.actions == []


def test_an_action_may_not_name_another_enterprises_hazard(session, field, inspect):
    other = inspect(found=[("别处隐患", "HC2017-01", "general", None)], enterprise=field["tree"]["a_plant"])
    inspection = inspect(sign=False, enterprise=field["tree"]["a_plant"])
    foreign = hazards.record(field["tree"]["a_shop"], field["street"], hazards.Finding(
        level="general", description="商场隐患", found_at=date(2024, 3, 1)), today=TODAY)
    with pytest.raises(service.InspectionError, match="不属于被检查企业"):
        service.add_action(inspection, field["wang"], service.ActionInput(
            kind="interview", decided_on=date(2024, 3, 1), hazard_id=foreign.id), today=TODAY)
    assert other.hazards[0].source == "department"


def test_hazards_found_go_into_the_ledger_as_department_findings(session, field, inspect):
    inspection = inspect(found=[("装卸区无静电接地", "HC2017-02", "major", date(2024, 4, 1))])
    (hazard,) = inspection.hazards
    assert hazard.source == "department" and hazard.found_by_unit_id == field["tree"]["a_emergency"].id
    assert hazard.found_at == inspection.inspected_on and hazard.tenant_id == field["tree"]["a_plant"].id
    assert session.get(Hazard, hazard.id).standard_item.code == "HC2017-02"


def test_spot_check_findings_use_the_dispatch_codes_and_only_on_spot_checks(session, field, inspect):
    spot = inspect(kind="spot", sign=False)
    service.add_finding(spot, field["wang"], "spot.principal_not_led", "主要负责人未带队检查")
    with pytest.raises(service.InspectionError, match="已登记"):
        service.add_finding(spot, field["wang"], "spot.principal_not_led")
    with pytest.raises(service.InspectionError, match="请选择抽查发现"):
        service.add_finding(spot, field["wang"], "principal_not_led")
    enforcement = inspect(sign=False)
    with pytest.raises(service.InspectionError, match="只有“抽查”记录"):
        service.add_finding(enforcement, field["wang"], "spot.no_drill")
    assert [f.code for f in session.execute(select(SpotFinding)).scalars()] == ["spot.principal_not_led"]


def test_recording_an_accident(session, field):
    plant, wang = field["tree"]["a_plant"], field["wang"]
    accident = service.record_accident(wang, plant, occurred_on=date(2024, 6, 1), kind="fire", deaths=1, injuries=3,
                                       summary="储罐区闪爆起火", today=TODAY)
    assert accident.tenant_id == plant.id and accident.kind_label == "火灾"
    for kwargs, message in ((dict(kind="meteor"), "请选择事故类别"), (dict(occurred_on=date(2024, 7, 1)), "不能晚于今天"),
                            (dict(summary=" "), "请填写事故概况"), (dict(deaths=-1), "不能为负数")):
        args = {**dict(occurred_on=date(2024, 6, 1), kind="fire", deaths=0, injuries=0, summary="概况"), **kwargs}
        with pytest.raises(service.InspectionError, match=message):
            service.record_accident(wang, plant, today=TODAY, **args)
    with pytest.raises(service.InspectionError, match="管辖范围"):
        service.record_accident(wang, field["tree"]["a_shop"], occurred_on=date(2024, 6, 1), kind="fire", deaths=0,
                                injuries=0, summary="概况", today=TODAY)
