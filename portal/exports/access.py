"""Who may list and download each kind of exported file: the one place that decides it.

Every export kind declares its readers when it registers its builder. `criteria` turns the
declarations into the WHERE clause that tenants.scope adds to every read of ExportDocument, beside
the subtree scope, so the 导出文件 list, a document's page, its download and the background job
all answer the same; a kind nobody declared is readable by nobody.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, exists, false, or_, select

from tenants.models import GOVERNMENT_KINDS, ROLES, Tenant
from tenants.scope import forget_criteria


@dataclass(frozen=True)
class Readers:
    """Roles that may read a kind's documents inside the scope that covers the document's node.

    `issuing_line`: only members of the issuing government level (the document's node) and of the
    levels above it. Not the unit the file is about, not a department that supervises that unit,
    and not the units and inspectors the file names: all of those sit below or beside the issuer.
    """

    roles: frozenset[str]
    issuing_line: bool = False
    # Only members of the document's own unit (account letters carry initial passwords: not even
    # the levels above may read them).
    own_unit: bool = False


def readers(*roles: str, issuing_line: bool = False, own_unit: bool = False) -> Readers:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return Readers(frozenset(roles), issuing_line, own_unit)


# Every role the scope lets in: files that show only what the reader may already read in the pages.
ANYONE_IN_SCOPE = Readers(frozenset(ROLES))

_readers: dict[str, Readers] = {}


def declare(kind: str, rule: Readers | None) -> None:
    """Set (None: remove) the readers of `kind`. Scopes cache their criteria, so they are rebuilt."""
    if rule is None:
        _readers.pop(kind, None)
    else:
        _readers[kind] = rule
    forget_criteria()


def kinds() -> dict[str, Readers]:
    return dict(_readers)


def may_request(role: str, kind: str) -> bool:
    """Whether `role` is among the kind's readers: a view shows its export button by this. Whoever
    makes a file must be able to read it (ExportDocument is checked again when it is queued)."""
    rule = _readers.get(kind)
    return rule is not None and role in rule.roles


def criteria(scope, model):
    """The documents of `model` (ExportDocument) whose kind lets the scope's role read them."""
    mine = {k: r for k, r in _readers.items() if scope.role in r.roles}
    open_kinds = sorted(k for k, r in mine.items() if not r.issuing_line and not r.own_unit)
    line_kinds = sorted(k for k, r in mine.items() if r.issuing_line)
    own_kinds = sorted(k for k, r in mine.items() if r.own_unit)
    clauses = []
    if open_kinds:
        clauses.append(model.kind.in_(open_kinds))
    if own_kinds:
        clauses.append(and_(model.kind.in_(own_kinds), model.tenant_id == scope.bound.tenant))
    if line_kinds:
        # The plain subtree, without a department's supervised enterprises; and only a document a
        # government level issued (an older dossier filed under its enterprise stays unreadable).
        t = Tenant.__table__
        issued_by_government = exists(select(t.c.id).where(t.c.id == model.tenant_id,
                                                           t.c.kind.in_(GOVERNMENT_KINDS)))
        clauses.append(and_(model.kind.in_(line_kinds), scope.subtree(model.tenant_path),
                            issued_by_government))
    return or_(*clauses) if clauses else false()
