"""Figures that cost more than a few milliseconds over a large subtree (a district's 200,000
hazards: the ledger's total, its stock figures and trend, the desk's panels) are kept for up to
FIGURES_CACHE_SECONDS and shown with 数据截至 the time they were counted.

Kept figures never outlive a write under the node they count. Each node has two generations:
`sub`, bumped by a write of a row at or below it (for each node on the row's path: the unit of
work knows every row it writes), and `below`, bumped for the writer's reach by an UPDATE or DELETE
statement (a compare-and-set), whose rows are not known one by one: anything under that node may
have changed. A key names the `sub` of the highest node the reader's scope reaches and the
`below` of it and each of its ancestors, so a user sees their own change at once and the cache
only saves reading unchanged data again. Generations are bumped at flush and again at commit, so
a reader between the two cannot keep the old figures.

The same listeners tell watchers (`watch`) where rows of their models were written, in the
writer's transaction: portal.dispatch logs there which kept figures to recount.

With REDIS_URL the values and generations are shared by every worker and host; without it each
process keeps its own, and another process's write reaches it when the figures expire. A key
always carries the reader's whole scope: figures counted for one scope never reach another."""
from __future__ import annotations

import logging
import pickle
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime

from flask import current_app, has_app_context
from redis import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.ratelimit import redis_client
from tenants import clock
from tenants.models import Tenant, TenantOwned
from tenants.paths import ids_of
from tenants.scope import current_scope, write_reach

log = logging.getLogger(__name__)
_PENDING = "figures_cache_pending"
# Without Redis: this process's generations and values (with the time each expires).
_local_generations: dict[str, int] = {}
_local_values: dict[str, tuple[float, object]] = {}
_lock = threading.Lock()
_MAX_LOCAL = 10_000
_watchers: list[tuple[tuple[type, ...], Callable, Callable]] = []


def watch(models: tuple[type, ...], paths_of: Callable[[object], Iterable[str]],
          mark: Callable[[Session, set[str] | None], None]) -> None:
    """Call mark(session, paths) at each flush that writes rows of `models`, with the tenant paths
    each row's write concerns (paths_of(row)), and for an UPDATE or DELETE statement over them
    with the writer's reach (None when unscoped: the rows may be anywhere). mark runs in the
    writer's transaction: what it adds to the session commits or rolls back with the write."""
    _watchers.append((models, paths_of, mark))


def kept(name: str, args: tuple, compute) -> tuple[object, datetime | None]:
    """(value, as_of): compute() under the current scope, or the value counted for the same scope,
    name and args since the last write under it and less than FIGURES_CACHE_SECONDS ago, with
    the time it was counted (数据截至). as_of is None when counted now."""
    seconds = current_app.config["FIGURES_CACHE_SECONDS"]
    if seconds <= 0:
        return compute(), None
    scope = current_scope()
    ids = ids_of(scope.reach)
    try:
        generations = _read([_key("sub", ids[-1]), _key("all", 0), *(_key("below", i) for i in ids)])
        key = f"figures:{_database()}:{name}:{scope!r}:{args!r}:{generations}"
        found = _get(key)
    except RedisError:  # Redis down: the page counts, as without keeping
        return compute(), None
    if found is not None:
        return found
    value = compute()
    try:
        _put(key, (value, clock.now()), seconds)
    except RedisError:
        pass  # counted, shown; kept next time Redis answers
    return value, None


def _database() -> str:
    """The database (and PostgreSQL schema) the figures come from."""
    config = current_app.config
    return f"{config['SQLALCHEMY_DATABASE_URI']}|{config.get('SQLALCHEMY_ENGINE_OPTIONS', {}).get('connect_args')}"


def _key(kind: str, node_id: int) -> str:
    return f"figures-{kind}:{_database()}:{node_id}"


def _read(keys: list[str]) -> tuple[int, ...]:
    redis = redis_client()
    if redis is not None:
        return tuple(int(v or 0) for v in redis.mget(keys))
    return tuple(_local_generations.get(k, 0) for k in keys)


def _get(key: str):
    redis = redis_client()
    if redis is not None:
        raw = redis.get(key)
        return pickle.loads(raw) if raw is not None else None
    with _lock:
        expires, value = _local_values.get(key, (0.0, None))
        return value if expires > time.monotonic() else None


def _put(key: str, value, seconds: int) -> None:
    redis = redis_client()
    if redis is not None:
        redis.set(key, pickle.dumps(value), ex=seconds)
        return
    with _lock:
        if len(_local_values) >= _MAX_LOCAL:  # drop what expired; figures no longer asked for
            now = time.monotonic()
            for k in [k for k, (expires, _) in _local_values.items() if expires <= now]:
                del _local_values[k]
        _local_values[key] = (time.monotonic() + seconds, value)


def _bump(keys: set[str]) -> None:
    if not keys:
        return
    redis = redis_client()
    if redis is not None:
        try:
            with redis.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.incr(key)
                pipe.execute()
        except RedisError:
            # A write must not fail because Redis is down. Figures kept before the outage may then
            # be shown until they expire (FIGURES_CACHE_SECONDS), with their 数据截至.
            log.warning("figures cache: Redis unreachable, generations not bumped")
        return
    with _lock:
        for key in keys:
            _local_generations[key] = _local_generations.get(key, 0) + 1


def _pending(session: Session) -> set[str]:
    return session.info.setdefault(_PENDING, set())


def _written(session: Session, keys: set[str]) -> None:
    """Bump now (the flush) and once more at commit."""
    _pending(session).update(keys)
    _bump(keys)


@event.listens_for(Session, "before_flush")
def _before_flush(session, flush_context, instances):
    if not has_app_context():
        return
    written = (*session.new, *session.dirty, *session.deleted)
    paths = {obj.tenant_path if isinstance(obj, TenantOwned) else obj.path
             for obj in written if isinstance(obj, (TenantOwned, Tenant))}
    # A node being attached has a placeholder for its own id until this flush: its ancestors count.
    _written(session, {_key("sub", i) for path in paths if path for i in ids_of(path.split("~")[0])})
    for models, paths_of, mark in _watchers:
        found = {path.split("~")[0] for obj in written if isinstance(obj, models) for path in paths_of(obj) if path}
        if found:
            mark(session, found)


@event.listens_for(Session, "do_orm_execute")
def _statement(state):
    if not (state.is_update or state.is_delete) or not has_app_context():
        return
    classes = [m.class_ for m in state.all_mappers]
    if not any(issubclass(c, (TenantOwned, Tenant)) for c in classes):
        return
    reach = write_reach()
    for models, _, mark in _watchers:
        if any(issubclass(c, models) for c in classes):
            mark(state.session, None if reach is None else {reach})
    if reach is None:  # unscoped or opened: the rows may be anywhere
        _written(state.session, {_key("all", 0)})
        return
    ids = ids_of(reach)
    _written(state.session, {_key("below", ids[-1]), *(_key("sub", i) for i in ids)})


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    keys = session.info.pop(_PENDING, set())
    if keys and has_app_context():
        _bump(keys)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session):
    session.info.pop(_PENDING, None)
