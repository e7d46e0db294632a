"""Inheritance down the tree: a value owned by a node applies to its subtree.

A plain setting (a letterhead, a cut-off date): the nearest owner on the path wins.

A rule — a key registered with `strictest` — binds through every level that sets it, and the
strictest value wins, whenever and in whatever order the levels set it (a district that tightens
after a street loosened nothing reaches the street at once; no stored value below is rewritten).
For an enterprise the owners are the government levels above it AND every department or 站所
that supervises its industry there (三管三必须): a 商务局's plan binds the 商贸 enterprises under
its district's streets. Plan rules, checklist evidence and signing deadlines all resolve here.

A key may register a `check(parent_value, child_value)` that returns a Chinese message when the
child's value is looser than its parent's; setting such a value is refused with that message.
"""
from __future__ import annotations

from contextlib import nullcontext
from fnmatch import fnmatchcase
from typing import Any, Callable

from sqlalchemy import and_, or_, select

from portal.errors import Refused
from portal.extensions import db
from tenants.models import Tenant, TenantSetting
from tenants.paths import ids_of
from tenants.scope import unscoped

Check = Callable[[Any, Any], "str | None"]
Strictest = Callable[[Any, Any], Any]
_checks: dict[str, Check] = {}
_strictest: dict[str, Strictest] = {}


class LooserThanParent(Refused):
    """The child tried to relax a rule its parent set; the message names the parent's value."""


def register_check(key: str, check: Check, strictest: Strictest | None = None) -> None:
    """`key` may be a pattern ("plan.*.drill") for keys that embed an id, one check for them all.
    `strictest(a, b)`, the stricter of two values (or both combined), makes the key a rule."""
    _checks[key] = check
    if strictest is not None:
        _strictest[key] = strictest


def _registered(registry: dict, key: str):
    if key in registry:
        return registry[key]
    return next((value for pattern, value in registry.items() if fnmatchcase(key, pattern)), None)


def _check_for(key: str) -> Check | None:
    return _registered(_checks, key)


def looser(key: str, parent_value: Any, value: Any) -> str | None:
    """Why `value` is looser than `parent_value` under the check registered for `key`, or None.
    For rules kept in their own tables (a dispatch table extending its parent's)."""
    check = _check_for(key)
    return check(parent_value, value) if check and parent_value is not None else None


def chain(tenant: Tenant) -> list[int]:
    """Ids from the root down to `tenant` itself."""
    return ids_of(tenant.path)


def owners(tenant: Tenant, key: str) -> list[TenantSetting]:
    """Every setting of `key` that binds `tenant`, nearest first. One query, no recursion."""
    return owners_of(tenant, [key])[key]


def owners_of(tenant: Tenant, keys: list[str]) -> dict[str, list[TenantSetting]]:
    """`owners` of several keys (a list's items) in one query: the settings on the path and, for an
    enterprise's rules, those of the departments and 站所 on its levels that supervise its
    industry, each ranked by its depth (a department sits one below its level)."""
    ids = chain(tenant)
    t = Tenant.__table__
    on_path = TenantSetting.tenant_id.in_(ids)
    rules = [key for key in keys if _registered(_strictest, key)]
    supervised = tenant.kind == "enterprise" and tenant.industry and rules
    stmt = select(TenantSetting, t.c.parent_id, t.c.supervised_industries).join(t, t.c.id == TenantSetting.tenant_id)
    if supervised:
        stmt = stmt.where(TenantSetting.key.in_(keys), or_(on_path, and_(
            TenantSetting.key.in_(rules), t.c.kind == "department", t.c.parent_id.in_(ids[:-1]))))
    else:
        stmt = stmt.where(TenantSetting.key.in_(keys), on_path)
    # The departments are outside an enterprise user's read scope; the statement itself names
    # exactly the rows that may bind the enterprise, and the industry is checked below.
    with unscoped() if supervised else nullcontext():
        rows = db.session.execute(stmt).all()
    depth = {tid: i for i, tid in enumerate(ids)}
    ranked = [(depth[s.tenant_id] if s.tenant_id in depth else depth[parent_id] + 1, s) for s, parent_id, industries in rows
              if s.tenant_id in depth or tenant.industry in (industries or [])]
    found: dict[str, list[TenantSetting]] = {key: [] for key in keys}
    for _, setting in sorted(ranked, key=lambda r: (r[0], r[1].tenant_id), reverse=True):
        found[setting.key].append(setting)
    return found


def setters(settings: list[TenantSetting]) -> dict[int, Tenant]:
    """The units that set `settings`, by id. A department that binds an enterprise through its
    industry is outside the enterprise's read scope; only the units named here are read."""
    ids = {s.tenant_id for s in settings}
    if not ids:
        return {}
    with unscoped():
        return {u.id: u for u in db.session.execute(select(Tenant).where(Tenant.id.in_(ids))).scalars()}


def supervising(tenant: Tenant) -> list[int]:
    """The departments and 站所 on an enterprise's levels that supervise its industry (三管三必须):
    their rules and key check items bind it as its own levels' do. [] for any other node."""
    if tenant.kind != "enterprise" or not tenant.industry:
        return []
    t = Tenant.__table__
    with unscoped():
        rows = db.session.execute(select(t.c.id, t.c.supervised_industries).where(
            t.c.kind == "department", t.c.parent_id.in_(chain(tenant)[:-1]))).all()
    return [tid for tid, industries in rows if tenant.industry in (industries or [])]


def binding(tenant: Tenant) -> list[int]:
    """Every unit whose inherited records apply to `tenant`: its path and its supervising departments."""
    return chain(tenant) + supervising(tenant)


def _strictest_of(key: str, settings: list[TenantSetting]) -> tuple[Any, TenantSetting | None]:
    """The value in force and the setting that made it so: the nearest for a plain setting, the
    strictest for a rule (on a tie, the nearest level keeps the credit)."""
    if not settings:
        return None, None
    combine = _registered(_strictest, key)
    value, owner = settings[0].value, settings[0]
    if combine is not None:
        for setting in settings[1:]:
            stricter = combine(value, setting.value)
            if stricter != value:
                value, owner = stricter, setting
    return value, owner


def resolve(tenant: Tenant, key: str, default: Any = None) -> Any:
    value, owner = resolve_with_owner(tenant, key)
    return default if owner is None else value


def resolve_with_owner(tenant: Tenant, key: str) -> tuple[Any, TenantSetting | None]:
    return _strictest_of(key, owners(tenant, key))


def resolve_many(tenant: Tenant, keys: list[str]) -> dict[str, tuple[Any, TenantSetting | None]]:
    """`resolve_with_owner` of several keys in one query."""
    return {key: _strictest_of(key, settings) for key, settings in owners_of(tenant, keys).items()}


def inherited(tenant: Tenant, key: str) -> Any:
    """The value `tenant` would get from the levels above it if it had none of its own."""
    return _strictest_of(key, [s for s in owners(tenant, key) if s.tenant_id != tenant.id])[0]


def set_value(tenant: Tenant, key: str, value: Any) -> TenantSetting:
    """Give `tenant` its own value of `key`; refused if looser than the inherited one."""
    message = looser(key, inherited(tenant, key), value)
    if message:
        raise LooserThanParent(message)
    setting = db.session.execute(
        select(TenantSetting).where(TenantSetting.tenant_id == tenant.id, TenantSetting.key == key)
    ).scalar_one_or_none()
    if setting is None:
        setting = TenantSetting(tenant=tenant, key=key, value=value)
        db.session.add(setting)
    else:
        setting.value = value
    db.session.flush()
    return setting


def clear_value(tenant: Tenant, key: str) -> bool:
    """Drop `tenant`'s own value so it inherits again."""
    setting = db.session.execute(
        select(TenantSetting).where(TenantSetting.tenant_id == tenant.id, TenantSetting.key == key)
    ).scalar_one_or_none()
    if setting is None:
        return False
    db.session.delete(setting)
    db.session.flush()
    return True
