"""Materialized-path queries: subtree as a string range, ancestors from the path, moves in one UPDATE."""
import uuid

from sqlalchemy import and_, func, literal, update

from portal.errors import Refused
from portal.extensions import db
from tenants.models import Tenant, TenantOwned


class TreeError(Refused):
    """A change the tree refuses; the message is shown to the user as is."""


def upper_bound(path: str) -> str:
    # '0' is the character after '/', so every descendant of '/1/7/' sorts below '/1/70'.
    return path[:-1] + "0"


def in_subtree(column, path: str):
    """`column` lies in the subtree rooted at `path` (inclusive). Serves an ordinary index."""
    return and_(column >= path, column < upper_bound(path))


def within(path: str, root: str) -> bool:
    """The node at `path` is `root` or below it: in_subtree for a path already in hand."""
    return path.startswith(root)


def ids_of(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def attach(tenant: Tenant, parent: Tenant | None) -> Tenant:
    """Insert `tenant` under `parent` and give it its path (which needs its id)."""
    tenant.depth = parent.depth + 1 if parent else 0
    # A unique placeholder until the id exists; never visible outside this flush.
    tenant.path = f"{parent.path if parent else '/'}~{uuid.uuid4().hex}/"
    db.session.add(tenant)
    tenant.parent = parent
    db.session.flush()
    tenant.path = f"{parent.path if parent else '/'}{tenant.id}/"
    db.session.flush()
    return tenant


def owned_models() -> list[type]:
    return [m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, TenantOwned)]


def move(tenant: Tenant, new_parent: Tenant) -> None:
    """Re-hang `tenant` with its subtree under `new_parent`; every path copy moves with it."""
    if within(new_parent.path, tenant.path):
        raise TreeError(f"不能把“{tenant.name}”移到它自己或它的下级“{new_parent.name}”之下。")
    old, new = tenant.path, f"{new_parent.path}{tenant.id}/"
    if old == new:
        return
    delta = new_parent.depth + 1 - tenant.depth
    cut = len(old) + 1
    # One statement per table: the subtree's paths are rewritten by prefix substitution.
    db.session.execute(
        update(Tenant)
        .where(in_subtree(Tenant.path, old))
        .values(path=literal(new) + func.substr(Tenant.path, cut), depth=Tenant.depth + delta)
        .execution_options(synchronize_session=False)
    )
    for model in owned_models():
        for name in ("tenant_path", *model.path_copies):
            column = getattr(model, name)
            db.session.execute(
                update(model)
                .where(in_subtree(column, old))
                .values({name: literal(new) + func.substr(column, cut)})
                .execution_options(synchronize_session=False)
            )
    db.session.execute(
        update(Tenant).where(Tenant.id == tenant.id).values(parent_id=new_parent.id)
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
