"""Inheritance: the nearest owner on the path wins; a child may tighten a rule, never loosen it."""
import pytest

from tenants import inherit

DRILLS = "test.drills_per_year"


@pytest.fixture
def drills_rule():
    # A rule where more often is stricter, as plan rules will be.
    inherit.register_check(DRILLS, lambda parent, child: None if child >= parent
                           else f"不得少于上级规定的每年 {parent} 次。")
    yield DRILLS
    inherit._checks.pop(DRILLS)


def test_nearest_owner_wins_and_default_applies(session, tree):
    assert inherit.resolve(tree["a_shop"], "test.any", "默认") == "默认"
    inherit.set_value(tree["province"], "test.any", "省级")
    inherit.set_value(tree["a"], "test.any", "区级")
    assert inherit.resolve(tree["a_shop"], "test.any") == "区级"
    assert inherit.resolve(tree["b_shop"], "test.any") == "省级"
    assert inherit.resolve(tree["root"], "test.any") is None
    value, owner = inherit.resolve_with_owner(tree["a_street"], "test.any")
    assert value == "区级" and owner.tenant_id == tree["a"].id


def test_a_child_may_tighten_but_not_loosen(session, tree, drills_rule):
    inherit.set_value(tree["root"], drills_rule, 1)
    inherit.set_value(tree["a"], drills_rule, 4)  # stricter: quarterly
    with pytest.raises(inherit.LooserThanParent, match="每年 4 次"):
        inherit.set_value(tree["a_street"], drills_rule, 2)
    inherit.set_value(tree["a_street"], drills_rule, 12)
    assert inherit.resolve(tree["a_shop"], drills_rule) == 12
    assert inherit.resolve(tree["b_shop"], drills_rule) == 1


def test_clearing_restores_the_inherited_value(session, tree):
    inherit.set_value(tree["city"], "test.any", "市级")
    inherit.set_value(tree["a"], "test.any", "区级")
    assert inherit.clear_value(tree["a"], "test.any") is True
    assert inherit.resolve(tree["a_street"], "test.any") == "市级"
    assert inherit.clear_value(tree["a"], "test.any") is False


def test_resolving_is_one_query(session, tree, app):
    from sqlalchemy import event
    inherit.set_value(tree["root"], "test.any", "根")
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)
    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert inherit.resolve(tree["a_shop"], "test.any") == "根"
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def test_a_user_below_reads_the_value_an_ancestor_set(session, tree):
    """Under a street's or a supervising department's scope, the district's value still applies."""
    from tenants.models import Tenant
    from tenants.scope import Scope, scoped_as
    inherit.set_value(tree["a"], "test.any", "区级")
    inherit.set_value(tree["a_street"], "test.other", "街道级")
    session.flush()
    for unit, role in ((tree["a_street"], "staff"), (tree["a_shop"], "principal"), (tree["a_dept"], "inspector")):
        with scoped_as(Scope.of(unit, role)):
            session.expunge_all()
            shop = session.get(Tenant, tree["a_shop"].id)
            assert inherit.resolve(shop, "test.any") == "区级", unit.name
            assert inherit.resolve(shop, "test.other") == "街道级", unit.name
    with scoped_as(Scope.of(tree["b"], "admin")):
        session.expunge_all()
        assert inherit.resolve(session.get(Tenant, tree["b_shop"].id), "test.any") is None
