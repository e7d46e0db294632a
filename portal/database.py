"""Connection settings that make SQLite a safe embedded default.

SQLite: WAL so readers never wait for a writer, foreign keys on, and writing transactions start
with BEGIN IMMEDIATE so concurrent writers queue on the lock instead of failing later with
"database is locked" when they upgrade a stale read snapshot. Reads (GET requests) begin deferred.
"""
import sqlite3
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event
from sqlalchemy.engine import Engine

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
