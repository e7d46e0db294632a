"""An enterprise reports its own accident at once to its street (seed 003), which is told and
confirms it; the trace from the accident says who reported it."""
from datetime import date

import pytest
from sqlalchemy import select

from portal.inspections import service
from portal.inspections.models import Accident
from portal.plans.models import Notification
from tests.conftest import audited, login, post
from tests.inspections.conftest import TODAY

REPORT = {"occurred_on": "2024-06-01", "kind": "fire", "deaths": "0", "injuries": "2", "summary": "储罐区闪爆起火，两人轻伤"}


def test_the_enterprise_reports_and_its_street_confirms(client, session, field, make_user):
    tree = field["tree"]
    plant = make_user(tree["a_plant"], role="principal", username="plant_principal")
    street = make_user(tree["a_street"], role="staff", username="street_staff")
    other = make_user(tree["b"], role="admin", username="b_admin")
    session.commit()

    login(client, plant)
    assert "事故报告" in client.get("/").get_data(as_text=True)
    bad = post(client, "/accidents/report", {**REPORT, "summary": ""})
    assert bad.status_code == 422 and "事故概况" in bad.get_data(as_text=True)
    assert post(client, "/accidents/report", REPORT).status_code == 303
    accident = session.execute(select(Accident)).scalar_one()
    assert accident.tenant_id == tree["a_plant"].id and accident.self_reported and accident.confirmed_at is None
    page = client.get("/accidents/").get_data(as_text=True)
    assert "企业报告，待街道（乡镇）确认" in page and "确认</button>" not in page
    assert post(client, f"/accidents/{accident.id}/confirm").status_code == 403  # not its own to confirm
    client.get("/logout")

    # The street is told at once and confirms from the list of reports waiting.
    note = session.execute(select(Notification).where(Notification.kind == "accident")).scalar_one()
    assert note.tenant_id == tree["a_street"].id and note.link == "/accidents/?pending=1"
    assert note.text == "甲化工厂报告事故：2024-06-01 火灾，死亡 0 人、受伤 2 人，请核实确认"
    login(client, street)
    waiting = client.get("/accidents/?pending=1").get_data(as_text=True)
    assert "储罐区闪爆起火" in waiting and "确认</button>" in waiting
    assert post(client, f"/accidents/{accident.id}/confirm").status_code == 303
    again = client.get("/accidents/").get_data(as_text=True)
    assert "企业报告，已确认" in again and "确认</button>" not in again
    assert "储罐区闪爆起火" not in client.get("/accidents/?pending=1").get_data(as_text=True)
    client.get("/logout")

    # Another district does not see it, nor confirm it.
    login(client, other)
    assert post(client, f"/accidents/{accident.id}/confirm").status_code == 404
    assert audited(accident, "accident.reported", "accident.confirmed") == ["accident.reported", "accident.confirmed"]


def test_only_an_enterprise_reports_its_own_and_the_trace_says_who_reported(session, field):
    tree = field["tree"]
    with pytest.raises(service.InspectionError, match="只有企业的主要负责人或安全管理人员"):
        service.report_accident(field["street"], occurred_on=date(2024, 6, 1), kind="fire", deaths=0, injuries=0,
                                summary="概况", today=TODAY)
    accident = service.report_accident(field["plant"], occurred_on=date(2024, 6, 1), kind="fire", deaths=1,
                                       injuries=0, summary="储罐区起火", today=TODAY)
    with pytest.raises(service.InspectionError, match="无需确认"):
        service.confirm_accident(field["street"], service.record_accident(
            field["wang"], tree["a_plant"], occurred_on=date(2024, 5, 1), kind="fire", deaths=0, injuries=0,
            summary="政府登记", today=TODAY))
    from portal.accountability import service as accountability
    entries = accountability.trace(tree["a_plant"], accident=accident).entries
    assert any("企业报告，待街道（乡镇）确认" in e.title for e in entries if e.kind == "accident")
    service.confirm_accident(field["street"], accident)
    with pytest.raises(service.InspectionError, match="已于"):
        service.confirm_accident(field["admin"], accident)
