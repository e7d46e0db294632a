"""Configuration read from the environment; defaults give a working SQLite install in instance/."""
import os
import secrets
from datetime import timedelta
from pathlib import Path


def _secret_key(instance_path: str) -> str:
    """A stable secret per install: sessions survive restarts without anyone typing a key."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def normalize_database_url(url: str) -> str:
    # Operators paste libpq-style URLs; psycopg 3 is the only PostgreSQL driver we ship.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def load(app) -> None:
    instance = app.instance_path
    Path(instance).mkdir(parents=True, exist_ok=True)
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(instance) / 'portal.db'}"
    app.config.update(
        SECRET_KEY=_secret_key(instance),
        SQLALCHEMY_DATABASE_URI=normalize_database_url(url),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        # Idle sessions end after 30 minutes: Flask checks the signed cookie's age on every request.
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=30),
        SESSION_REFRESH_EACH_REQUEST=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_DURATION=timedelta(seconds=0),
        WTF_CSRF_TIME_LIMIT=None,
        # Forms translate through WTForms' own zh catalogue (portal.forms.Form), not Flask-Babel.
        WTF_I18N_ENABLED=False,
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
        REDIS_URL=os.environ.get("REDIS_URL"),
        # Export jobs (portal.exports.jobs): the RQ queue, and when a silent worker counts as dead.
        EXPORTS_QUEUE=os.environ.get("RQ_QUEUE", "exports"),
        EXPORT_HEARTBEAT_SECONDS=float(os.environ.get("EXPORT_HEARTBEAT_SECONDS", "10")),
        EXPORT_STALE_SECONDS=float(os.environ.get("EXPORT_STALE_SECONDS", "60")),
        EXPORT_QUEUED_SECONDS=float(os.environ.get("EXPORT_QUEUED_SECONDS", "900")),
        EXPORT_MAX_ATTEMPTS=int(os.environ.get("EXPORT_MAX_ATTEMPTS", "3")),
        # Reverse proxies in front of the app (nginx: 1). Their X-Forwarded-* headers are believed
        # only for that many hops; with 0 they are ignored, since anyone can send them.
        TRUSTED_PROXIES=int(os.environ.get("TRUSTED_PROXIES") or 0),
        # Behind HTTPS the session cookie must not travel over plain HTTP.
        SESSION_COOKIE_SECURE=os.environ.get("SESSION_COOKIE_SECURE", "") in ("1", "true", "yes"),
        PAGE_SIZE=20,
    )
