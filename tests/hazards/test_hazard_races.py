"""Two people acting on one hazard at the same moment, on real concurrent connections: one of them
moves it, the other is told what it is now; the audit trail holds one step from each state."""
from datetime import date

import pytest

from portal.hazards import service
from tests.conftest import audited, race, refused
from tests.hazards.conftest import TODAY


@pytest.fixture
def session(committed_session):
    return committed_session


def test_accept_and_return_at_once_one_wins_and_the_dates_agree(session, people, make_hazard):
    """验收通过 by the street and 退回 by the department, on one 已整改待验收 hazard."""
    plant = people["plant"]
    hazard = make_hazard(today=TODAY)
    service.transition(hazard, plant, "start", today=TODAY)
    service.transition(hazard, plant, "report", today=date(2024, 6, 20))

    outcomes = race(
        (lambda h, m: service.transition(h, m, "accept", today=date(2024, 6, 21)), hazard, people["street"]),
        (lambda h, m: service.transition(h, m, "return", reason="报警器未联网，请继续整改", today=date(2024, 6, 21)),
         hazard, people["emergency"]))

    (message,) = refused(outcomes)
    steps = audited(hazard, "hazard.accepted", "hazard.returned")
    assert len(steps) == 1
    if steps == ["hazard.accepted"]:
        assert (hazard.status, hazard.rectified_on, hazard.accepted_on) == ("accepted", date(2024, 6, 20),
                                                                            date(2024, 6, 21))
        assert "当前为“已验收”" in message
    else:
        assert (hazard.status, hazard.rectified_on, hazard.accepted_on) == ("rectifying", None, None)
        assert "当前为“整改中”" in message


def test_two_levels_listing_one_hazard_at_once_list_it_once(session, people, make_hazard):
    """挂牌督办 by 甲区 and by the city above it, at the same moment."""
    tree = people["tree"]
    hazard = make_hazard(today=TODAY)
    city = people.make_user(tree["city"], role="admin").memberships[0]
    tracker_id = people["street"].user_id  # read here: the racing threads touch only what they load

    def list_by(h, m, number):
        return service.list_hazard(h, m, document_number=number, tracker_id=tracker_id, deadline=date(2099, 9, 30),
                                   today=TODAY)

    outcomes = race((lambda h, m: list_by(h, m, "甲安督〔2024〕1号"), hazard, people["district"]),
                    (lambda h, m: list_by(h, m, "市安督〔2024〕1号"), hazard, city))

    (message,) = refused(outcomes)
    assert audited(hazard, "hazard.listed") == ["hazard.listed"]
    assert f"该隐患已由{hazard.listed_by.name}挂牌督办" in message
