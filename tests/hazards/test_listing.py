"""挂牌督办: a government level lists a major hazard with a document number, a tracking person and
a deadline; it comes off the list only after 销号, and only by the level that listed it or above."""
from datetime import date

import pytest

from portal.hazards import service
from tenants.scope import Scope, scoped_as

from tests.hazards.conftest import TODAY


def _list(hazard, actor, **kw):
    values = dict(document_number="甲安委办督〔2024〕7号", tracker_id=actor.user_id, deadline=date(2024, 8, 31),
                  today=TODAY)
    values.update(kw)
    return service.list_hazard(hazard, actor, **values)


def _close(hazard, people):
    for actor, action in ((people["plant"], "start"), (people["plant"], "report"), (people["emergency"], "accept"),
                          (people["emergency"], "close")):
        service.transition(hazard, actor, action, today=TODAY)


def test_a_district_lists_a_major_hazard_and_delists_it_after_close_out(session, people, make_hazard):
    hazard = make_hazard()
    tracker = people["street"]
    _list(hazard, people["district"], tracker_id=tracker.user_id)
    assert hazard.listed and hazard.listed_level == "district" and hazard.listed_by.name == "甲区"
    assert hazard.listed_tracker_id == tracker.user_id and hazard.listed_on == TODAY
    with pytest.raises(service.HazardError, match="已由甲区挂牌督办"):
        _list(hazard, people["leader"])
    with pytest.raises(service.HazardError, match="尚未销号"):
        service.delist_hazard(hazard, people["district"], today=TODAY)
    _close(hazard, people)
    with pytest.raises(service.HazardError, match="只有挂牌单位（甲区）或其上级"):
        service.delist_hazard(hazard, people["street"], today=TODAY)
    service.delist_hazard(hazard, people["leader"], today=TODAY)
    assert not hazard.listed and hazard.delisted_on == TODAY
    assert [e.action for e in service.timeline(hazard)][-1] == "hazard.delisted"


@pytest.mark.parametrize("change, message", [
    (dict(document_number=" "), "督办文号"),
    (dict(deadline=date(2024, 6, 14)), "督办期限"),
    (dict(tracker_id=None), "跟踪督办责任人"),
])
def test_listing_needs_a_number_a_tracker_and_a_deadline(session, people, make_hazard, change, message):
    hazard = make_hazard()
    with pytest.raises(service.HazardError, match=message):
        _list(hazard, people["district"], **change)
    assert not hazard.listed


def test_who_and_what_may_be_listed(session, people, make_hazard):
    t = people["tree"]
    general = make_hazard(level="general", description="警示标志褪色")
    with pytest.raises(service.HazardError, match="只有重大事故隐患"):
        _list(general, people["district"])
    major = make_hazard()
    with pytest.raises(service.HazardError, match="政府层级"):
        _list(major, people["emergency"])
    # The tracker must work for the listing level or below it: not 乙区's admin.
    with pytest.raises(service.HazardError, match="跟踪督办责任人"):
        _list(major, people["district"], tracker_id=people["sibling"].user_id)
    with pytest.raises(service.HazardError, match="本辖区"):
        service.list_hazard(major, people["sibling"], document_number="x", tracker_id=people["sibling"].user_id,
                            deadline=date(2024, 8, 1), today=TODAY)
    _close(major, people)
    with pytest.raises(service.HazardError, match="已销号"):
        _list(major, people["district"])
    assert t["a"].id not in {major.listed_by_id}


def test_the_listed_page_shows_the_listing_levels_subtree(session, people, make_hazard):
    listed = make_hazard()
    make_hazard(description="未挂牌的另一项")
    _list(listed, people["district"])
    for who, expected in (("street", [listed.id]), ("emergency", [listed.id]), ("sibling", [])):
        actor = people[who]
        with scoped_as(Scope.of(actor.tenant, actor.role)):
            session.expunge_all()
            assert [h.id for h in session.execute(service.listed()).scalars()] == expected, who
