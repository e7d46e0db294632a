"""The demo's hazards: every state of the loop, 2023 stock, listed ones, tips; seeded once."""
from collections import Counter
from datetime import date

from sqlalchemy import func, select

from portal.demo import seed
from portal.hazards import service
from portal.hazards.models import Hazard, STATUSES
from portal.tips.models import Tip
from tenants.models import Tenant
from tenants.scope import Scope, scoped_as


def test_the_demo_ledger_covers_the_loop_stock_listing_and_tips(session, seeded):
    hazards = session.execute(select(Hazard)).scalars().all()
    assert 30 <= len(hazards) <= 60
    assert set(Counter(h.status for h in hazards)) == set(STATUSES)
    assert {h.source for h in hazards} == {"self", "department", "tip"}
    assert any(h.found_at < date(2024, 1, 1) and h.status != "closed" for h in hazards)  # open stock
    assert sum(h.listed for h in hazards) == 3 and {h.listed_level for h in hazards if h.listed} == {"district", "province"}
    assert any(e.action == "hazard.returned" for h in hazards for e in service.timeline(h))
    tips = session.execute(select(Tip)).scalars().all()
    assert {t.status for t in tips} == {"received", "verified"}
    hedong = session.execute(select(Tenant).where(Tenant.code == "120102")).scalar_one()
    assert all(h.tenant_path.startswith(hedong.path) for h in hazards)
    figures = service.stock_figures(hedong, date.today().year)
    assert figures.stock >= 5 and figures.stock_open >= 3 and not figures.dynamic_zero
    before = session.execute(select(func.count()).select_from(Hazard)).scalar_one()
    seed()
    session.flush()
    assert session.execute(select(func.count()).select_from(Hazard)).scalar_one() == before


def test_the_commerce_bureau_sees_only_commerce_hazards(session, seeded):
    bureau = session.execute(select(Tenant).where(Tenant.name == "河东区商务局")).scalar_one()
    with scoped_as(Scope.of(bureau, "inspector")):
        session.expunge_all()
        seen = session.execute(select(Hazard)).scalars().all()
        assert seen and {h.tenant.industry for h in seen} == {"commerce"}
