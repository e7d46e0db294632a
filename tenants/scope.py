"""The one place that decides which rows a user may read and write.

Reads: a `do_orm_execute` listener adds one loader criterion for every scoped model (`_ScopeCriteria`)
to every ORM SELECT, using the scope of the current request. Writes: the same listener limits ORM UPDATE and
DELETE statements of a scoped model to the write range (`Scope.writable`) and refuses bulk
INSERT rows outside it, and a `before_flush` check refuses to flush a new, changed or deleted
scoped object outside it. "May this membership
change this record" is `may_change`. With no scope set everything fails closed: ScopeError.

Two ways around it, both greppable: `unscoped()` (CLI commands, public pages that look up one
record by a secret) and `writing_for(tenant)`, which lets the current request write the records
of one more node (a report that notifies the assigning level, a login recorded in the user's
home chain); each use says why.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cached_property, lru_cache
from types import SimpleNamespace

from flask import abort
from sqlalchemy import Integer, Select, String, and_, bindparam, event, exists, false, inspect, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import LoaderCriteriaOption
from sqlalchemy.sql import util as sql_util
from sqlalchemy.sql.expression import Exists, ScalarSelect, SelectBase
from sqlalchemy.sql.visitors import InternalTraversal

from portal.extensions import db
from tenants.models import GOVERNMENT_KINDS, Inherited, Membership, Scoped, Tenant, TenantOwned
from tenants.paths import ids_of, in_subtree, upper_bound, within


class ScopeError(RuntimeError):
    """A scoped model was read with no scope set, or written outside the write range: a bug, never
    a reason to return all rows or to write silently."""


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
    def reach(self) -> str:
        """The path of the highest node whose subtree holds every row of this scope."""
        return self.parent_path or self.path

    @property
    def ancestor_ids(self) -> list[int]:
        return ids_of(self.path)[:-1]

    @cached_property
    def bound(self) -> SimpleNamespace:
        """The scope's values as named bound parameters, for the loader criterion only: a statement
        compiled for one scope is reused for every scope of the same shape with these values
        swapped in by name (see _ScopeCriteria)."""
        return self._values(named=True)

    @cached_property
    def plain(self) -> SimpleNamespace:
        """The same values as anonymous parameters, for a clause of this scope put into a statement
        read under another scope (area): two scopes' named parameters in one statement would
        share one value."""
        return self._values(named=False)

    def _values(self, named: bool) -> SimpleNamespace:
        def value(name, v, type_, **kw):
            return bindparam(f"scope_{name}" if named else None, v, type_, unique=not named, **kw)
        return SimpleNamespace(
            tenant=value("tenant", self.tenant_id, Integer),
            path=value("path", self.path, String),
            path_end=value("path_end", upper_bound(self.path), String),
            ancestors=value("ancestors", self.ancestor_ids, Integer, expanding=True),
            parent=value("parent", self.parent_path or "", String),
            parent_end=value("parent_end", upper_bound(self.parent_path) if self.parent_path else "", String),
            industries=value("industries", list(self.industries), String, expanding=True))

    def subtree(self, column, b: SimpleNamespace | None = None):
        """in_subtree of the scope's own node, with its bound parameters."""
        b = b or self.bound
        return and_(column >= b.path, column < b.path_end)

    def _supervised(self, path, kind, industry, b: SimpleNamespace):
        return and_(path >= b.parent, path < b.parent_end, kind == "enterprise", industry.in_(b.industries))

    def criteria(self, model, b: SimpleNamespace | None = None):
        """The WHERE clause that keeps `model`'s rows inside this scope, and inside what the model
        itself says this role may read (`read_criteria`, e.g. an export kind's readers)."""
        clause = self._subtree_criteria(model, b or self.bound)
        narrower = getattr(model, "read_criteria", None)
        return and_(clause, narrower(self)) if narrower is not None else clause

    def area(self, model):
        """The rows of `model` this scope covers, as a condition of a statement that may be read
        under another scope (a node's figures read by a level above it)."""
        return self.criteria(model, self.plain)

    def _subtree_criteria(self, model, b: SimpleNamespace):
        if model is Tenant:
            # Ancestors are readable (breadcrumbs, letterheads); siblings are not.
            clauses = [self.subtree(Tenant.path, b), Tenant.id.in_(b.ancestors)]
            if self.industries:
                clauses.append(self._supervised(Tenant.path, Tenant.kind, Tenant.industry, b))
            clauses += [self._sent(table, column, b) for table, column in _senders()]
            return or_(*clauses)
        clauses = [self.subtree(model.tenant_path, b)]
        inherited = issubclass(model, Inherited)
        if inherited:
            clauses.append(model.tenant_id.in_(b.ancestors))
        reached = getattr(model, "reach_criteria", None)
        if reached is not None:
            clauses.append(reached(self, b))
        if self.industries:
            t = Tenant.__table__
            clauses.append(model.tenant_id.in_(self._supervised_ids(b)))
            if inherited:
                # What applies to a supervised enterprise: rows of the government levels above it.
                levels = select(t.c.id).where(and_(t.c.path >= b.parent, t.c.path < b.parent_end),
                                              t.c.kind.in_(GOVERNMENT_KINDS))
                clauses.append(model.tenant_id.in_(levels))
        return or_(*clauses)

    def owns(self, table, b: SimpleNamespace):
        """The rows of the plain `table` of a tenant-owned model that this scope reads by their owner
        (its subtree, a department's supervised enterprises): what the criteria give that model, for
        a record of another model that is read because of them (a model's reach_criteria)."""
        clause = self.subtree(table.c.tenant_path, b)
        return or_(clause, table.c.tenant_id.in_(self._supervised_ids(b))) if self.industries else clause

    def _sent(self, table, column: str, b: SimpleNamespace):
        # Only a department sends work outside its own subtree (every other sender is an ancestor
        # of the receiver, readable anyway): its node is read by the units the work reached. The
        # policy on tenants cannot say this (tenants.rls.REACHED) and lets through a little more.
        sent = table.alias(f"sent_{table.name}")
        return and_(Tenant.kind == "department", exists().where(sent.c[column] == Tenant.id, self.owns(sent, b)))

    def writable(self, model, extra_ids: frozenset[int] = frozenset()):
        """The WHERE clause of the rows of `model` this scope may UPDATE or DELETE: records of its
        own subtree and, for a department, of its supervised enterprises (where it inspects and
        records hazards); nodes only of its own subtree (supervising is not administering);
        never an ancestor's rows. `extra_ids`: nodes opened by `writing_for`."""
        if model is Tenant:
            return or_(in_subtree(Tenant.path, self.path), Tenant.id.in_(extra_ids))
        clauses = [in_subtree(model.tenant_path, self.path), model.tenant_id.in_(extra_ids)]
        if self.industries:
            clauses.append(model.tenant_id.in_(self._supervised_ids(self.plain)))
        return or_(*clauses)

    def _supervised_ids(self, b: SimpleNamespace):
        # The plain table, not the Tenant entity, so this subquery is not itself re-scoped.
        t = Tenant.__table__
        # Never correlated: inside a subquery of a statement that reads tenants it is still its own list.
        return select(t.c.id).where(self._supervised(t.c.path, t.c.kind, t.c.industry, b)).correlate(None)

    def manages(self, tenant: Tenant) -> bool:
        """Whether `tenant` is in this scope's own subtree (no query)."""
        return within(tenant.path, self.path)

    def contains(self, tenant: Tenant) -> bool:
        """Whether records owned by `tenant` are in this scope (no query)."""
        return self._covers(tenant.path, tenant.kind, tenant.industry)

    def _covers(self, path: str, kind: str, industry: str | None) -> bool:
        if within(path, self.path):
            return True
        return bool(self.industries) and kind == "enterprise" \
            and industry in self.industries and within(path, self.parent_path)


def _senders() -> list[tuple]:
    """(plain table, column) of every tenant-owned model that names the node that sent the record to
    its owner (TenantOwned.sender_column): whoever reads the record reads that node's name."""
    return [(m.class_.__table__, m.class_.sender_column) for m in db.Model.registry.mappers
            if issubclass(m.class_, TenantOwned) and m.class_.sender_column]


_ALL = object()
_current: ContextVar[Scope | object | None] = ContextVar("tenant_scope", default=None)
# Nodes whose records the current request may write beyond its scope (see writing_for).
_opened: ContextVar[frozenset[int]] = ContextVar("tenant_writes_opened", default=frozenset())


def set_scope(scope: Scope | None):
    return _current.set(scope)


def reset_scope(token) -> None:
    _current.reset(token)


def write_reach() -> str | None:
    """The path of the node under which every write of the current request falls (its scope's
    reach), or None when its writes may fall anywhere (unscoped, or opened by writing_for)."""
    scope = _current.get()
    if not isinstance(scope, Scope) or _opened.get():
        return None
    return scope.reach


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
def writing_for(*tenants: Tenant | int):
    """Also write the records of `tenants` (nodes or their ids) themselves, not their subtrees,
    reading nothing more. For the few writes a unit makes into another unit's records by the
    rules: each use says why."""
    token = _opened.set(_opened.get() | {t if isinstance(t, int) else t.id for t in tenants})
    try:
        yield
    finally:
        _opened.reset(token)


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
    industries ('' otherwise). Inside `writing_for` the database lets the statement through: the
    listener holds it to exactly the nodes named, which the policies' path ranges cannot express."""
    scope = _current.get()
    return _settings(_ALL if scope is not None and _opened.get() else scope)


@lru_cache(maxsize=4096)
def _settings(scope) -> tuple[str, str, str]:
    if scope is _ALL:
        return "/", "", ""  # every path starts with '/', so the range covers every row
    if scope is None:
        return "", "", ""
    return scope.path, scope.parent_path or "", ",".join(scope.industries)


class _ScopeCriteria(LoaderCriteriaOption):
    """One loader criterion on the Scoped base, resolved per model when a statement compiles
    (Scope.criteria). One criterion per model made the cache key of every statement walk about
    forty WHERE clauses (~11 ms a page); this one's key is the scope's shape (department or not,
    role, the export readers' generation) plus its bound parameters, whatever the number of models.
    The compiled statement is reused for every scope of one shape: every value a criterion depends
    on is one of Scope.bound, which SQLAlchemy swaps in by name on each execution."""

    __slots__ = ("scope", "shape", "binds")
    _traverse_internals = [("root_entity", InternalTraversal.dp_plain_obj),
                           ("shape", InternalTraversal.dp_plain_obj),
                           ("binds", InternalTraversal.dp_clauseelement_list),
                           ("include_aliases", InternalTraversal.dp_boolean),
                           ("propagate_to_loaders", InternalTraversal.dp_boolean)]

    def __init__(self, scope: Scope | None, generation: int):
        super().__init__(Scoped, false(), include_aliases=True)
        self.scope = scope
        if scope is None:  # nothing is readable: reading a scoped model is refused in _apply_scope
            self.shape, self.binds = ("none",), []
        else:
            self.shape = ("scope", bool(scope.industries), scope.role, generation)
            self.binds = list(vars(scope.bound).values())

    def _resolve_where_criteria(self, ext_info):
        crit = false() if self.scope is None else self.scope.criteria(ext_info.mapper.class_)
        return sql_util._deep_annotate(crit, {"for_loader_criteria": self}, detect_subquery_cols=True,
                                       ind_cols_on_fromclause=True)

    def __reduce__(self):
        return (_ScopeCriteria, (self.scope, self.shape[-1] if self.scope else 0))


# What models let a role read (read_criteria) is part of a criterion's shape: when it changes
# (forget_criteria), statements compiled before are not reused.
_generation = 0


@lru_cache(maxsize=4096)
def _option(scope: Scope | None, generation: int) -> _ScopeCriteria:
    return _ScopeCriteria(scope, generation)


def forget_criteria() -> None:
    """What a model lets a role read has changed (an export kind declared its readers): rebuild."""
    global _generation
    _generation += 1
    _option.cache_clear()


@event.listens_for(Session, "do_orm_execute")
def _apply_scope(state) -> None:
    if state.is_update or state.is_delete:
        return _limit_write(state)
    if state.is_insert:
        return _check_insert(state)
    if not state.is_select or state.is_column_load:
        return
    scope = _current.get()
    if scope is _ALL:
        return
    if scope is None and any(issubclass(m.class_, Scoped) for m in state.all_mappers):
        raise ScopeError("没有设置数据范围时不能读取租户数据。")
    _refuse_unnamed_froms(state)
    state.statement = state.statement.options(_option(scope, _generation))


def _refuse_unnamed_froms(state) -> None:
    """A SELECT whose scoped entity is reached only through a column inside an expression, e.g.
    select(func.count().filter(Hazard.status == …)), names no entity, so no criterion applies and
    it would count every district's rows: refused (fail closed) until it says select_from(Hazard).
    Plain tables (Tenant.__table__) are the deliberate unscoped reads and are left alone."""
    statement = state.statement
    if not isinstance(statement, Select) or statement._from_obj or statement._setup_joins:
        return  # a UNION's selects are checked as they are built; an explicit FROM takes the criterion
    # The entities the ORM applies criteria to, found as it finds them (state.all_mappers works
    # out every column's whole description, which costs far more).
    named = {entity.mapper for entity in (
        column._annotations.get("parententity") or sql_util.extract_first_column_annotation(column, "parententity")
        for column in statement._raw_columns) if entity is not None} if state.is_orm_statement else set()
    # Most statements' columns come only from tables of the entities they name: nothing to look
    # for, and walking a dispatch count's hundreds of CASE expressions costs more than running it.
    tables = {table for mapper in named for table in mapper.tables}
    if all(source in tables for source in statement.columns_clause_froms):
        return
    for element in _own_elements(statement._raw_columns):
        entity = getattr(element, "_annotations", {}).get("parententity")
        if entity is not None and entity.mapper not in named and issubclass(entity.mapper.class_, Scoped):
            raise ScopeError(f"查询涉及 {entity.mapper.class_.__name__} 却未指明实体："
                             "请写 select_from(对应模型)，数据范围才能生效。")


def _own_elements(elements):
    """The parts of these column expressions, not descending into a nested SELECT or EXISTS (a
    statement with its own FROM)."""
    for element in elements:
        yield element
        if not isinstance(element, (SelectBase, Exists, ScalarSelect)):
            yield from _own_elements(element.get_children())


def _limit_write(state) -> None:
    """An ORM UPDATE or DELETE of a scoped model touches only rows of the write range."""
    scope = _current.get()
    model = state.bind_mapper.class_ if state.bind_mapper is not None else None
    if scope is _ALL or model is None or not issubclass(model, Scoped):
        return
    opened = _opened.get()
    if scope is None:
        if not opened:
            raise ScopeError("没有设置数据范围时不能修改租户数据。")
        criteria = (Tenant.id if model is Tenant else model.tenant_id).in_(opened)
    else:
        criteria = scope.writable(model, opened)
    state.statement = state.statement.where(criteria)


def _owners(session, ids: set[int]) -> dict[int, tuple[str, str, str | None]]:
    """(path, kind, industry) of the nodes `ids`, from the session if loaded, else in one query of
    the plain table (so it is not itself scoped)."""
    found = {}
    for tenant_id in ids:
        loaded = session.identity_map.get(inspect(Tenant).identity_key_from_primary_key((tenant_id,)))
        if loaded is not None and loaded.path and "~" not in loaded.path:
            found[tenant_id] = (loaded.path, loaded.kind, loaded.industry)
    missing = ids - found.keys()
    if missing:
        t = Tenant.__table__
        for row in session.execute(select(t.c.id, t.c.path, t.c.kind, t.c.industry).where(t.c.id.in_(missing))):
            found[row.id] = (row.path, row.kind, row.industry)
    return found


def _check_writes(session, rows: list[tuple[type, int | None, set[str]]]) -> None:
    """Raise ScopeError unless every row about to be written, given as (model, owning node's id,
    the paths it is and was at), lies in the write range of the current scope."""
    scope = _current.get()
    if scope is _ALL or not rows:
        return
    opened = _opened.get()
    owners = None
    for model, owner_id, paths in rows:
        if owner_id is not None and owner_id in opened:
            continue
        if scope is None:
            raise ScopeError(f"没有设置数据范围时不能写入租户数据（{model.__name__}）。")
        if paths and all(within(p, scope.path) for p in paths):
            continue
        if model is not Tenant and scope.industries and owner_id is not None:
            if owners is None:
                owners = _owners(session, {r[1] for r in rows if r[1] is not None})
            owner = owners.get(owner_id)
            if owner is not None and scope._covers(*owner) and all(p == owner[0] for p in paths):
                continue
        raise ScopeError(f"{model.__name__}（单位 {owner_id}）不在可写范围内。")


def _check_insert(state) -> None:
    """An ORM INSERT statement of a scoped model (bulk, one row per parameter set) writes only
    inside the write range, as a flush does."""
    model = state.bind_mapper.class_ if state.bind_mapper is not None else None
    if _current.get() is _ALL or model is None or not issubclass(model, Scoped):
        return
    params = state.parameters
    if not params:
        raise ScopeError(f"批量插入{model.__name__}须逐行给出参数，以便核对数据范围。")
    path = "path" if model is Tenant else "tenant_path"
    owner = "id" if model is Tenant else "tenant_id"
    _check_writes(state.session, [(model, row.get(owner), {row.get(path)} - {None})
                                  for row in ([params] if isinstance(params, dict) else params)])


def _paths_of(obj) -> set[str]:
    """Where the row is and, if this flush moves it, where it was."""
    name = "path" if isinstance(obj, Tenant) else "tenant_path"
    history = inspect(obj).attrs[name].history
    return {p for p in (*history.added, *history.unchanged, *history.deleted) if p}


@event.listens_for(Session, "before_flush")
def _guard_flush(session, flush_context, instances) -> None:
    """Unit-of-work writes never pass through do_orm_execute: refuse to flush a scoped object
    outside the write range, so a stray write is an error (a 500), never a silent change."""
    if _current.get() is _ALL:
        return
    objs = [o for o in (*session.new, *session.deleted) if isinstance(o, Scoped)]
    objs += [o for o in session.dirty if isinstance(o, Scoped) and session.is_modified(o, include_collections=False)]
    _check_writes(session, [(type(o), _owner_id(o), _paths_of(o)) for o in objs])


def _owner_id(obj) -> int | None:
    if isinstance(obj, Tenant):
        return obj.id
    if obj.tenant_id is None and obj.__dict__.get("tenant") is not None:
        return obj.tenant.id  # set through the relationship: the foreign key is copied in the flush
    return obj.tenant_id


def may_change(who: Membership | Scope, target, *, administer: bool = False) -> bool:
    """May `who` (a membership, or a scope) change `target`? The one rule for writes:
    - a record, or a node standing for the records kept at it (a hazard recorded at an
      enterprise): inside the own subtree or, for a department, at a supervised enterprise;
    - with administer=True, the node itself (its name, children, users, letterhead): inside the
      own subtree only, since supervising an enterprise is not administering it.
    Never an ancestor's, never a sibling's."""
    scope = who if isinstance(who, Scope) else Scope.of(who.tenant, who.role)
    tenant = target if isinstance(target, Tenant) else target.tenant
    return scope.manages(tenant) if administer else scope.contains(tenant)


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
    if not may_change(current_scope(), tenant, administer=True):
        abort(404)
    return tenant


__all__ = ["Scope", "ScopeError", "forget_criteria", "scoped", "get_scoped_or_404", "get_covered_or_404",
           "get_managed_or_404", "may_change", "unscoped", "writing_for", "scoped_as", "set_scope", "reset_scope",
           "current_scope", "TenantOwned"]
