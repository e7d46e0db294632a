"""PostgreSQL row-level security: the backstop behind the ORM listener of tenants.scope.

Raw SQL, a Core statement on a plain table, a forgotten listener: whatever reaches a tenant-owned
table from the app sees only the rows of the scope in force. The app runs as a role that owns no
table and is no superuser (both would bypass the policies); every transaction tells PostgreSQL the
current scope in three settings (tenants.scope.database_settings), and the policies of `protect`
read them. Migrations and CLI commands run as the owner (`as_owner`), and the tables FORCE row
security, so the owner obeys the same policies: they run unscoped, which the settings say as '/'.
SQLite has none of this; there the listener stands alone.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event, text

from tenants.models import GOVERNMENT_KINDS
from tenants.scope import database_settings

APP_ROLE = "portal_app"
POLICY = "portal_scope"

_owner: ContextVar[bool] = ContextVar("database_owner", default=False)


@contextmanager
def as_owner():
    """Run as the role that logged in (the tables' owner) instead of the app role."""
    token = _owner.set(True)
    try:
        yield
    finally:
        _owner.reset(token)


# --- the schema: role, grants, the settings' functions, one policy per table -----------------

# The role is cluster-wide and test runs migrate their own schemas concurrently: creating it may
# find it made by another run a moment ago (duplicate_object, or unique_violation while that run
# has not committed yet).
_ROLE_SQL = """
DO $$
BEGIN
    BEGIN
        CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS;
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
    IF (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = '{role}') THEN
        RAISE EXCEPTION 'role {role} bypasses row-level security; it must not be a superuser nor BYPASSRLS';
    END IF;
    -- A non-superuser owner must be a member to SET ROLE to it; a superuser may already.
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT {role} TO %I', current_user);
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO {role}', current_schema());
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO {role}', current_schema());
    EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO {role}', current_schema());
    -- Tables and sequences later migrations create are granted as they are created.
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}',
                   current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}',
                   current_schema());
    -- The migration history is the owner's alone.
    REVOKE ALL ON alembic_version FROM {role};
END $$
"""

_UNGRANT_SQL = """
DO $$
BEGIN
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON TABLES FROM {role}', current_schema());
    EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I REVOKE ALL ON SEQUENCES FROM {role}', current_schema());
    EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM {role}', current_schema());
    EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA %I FROM {role}', current_schema());
    EXECUTE format('REVOKE USAGE ON SCHEMA %I FROM {role}', current_schema());
END $$
"""

# Small STABLE SQL functions that PostgreSQL inlines: a comparison with them is a range an
# ordinary index serves, as tenants.paths.in_subtree is. An unset or empty setting is NULL, and
# NULL matches nothing: no scope, no rows.
_FUNCTIONS_SQL = (
    # tenants.paths.upper_bound
    """CREATE OR REPLACE FUNCTION portal_subtree_end(path text) RETURNS text
       LANGUAGE sql IMMUTABLE PARALLEL SAFE
       AS $$ SELECT left(path, -1) || '0' $$""",
    """CREATE OR REPLACE FUNCTION portal_scope_path() RETURNS text
       LANGUAGE sql STABLE PARALLEL SAFE
       AS $$ SELECT nullif(current_setting('portal.scope_path', true), '') $$""",
    """CREATE OR REPLACE FUNCTION portal_scope_parent() RETURNS text
       LANGUAGE sql STABLE PARALLEL SAFE
       AS $$ SELECT nullif(current_setting('portal.scope_parent', true), '') $$""",
    """CREATE OR REPLACE FUNCTION portal_scope_industries() RETURNS text[]
       LANGUAGE sql STABLE PARALLEL SAFE
       AS $$ SELECT string_to_array(nullif(current_setting('portal.scope_industries', true), ''), ',') $$""",
    # The scope node's ancestors: the ids in its path but the last (tenants.scope.Scope.ancestor_ids).
    """CREATE OR REPLACE FUNCTION portal_scope_ancestors() RETURNS int[]
       LANGUAGE sql STABLE PARALLEL SAFE
       AS $$ SELECT ids[1:cardinality(ids) - 1]
             FROM (SELECT string_to_array(trim(both '/' from portal_scope_path()), '/')::int[] AS ids) AS p $$""",
    # A department's reach beyond its subtree (三管三必须): the enterprises of its industries inside
    # its parent's subtree, or (levels) the government nodes there, whose inherited rules apply to
    # them. It reads tenants whole (the SET clause): the department itself cannot read those nodes.
    # VOLATILE, though it changes nothing: the planner evaluates a STABLE call to estimate its
    # result, so every statement of a department paid for this scan of its district's nodes while
    # being planned, once per policy it met (50-350 ms of planning a statement, 10,000 enterprises).
    # Volatile, it runs once per statement when executed, and only for a department's scope.
    """CREATE OR REPLACE FUNCTION portal_scope_supervised(levels boolean) RETURNS int[]
       LANGUAGE sql VOLATILE SET portal.scope_path = '/'
       AS $$ SELECT coalesce(array_agg(id), '{{}}') FROM tenants
             WHERE portal_scope_industries() IS NOT NULL
               AND path >= portal_scope_parent() AND path < portal_subtree_end(portal_scope_parent())
               AND CASE WHEN levels THEN kind IN ({governments})
                        ELSE kind = 'enterprise' AND industry = ANY (portal_scope_industries()) END $$""",
)

_FUNCTIONS = ("portal_scope_supervised(boolean)", "portal_scope_ancestors()", "portal_scope_industries()",
              "portal_scope_parent()", "portal_scope_path()", "portal_subtree_end(text)")


def _postgresql(op) -> bool:
    return op.get_bind().dialect.name == "postgresql"


def create_role(op, role: str = APP_ROLE) -> None:
    """The app's role, its grants on this schema, and the functions the policies call."""
    if not _postgresql(op):
        return
    op.execute(_ROLE_SQL.format(role=role))
    for statement in _FUNCTIONS_SQL:
        op.execute(statement.format(governments=_governments()))


def grant(connection, role: str = APP_ROLE) -> None:
    """The app role's grants on this schema once more: a restore into an emptied schema brings back
    the tables, their policies and the functions, not the grants on the schema itself."""
    connection.execute(text(_ROLE_SQL.format(role=role)))


def drop_role_grants(op, role: str = APP_ROLE) -> None:
    """Undo create_role in this schema; the role itself stays, other schemas may use it."""
    if not _postgresql(op):
        return
    for function in _FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute(_UNGRANT_SQL.format(role=role))


def _governments() -> str:
    return ", ".join(f"'{kind}'" for kind in GOVERNMENT_KINDS)


# Rows read because work reached the scope from outside its chain (tenants.scope: a model's
# reach_criteria, and the nodes named by a sender_column): a department's task and its files are
# read by whoever reads one of its assignments ("reads" is the assignments table's own policy,
# which PostgreSQL applies inside the sub-SELECT). The listener lets a unit read the departments
# that sent it a task; this policy cannot say so and lets through the departments and 站所 that may
# (those of the scope's levels), names only: a policy on tenants may read no other table, since
# every other policy reads tenants (portal_scope_supervised), so one on tenants that read
# assignments would reach itself again (planned without end while that function was STABLE).
REACHED = {
    "tasks": "EXISTS (SELECT 1 FROM assignments reached WHERE reached.task_id = tasks.id)",
    "task_attachments": "EXISTS (SELECT 1 FROM assignments reached WHERE reached.task_id = task_attachments.task_id)",
    "tenants": "(kind = 'department' AND (parent_id = ANY ((SELECT portal_scope_ancestors())::int[])"
               " OR (SELECT portal_scope_industries()) IS NOT NULL AND path >= (SELECT portal_scope_parent())"
               " AND path < (SELECT portal_subtree_end(portal_scope_parent()))))",
}


def visible(table: str, inherited: bool = False, subtree_only: bool = False, reached: bool = True) -> str:
    """The SQL condition of `table`'s rows inside the current scope: tenants.scope.Scope.criteria
    (for `tenants`, a department's also lets through the nodes that criteria's subqueries read).
    `subtree_only`: the model's read_criteria keeps it to the plain subtree, without a
    department's supervised enterprises (a letter is not read by those who supervise its receiver).
    With the rows of REACHED (migration 0031) unless `reached` is False (its downgrade): a
    migration that makes every policy again from this keeps them."""
    if reached and table in REACHED:
        return f"{visible(table, inherited, subtree_only, reached=False)}\n OR {REACHED[table]}"
    path, owner = ("path", "id") if table == "tenants" else ("tenant_path", "tenant_id")
    # Every value read from the settings is a sub-SELECT: an InitPlan, computed once per statement
    # and then a plain parameter, where the bare function call was evaluated again for every row
    # (the settings lookup per row made a district's counts ~1.5-2x slower than unpoliced).
    clauses = [f"({path} >= (SELECT portal_scope_path()) AND {path} < (SELECT portal_subtree_end(portal_scope_path())))"]
    if subtree_only:
        return clauses[0]
    if table == "tenants":
        # A department's scope also reads the government nodes of its parent's subtree: the ORM's
        # criteria select them from this table (the rules they own apply to the enterprises the
        # department supervises), and their names are public (the tip form lists them).
        clauses += ["id = ANY ((SELECT portal_scope_ancestors())::int[])",
                    "((SELECT portal_scope_industries()) IS NOT NULL"
                    " AND path >= (SELECT portal_scope_parent())"
                    " AND path < (SELECT portal_subtree_end(portal_scope_parent()))"
                    f" AND (kind IN ({_governments()})"
                    " OR kind = 'enterprise' AND industry = ANY ((SELECT portal_scope_industries())::text[])))"]
    else:
        if inherited:
            clauses.append(f"{owner} = ANY ((SELECT portal_scope_ancestors())::int[])")
        # Only a department's scope has industries; for any other the lookup never runs.
        # A hashed sub-plan, only consulted for rows outside the subtree: as `= ANY (array)` the
        # planner made it an arm of a BitmapOr for every scope (losing the ordered path-index scan
        # a ledger page wants), and a department's thousands of ids were searched one by one per row.
        reach = [f"{owner} IN (SELECT unnest(portal_scope_supervised({levels})))"
                 for levels in (("false", "true") if inherited else ("false",))]
        clauses.append(f"((SELECT portal_scope_industries()) IS NOT NULL AND ({' OR '.join(reach)}))")
    return "\n OR ".join(clauses)


def protect(op, tables, inherited=(), subtree_only=(), reached: bool = True) -> None:
    """FORCE row-level security on `tables` (tenant-owned, or `tenants`), one policy each, for
    reads and writes alike. `inherited` names those whose owner's ancestors' rows are in scope
    (tenants.models.Inherited); `subtree_only` those read only within the plain subtree; `reached`,
    see `visible`. Every migration that adds a tenant-owned table calls this."""
    if not _postgresql(op):
        return
    inherited, subtree_only = set(inherited), set(subtree_only)
    for table in tables:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        condition = visible(table, table in inherited, table in subtree_only, reached)
        op.execute(f"CREATE POLICY {POLICY} ON {table} USING ({condition}) WITH CHECK ({condition})")


def unprotect(op, tables) -> None:
    if not _postgresql(op):
        return
    for table in tables:
        op.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


# --- the connection: role and scope settings in every transaction --------------------------------

_SET_SQL = ("SELECT set_config('role', %s, true), set_config('portal.scope_path', %s, true),"
            " set_config('portal.scope_parent', %s, true), set_config('portal.scope_industries', %s, true)")
_KEY = "portal.rls"
_TRANSACTION_CONTROL = ("SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ")


def install(engine, role: str | None) -> None:
    """Before each statement on `engine`, make the transaction's role and scope settings those in
    force now: set at the transaction's first statement, and again when a scoped_as() or
    unscoped() block changes the scope, or CLI code takes the owner's role, mid-transaction.
    They are LOCAL to the transaction, so a pooled connection carries nothing to its next user."""

    def settle(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith(_TRANSACTION_CONTROL):
            # Must run as they are: rolling back to a savepoint is how an aborted transaction recovers.
            return
        wanted = ("none" if _owner.get() or not role else role, *database_settings())
        if conn.info.get(_KEY) != wanted:
            with conn.connection.cursor() as own:  # the statement's cursor may be a server-side one
                own.execute(_SET_SQL, wanted)
            conn.info[_KEY] = wanted

    def forget(conn, *args):
        # A new transaction starts without the settings; a rolled-back savepoint undoes those set in it.
        conn.info.pop(_KEY, None)

    event.listen(engine, "before_cursor_execute", settle)
    for name in ("begin", "commit", "rollback", "rollback_savepoint"):
        event.listen(engine, name, forget)


def init_app(app) -> None:
    from portal.extensions import db
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "postgresql":
        install(engine, app.config.get("DATABASE_APP_ROLE"))
