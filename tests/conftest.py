"""Test setup: a real database built by the migrations, every test rolled back.

SQLite (a temporary file) by default; PostgreSQL when TEST_DATABASE_URL is set. Tests that need
real commits from several connections (concurrency, the browser journey) use `committed_app`.
"""
import contextvars
from contextlib import contextmanager
import itertools
import os
import re
import tempfile
from pathlib import Path

import pytest
from flask.ctx import _cv_app
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.orm import scoped_session, sessionmaker

from portal import create_app
from portal.extensions import db
from tenants import credit_code
from tenants.models import Tenant
from tenants.paths import attach
from tenants.scope import unscoped

PASSWORD = "Test-Passw0rd"
_counter = itertools.count(1)


@contextmanager
def fresh_app(label: str):
    """An app on a database of its own, built by the migrations and dropped afterwards:
    SQLite, a temporary file; PostgreSQL (TEST_DATABASE_URL), a schema of its own, so concurrent
    runs and committed test data never meet."""
    url = os.environ.get("TEST_DATABASE_URL")
    config = {"TESTING": True}
    schema = None
    if url:
        schema = f"test_{label}_{os.getpid()}"
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
        engine.dispose()
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"options": f"-csearch_path={schema}"}}
    else:
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix=f'portal-{label}-')) / 'test.db'}"
    os.environ["DATABASE_URL"] = url
    application = create_app(config)
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


@pytest.fixture
def committed_app():
    """For tests that need real commits from several connections (threads, a live server)."""
    with fresh_app("committed") as application:
        yield application


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


def at_once(app, action, count: int = 2) -> list:
    """Run `action()` in `count` threads released together, each in its own app context (so its
    own database connection); return their results, or raise the first thread's error."""
    import threading
    barrier, results, errors = threading.Barrier(count), [], []

    def run():
        try:
            with app.app_context():
                barrier.wait()
                try:
                    results.append(action())
                finally:
                    db.session.remove()
        except Exception as e:  # re-raised below: a thread's exception would otherwise vanish
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results
