"""The demo's story holds together: the 2023 inspection missed the listed hazard, the fine stood in
for rectification until the fire, and 河东区纪委's record rests on both."""
from sqlalchemy import func, select

from portal.accountability import service
from portal.accountability.models import AccountabilityRecord
from portal.demo import seed
from portal.demo.inspections import STEEL
from portal.inspections.models import Accident, Inspection
from tenants.models import Tenant


def test_demo_trace_of_the_fire(session, seeded):
    steel = session.execute(select(Tenant).where(Tenant.name == STEEL)).scalar_one()
    accident = session.execute(select(Accident).where(Accident.tenant_id == steel.id)).scalar_one()
    t = service.trace(steel, accident=accident)
    codes = {q.code for q in t.questions}
    assert {"missed", "not_followed", "fine_instead"} <= codes
    missed = next(q for q in t.questions if q.code == "missed")
    assert missed.inspection.inspected_on.year == 2023 and "液化烃储罐未按国家标准设置注水措施" in missed.text
    (record,) = session.execute(select(AccountabilityRecord)).scalars().all()
    assert record.measure_label == "约谈" and record.subject_person == "陈明"
    assert {b["key"].split(":")[0] for b in record.basis} == {"missed", "fine_instead"}
    amended = session.execute(select(Inspection).where(Inspection.amends_id.is_not(None))).scalar_one()
    assert amended.signed and amended.amends.signed


def test_seeding_twice_adds_no_inspection(session, seeded):
    count = session.execute(select(func.count()).select_from(Inspection)).scalar_one()
    seed()
    assert session.execute(select(func.count()).select_from(Inspection)).scalar_one() == count == 5
