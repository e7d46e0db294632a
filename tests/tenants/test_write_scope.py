"""Writes are scoped like reads: ORM UPDATE and DELETE statements touch only the write range, a
flush of an object outside it raises, and may_change is the one answer to "may this membership
change this record"."""
from contextlib import contextmanager

import pytest
from sqlalchemy import delete, insert, select, update

from portal.audit import service as audit
from tenants import clock, inherit
from tenants.models import Membership, Tenant, TenantSetting
from tenants.scope import Scope, ScopeError, may_change, reset_scope, scoped_as, set_scope, writing_for


def membership_of(session, user) -> Membership:
    return session.execute(select(Membership).where(Membership.user_id == user.id)).scalar_one()


@pytest.fixture
def members(session, tree, make_user):
    """One membership in each of 甲商场, 甲化工厂 and 乙商场."""
    return {name: membership_of(session, make_user(tree[name], role="safety_officer"))
            for name in ("a_shop", "a_plant", "b_shop")}


def roles(session, members):
    session.expire_all()
    return {name: session.get(Membership, m.id).role for name, m in members.items()}


def test_an_update_statement_changes_only_rows_in_the_write_range(session, tree, members):
    with scoped_as(Scope.of(tree["a"], "admin")):
        changed = session.execute(update(Membership).where(Membership.id.in_([m.id for m in members.values()]))
                                  .values(role="principal").execution_options(synchronize_session=False))
    assert changed.rowcount == 2
    assert roles(session, members) == {"a_shop": "principal", "a_plant": "principal", "b_shop": "safety_officer"}


def test_an_update_of_another_subtrees_nodes_changes_nothing(session, tree):
    with scoped_as(Scope.of(tree["a"], "admin")):
        changed = session.execute(update(Tenant).where(Tenant.id.in_([tree["b_shop"].id, tree["a_shop"].id]))
                                  .values(high_risk=True).execution_options(synchronize_session=False))
    assert changed.rowcount == 1
    session.expire_all()
    assert (tree["a_shop"].high_risk, tree["b_shop"].high_risk) == (True, False)


def test_a_delete_statement_spares_another_subtree_and_ancestors(session, tree, members):
    inherit.set_value(tree["city"], "city.rule", {"x": 1})
    with scoped_as(Scope.of(tree["a"], "admin")):
        gone = session.execute(delete(Membership).where(Membership.id == members["b_shop"].id)).rowcount
        rule = session.execute(delete(TenantSetting).where(TenantSetting.key == "city.rule")).rowcount
    assert (gone, rule) == (0, 0)
    session.expire_all()
    assert session.get(Membership, members["b_shop"].id) is not None


def test_a_department_writes_records_of_supervised_enterprises_only(session, tree, members):
    with scoped_as(Scope.of(tree["a_dept"], "inspector")):
        changed = session.execute(update(Membership).where(Membership.id.in_([m.id for m in members.values()]))
                                  .values(role="principal").execution_options(synchronize_session=False))
        nodes = session.execute(update(Tenant).where(Tenant.id == tree["a_shop"].id).values(high_risk=True)
                                .execution_options(synchronize_session=False)).rowcount
    assert changed.rowcount == 1  # 甲商场 (商贸): not the chemical plant, not 乙区
    assert roles(session, members)["a_shop"] == "principal"
    assert nodes == 0  # supervising an enterprise is not administering it


@contextmanager
def refused(session):
    """Expect ScopeError from the block; its changes roll back with a savepoint, as a request's would."""
    with pytest.raises(ScopeError), session.begin_nested():
        yield


def test_writes_with_no_scope_fail_closed(session, tree, members):
    token = set_scope(None)
    try:
        with refused(session):
            session.execute(update(Membership).values(role="principal"))
        with refused(session):
            session.execute(delete(Membership))
        with refused(session):
            members["a_shop"].role = "principal"
            session.flush()
    finally:
        reset_scope(token)
    assert roles(session, members)["a_shop"] == "safety_officer"


def test_flushing_a_dirty_object_of_another_subtree_raises(session, tree, members):
    with scoped_as(Scope.of(tree["a"], "admin")):
        members["a_shop"].role = "principal"
        session.flush()  # inside: written
        with refused(session):
            members["b_shop"].role = "principal"
            session.flush()
        with refused(session):
            tree["b_shop"].name = "改名"
            session.flush()
    assert roles(session, members) == {"a_shop": "principal", "a_plant": "safety_officer", "b_shop": "safety_officer"}
    assert session.get(Tenant, tree["b_shop"].id).name == "乙商场"


def test_adding_or_deleting_an_object_outside_the_write_range_raises(session, tree, members):
    user = members["b_shop"].user
    with scoped_as(Scope.of(tree["a"], "admin")):
        with refused(session):
            session.add(Membership(user=user, tenant=tree["b_street"], role="staff"))
            session.flush()
        with refused(session):
            session.delete(members["b_shop"])
            session.flush()
    with scoped_as(Scope.of(tree["a_street"], "admin")):
        with refused(session):
            inherit.set_value(tree["a"], "district.rule", {"x": 1})  # the district's, from below
    assert session.execute(select(Membership).where(Membership.user_id == user.id)).scalars().all() \
        == [members["b_shop"]]
    assert inherit.resolve(tree["a"], "district.rule") is None


def test_writing_for_opens_exactly_one_node(session, tree, members):
    with scoped_as(Scope.of(tree["a_street"], "staff")), writing_for(tree["b_shop"]):
        audit.record(tree["b_shop"], "auth.login", members["b_shop"].user, actor=members["b_shop"])
        members["b_shop"].role = "principal"
        session.flush()
        with refused(session):
            tree["b_street"].name = "改名"
            session.flush()
    assert roles(session, members)["b_shop"] == "principal"


def test_a_bulk_insert_outside_the_write_range_raises(session, tree):
    from portal.plans.models import Notification

    def news(unit):
        return {"tenant_id": unit.id, "tenant_path": unit.path, "kind": "task", "text": "甲区写入检查",
                "link": "/plans/", "created_at": clock.now()}

    with scoped_as(Scope.of(tree["a_street"], "staff")):
        session.execute(insert(Notification), [news(tree["a_shop"])])
        with refused(session):
            session.execute(insert(Notification), [news(tree["a_shop"]), news(tree["a"])])
        with writing_for(tree["a"]):  # e.g. a street's report tells the district that assigned it
            session.execute(insert(Notification), [news(tree["a"])])
    sent = session.execute(select(Notification.tenant_id).where(Notification.text == "甲区写入检查")).scalars()
    assert sorted(sent) == sorted([tree["a_shop"].id, tree["a"].id])


def test_may_change(session, tree, members):
    district, dept = Scope.of(tree["a"], "admin"), Scope.of(tree["a_dept"], "inspector")
    assert may_change(district, tree["a_shop"]) and may_change(district, members["a_plant"])
    assert not may_change(district, tree["b_shop"]) and not may_change(district, members["b_shop"])
    assert not may_change(district, tree["city"])  # an ancestor is read, never changed
    assert may_change(dept, members["a_shop"]) and may_change(dept, tree["a_shop"])
    assert not may_change(dept, members["a_plant"]) and not may_change(dept, tree["a_street"])
    assert not may_change(dept, tree["a_shop"], administer=True)
    assert may_change(district, tree["a_shop"], administer=True)
    assert may_change(members["a_shop"], tree["a_shop"]) and not may_change(members["a_shop"], tree["a_plant"])
