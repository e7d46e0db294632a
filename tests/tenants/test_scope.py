"""Scoping: every ORM read of a scoped model is limited to the user's scope, and fails closed."""
import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from tenants.models import Membership, Tenant
from tenants.scope import Scope, ScopeError, scoped_as, set_scope, reset_scope


def names(session, stmt):
    return set(session.execute(stmt).scalars())


def test_district_scope_sees_own_subtree_and_ancestors_not_siblings(session, tree):
    with scoped_as(Scope.of(tree["a"], "admin")):
        seen = names(session, select(Tenant.name))
    assert {"甲区", "甲街道", "甲商场", "甲化工厂", "甲区商务局"} <= seen
    assert {"国务院安委会", "某市", "某市辖区"} <= seen  # ancestors, for breadcrumbs and letterheads
    assert not seen & {"乙区", "乙街道", "乙商场"}


def test_counts_and_subqueries_are_scoped_too(session, tree, make_user):
    make_user(tree["a_street"], role="staff")
    make_user(tree["b_street"], role="staff")
    with scoped_as(Scope.of(tree["a"], "admin")):
        count = session.execute(select(func.count(Membership.id))).scalar_one()
        in_sub = session.execute(
            select(func.count()).select_from(select(Membership).subquery())).scalar_one()
        via_in = session.execute(select(func.count()).select_from(Tenant)
                                 .where(Tenant.id.in_(select(Membership.tenant_id)))).scalar_one()
    assert count == 1 and in_sub == 1 and via_in == 1


def test_relationship_loads_are_scoped(session, tree):
    with scoped_as(Scope.of(tree["a"], "admin")):
        city = session.execute(select(Tenant).where(Tenant.name == "某市辖区")).scalar_one()
        session.expire(city, ["children"])
        assert {c.name for c in city.children} == {"甲区"}


def test_department_sees_its_industries_enterprises_in_parent_territory(session, tree, make_tenant):
    other_dept_shop = make_tenant(tree["b_street"], kind="enterprise", name="乙区另一商场", industry="commerce")
    with scoped_as(Scope.of(tree["a_dept"], "inspector")):
        seen = names(session, select(Tenant.name).where(Tenant.kind == "enterprise"))
    assert seen == {"甲商场"}  # commerce in 甲区 only: not the chemical plant, not 乙区's shops
    assert other_dept_shop.name not in seen


def test_department_scope_covers_records_of_supervised_enterprises(session, tree, make_user):
    make_user(tree["a_shop"], role="principal")
    make_user(tree["a_plant"], role="principal")
    with scoped_as(Scope.of(tree["a_dept"], "inspector")):
        tenants = {m.tenant.name for m in session.execute(select(Membership)).scalars()}
    assert tenants == {"甲商场"}


def test_no_scope_fails_closed(session, tree):
    token = set_scope(None)
    try:
        with pytest.raises(ScopeError):
            session.execute(select(Tenant)).all()
        with pytest.raises(ScopeError):
            session.execute(select(AuditEvent)).all()
        # Even a query the guard cannot attribute to a model matches no rows.
        assert session.execute(select(func.count()).select_from(Tenant)).scalar_one() == 0
    finally:
        reset_scope(token)


def test_scope_contains_matches_the_sql_criteria(session, tree):
    scope = Scope.of(tree["a_dept"], "inspector")
    with scoped_as(scope):
        visible = set(session.execute(select(Tenant.id).where(Tenant.kind == "enterprise")).scalars())
    everything = session.execute(select(Tenant).where(Tenant.kind == "enterprise")).scalars().all()
    assert visible == {t.id for t in everything if scope.contains(t)}


def test_another_scopes_area_in_a_statement_keeps_both_scopes_values(session, tree, make_user):
    """A node's figures read by a level above (hazards._area) put the node's scope into a statement
    read under the reader's: each keeps its own values, so the area is the node's, and a wider area
    never widens what the reader may see."""
    for unit in ("a_street", "a_dept", "b_street"):
        make_user(tree[unit], role="staff")
    with scoped_as(Scope.of(tree["a"], "admin")):
        street = names(session, select(Tenant.name).where(Scope.of(tree["a_street"], "staff").area(Tenant)))
        memberships = session.execute(select(func.count(Membership.id)).where(
            Scope.of(tree["a_street"], "staff").area(Membership))).scalar_one()
    assert {"甲街道", "甲商场", "甲化工厂"} <= street and not street & {"甲区商务局", "乙街道"}
    assert memberships == 1
    with scoped_as(Scope.of(tree["a_street"], "staff")):
        district = names(session, select(Tenant.name).where(Scope.of(tree["a"], "admin").area(Tenant)))
        wider = session.execute(select(func.count(Membership.id)).where(
            Scope.of(tree["root"], "admin").area(Membership))).scalar_one()
    assert "甲街道" in district and not district & {"甲区商务局", "乙街道", "乙区"}
    assert wider == 1


def test_a_count_that_names_no_entity_is_refused_not_counted_across_districts(session, tree, make_user):
    """select(func.count().filter(Membership.role == …)) reaches memberships only through an
    expression: no criterion could apply, so it is refused instead of counting 乙区's rows."""
    make_user(tree["a_street"], role="staff")
    make_user(tree["b_street"], role="staff")
    with scoped_as(Scope.of(tree["a"], "admin")):
        with pytest.raises(ScopeError, match="select_from"):
            session.execute(select(func.count().filter(Membership.role == "staff")))
        named = session.execute(select(func.count().filter(Membership.role == "staff")).select_from(Membership))
        assert named.scalar_one() == 1
