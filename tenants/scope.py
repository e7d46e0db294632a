"""The one place that decides which rows a user may read.

A `do_orm_execute` listener adds `with_loader_criteria` for every scoped model to every ORM
SELECT, using the scope of the current request. With no scope set it fails closed: queries of
scoped models raise ScopeError and would match no rows anyway. The only way around it is
`unscoped()`, used by CLI commands and by public pages that look up one record by a secret.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

from flask import abort
from sqlalchemy import and_, event, false, or_, select
from sqlalchemy.orm import Session, with_loader_criteria

from portal.extensions import db
from tenants.models import GOVERNMENT_KINDS, Inherited, Scoped, Tenant, TenantOwned
from tenants.paths import ids_of, in_subtree


class ScopeError(RuntimeError):
    """A scoped model was read with no scope set: a bug, never a reason to return all rows."""


@dataclass(frozen=True)
class Scope:
    """What one membership may read: its node's subtree, and for a department its industries'
    enterprises inside its parent's subtree (三管三必须)."""

    tenant_id: int
    path: str
    role: str
    parent_path: str | None = None
    industries: tuple[str, ...] = ()

    @classmethod
    def of(cls, tenant: Tenant, role: str) -> "Scope":
        if tenant.kind == "department" and tenant.supervised_industries:
            parent_path = tenant.path[: tenant.path.rstrip("/").rfind("/") + 1]
            return cls(tenant.id, tenant.path, role, parent_path, tuple(sorted(tenant.supervised_industries)))
        return cls(tenant.id, tenant.path, role)

    @property
    def ancestor_ids(self) -> list[int]:
        return ids_of(self.path)[:-1]

    def _supervised(self, path, kind, industry):
        return and_(in_subtree(path, self.parent_path), kind == "enterprise", industry.in_(self.industries))

    def criteria(self, model):
        """The WHERE clause that keeps `model`'s rows inside this scope."""
        if model is Tenant:
            # Ancestors are readable (breadcrumbs, letterheads); siblings are not.
            clauses = [in_subtree(Tenant.path, self.path), Tenant.id.in_(self.ancestor_ids)]
            if self.industries:
                clauses.append(self._supervised(Tenant.path, Tenant.kind, Tenant.industry))
            return or_(*clauses)
        clauses = [in_subtree(model.tenant_path, self.path)]
        inherited = issubclass(model, Inherited)
        if inherited:
            clauses.append(model.tenant_id.in_(self.ancestor_ids))
        if self.industries:
            # The plain table, not the Tenant entity, so this subquery is not itself re-scoped.
            t = Tenant.__table__
            supervised = select(t.c.id).where(self._supervised(t.c.path, t.c.kind, t.c.industry))
            clauses.append(model.tenant_id.in_(supervised))
            if inherited:
                # What applies to a supervised enterprise: rows of the government levels above it.
                levels = select(t.c.id).where(in_subtree(t.c.path, self.parent_path), t.c.kind.in_(GOVERNMENT_KINDS))
                clauses.append(model.tenant_id.in_(levels))
        return or_(*clauses)

    def contains(self, tenant: Tenant) -> bool:
        """Whether records owned by `tenant` are in this scope (no query)."""
        if tenant.path.startswith(self.path):
            return True
        return bool(self.industries) and tenant.kind == "enterprise" \
            and tenant.industry in self.industries and tenant.path.startswith(self.parent_path)


_ALL = object()
_current: ContextVar[Scope | object | None] = ContextVar("tenant_scope", default=None)


def set_scope(scope: Scope | None):
    return _current.set(scope)


def reset_scope(token) -> None:
    _current.reset(token)


def current_scope() -> Scope:
    scope = _current.get()
    if not isinstance(scope, Scope):
        raise ScopeError("没有设置数据范围。")
    return scope


@contextmanager
def unscoped():
    """Read every tenant's rows. For CLI commands and public lookups by secret only."""
    token = _current.set(_ALL)
    try:
        yield
    finally:
        _current.reset(token)


@contextmanager
def scoped_as(scope: Scope):
    token = _current.set(scope)
    try:
        yield
    finally:
        _current.reset(token)


def database_settings() -> tuple[str, str, str]:
    """The scope in force as PostgreSQL's row-level security reads it (tenants.rls): the subtree's
    path ('/' when unscoped, '' when none is set), and for a department its parent's path and its
    industries ('' otherwise)."""
    return _settings(_current.get())


@lru_cache(maxsize=4096)
def _settings(scope) -> tuple[str, str, str]:
    if scope is _ALL:
        return "/", "", ""  # every path starts with '/', so the range covers every row
    if scope is None:
        return "", "", ""
    return scope.path, scope.parent_path or "", ",".join(scope.industries)


def _scoped_models() -> tuple[type, ...]:
    return tuple(sorted((m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, Scoped)),
                        key=lambda cls: cls.__name__))


# Building the criteria of every scoped model for every SELECT cost ~2 ms per query once there
# were twenty models (measured in bench/hazards_ledger.py); a scope's options never change, so
# they are built once per scope (and per set of models, which grows only while modules import).
@lru_cache(maxsize=4096)
def _options(scope: Scope | None, models: tuple[type, ...]) -> tuple:
    if scope is None:
        return tuple(with_loader_criteria(m, false(), include_aliases=True) for m in models)
    return tuple(with_loader_criteria(m, scope.criteria(m), include_aliases=True) for m in models)


@event.listens_for(Session, "do_orm_execute")
def _apply_scope(state) -> None:
    if not state.is_select or state.is_column_load:
        return
    scope = _current.get()
    if scope is _ALL:
        return
    if scope is None and any(issubclass(m.class_, Scoped) for m in state.all_mappers):
        raise ScopeError("没有设置数据范围时不能读取租户数据。")
    state.statement = state.statement.options(*_options(scope, _scoped_models()))


def scoped(model):
    """SELECT of `model` limited to the current scope (the listener adds the criteria)."""
    return select(model)


def get_scoped_or_404(model, id_):
    """The record, if the current user may read it; otherwise 404, never a 403 that confirms it exists."""
    try:
        id_ = int(id_)
    except (TypeError, ValueError):
        abort(404)
    obj = db.session.execute(select(model).where(model.id == id_)).scalar_one_or_none()
    if obj is None:
        abort(404)
    return obj


def get_covered_or_404(id_) -> Tenant:
    """A node whose records the user may read: inside the user's subtree, or an enterprise the
    user's department supervises. Readable ancestors (breadcrumbs, letterheads) are a 404 here."""
    tenant = get_scoped_or_404(Tenant, id_)
    if not current_scope().contains(tenant):
        abort(404)
    return tenant


def get_managed_or_404(id_) -> Tenant:
    """A node inside the user's own subtree: readable ancestors and supervised enterprises are
    not the user's to change, so they are a 404 here too."""
    tenant = get_scoped_or_404(Tenant, id_)
    if not tenant.path.startswith(current_scope().path):
        abort(404)
    return tenant


__all__ = ["Scope", "ScopeError", "scoped", "get_scoped_or_404", "get_covered_or_404", "get_managed_or_404",
           "unscoped", "scoped_as", "set_scope", "reset_scope", "current_scope", "TenantOwned"]
