"""Test setup: a real database built by the migrations, every test rolled back.

SQLite (a temporary file) by default; PostgreSQL when TEST_DATABASE_URL is set. Tests that need
real commits from several connections (concurrency, the browser journey) use `committed_app`.
"""
import contextvars
from contextlib import contextmanager
import itertools
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from flask import current_app
from flask.ctx import _cv_app
from flask.testing import FlaskClient
from sqlalchemy import bindparam, create_engine, make_url, select, text
from sqlalchemy.orm import scoped_session, sessionmaker
from sqlalchemy.schema import sort_tables_and_constraints
from werkzeug.serving import make_server

from portal import create_app
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.web import attempt
from tenants import credit_code
from tenants.models import Tenant
from tenants.paths import attach
from tenants.rls import as_owner
from tenants.scope import unscoped

PASSWORD = "Test-Passw0rd"
# Accounts are made by the hundred here: scrypt's tenth of a second each was over a third of the
# suite's time. Servers always use scrypt (portal/config.py); this only reaches the tests' apps.
CHEAP_HASH = "pbkdf2:sha256:1"
# Row-level security exists only on PostgreSQL: its tests are collected there, and nowhere else
# (not skipped: on SQLite there is nothing they could check).
collect_ignore = [] if os.environ.get("TEST_DATABASE_URL") else ["tenants/test_rls_postgresql.py"]
_counter = itertools.count(1)


def _config(schema: str | None) -> dict:
    # The test client and the live server speak plain HTTP (tests/test_headers.py covers HTTPS).
    config = {"TESTING": True, "SECURE_COOKIES": False, "PASSWORD_HASH_METHOD": CHEAP_HASH}
    if schema:
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": f"-csearch_path={schema}"}}
    return config


def _sqlite_url(label: str) -> str:
    return f"sqlite:///{Path(tempfile.mkdtemp(prefix=f'portal-{label}-')) / 'test.db'}"


def _app_on(url: str, schema: str | None):
    os.environ["DATABASE_URL"] = url
    return create_app(_config(schema))


def _schema(app) -> str | None:
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("connect_args", {}).get("options")
    return options.split("=", 1)[1] if options else None


@contextmanager
def fresh_app(label: str):
    """An app on a database of its own, built by the migrations and dropped afterwards:
    SQLite, a temporary file; PostgreSQL (TEST_DATABASE_URL), a schema of its own, so concurrent
    runs (and xdist workers, each a process of its own) and committed test data never meet."""
    url = os.environ.get("TEST_DATABASE_URL")
    schema = None
    if url:
        schema = f"test_{label}_{os.getpid()}"
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
        engine.dispose()
    else:
        url = _sqlite_url(label)
    application = _app_on(url, schema)
    with application.app_context():
        from flask_migrate import upgrade
        upgrade()
        db.session.remove()
    try:
        yield application
    finally:
        with application.app_context():
            db.engine.dispose()
        if schema:
            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            engine.dispose()


@pytest.fixture(scope="session")
def app():
    with fresh_app("main") as application:
        # Rolled-back tests see uncommitted rows only on their own connection, so exports run
        # inside the request here; `committed_app` exercises the background thread and RQ.
        application.config["EXPORTS_INLINE"] = True
        yield application


@pytest.fixture(scope="session")
def migrated():
    """The database every committed test starts from, built by the migrations once per run (per
    xdist worker) instead of once per test. SQLite: a file each test gets a copy of. PostgreSQL: a
    schema the committed tests of this process take in turn, emptied after each; the migrations
    write no rows, so an emptied schema is a freshly migrated one."""
    with fresh_app("committed") as template:
        with template.app_context():
            db.engine.dispose()  # no open connection keeps pages in a WAL file beside the copied file
        yield template


@contextmanager
def committed(migrated):
    """A new app on the migrated database, committing for real; afterwards the database is
    removed (SQLite) or emptied (PostgreSQL)."""
    url, schema = migrated.config["SQLALCHEMY_DATABASE_URI"], _schema(migrated)
    if schema is None:
        template = make_url(url).database
        url = _sqlite_url("committed")
        shutil.copyfile(template, make_url(url).database)
    application = _app_on(url, schema)
    try:
        yield application
    finally:
        with application.app_context():
            db.engine.dispose()
        if schema is None:
            shutil.rmtree(Path(make_url(url).database).parent)
        else:
            with migrated.app_context(), as_owner(), unscoped():
                with db.engine.begin() as conn:
                    # A connection a test left open would hold its locks for ever: fail, not hang.
                    conn.execute(text("SET LOCAL lock_timeout = '60s'"))
                    _empty(conn)
                db.engine.dispose()


def _cycle_columns() -> list[tuple[str, str]]:
    """(table, column) of the foreign keys that close a cycle (tasks ⇄ assignments): no order of
    the tables satisfies them, so they are set after the inserts and cleared before the deletes."""
    order = sort_tables_and_constraints(db.metadata.tables.values())
    return [(fk.table.name, column.name) for table, fks in order if table is None for fk in fks for column in fk.columns]


def _empty(connection) -> None:
    """Delete every row, children first, and restart the id sequences: the schema as the migrations
    left it (they write no rows). DELETE of a few rows costs far less than a TRUNCATE of every table
    (new files for each); the audit table refuses DELETE (its trigger), so it alone is truncated."""
    tables = db.metadata.sorted_tables
    filled = set(connection.execute(text(" UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM {t.name})" for t in tables))).scalars())
    for name, column in _cycle_columns():
        if name in filled:
            connection.execute(db.metadata.tables[name].update().values({column: None}))
    for table in reversed(tables):
        if table.name in filled:
            connection.execute(text(f"TRUNCATE {table.name}") if table.name == AuditEvent.__tablename__
                               else table.delete())
            if "id" in table.c:
                connection.execute(text("SELECT setval(pg_get_serial_sequence(:t, 'id'), 1, false)"), {"t": table.name})


@pytest.fixture
def committed_app(migrated):
    """For tests that need real commits from several connections (threads, a live server)."""
    with committed(migrated) as application:
        yield application


@pytest.fixture(scope="session")
def demo_rows(migrated):
    """The demo as `portal.demo.seed` commits it: its accounts and every table's rows, seeded once
    per run (per worker) and copied wherever a test needs it (`seeded`, the live server)."""
    from portal.demo import seed
    with committed(migrated) as application, application.app_context():
        with unscoped():
            accounts = seed()
            db.session.commit()
        db.session.remove()
        with as_owner(), db.engine.connect() as conn:
            rows = {table.name: [dict(r._mapping) for r in conn.execute(
                select(table).order_by(*table.primary_key.columns))] for table in db.metadata.sorted_tables}
    return accounts, rows


def load_rows(connection, rows: dict) -> None:
    """Insert `rows` (table name → rows, ids included) parents first on `connection`; on PostgreSQL
    move each id sequence past them, as inserting them one by one would have."""
    later = _cycle_columns()
    for table in db.metadata.sorted_tables:
        if rows[table.name]:
            postponed = [name for t, name in later if t == table.name]
            connection.execute(table.insert(), [{**row, **dict.fromkeys(postponed)} for row in rows[table.name]])
    for name, column in later:
        table = db.metadata.tables[name]
        values = [{"row_id": row["id"], "value": row[column]} for row in rows[name] if row[column] is not None]
        if values:
            connection.execute(table.update().where(table.c.id == bindparam("row_id"))
                               .values({column: bindparam("value")}), values)
    if connection.dialect.name == "postgresql":
        for table in db.metadata.sorted_tables:
            if rows[table.name] and "id" in table.c:
                connection.execute(text(
                    f"SELECT setval(pg_get_serial_sequence(:t, 'id'), GREATEST((SELECT max(id) FROM {table.name}),"
                    " nextval(pg_get_serial_sequence(:t, 'id'))))"), {"t": table.name})


@pytest.fixture
def seeded(session, demo_rows):
    """The demo loaded into this test's rolled-back session; returns the accounts `seed()` returned."""
    accounts, rows = demo_rows
    load_rows(session.connection(), rows)
    return accounts


@pytest.fixture
def committed_session(committed_app):
    """The main thread's session on `committed_app`, committing for real: a race test's module
    names it `session`, and the module's fixtures (tree, people …) build on it, then `race` commits."""
    with committed_app.app_context(), unscoped():
        yield db.session
        db.session.remove()


def race(*actions):
    """Run `actions` at once, as two requests would: each in its own thread, app context, session
    and connection. An action is `(act, *records)`: the thread loads the records afresh (what the
    user has on screen), then calls `act(*loaded)` (what they pressed), committed with its audit
    event or rolled back when refused, as `web.attempt` does. On PostgreSQL every act starts after
    every load (a Barrier), so each request has read the state the other one changes. SQLite
    serialises writers (BEGIN IMMEDIATE from the first read on), so there they run one after the
    other, as its lock would queue them. Returns each action's (result, message): one is None."""
    app = current_app._get_current_object()
    keys = [[(type(r), r.id) for r in records] for _, *records in actions]
    db.session.commit()  # the setup, for the other connections to see; this thread reads again after
    postgres = db.engine.dialect.name == "postgresql"
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def run(i):
        try:
            with app.app_context(), unscoped():
                loaded = [db.session.get(model, id_) for model, id_ in keys[i]]
                if postgres:
                    barrier.wait(timeout=120)  # only so that a failing thread cannot hang the others
                outcomes[i] = attempt(lambda: actions[i][0](*loaded))
                db.session.remove()
        except Exception as e:  # kept, so a failing thread fails the test
            barrier.abort()
            outcomes[i] = e

    if postgres:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    else:
        for i in range(len(actions)):
            run(i)
    for outcome in outcomes:
        if isinstance(outcome, Exception):
            raise outcome
    db.session.rollback()  # what follows reads what the racing connections committed
    return outcomes


def refused(outcomes) -> list[str]:
    """The messages of the refused actions of a race."""
    return [message for _, message in outcomes if message is not None]


def audited(record, *actions: str) -> list[str]:
    """The audit actions recorded on `record` among `actions`, oldest first (read after a race)."""
    return list(db.session.execute(select(AuditEvent.action).where(
        AuditEvent.object_type == type(record).__name__, AuditEvent.object_id == record.id,
        AuditEvent.action.in_(actions)).order_by(AuditEvent.id)).scalars())


@pytest.fixture
def session(app):
    """A session whose every commit is a savepoint inside one transaction rolled back afterwards."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=lambda: id(_cv_app.get(None)),
        )
        try:
            with unscoped():
                yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


class IsolatedClient(FlaskClient):
    """Each request runs in a fresh context, as in production: its own app context, `g`, scope and
    database session (bound to the test's connection), not the test body's."""

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app, session):
    app.test_client_class = IsolatedClient
    return app.test_client()


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}-{os.getpid()}"


@pytest.fixture
def make_tenant(session):
    def make(parent=None, kind=None, name=None, **fields):
        if kind is None:
            kind = "national" if parent is None else {"national": "province", "province": "city",
                                                       "city": "district", "district": "street",
                                                       "street": "enterprise"}[parent.kind]
        if kind == "enterprise":
            fields.setdefault("credit_code", credit_code.make(f"91120102{next(_counter):09d}"))
            fields.setdefault("industry", "commerce")
        tenant = attach(Tenant(kind=kind, name=name or unique(kind), **fields), parent)
        session.flush()
        return tenant
    return make


@pytest.fixture
def make_user(session):
    from portal.auth import service as auth

    def make(tenant, role="admin", username=None, password=PASSWORD):
        user = auth.create_user(tenant, username=username or unique("user"), display_name=unique("姓名"),
                                password=password, role=role)
        auth.accept_password(user)  # a factory's user is past the forced first change
        session.flush()
        return user
    return make


@pytest.fixture
def tree(make_tenant):
    """国家 → 省 → 市 → 两个区（甲、乙）, each with a street, a department and enterprises."""
    root = make_tenant(name="国务院安委会")
    province = make_tenant(root, name="某市")
    city = make_tenant(province, kind="city", name="某市辖区")
    a = make_tenant(city, kind="district", name="甲区")
    b = make_tenant(city, kind="district", name="乙区")
    a_street = make_tenant(a, kind="street", name="甲街道")
    b_street = make_tenant(b, kind="street", name="乙街道")
    a_dept = make_tenant(a, kind="department", name="甲区商务局", supervised_industries=["commerce"])
    a_shop = make_tenant(a_street, kind="enterprise", name="甲商场", industry="commerce")
    a_plant = make_tenant(a_street, kind="enterprise", name="甲化工厂", industry="hazchem", high_risk=True)
    b_shop = make_tenant(b_street, kind="enterprise", name="乙商场", industry="commerce")
    return dict(root=root, province=province, city=city, a=a, b=b, a_street=a_street, b_street=b_street,
                a_dept=a_dept, a_shop=a_shop, a_plant=a_plant, b_shop=b_shop)


def at_once(work, count: int) -> None:
    """Run work(0) … work(count - 1) in threads released together (each opens its own app context
    and connection); any exception in a thread fails the test."""
    barrier = threading.Barrier(count)
    errors = []

    def run(n):
        try:
            barrier.wait()
            work(n)
        except Exception as e:  # collected, so a failing thread fails the test
            errors.append(e)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@contextmanager
def serving(app, port: int = 0):
    """A real threaded server on `app` (on `port`, or any free one); yields its base URL."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)


def csrf_token(client) -> str:
    html = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def login(client, user, password=PASSWORD):
    response = client.post("/login", data={"username": user.username, "password": password,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def post(client, url, data=None, **kwargs):
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client))
    return client.post(url, data=data, **kwargs)


def results_at_once(app, action, count: int = 2) -> list:
    """`action()` in `count` threads released together (at_once), each in its own app context and
    so its own database connection; their results."""
    results = []

    def work(_):
        with app.app_context():
            try:
                results.append(action())
            finally:
                db.session.remove()
    at_once(work, count)
    return results
