"""What every benchmark shares: a fresh database built by the migrations, and a timer.

SQLite by default (a temporary file); with a PostgreSQL URL the run happens in a schema of its
own, created and dropped here, so it never touches the tables of the database it points at.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


@contextmanager
def fresh_app(name: str, database_url: str | None = None):
    """Yield (app, label, migrate_seconds) inside an app context on an empty, migrated database."""
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    from portal.config import normalize_database_url

    schema = admin = None
    if database_url:
        base = normalize_database_url(database_url)
        schema = f"bench_{name}_{os.getpid()}"
        admin = create_engine(base)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in base else "?"
        url = f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
        label = f"PostgreSQL（模式 {schema}）"
    else:
        path = Path(tempfile.mkdtemp(prefix=f"bench-{name}-")) / "bench.db"
        url = f"sqlite:///{path}"
        label = f"SQLite（{path}）"
    os.environ["DATABASE_URL"] = url

    from portal import create_app
    from portal.extensions import db

    try:
        app = create_app()
        with app.app_context():
            _, migrate_s = timed(lambda: upgrade())
            yield app, label, migrate_s
            db.session.remove()
            db.engine.dispose()
    finally:
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p95) of timings."""
    import statistics

    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def isolated_client(app):
    """A test client whose every request runs in a context of its own (its own app context and
    database session), as in production; call it as client("get", url, headers=…)."""
    import contextvars

    test_client = app.test_client()

    def client(method: str, url: str, **kwargs):
        return contextvars.Context().run(getattr(test_client, method), url, **kwargs)
    return client


def logged_in(app, username: str, password: str):
    """An isolated_client logged in as `username` through the login form."""
    client = isolated_client(app)
    response = client("post", "/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def htmx_timings(app, client, url: str, runs: int) -> tuple[float, float, int]:
    """(p50 ms, p95 ms, SELECT statements of one request) of an HTMX GET of `url`, after ten
    warming requests."""
    from sqlalchemy import event

    from portal.extensions import db

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)
    headers = {"HX-Request": "true"}
    for _ in range(10):  # warm the caches and the connection pool
        assert client("get", url, headers=headers).status_code == 200
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        client("get", url, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    selects = sum(1 for s in statements if s.lstrip().upper().startswith("SELECT"))
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client("get", url, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    return (*percentiles(times), selects)
