"""Dispatch fixtures: the 2023 campaign, the national monthly table owned by the root, and 河北区's
weekly table; the inspections' hand-built enforcement history of 甲区 is reused as is."""
from datetime import date, datetime, timedelta

import pytest

from portal.api import service as api
from portal.auth import service as auth
from portal.dispatch import service
from portal.dispatch.models import DispatchReceipt, UpwardReport
from portal.extensions import db
from portal.hazards.models import Hazard
from portal.plans.models import Campaign
from tenants import clock, credit_code
from tenants.models import Tenant
from tenants.paths import attach
from tenants.scope import unscoped
from tests.conftest import PASSWORD
from tests.inspections.conftest import field, inspect, member  # noqa: F401  (fixtures)
from tests.inspections.test_dispatch_counters import history  # noqa: F401  (fixture)

START = date(2024, 1, 1)


@pytest.fixture
def campaign(session):
    c = Campaign(name="重大事故隐患专项排查整治行动（测试）", starts_on=START, ends_on=date(2024, 12, 31))
    session.add(c)
    session.flush()
    return c


@pytest.fixture
def national(session, tree, campaign):
    return service.create_definition(tree["root"], campaign, name="全国重大事故隐患专项排查整治行动进展情况调度表",
                                     layout=service.NATIONAL_LAYOUT, by_level=True, notes=service.NATIONAL_NOTES,
                                     period="month", due_day=5, cumulative=True)


@pytest.fixture
def weekly(session, tree, campaign, national):
    """甲区 plays 河北区: its departments and streets send it a weekly table every Monday."""
    return service.create_definition(tree["a"], campaign, name="甲区重大事故隐患专项排查整治行动进展情况调度表",
                                     layout=service.HEBEI_LAYOUT, notes=service.HEBEI_NOTES, period="week",
                                     due_day=1, cumulative=True)


def sample_records(session, tree, make_user):
    """A table of 甲区's own with a department's submitted figures, for the access matrix."""
    campaign = Campaign(name="甲区调度测试行动", starts_on=START, ends_on=date(2030, 12, 31))
    session.add(campaign)
    session.flush()
    weekly = service.create_definition(tree["a"], campaign, name="甲区机密调度表", layout=service.HEBEI_LAYOUT,
                                       period="week", due_day=1)
    period = service.period_of(weekly, START)
    service.save_manual(weekly, tree["a_dept"], period, {"lead.study_sessions": "2"})
    (actor,) = make_user(tree["a_dept"], role="staff").memberships
    sub = service.submit(weekly, tree["a_dept"], period, actor, datetime(2024, 1, 1, 2))
    # Kept figures of 甲区 itself: a row inside 甲区.
    service.count_kept(tree["a"], *service.span(weekly, period))
    # Exchange rows inside 甲区: one on its way to a parent platform, one received from below.
    session.add(UpwardReport(tenant=tree["a_dept"], submission=sub, key=f"up-{sub.id}", status="failed",
                             attempts=1, error="无法连接上级平台"))
    (admin,) = make_user(tree["a"], role="admin").memberships
    token, _ = api.create(tree["a"], admin, name="甲区机密调度表接口", role="staff")
    session.add(DispatchReceipt(tenant=tree["a_dept"], submission=sub, key=f"down-{sub.id}", digest="0" * 64,
                                span_start=service.span(weekly, period)[0], token=token, approved_by="甲区机密调度表审核人"))
    session.flush()
    return {"definition_id": [weekly.id], "submission_id": [sub.id], "code": ["lead.study_sessions"]}


# ---------------------------------------------------------------- two platforms (exchange)

# Province codes as the 2023 division data and `setup init` give them.
TIANJIN, HEBEI_PROVINCE = "12", "13"


def build_platform(app, *, national: bool) -> dict:
    """One platform as `setup init` leaves it, committed: the root 国务院安委会 with 天津市 (and
    河北省) below, the campaign and the seeds' national monthly table under its shared identifier.
    The province's platform adds a district, a street, an enterprise with a major hazard it found
    itself in the last month, and 天津市's staff and leader; the national one, its admin and an API
    token (staff) for each province. Returns the ids, the period (last month) and the secrets."""
    def user(unit, username, name, role):
        made = auth.create_user(unit, username=username, display_name=name, password=PASSWORD, role=role)
        auth.accept_password(made)
        return made

    with app.app_context(), unscoped():
        today = clock.today()
        campaign = Campaign(name="重大事故隐患专项排查整治行动", starts_on=today - timedelta(days=400),
                            ends_on=today + timedelta(days=400))
        db.session.add(campaign)
        root = attach(Tenant(kind="national", name="国务院安委会"), None)
        province = attach(Tenant(kind="province", name="天津市", code=TIANJIN), root)
        other = attach(Tenant(kind="province", name="河北省", code=HEBEI_PROVINCE), root)
        db.session.flush()
        definition = service.create_definition(
            root, campaign, uid=service.NATIONAL_UID, name="全国重大事故隐患专项排查整治行动进展情况调度表",
            layout=service.NATIONAL_LAYOUT, by_level=True, notes=service.NATIONAL_NOTES, period="month", due_day=5,
            cumulative=True)
        period = service.period_of(definition, today.replace(day=1) - timedelta(days=1))
        out = {"definition_id": definition.id, "root_id": root.id, "province_id": province.id,
               "period": period.key, "accounts": {}}
        if national:
            admin = user(root, "national_admin", "国务院安委办值班员", "admin")
            out["accounts"]["admin"] = admin.username
            out["secret"] = api.create(province, admin.memberships[0], name="天津市省级平台", role="staff")[1]
            out["other_secret"] = api.create(other, admin.memberships[0], name="河北省省级平台", role="staff")[1]
        else:
            district = attach(Tenant(kind="district", name="和平区", code="120101"), province)
            street = attach(Tenant(kind="street", name="劝业场街道", code="120101001"), district)
            plant = attach(Tenant(kind="enterprise", name="津南化工有限公司", industry="hazchem", high_risk=True,
                                  credit_code=credit_code.make("91120101MA05K0001")), street)
            db.session.flush()
            db.session.add(Hazard(tenant=plant, level="major", source="self", industry="hazchem",
                                  description="液化烃储罐区未设置紧急切断装置", found_at=period.start,
                                  found_by_unit_id=plant.id, status="pending"))
            out["accounts"]["staff"] = user(province, "tianjin_staff", "省安委办工作人员", "staff").username
            out["accounts"]["leader"] = user(province, "tianjin_leader", "副省长（分管安全生产）", "leader").username
        db.session.commit()
        db.session.remove()
    return out
