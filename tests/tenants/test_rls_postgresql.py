"""PostgreSQL's row-level security, the backstop behind the ORM listener: SQL that bypasses the
listener still reaches only the rows of the scope in force. Collected only when the suite runs
on PostgreSQL (tests/conftest.py); SQLite has the listener alone."""
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError

from portal.extensions import db
from portal.hazards.models import Hazard
from portal.hazards import service as hazards
from tenants.models import GOVERNMENT_KINDS, Scoped, Tenant
from tenants.paths import in_subtree
from tenants.rls import APP_ROLE, as_owner
from tenants.scope import Scope, reset_scope, scoped_as, set_scope, unscoped
from tests.hazards.conftest import member
from tests.tenants.test_access_matrix import world  # noqa: F401  (a record of every tenant-owned kind in 甲区)


def _count(table: str) -> int:
    return db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def _scoped_tables() -> dict[str, type]:
    return {m.class_.__tablename__: m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, Scoped)}


@pytest.fixture
def two_hazards(session, tree, make_user):
    """A hazard of 甲商场 (甲区, commerce), one of 甲化工厂 (甲区, hazchem), one of 乙商场 (乙区)."""
    def record(enterprise, description):
        actor = member(make_user(enterprise, role="principal"))
        finding = hazards.Finding(level="general", description=description, found_at=date(2024, 5, 1))
        return hazards.record(enterprise, actor, finding, today=date(2024, 6, 15))
    made = {key: record(tree[key], f"{key} 的隐患") for key in ("a_shop", "a_plant", "b_shop")}
    session.flush()
    return made


def test_every_scoped_table_forces_row_level_security_with_a_policy(session):
    rows = session.execute(text(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, count(p.policyname) FROM pg_class c"
        " LEFT JOIN pg_policies p ON p.schemaname = current_schema() AND p.tablename = c.relname"
        " WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"
        " GROUP BY c.relname, c.relrowsecurity, c.relforcerowsecurity")).all()
    state = {name: (enabled, forced, policies) for name, enabled, forced, policies in rows}
    tables = _scoped_tables()
    assert "tenants" in tables and "hazards" in tables
    for table in tables:
        assert state[table] == (True, True, 1), \
            f"{table}: call tenants.rls.protect on it in the migration that creates it"


def test_the_app_runs_as_a_role_that_neither_owns_the_tables_nor_bypasses_security(session):
    role = session.execute(text("SELECT current_user")).scalar_one()
    assert role == APP_ROLE
    bypass, = session.execute(text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
    assert not bypass
    owned = session.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
                                 " AND tableowner = current_user")).scalar_one()
    assert owned == 0
    with as_owner():  # migrations and CLI commands
        assert session.execute(text("SELECT current_user")).scalar_one() != APP_ROLE
    assert session.execute(text("SELECT current_user")).scalar_one() == APP_ROLE


def test_raw_sql_with_no_scope_set_reads_no_rows(session, two_hazards):
    token = set_scope(None)
    try:
        assert _count("hazards") == 0
        assert _count("tenants") == 0
        assert _count("memberships") == 0
    finally:
        reset_scope(token)
    with unscoped():
        assert _count("hazards") >= 3


def test_raw_sql_in_a_district_scope_reads_its_subtree_only(session, tree, two_hazards):
    a = tree["a"]
    with scoped_as(Scope.of(a, "admin")):
        paths = session.execute(text("SELECT tenant_path FROM hazards")).scalars().all()
        names = set(session.execute(text("SELECT name FROM tenants")).scalars())
    assert sorted(paths) == sorted([tree["a_shop"].path, tree["a_plant"].path])
    # Its subtree and its ancestors (breadcrumbs), never the sibling district.
    assert {"甲区", "甲街道", "甲商场", "某市辖区", "国务院安委会"} <= names
    assert not names & {"乙区", "乙街道", "乙商场"}


def test_raw_update_of_another_districts_row_changes_nothing(session, tree, two_hazards):
    theirs = two_hazards["b_shop"]
    with scoped_as(Scope.of(tree["a"], "admin")):
        changed = session.execute(text("UPDATE hazards SET description = '改写' WHERE id = :id"), {"id": theirs.id})
        deleted = session.execute(text("DELETE FROM hazards WHERE id = :id"), {"id": theirs.id})
    assert (changed.rowcount, deleted.rowcount) == (0, 0)
    session.expire_all()
    assert session.get(Hazard, theirs.id).description == "b_shop 的隐患"


def test_a_row_cannot_be_written_out_of_the_scope(session, tree, two_hazards):
    mine = two_hazards["a_shop"]
    with scoped_as(Scope.of(tree["a"], "admin")), pytest.raises(ProgrammingError, match="row-level security"):
        with session.begin_nested():
            session.execute(text("UPDATE hazards SET tenant_path = :path WHERE id = :id"),
                            {"path": tree["b_shop"].path, "id": mine.id})


def test_a_department_reads_its_industries_enterprises_in_its_district(session, tree, two_hazards):
    with scoped_as(Scope.of(tree["a_dept"], "inspector")):  # 甲区商务局: commerce
        ids = set(session.execute(text("SELECT id FROM hazards")).scalars())
        names = set(session.execute(text("SELECT name FROM tenants")).scalars())
    assert ids == {two_hazards["a_shop"].id}
    # The streets of its district too (public names, see tenants.rls.visible), never another district's.
    assert {"甲商场", "甲街道"} <= names and not names & {"甲化工厂", "乙商场", "乙街道", "乙区"}


SCOPES = {"district": ("a", "admin"), "street": ("a_street", "staff"), "department": ("a_dept", "inspector"),
          "enterprise": ("a_shop", "principal"), "sibling": ("b", "admin")}


@pytest.mark.parametrize("who", sorted(SCOPES))
def test_the_policies_give_exactly_the_rows_the_listener_gives(session, world, who):
    """For every scoped table, what PostgreSQL lets through equals tenants.scope.Scope.criteria."""
    unit, role = SCOPES[who]
    scope = Scope.of(world["tree"][unit], role)
    for table, model in sorted(_scoped_tables().items()):
        key = model.__table__.primary_key.columns
        with unscoped():
            expected = set(session.execute(select(*key).where(scope.criteria(model))).all())
        with scoped_as(scope):
            # The plain table, so the ORM listener adds nothing: only the policy limits it.
            got = set(session.execute(select(*key)).all())
        if table == "tenants":
            got, expected = (_names_let_through(session, scope, {k.id for k in got}, {k.id for k in expected}),
                             {k.id for k in expected})
        assert got == expected, f"{table} as {who}"


def _names_let_through(session, scope, got: set[int], expected: set[int]) -> set[int]:
    """What the policy on tenants gives beyond the listener, which it cannot say without reading
    another table (tenants.rls.REACHED): the departments and 站所 of the scope's levels, and for a
    department the government nodes of its district, which the criteria's own subqueries read (what
    those levels rule applies to the enterprises it supervises). Any other extra row fails."""
    extra = session.execute(select(Tenant.kind, Tenant.path, Tenant.parent_id).where(Tenant.id.in_(got - expected))).all()
    for kind, path, parent_id in extra:
        of_levels = kind == "department" and parent_id in scope.ancestor_ids
        in_district = scope.industries and path.startswith(scope.parent_path) \
            and (kind in GOVERNMENT_KINDS or kind == "department")
        assert of_levels or in_district, (kind, path)
    return got & expected


def test_policies_serve_the_subtree_range_from_the_path_index(session, tree, two_hazards):
    # Planned on a table with many rows an ordinary index serves `path >= … AND path < …`.
    with scoped_as(Scope.of(tree["a"], "admin")):
        session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(session.execute(text("EXPLAIN SELECT id FROM tenants")).scalars())
    assert "uq_tenants_path" in plan, plan


def test_policies_read_the_scope_settings_once_per_statement_not_per_row(session, tree, two_hazards):
    """Each setting is an InitPlan (a parameter to every row); called in a row filter it was read
    again for every row, which made a district's counts ~1.5-2x slower than unpoliced."""
    with scoped_as(Scope.of(tree["a"], "admin")):
        session.execute(text("SET LOCAL enable_seqscan = off"))  # as planned on a table with many rows
        plan = session.execute(text("EXPLAIN (VERBOSE) SELECT count(*) FROM hazards")).scalars().all()
    per_row = [line for line in plan if "Filter:" in line or "Cond:" in line]
    assert per_row and not any("current_setting" in line or "portal_scope" in line for line in per_row), plan
    assert any("InitPlan" in line for line in plan), plan
    # A district's rows come from the ordered path index, not a BitmapOr with a department's reach.
    assert not any("BitmapOr" in line for line in plan), plan


def test_a_departments_reach_is_not_computed_while_statements_are_planned(session):
    """The planner evaluates a STABLE function to estimate its result: the department's reach (a
    scan of its district's nodes) was computed again for every policy of every statement planned."""
    volatility = session.execute(text(
        "SELECT provolatile FROM pg_proc WHERE proname = 'portal_scope_supervised'"
        " AND pronamespace = current_schema()::regnamespace")).scalar_one()
    assert volatility == "v"


def test_move_keeps_working_under_the_policies(session, tree):
    """An admin's move rewrites path copies in one UPDATE per table, inside the admin's subtree."""
    from tenants.paths import move
    with scoped_as(Scope.of(tree["city"], "admin")):
        move(tree["a_street"], tree["b"])
        assert session.execute(select(Tenant.path).where(Tenant.id == tree["a_shop"].id)).scalar_one() \
            .startswith(tree["b"].path)
    with unscoped():
        assert session.execute(select(Tenant).where(in_subtree(Tenant.path, tree["b"].path),
                                                    Tenant.name == "甲商场")).scalar_one()


@pytest.fixture
def department_task(session, tree, make_user):
    """甲区商务局's task to 甲商场 (under 甲街道), with a file: outside the enterprise's chain."""
    from portal.plans import service as plans
    from tests.plans.conftest import membership
    campaign = plans.create_campaign(tree["root"], name="部门交办专项行动", starts_on=date(2023, 5, 1),
                                     ends_on=date(2099, 12, 31))
    plan = plans.create_plan(tree["root"], campaign, title="总体方案", issuer="国务院安委会")
    with scoped_as(Scope.of(tree["a_dept"], "staff")):
        task = plans.create_task(tree["a_dept"], membership(make_user(tree["a_dept"], role="staff")),
                                 title="燃气报警装置排查", body="内容", deadline=date(2099, 12, 31),
                                 phase_id=plan.phases[0].id, receiver_ids=[tree["a_shop"].id], request_key="rls",
                                 files=[("要点.pdf", b"%PDF-1.7 x")])
    session.flush()
    return task


REACH = {"receiver": ("a_shop", "principal"), "street": ("a_street", "staff"), "department": ("a_dept", "staff"),
         "unsupervised": ("a_plant", "principal"), "other_district": ("b_shop", "principal"),
         "other_street": ("b_street", "staff"), "district": ("a", "admin")}


@pytest.mark.parametrize("who", sorted(REACH))
def test_a_department_task_reaches_exactly_the_rows_the_listener_gives(session, tree, department_task, who):
    """Raw SQL under the policies: the task and its file are read by the receiver, the street above
    it and the district, never by an enterprise the task did not reach nor by another district; each
    table gives exactly what tenants.scope gives (the department's node: only those it tasked, where
    the policy lets the names of its level's departments through)."""
    unit, role = REACH[who]
    scope = Scope.of(tree[unit], role)
    for table in ("tasks", "task_attachments", "assignments", "tenants"):
        model = _scoped_tables()[table]
        with unscoped():
            expected = set(session.execute(select(model.id).where(scope.criteria(model))).scalars())
        with scoped_as(scope):
            got = set(session.execute(text(f"SELECT id FROM {table}")).scalars())
        if table == "tenants":
            got = _names_let_through(session, scope, got, expected)
        assert got == expected, f"{table} as {who}"
        if table == "tasks":
            assert (department_task.id in got) == (who in ("receiver", "street", "department", "district")), who
        if table == "tenants":
            assert (tree["a_dept"].id in got) == (who in ("receiver", "street", "department", "district")), who
