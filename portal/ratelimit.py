"""Rate limits that every web host shares.

Both count the hits of a key over the sliding window before now. With `REDIS_URL` set (several
hosts, production) the hits are a sorted set per key in Redis, checked and added by one script,
which Redis runs atomically: two hosts taking the last allowed request at once cannot both pass;
the set expires with its window, and the database takes no write. Without Redis (the embedded
install, one host) the hits are rows of `rate_hits`.

Keys are stored only as a keyed hash (HMAC with the secret key): a limit on an address must not
become a list of who came from where (anonymous tips)."""
from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from portal.extensions import db
from tenants import clock
from tenants.clock import now


class RateHit(db.Model):
    """One counted request of `bucket` (tips, api …) from the key hashed in `key_hash`; rows older
    than the bucket's window are deleted as new ones arrive."""

    __tablename__ = "rate_hits"

    id = db.Column(db.Integer, primary_key=True)
    bucket = db.Column(db.String(32), nullable=False)
    key_hash = db.Column(db.String(64), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    __table_args__ = (db.Index("ix_rate_hits_bucket_key_created", "bucket", "key_hash", "created_at"),)


def _hashed(key: str) -> str:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), key.encode(), hashlib.sha256).hexdigest()


def redis_client():
    """The app's Redis client (REDIS_URL), or None without one; shared with portal.cache."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    from redis import Redis
    # One client per app and URL: it pools its connections.
    clients = current_app.extensions.setdefault("ratelimit_redis", {})
    if url not in clients:
        clients[url] = Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return clients[url]


# The hosts' clocks may differ: the window is measured on Redis's (TIME). KEYS[1] the set; ARGV:
# window (seconds), then for a take the limit and a member unique to this hit.
_NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) + tonumber(t[2]) / 1000000 "
_USED = _NOW + "return redis.call('ZCOUNT', KEYS[1], '(' .. (now - tonumber(ARGV[1])), '+inf')"
_WAIT = _NOW + """
local oldest = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - tonumber(ARGV[1])), '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
if #oldest == 0 then return 0 end
return math.ceil(tonumber(oldest[2]) + tonumber(ARGV[1]) - now)
"""
_TAKE = _NOW + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1])))
return 1
"""


def _in_redis(script: str, bucket: str, key: str, window: timedelta, *args):
    """The script's answer, or None without Redis or when it cannot be reached: the limit then
    falls back to the database rather than refusing everyone or nobody."""
    from redis import RedisError
    redis = redis_client()
    if redis is None:
        return None
    try:
        return redis.eval(script, 1, f"ratelimit:{bucket}:{_hashed(key)}", window.total_seconds(), *args)
    except RedisError:
        current_app.logger.warning("rate limit %s: Redis unreachable, counting in the database", bucket)
        return None


def used(bucket: str, key: str, window: timedelta) -> int:
    """Requests of `key` counted in `bucket` within `window` before now."""
    counted = _in_redis(_USED, bucket, key, window)
    if counted is not None:
        return int(counted)
    return db.session.execute(select(func.count()).select_from(RateHit).where(
        RateHit.bucket == bucket, RateHit.key_hash == _hashed(key),
        RateHit.created_at >= clock.now() - window)).scalar_one()


def take(bucket: str, key: str, limit: int, window: timedelta) -> bool:
    """Count one request of `key`; False (and nothing counted) when `limit` were already counted
    within `window`. In the database the row joins the caller's transaction, so a request that
    fails afterwards and rolls back is not counted against the sender."""
    taken = _in_redis(_TAKE, bucket, key, window, limit, uuid.uuid4().hex)
    if taken is not None:
        return bool(taken)
    if used(bucket, key, window) >= limit:
        return False
    db.session.execute(delete(RateHit).where(RateHit.bucket == bucket, RateHit.created_at < clock.now() - window))
    db.session.add(RateHit(bucket=bucket, key_hash=_hashed(key)))
    return True


def wait(bucket: str, key: str, window: timedelta) -> int:
    """Seconds until the oldest request of `key` counted within `window` leaves it (Retry-After),
    at least 1."""
    seconds = _in_redis(_WAIT, bucket, key, window)
    if seconds is None:
        oldest = db.session.execute(select(func.min(RateHit.created_at)).where(
            RateHit.bucket == bucket, RateHit.key_hash == _hashed(key),
            RateHit.created_at >= clock.now() - window)).scalar_one()
        seconds = (oldest + window - clock.now()).total_seconds() if oldest else 0
    return max(1, int(seconds) + (0 if float(seconds).is_integer() else 1))
