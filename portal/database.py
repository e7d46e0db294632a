"""Connection settings that make SQLite a safe embedded default.

SQLite: WAL so readers never wait for a writer, foreign keys on, and writing transactions start
with BEGIN IMMEDIATE so concurrent writers queue on the lock instead of failing later with
"database is locked" when they upgrade a stale read snapshot. Reads (GET requests) begin deferred.
"""
import sqlite3
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event, update
from sqlalchemy.engine import Engine

from portal.errors import Refused
from portal.extensions import db

_read_only: ContextVar[bool] = ContextVar("read_only_transaction", default=False)


@contextmanager
def read_only():
    token = _read_only.set(True)
    try:
        yield
    finally:
        _read_only.reset(token)


def mark_read_only(value: bool):
    return _read_only.set(value)


def reset_read_only(token) -> None:
    _read_only.reset(token)


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Take transaction control from pysqlite so BEGIN (and SAVEPOINT) are ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    conn.exec_driver_sql("BEGIN" if _read_only.get() else "BEGIN IMMEDIATE")


def compare_and_set(record, field: str, conflict: str, **values) -> None:
    """Write `values` to `record` only while `field` still holds what this request read: one
    UPDATE … WHERE field = <read value>, so of two users acting on one record at once exactly one
    passes (PostgreSQL's READ COMMITTED lets both read the old state; SQLite's BEGIN IMMEDIATE
    already queues them). The loser is refused with `conflict`, formatted with the record as it
    is now (e.g. "该隐患刚刚已被他人处理，当前为“{record.status_label}”。"), and nothing is written."""
    model = type(record)
    moved = db.session.execute(
        update(model).where(model.id == record.id, getattr(model, field) == getattr(record, field))
        .values(**values).execution_options(synchronize_session=False))
    db.session.refresh(record)
    if moved.rowcount != 1:
        raise Refused(conflict.format(record=record))


def lock(record, *related: str) -> None:
    """Re-read `record` under a row lock held until this transaction ends, for a change whose
    condition spans more than one field or other rows (the first signature freezes the content,
    a submission's draft and its figures): the check that follows sees the record as it is now, and
    a second request doing the same waits here and then sees the first one's result. PostgreSQL:
    SELECT … FOR UPDATE; SQLite has no row locks and needs none, its BEGIN IMMEDIATE already
    queues writers. Call it before changing the record: a refresh drops unflushed changes.
    `related` names collections whose rows the check reads too (an inspection's signatures): they
    are re-read as well, as the identity map would otherwise hand back what it loaded before."""
    db.session.refresh(record, with_for_update=True)
    for name in related:
        for row in getattr(record, name):
            db.session.refresh(row)
