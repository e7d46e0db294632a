"""Two people of the street and the district confirming one accident report at the same moment,
on real concurrent connections: one confirmation."""
from datetime import date

import pytest

from portal.inspections import service
from tests.conftest import audited, race, refused
from tests.inspections.conftest import TODAY


@pytest.fixture
def session(committed_session):
    return committed_session


def test_two_confirmations_at_once_record_one(session, tree, make_user):
    (plant,) = make_user(tree["a_plant"], role="principal").memberships
    (street,) = make_user(tree["a_street"], role="staff").memberships
    (district,) = make_user(tree["a"], role="admin").memberships
    accident = service.report_accident(plant, occurred_on=date(2024, 6, 1), kind="fire", deaths=0, injuries=1,
                                       summary="仓库起火", today=TODAY)
    outcomes = race((lambda a, m: service.confirm_accident(m, a), accident, street),
                    (lambda a, m: service.confirm_accident(m, a), accident, district))
    assert len(refused(outcomes)) == 1 and ("已于" in refused(outcomes)[0] or "刚刚已由他人确认" in refused(outcomes)[0])
    assert audited(accident, "accident.confirmed") == ["accident.confirmed"]
