"""Backups of the whole database and their restore: `flask --app wsgi backup` / `restore`.

PostgreSQL: pg_dump's custom format and pg_restore (same major version as the server; Debian
package postgresql-client). SQLite: the online backup API, consistent while the app keeps
writing. A restore is not done until the audit chains it brought back verify.
"""
from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from portal.extensions import db
from tenants import rls


class BackupError(Exception):
    pass


def _url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _pg_target() -> tuple[str, list[str]]:
    """The libpq URL, and the schema options when the app lives in a schema of its own (set by a
    search_path in the connection options, as the tests do): only that schema is dumped."""
    url = _url()
    options = current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).get("connect_args", {}).get("options") \
        or url.query.get("options") or ""
    schema = [f"--schema={part.split('=', 1)[1]}" for part in str(options).split()
              if part.startswith("-csearch_path=")]
    return url.set(drivername="postgresql", query={}).render_as_string(hide_password=False), schema


def _run(args: list[str]) -> None:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{args[0]} 失败：{done.stderr.strip()[-500:]}")


def backup(target: Path) -> None:
    url = _url()
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source, copy = sqlite3.connect(url.database), sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
        return
    dsn, schema = _pg_target()
    _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", *schema, f"--dbname={dsn}"])


def restore(source: Path) -> None:
    """Replace the database with the backup. Connections are dropped first: nothing of the old
    database is read after this."""
    if not source.is_file():
        raise BackupError(f"找不到备份文件：{source}")
    url = _url()
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        saved, live = sqlite3.connect(source), sqlite3.connect(url.database)
        try:
            saved.backup(live)
        finally:
            live.close()
            saved.close()
        return
    dsn, schema = _pg_target()
    _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", *schema,
          f"--dbname={dsn}", str(source)])
    role = current_app.config.get("DATABASE_APP_ROLE")
    if role:
        with rls.as_owner(), db.engine.begin() as connection:
            rls.grant(connection, role)


def row_counts() -> dict[str, int]:
    """Rows of every table the models declare: what a restore is compared by."""
    return {table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables}


def chain_heads() -> dict[int, tuple[int, str]]:
    """Each tenant's last audit event (seq, hash)."""
    from portal.audit.models import AuditEvent
    last = select(AuditEvent.tenant_id, func.max(AuditEvent.seq).label("seq")).group_by(AuditEvent.tenant_id).subquery()
    rows = db.session.execute(select(AuditEvent.tenant_id, AuditEvent.seq, AuditEvent.hash).join(
        last, (AuditEvent.tenant_id == last.c.tenant_id) & (AuditEvent.seq == last.c.seq)))
    return {tenant_id: (seq, digest) for tenant_id, seq, digest in rows}
