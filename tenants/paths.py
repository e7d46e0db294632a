"""Materialized-path queries: subtree as a string range, ancestors from the path, moves in one UPDATE."""
import uuid

from sqlalchemy import and_, func, insert, literal, or_, select, text, update

from portal.errors import Refused
from portal.extensions import db
from tenants.clock import now
from tenants.models import Tenant, TenantOwned


class TreeError(Refused):
    """A change the tree refuses; the message is shown to the user as is."""


def upper_bound(path: str) -> str:
    # '0' is the character after '/', so every descendant of '/1/7/' sorts below '/1/70'.
    return path[:-1] + "0"


def in_subtree(column, path: str):
    """`column` lies in the subtree rooted at `path` (inclusive). Serves an ordinary index."""
    return and_(column >= path, column < upper_bound(path))


def in_part(column, path: str, below: tuple[str, ...]):
    """`column` is the node at `path` itself or lies in one of the subtrees at `below` (some of its
    children): a node's own part of its subtree, when its other children are counted apart."""
    return or_(column == path, *(in_subtree(column, p) for p in below))


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


# Bulk inserts (divisions, onboarding) compute ids and paths themselves: attach costs two flushes a
# node, ~45k nodes would take minutes.
BATCH = 5000


def lock_tenants() -> None:
    """Hold off other tenant inserts until commit, so ids reserved from max(id)+1 stay free.
    PostgreSQL: SHARE ROW EXCLUSIVE stops other tenant writes and a second bulk insert, yet lets
    readers and foreign-key checks from other tables through. SQLite: the transaction already
    holds the database's write lock (BEGIN IMMEDIATE, see portal.database)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE tenants IN SHARE ROW EXCLUSIVE MODE"))


def reserve_ids() -> int:
    """The first free tenant id; call lock_tenants first in the same transaction."""
    lock_tenants()
    from tenants.scope import unscoped
    with unscoped():  # the highest id of the whole table, not of the rows PostgreSQL's policies show
        return (db.session.execute(select(func.max(Tenant.__table__.c.id))).scalar() or 0) + 1


def node_row(id_: int, parent_id: int, path: str, depth: int, **fields) -> dict:
    """A full row of the tenants table for insert_nodes (every column, so batches are uniform)."""
    return {"id": id_, "parent_id": parent_id, "path": path, "depth": depth, "code": None, "credit_code": None,
            "industry": None, "high_risk": False, "supervised_industries": [], "address": "", "created_at": now(),
            **fields}


def insert_nodes(rows: list[dict]) -> None:
    """Insert node rows built by node_row, parents before children, in batches."""
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(Tenant.__table__), rows[start:start + BATCH])
    if rows and db.session.get_bind().dialect.name == "postgresql":
        # Explicit ids leave the serial sequence behind; the next ORM insert would collide.
        from tenants.scope import unscoped
        with unscoped():
            db.session.execute(text("SELECT setval(pg_get_serial_sequence('tenants', 'id'), "
                                    "(SELECT max(id) FROM tenants))"))
    # Rows written behind the ORM's back: a loaded parent must not keep a stale list of children.
    parents = {row["parent_id"] for row in rows}
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Tenant) and obj.id in parents:
            db.session.expire(obj, ["children"])


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
