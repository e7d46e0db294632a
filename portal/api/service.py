"""API tokens: created and revoked by a unit's admin, found by their digest, held to a number of
calls a minute (portal.ratelimit); and the cursor the lists page with."""
from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from portal import ratelimit
from portal.api.models import ApiToken
from portal.audit import service as audit
from portal.auth import service as auth
from portal.database import lock
from portal.errors import Refused
from portal.extensions import db
from portal.permissions import allows
from tenants import clock
from tenants.models import ENTERPRISE_ROLES, ROLES, Membership, Tenant
from tenants.scope import may_change, unscoped

PREFIX = "aqp_"
# The roles a token may act in: a system reads and reports as the unit's office, inspectors or
# the enterprise's people do. Not admin or auditor: accounts and the audit are for people.
TOKEN_ROLES = ("leader", "staff", "inspector", "discipline", "principal", "safety_officer")
WINDOW = timedelta(minutes=1)


class TokenError(Refused):
    pass


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def roles_for(unit: Tenant) -> list[str]:
    return [r for r in TOKEN_ROLES if (r in ENTERPRISE_ROLES) == (unit.kind == "enterprise")]


def tokens_of(unit: Tenant) -> list[ApiToken]:
    return list(db.session.execute(select(ApiToken).where(ApiToken.tenant_id == unit.id)
                                   .order_by(ApiToken.id.desc())).scalars())


def _as_admin(unit: Tenant, actor: Membership) -> None:
    if not allows(actor, "api.manage") or not may_change(actor, unit, administer=True):
        raise TokenError("接口令牌由本单位或上级单位的管理员建立和吊销。")


def create(unit: Tenant, actor: Membership, *, name: str, role: str) -> tuple[ApiToken, str]:
    """A new token acting as `role` at `unit`; returns it and the token itself, shown only now."""
    _as_admin(unit, actor)
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise TokenError("请填写令牌名称（不超过 64 字），如对接的系统名称。")
    if role not in roles_for(unit):
        raise TokenError(f"“{unit.name}”的接口令牌只能使用以下角色："
                         + "、".join(ROLES[r] for r in roles_for(unit)) + "。")
    secret = PREFIX + secrets.token_urlsafe(32)
    # The account the token acts through: it cannot log in (inactive, a password nobody knows).
    account = auth.create_user(unit, username=f"api-{secrets.token_hex(6)}", display_name=f"接口令牌：{name}"[:64],
                               password=secrets.token_urlsafe(32), role=role, actor=actor)
    account.active, account.must_change_password = False, False
    token = ApiToken(tenant=unit, name=name, prefix=secret[:12], digest=digest(secret),
                     membership=account.memberships[0], created_by_id=actor.user_id)
    db.session.add(token)
    db.session.flush()
    audit.record(unit, "api.token_created", token, {"name": name, "role": role, "prefix": token.prefix}, actor=actor)
    return token, secret


def revoke(token: ApiToken, actor: Membership) -> ApiToken:
    _as_admin(token.tenant, actor)
    lock(token)
    if not token.in_force:
        raise TokenError("该令牌已吊销。")
    token.revoked_at, token.revoked_by_id = clock.now(), actor.user_id
    audit.record(token.tenant, "api.token_revoked", token, {"name": token.name, "prefix": token.prefix}, actor=actor)
    return token


def authenticate(secret: str) -> ApiToken | None:
    """The token in force with this secret, its membership and unit loaded; None otherwise."""
    if not secret or not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    with unscoped():  # the scope comes from the token: it is found by its secret alone
        token = db.session.execute(
            select(ApiToken).options(joinedload(ApiToken.membership).joinedload(Membership.tenant),
                                     joinedload(ApiToken.membership).joinedload(Membership.user),
                                     joinedload(ApiToken.tenant))
            .where(ApiToken.digest == digest(secret))).unique().scalar_one_or_none()
    return token if token is not None and token.in_force else None


def spend(token: ApiToken, limit: int) -> int | None:
    """Count one call of `token` (portal.ratelimit: in Redis when REDIS_URL is set, so every app
    server counts together). None while within `limit` calls a minute, else the seconds until the
    next call is allowed. The caller commits."""
    db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=clock.now())
                       .execution_options(synchronize_session=False))
    # Keyed by the digest, not the id: ids come again after a restored backup, digests do not.
    if ratelimit.take("api", token.digest, limit, WINDOW):
        return None
    return ratelimit.wait("api", token.digest, WINDOW)


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The id after which the next page starts (0: the first page); refused when not ours."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "id" or not value.isdigit():
            raise ValueError
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise TokenError("cursor 参数无效：请使用上一页返回的 next_cursor。") from None
