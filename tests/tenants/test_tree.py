"""The materialized path: subtree ranges, ancestors, moves and their refusals."""
import pytest
from sqlalchemy import select

from portal.audit.models import AuditEvent
from tenants.models import Membership, Tenant
from tenants.paths import TreeError, in_subtree, move, upper_bound
from tenants import service


def test_path_is_ids_from_root(tree):
    a, street = tree["a"], tree["a_street"]
    assert street.path == f"{a.path}{street.id}/"
    assert street.ancestor_ids == [int(x) for x in a.path.strip("/").split("/")]
    assert street.depth == a.depth + 1


def test_upper_bound_excludes_sibling_with_longer_id():
    # '/1/7/' must not contain '/1/70/': the range ends at '/1/70'.
    assert upper_bound("/1/7/") == "/1/70"
    assert "/1/70/" >= upper_bound("/1/7/")
    assert "/1/7/999/" < upper_bound("/1/7/")


def test_subtree_query_is_a_range_not_like(session, tree):
    stmt = select(Tenant.name).where(in_subtree(Tenant.path, tree["a"].path))
    sql = str(stmt.compile(compile_kwargs={"literal_binds": True}))
    assert "LIKE" not in sql.upper()
    names = set(session.execute(stmt).scalars())
    assert names == {"甲区", "甲街道", "甲区商务局", "甲商场", "甲化工厂"}


def test_subtree_range_does_not_catch_sibling_whose_id_extends_prefix(session, make_tenant):
    root = make_tenant()
    siblings = [make_tenant(root, kind="province") for _ in range(12)]
    # Find two siblings where one id's digits start with the other's (e.g. 7 and 70..79).
    first = siblings[0]
    ids = {t.id for t in siblings}
    inside = set(session.execute(select(Tenant.id).where(in_subtree(Tenant.path, first.path))).scalars())
    assert inside == {first.id}
    assert ids - inside == {t.id for t in siblings[1:]}


def test_move_rewrites_subtree_paths_and_record_copies(session, tree, make_user):
    street, b = tree["a_street"], tree["b"]
    principal = make_user(tree["a_shop"], role="principal")
    move(street, b)
    session.flush()
    moved = session.get(Tenant, street.id)
    shop = session.get(Tenant, tree["a_shop"].id)
    assert moved.parent_id == b.id
    assert moved.path == f"{b.path}{street.id}/"
    assert shop.path == f"{moved.path}{shop.id}/"
    assert shop.depth == moved.depth + 1
    membership = session.execute(select(Membership).where(Membership.user_id == principal.id)).scalar_one()
    assert membership.tenant_path == shop.path
    events = session.execute(select(AuditEvent).where(AuditEvent.tenant_id == shop.id)).scalars().all()
    assert events and all(e.tenant_path == shop.path for e in events)


def test_move_under_own_descendant_is_refused(session, tree):
    with pytest.raises(TreeError, match="下级"):
        service.relocate(tree["a"], tree["a_street"])
    with pytest.raises(TreeError):
        service.relocate(tree["a"], tree["a"])


def test_move_to_a_parent_of_the_wrong_kind_is_refused(session, tree):
    with pytest.raises(TreeError, match="之下只能建"):
        service.relocate(tree["a_shop"], tree["a"])


def test_create_child_checks_kind_and_name(session, tree):
    with pytest.raises(TreeError, match="名称不能为空"):
        service.create_child(tree["a"], kind="street", name="   ")
    with pytest.raises(TreeError, match="最多 100"):
        service.create_child(tree["a"], kind="street", name="街" * 101)
    with pytest.raises(TreeError, match="之下只能建"):
        service.create_child(tree["a_street"], kind="district", name="某区")
    dept = service.create_child(tree["a"], kind="department", name="应急局", supervised_industries=["hazchem"])
    assert dept.path.startswith(tree["a"].path) and dept.supervised_industries == ["hazchem"]


def test_register_enterprise_refuses_duplicate_code_from_another_subtree(session, tree):
    with pytest.raises(TreeError, match="已登记"):
        service.register_enterprise(tree["a_street"], name="重复企业", code=tree["b_shop"].credit_code,
                                    industry="commerce", high_risk=False)


def test_roster_lists_subtree_in_tree_order(session, tree, make_user):
    make_user(tree["a_street"], role="staff")
    rows = service.roster(tree["a"])
    names = [t.name for t, _ in rows]
    assert names[0] == "甲区"
    assert names.index("甲街道") < names.index("甲商场")
    assert "乙商场" not in names
    assert any(members for t, members in rows if t.name == "甲街道")
