"""Dispatch fixtures: the 2023 campaign, the national monthly table owned by the root, and 河北区's
weekly table; the inspections' hand-built enforcement history of 甲区 is reused as is."""
from datetime import date, datetime

import pytest

from portal.dispatch import service
from portal.plans.models import Campaign
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
    # The command counts only the large levels; a district's roll-up puts one inside 甲区 as well.
    service.refresh_rollup(weekly, tree["a"], period)
    return {"definition_id": [weekly.id], "submission_id": [sub.id], "code": ["lead.study_sessions"]}
