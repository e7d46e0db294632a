"""Inheritance down the tree: a value owned by a node applies to its subtree, the nearest owner wins.

A key may register a `check(parent_value, child_value)` that returns a Chinese message when the
child's value is looser than its parent's; setting such a value is refused with that message.
Later modules (plan rules, checklist templates, report definitions) register their checks here.
"""
from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any, Callable

from sqlalchemy import select

from portal.errors import Refused
from portal.extensions import db
from tenants.models import Tenant, TenantSetting
from tenants.paths import ids_of

Check = Callable[[Any, Any], "str | None"]
_checks: dict[str, Check] = {}


class LooserThanParent(Refused):
    """The child tried to relax a rule its parent set; the message names the parent's value."""


def register_check(key: str, check: Check) -> None:
    """`key` may be a pattern ("plan.*.drill") for keys that embed an id, one check for them all."""
    _checks[key] = check


def _check_for(key: str) -> Check | None:
    if key in _checks:
        return _checks[key]
    return next((check for pattern, check in _checks.items() if fnmatchcase(key, pattern)), None)


def looser(key: str, parent_value: Any, value: Any) -> str | None:
    """Why `value` is looser than `parent_value` under the check registered for `key`, or None.
    For rules kept in their own tables (a dispatch table extending its parent's)."""
    check = _check_for(key)
    return check(parent_value, value) if check and parent_value is not None else None


def chain(tenant: Tenant) -> list[int]:
    """Ids from the root down to `tenant` itself."""
    return ids_of(tenant.path)


def owners(tenant: Tenant, key: str) -> list[TenantSetting]:
    """Every setting of `key` on the path, nearest first. One query, no recursion."""
    return owners_of(tenant, [key])[key]


def owners_of(tenant: Tenant, keys: list[str]) -> dict[str, list[TenantSetting]]:
    """`owners` of several keys (a list's items) in one query."""
    ids = chain(tenant)
    rows = db.session.execute(
        select(TenantSetting).where(TenantSetting.key.in_(keys), TenantSetting.tenant_id.in_(ids))
    ).scalars().all()
    depth = {tid: i for i, tid in enumerate(ids)}
    found: dict[str, list[TenantSetting]] = {key: [] for key in keys}
    for setting in sorted(rows, key=lambda s: depth[s.tenant_id], reverse=True):
        found[setting.key].append(setting)
    return found


def resolve(tenant: Tenant, key: str, default: Any = None) -> Any:
    found = owners(tenant, key)
    return found[0].value if found else default


def resolve_with_owner(tenant: Tenant, key: str) -> tuple[Any, TenantSetting | None]:
    found = owners(tenant, key)
    return (found[0].value, found[0]) if found else (None, None)


def inherited(tenant: Tenant, key: str) -> Any:
    """The value `tenant` would get from its ancestors if it had none of its own."""
    found = [s for s in owners(tenant, key) if s.tenant_id != tenant.id]
    return found[0].value if found else None


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
