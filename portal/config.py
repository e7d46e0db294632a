"""Configuration read from the environment; defaults give a working SQLite install in instance/."""
import os
import secrets
from datetime import timedelta
from pathlib import Path


def _secret_key(instance_path: str) -> str:
    """A stable secret per install: sessions survive restarts without anyone typing a key.

    The key is written whole to a file of its own, readable by the owner only from the moment it
    exists (O_EXCL, 0600), and then linked into place: of two processes starting at once (gunicorn
    workers), one link wins and the other reads the winner's key, never a half-written file."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"secret_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(draft, path)
            except FileExistsError:
                pass  # another process linked its key first: everyone uses that one
        finally:
            draft.unlink()
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # a key left readable by others by an older install
    return path.read_text().strip()


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() not in ("", "0", "false", "no", "off")


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
        # PostgreSQL: the role the app takes after connecting, so row-level security applies to it
        # (tenants.rls); empty to stay the role that logged in. Migrations and CLI never take it.
        DATABASE_APP_ROLE=os.environ.get("DATABASE_APP_ROLE", "portal_app"),
        # Idle sessions end after 30 minutes: Flask checks the signed cookie's age on every request.
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=30),
        SESSION_REFRESH_EACH_REQUEST=True,
        SESSION_COOKIE_HTTPONLY=True,
        # Served over HTTPS (behind the reverse proxy): cookies only over HTTPS, HSTS, https links.
        # On unless SECURE_COOKIES=0, which `make run` sets for its demo on http://127.0.0.1.
        SECURE_COOKIES=_flag("SECURE_COOKIES", True),
        HSTS_MAX_AGE=365 * 24 * 3600,
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
        # Costly figures (the ledger's total and figures, the desk's panels) are kept this long,
        # shown with 数据截至, and dropped by any write under them (portal.cache); 0 counts every time.
        FIGURES_CACHE_SECONDS=int(os.environ.get("FIGURES_CACHE_SECONDS") or 60),
        # Calls a minute per API token (portal.api); counted in Redis when REDIS_URL is set.
        API_CALLS_PER_MINUTE=int(os.environ.get("API_CALLS_PER_MINUTE", "120")),
        # Reminders outside the portal (portal.reminders): SMTP for e-mail and an HTTP webhook for
        # the SMS/IM gateway; either left empty writes its messages to the log instead.
        SMTP_HOST=os.environ.get("SMTP_HOST", ""),
        SMTP_PORT=int(os.environ.get("SMTP_PORT") or 25),
        SMTP_USER=os.environ.get("SMTP_USER", ""),
        SMTP_PASSWORD=os.environ.get("SMTP_PASSWORD", ""),
        SMTP_STARTTLS=_flag("SMTP_STARTTLS", False),
        SMTP_FROM=os.environ.get("SMTP_FROM", "noreply@localhost"),
        REMINDER_WEBHOOK_URL=os.environ.get("REMINDER_WEBHOOK_URL", ""),
        # Reporting up (portal.dispatch.exchange): a provincial platform sends the tables its top
        # unit approved to its parent platform's /api/v1/, with a token the parent's admin made
        # for that unit. Empty: this platform reports to no other.
        PARENT_PLATFORM_URL=os.environ.get("PARENT_PLATFORM_URL", "").rstrip("/"),
        PARENT_PLATFORM_TOKEN=os.environ.get("PARENT_PLATFORM_TOKEN", ""),
        PARENT_PLATFORM_TIMEOUT=float(os.environ.get("PARENT_PLATFORM_TIMEOUT") or 15),
        # The address people open from a reminder.
        PUBLIC_URL=os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000"),
        # 等保 2.0 三级 asks for periodic password change; 0 turns expiry off.
        PASSWORD_MAX_AGE_DAYS=int(os.environ.get("PASSWORD_MAX_AGE_DAYS", "90")),
        # Werkzeug's scrypt: ~0.1 s of CPU per guess. Never read from the environment: only the
        # test suite passes a cheaper method (in its app config), where a tenth of a second per
        # account made up most of its running time.
        PASSWORD_HASH_METHOD="scrypt",
    )


def apply_https(app) -> None:
    """Derive the cookie and URL settings from SECURE_COOKIES (after any test config is applied).
    The CSRF token lives in the session cookie, so it is covered with it."""
    secure = bool(app.config["SECURE_COOKIES"])
    app.config.update(SESSION_COOKIE_SECURE=secure, REMEMBER_COOKIE_SECURE=secure,
                      PREFERRED_URL_SCHEME="https" if secure else "http")
