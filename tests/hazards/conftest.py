"""Hazard fixtures: the national standards on the tree's root, people in every role, and a
hazard factory that goes through the service like a user would."""
from datetime import date
from decimal import Decimal

import pytest

from portal.hazards import service
from tenants.scope import Scope, scoped_as

TODAY = date(2024, 6, 15)


def acting(actor):
    """Run as `actor` would in a request: reads limited to its scope."""
    return scoped_as(Scope.of(actor.tenant, actor.role))


def member(user):
    """The user's (only) membership: the actor the services take."""
    (m,) = user.memberships
    return m


@pytest.fixture
def standards(session, tree):
    service.load_national_standards(tree["root"])
    session.flush()
    return tree


class People(dict):
    """Who acts on 甲区's hazards, made on first use (hashing a password takes a tenth of a second)."""

    ROLES = {"plant": ("a_plant", "principal"), "shop": ("a_shop", "safety_officer"), "street": ("a_street", "staff"),
             "emergency": ("a_emergency", "inspector"), "commerce": ("a_dept", "inspector"),
             "district": ("a", "admin"), "leader": ("a", "leader"), "sibling": ("b", "admin")}

    def __init__(self, tree, make_user):
        super().__init__(tree=tree)
        self.make_user = make_user

    def __missing__(self, key):
        unit, role = self.ROLES[key]
        self[key] = member(self.make_user(self["tree"][unit], role=role))
        return self[key]


@pytest.fixture
def people(session, standards, make_tenant, make_user):
    """The chemical plant's principal, the commerce shop's safety officer, the street's staff, the
    district's hazchem department (应急管理局) and commerce department (商务局) inspectors, 甲区's
    admin and leader, and 乙区's admin."""
    t = standards
    t["a_emergency"] = make_tenant(t["a"], kind="department", name="甲区应急管理局",
                                   supervised_industries=["hazchem", "industry_trade"])
    return People(t, make_user)


def fixes(deadline=date(2024, 7, 31), funds="3.5"):
    return service.Fixes(owner="张三（设备部经理）", measures="更换失效的可燃气体报警器并联网", funds=Decimal(funds),
                         deadline=deadline, contingency="整改完成前停用该储罐区，设专人巡查")


def item_of(enterprise, code):
    return next(i for i in service.applicable_items(enterprise) if i.code == code)


@pytest.fixture
def make_hazard(session, people):
    """A hazard recorded through the service; the chemical plant's own, major, by default."""
    def make(actor=None, enterprise=None, level="major", found_at=date(2024, 5, 10), with_fixes=True,
             deadline=date(2024, 7, 31), on_the_spot=False, description="储罐区可燃气体报警器失效", today=TODAY):
        actor = actor or people["plant"]
        enterprise = enterprise or people["tree"]["a_plant"]
        applicable = service.applicable_items(enterprise)
        item = applicable[0].id if applicable and level == "major" else None
        finding = service.Finding(level=level, description=description, location="二号储罐区", found_at=found_at,
                                  item_id=item, on_the_spot=on_the_spot,
                                  fixes=fixes(deadline=max(found_at, deadline)) if with_fixes else None)
        hazard = service.record(enterprise, actor, finding, today=max(today, found_at))
        session.flush()
        return hazard
    return make


# A 1×1 PNG, as a phone would send a (very small) photo.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")


def sample_records(session, tree, make_user) -> dict:
    """For the access matrix: key check items of 甲区 and a hazard of one of its enterprises, with a
    photo, recorded by the enterprise itself. Returns the URL parameters that reach them."""
    from portal.uploads import service as uploads  # noqa: F401  (photos are uploads)
    standard = service.publish_key_items(tree["a"], name="甲区机密检查事项", document_number="", industry="commerce",
                                         items=["甲区机密检查事项第一项"])
    shop = member(make_user(tree["a_shop"], role="principal"))
    hazard = service.record(tree["a_shop"], shop, service.Finding(
        level="general", description="甲区机密隐患描述", found_at=date(2024, 5, 1), item_id=standard.items[0].id),
        photos=[("甲区现场.png", PNG)], today=TODAY)
    session.flush()
    return {"hazard_id": [hazard.id], "standard_id": [standard.id]}
