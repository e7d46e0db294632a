"""Demo dispatch tables: the national monthly table of the 2023 campaign (seed 002, four blocks,
listed-supervision rows, 省/市/县 split), 河北区's weekly Monday-noon table from 2023-05-25 (seed 001,
with row 2.9), where 河北区商务局 (account hebei_commerce) has typed its figures for the week of
2023-12-25, 河东区's half-monthly summary (seed 000), and 东丽经开区's quarterly and yearly tables of
the three-year action (seed 004: due the 25th of each quarter's last month and 12-25, from
2024-04-01). The last three are composed from the catalogue of rows, as an admin composes one on
the page. Idempotent by name."""
from __future__ import annotations

from datetime import date, time

from sqlalchemy import select

from portal.auth import service as auth
from portal.auth.models import User
from portal.dispatch import service as dispatch
from portal.dispatch.models import ReportDefinition
from portal.extensions import db
from portal.plans.models import Campaign
from tenants.models import Tenant

HEDONG = "120102"
DONGLI_ZONE = "120110403"
HEBEI = "120105"
COMMERCE_USER = "hebei_commerce"
NATIONAL_NAME = "全国重大事故隐患专项排查整治 2023 行动进展情况调度表"
HEBEI_NAME = "河北区重大事故隐患专项排查整治2023行动进展情况调度表"
HEDONG_NAME = "河东区重大事故隐患专项排查整治2023行动半月汇总表"
THREE_YEAR_ROWS = ["hazards.self_found", "hazards.self_rectified", "hazards.dept_found", "hazards.dept_rectified",
                   "stock.open", "stock.cleared", "increment.found", "increment.open", "zero.overdue", "zero.reached"]


def _definition(owner: Tenant, campaign: Campaign, name: str, **fields) -> ReportDefinition:
    found = db.session.execute(select(ReportDefinition).where(
        ReportDefinition.tenant_id == owner.id, ReportDefinition.name == name,
        ReportDefinition.replaced_at.is_(None))).scalar_one_or_none()
    return found or dispatch.create_definition(owner, campaign, name=name, **fields)


def _by_code(code: str) -> Tenant | None:
    return db.session.execute(select(Tenant).where(Tenant.code == code)).scalar_one_or_none()


def _campaign(name: str) -> Campaign | None:
    return db.session.execute(select(Campaign).where(Campaign.name == name)).scalar_one_or_none()


def seed_composed() -> None:
    """河东区's half-monthly summary and 东丽经开区's three-year tables, from the catalogue."""
    hedong, zone = _by_code(HEDONG), _by_code(DONGLI_ZONE)
    campaign, three_year = _campaign("重大事故隐患专项排查整治2023行动"), _campaign("安全生产治本攻坚三年行动（2024—2026年）")
    if hedong is not None and campaign is not None:
        _definition(hedong, campaign, HEDONG_NAME, period="half_month", cumulative=True,
                    fillers=["street", "department"],
                    rows=[*THREE_YEAR_ROWS[:4], "spot.enterprises", "spot.principal_not_led", "enf.penalties",
                          "lead.study_sessions", "lead.site_supervision"],
                    notes="每半月书面汇总全区专项行动进展情况（河东区工作方案）。")
    if zone is not None and three_year is not None:
        common = dict(rows=THREE_YEAR_ROWS, fillers=["station", "village"], starts_on=date(2024, 4, 1))
        _definition(zone, three_year, "东丽经开区安全生产治本攻坚三年行动季度报送表", period="quarter", due_day=25,
                    cumulative=False, notes="自2024年4月1日起，各部门在每季度末25日前报送当季度工作情况。", **common)
        _definition(zone, three_year, "东丽经开区安全生产治本攻坚三年行动年度报送表", period="year", due_month=12,
                    due_day=25, cumulative=False, notes="各部门在当年12月25日前报送年度工作报告。", **common)


def seed_dispatch(password: str) -> None:
    campaign = db.session.execute(select(Campaign).where(Campaign.name == "重大事故隐患专项排查整治2023行动")
                                  ).scalar_one_or_none()
    hebei = db.session.execute(select(Tenant).where(Tenant.code == HEBEI)).scalar_one_or_none()
    if campaign is None or hebei is None:
        return
    root = db.session.get(Tenant, hebei.ancestor_ids[0])
    _definition(root, campaign, NATIONAL_NAME, uid=dispatch.NATIONAL_UID, layout=dispatch.NATIONAL_LAYOUT,
                by_level=True, notes=dispatch.NATIONAL_NOTES, period="month", due_day=5, cumulative=True)
    weekly = _definition(hebei, campaign, HEBEI_NAME, layout=dispatch.HEBEI_LAYOUT, notes=dispatch.HEBEI_NOTES,
                         period="week", due_day=1, due_time=time(12), starts_on=date(2023, 5, 25), cumulative=True)
    seed_composed()
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
