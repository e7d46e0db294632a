"""Two people checking one tip at the same moment, on real concurrent connections: one verdict
(and at most one hazard from it), one reward."""
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.hazards import service as hazards
from portal.hazards.models import Hazard
from portal.tips import service
from portal.tips.models import Tip
from tests.conftest import audited, race, refused


@pytest.fixture
def session(committed_session):
    return committed_session


@pytest.fixture
def tip(session, tree):
    service.submit(district_id=tree["a"].id, street_id=tree["a_street"].id, enterprise_name="甲化工厂",
                   address="甲街道", description="仓库违规储存液化气钢瓶，堆在疏散通道旁", anonymous=True,
                   sender="192.0.2.1", limit=5)
    return session.execute(select(Tip)).scalar_one()


def verify_true(t, m, plant):
    return service.verify(t, m, true=True, enterprise=plant, today=date(2024, 6, 1), finding=hazards.Finding(
        level="general", description="液化气钢瓶违规存放", found_at=date(2024, 6, 1)))


def test_true_and_unfounded_at_once_give_one_verdict(session, tree, make_user, tip):
    (street,) = make_user(tree["a_street"], role="staff").memberships
    (district,) = make_user(tree["a"], role="staff").memberships

    outcomes = race((verify_true, tip, street, tree["a_plant"]),
                    (lambda t, m: service.verify(t, m, true=False, note="现场未发现钢瓶", today=date(2024, 6, 1)),
                     tip, district))

    (message,) = refused(outcomes)
    assert audited(tip, "tip.verified") == ["tip.verified"]
    assert f"该举报已核查（{tip.status_label}）" in message
    hazards_made = session.execute(select(func.count()).select_from(Hazard)).scalar()
    assert (tip.status, hazards_made) in (("verified", 1), ("unfounded", 0))
    assert (tip.hazard_id is not None) == (tip.status == "verified")


def test_two_rewards_at_once_record_one(session, tree, make_user, tip):
    (street,) = make_user(tree["a_street"], role="staff").memberships
    verify_true(tip, street, tree["a_plant"])

    def reward(t, m):
        return service.reward(t, m, amount=Decimal("0.5"), named=False, today=date(2024, 6, 2))

    outcomes = race((reward, tip, street), (reward, tip, street))

    assert refused(outcomes) == ["该举报已记录奖励（2024-06-02，0.50 万元），不能重复记录。"]
    assert audited(tip, "tip.rewarded") == ["tip.rewarded"]
    assert tip.reward == Decimal("0.5")
