"""Demo dispatch tables: the national monthly table of the 2023 campaign (seed 002, four blocks,
listed-supervision rows, 省/市/县 split) and 河北区's weekly Monday table (seed 001, with row 2.9),
where 河北区商务局 (account hebei_commerce) has typed its figures for the week of 2023-12-25.
Idempotent by name."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from portal.auth import service as auth
from portal.auth.models import User
from portal.dispatch import service as dispatch
from portal.dispatch.models import ReportDefinition
from portal.extensions import db
from portal.plans.models import Campaign
from tenants.models import Tenant

HEBEI = "120105"
COMMERCE_USER = "hebei_commerce"
NATIONAL_NAME = "全国重大事故隐患专项排查整治 2023 行动进展情况调度表"
HEBEI_NAME = "河北区重大事故隐患专项排查整治2023行动进展情况调度表"


def _definition(owner: Tenant, campaign: Campaign, name: str, **fields) -> ReportDefinition:
    found = db.session.execute(select(ReportDefinition).where(ReportDefinition.tenant_id == owner.id,
                                                              ReportDefinition.name == name)).scalar_one_or_none()
    return found or dispatch.create_definition(owner, campaign, name=name, **fields)


def seed_dispatch(password: str) -> None:
    campaign = db.session.execute(select(Campaign).where(Campaign.name == "重大事故隐患专项排查整治2023行动")
                                  ).scalar_one_or_none()
    hebei = db.session.execute(select(Tenant).where(Tenant.code == HEBEI)).scalar_one_or_none()
    if campaign is None or hebei is None:
        return
    root = db.session.get(Tenant, hebei.ancestor_ids[0])
    _definition(root, campaign, NATIONAL_NAME, layout=dispatch.NATIONAL_LAYOUT, by_level=True,
                notes=dispatch.NATIONAL_NOTES, period="month", due_day=5, cumulative=True)
    weekly = _definition(hebei, campaign, HEBEI_NAME, layout=dispatch.HEBEI_LAYOUT, notes=dispatch.HEBEI_NOTES,
                         period="week", due_day=1, cumulative=True)
    commerce = db.session.execute(select(Tenant).where(Tenant.parent_id == hebei.id, Tenant.kind == "department",
                                                       Tenant.name.endswith("商务局"))).scalar_one_or_none()
    if commerce is None:
        return
    if db.session.execute(select(User.id).where(User.username == COMMERCE_USER)).first() is None:
        auth.accept_password(auth.create_user(commerce, username=COMMERCE_USER, display_name="高雪",
                                              password=password, role="staff", post="商务局企业服务科"))
    week = dispatch.period_of(weekly, date(2023, 12, 25))
    if dispatch.submission(weekly, commerce, week) is None:
        dispatch.save_manual(weekly, commerce, week, {"lead.study_sessions": "3", "lead.principal_studies": "2",
                                                      "lead.site_supervision": "5", "lead.enterprise_briefings": "4",
                                                      "lead.media_column": "否", "lead.inspectors": "6",
                                                      "lead.supervision_rounds": "2"})
