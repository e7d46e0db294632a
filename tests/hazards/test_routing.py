"""分级属地: an enterprise's major hazard reaches its street and every department supervising its
industry in its territory, through the scope alone; nobody else sees it."""
from sqlalchemy import select

from portal.hazards import service
from portal.hazards.models import Hazard
from tenants.scope import Scope, scoped_as


def _inbox_ids(session, actor):
    with scoped_as(Scope.of(actor.tenant, actor.role)):
        session.expunge_all()
        awaiting, open_major = service.inbox()
        return ({h.id for h in session.execute(awaiting).scalars()},
                {h.id for h in session.execute(open_major).scalars()})


def test_a_major_hazard_reaches_the_street_and_the_supervising_departments_only(session, people, make_hazard,
                                                                                  make_tenant, make_user):
    t = people["tree"]
    chemical = make_hazard()
    shop = make_hazard(actor=people["shop"], enterprise=t["a_shop"], description="商场疏散通道堵塞")
    minor = make_hazard(level="general", description="警示标志褪色")
    # The city's own hazchem department supervises the whole city, so it is reached too.
    city_emergency = make_tenant(t["city"], kind="department", name="市应急管理局", supervised_industries=["hazchem"])
    city_inspector = people.make_user(city_emergency, role="inspector").memberships[0]
    expected = {
        "street": {chemical.id, shop.id},
        "district": {chemical.id, shop.id},
        "emergency": {chemical.id},
        "commerce": {shop.id},
        "sibling": set(),
    }
    for who, ids in expected.items():
        assert _inbox_ids(session, people[who])[1] == ids, who
    assert _inbox_ids(session, city_inspector)[1] == {chemical.id}
    # A general hazard is in the ledger of those who answer for it, not in the major-hazard inbox.
    with scoped_as(Scope.of(t["a_emergency"], "inspector")):
        session.expunge_all()
        ledger = {h.id for h in session.execute(service.ledger(service.LedgerFilter())).scalars()}
    assert ledger == {chemical.id, minor.id}


def test_a_reported_fix_waits_in_the_reviewers_inbox(session, people, make_hazard):
    hazard = make_hazard()
    service.transition(hazard, people["plant"], "start")
    service.transition(hazard, people["plant"], "report")
    for who in ("street", "emergency", "district"):
        assert _inbox_ids(session, people[who])[0] == {hazard.id}, who
    assert _inbox_ids(session, people["commerce"])[0] == set()


def test_the_enterprise_and_a_sibling_district_see_only_their_own(session, people, make_hazard):
    t = people["tree"]
    plant = make_hazard()
    shop = make_hazard(actor=people["shop"], enterprise=t["a_shop"], description="商场疏散通道堵塞")
    with scoped_as(Scope.of(t["a_shop"], "safety_officer")):
        session.expunge_all()
        assert {h.id for h in session.execute(select(Hazard)).scalars()} == {shop.id}
    with scoped_as(Scope.of(t["b"], "admin")):
        session.expunge_all()
        assert session.execute(select(Hazard).where(Hazard.id.in_([plant.id, shop.id]))).first() is None
