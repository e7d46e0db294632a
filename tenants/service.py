"""Operations on the tree: create, register, rename, move, list and search nodes in scope."""
from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from portal.audit import service as audit
from portal.extensions import db
from tenants import credit_code
from tenants.models import CHILD_KINDS, INDUSTRIES, KINDS, Membership, Tenant
from tenants.paths import TreeError, attach, in_subtree, move, within
from tenants.scope import unscoped

NAME_MAX = 100


def clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise TreeError("名称不能为空。")
    if len(name) > NAME_MAX:
        raise TreeError(f"名称最多 {NAME_MAX} 个字，现为 {len(name)} 个字。")
    return name


def _check_child_kind(parent: Tenant, kind: str) -> None:
    if kind not in KINDS:
        raise TreeError("未知的单位类型。")
    if kind not in CHILD_KINDS[parent.kind]:
        allowed = "、".join(KINDS[k] for k in CHILD_KINDS[parent.kind]) or "无"
        raise TreeError(f"“{parent.name}”（{KINDS[parent.kind]}）之下只能建：{allowed}。")


def _clean_industries(values) -> list[str]:
    unknown = [v for v in values or [] if v not in INDUSTRIES]
    if unknown:
        raise TreeError("未知的行业领域：" + "、".join(unknown))
    return sorted(set(values or []))


def create_child(parent: Tenant, *, kind: str, name: str, code: str | None = None,
                 supervised_industries=None, actor: Membership | None = None) -> Tenant:
    """A government level or department under `parent`. Enterprises go through register_enterprise."""
    if kind == "enterprise":
        raise TreeError("企业请通过“登记企业”录入，需填写统一社会信用代码。")
    _check_child_kind(parent, kind)
    code = (code or "").strip() or None
    if code is not None:
        if not code.isdigit() or len(code) > 12:
            raise TreeError("区划代码应为不超过 12 位的数字。")
        with unscoped():
            if db.session.execute(select(Tenant.id).where(Tenant.code == code)).first():
                raise TreeError(f"区划代码 {code} 已被其他单位使用。")
    industries = _clean_industries(supervised_industries) if kind == "department" else []
    tenant = attach(Tenant(kind=kind, name=clean_name(name), code=code, supervised_industries=industries), parent)
    audit.record(parent, "tenant.created", tenant, {"kind": kind, "name": tenant.name}, actor=actor)
    return tenant


ADDRESS_MAX = 200


def clean_address(address: str) -> str:
    address = (address or "").strip()
    if len(address) > ADDRESS_MAX:
        raise TreeError(f"地址最多 {ADDRESS_MAX} 个字，现为 {len(address)} 个字。")
    return address


def register_enterprise(parent: Tenant, *, name: str, code: str, industry: str, high_risk: bool,
                        address: str = "", actor: Membership | None = None) -> Tenant:
    _check_child_kind(parent, "enterprise")
    try:
        code = credit_code.validate(code)
    except credit_code.CreditCodeError as e:
        raise TreeError(str(e)) from None
    if industry not in INDUSTRIES:
        raise TreeError("请选择企业所属行业领域。")
    # Uniqueness is national: a code registered in another subtree is still a duplicate.
    with unscoped():
        if db.session.execute(select(Tenant.id).where(Tenant.credit_code == code)).first():
            raise TreeError(f"统一社会信用代码 {code} 已登记，同一企业不能重复登记。")
    tenant = attach(Tenant(kind="enterprise", name=clean_name(name), credit_code=code, industry=industry,
                           high_risk=bool(high_risk), address=clean_address(address)), parent)
    audit.record(parent, "enterprise.registered", tenant,
                 {"name": tenant.name, "credit_code": code, "industry": industry, "high_risk": bool(high_risk),
                  "address": tenant.address}, actor=actor)
    return tenant


def update(tenant: Tenant, *, name: str, industry: str | None = None, high_risk: bool | None = None,
           supervised_industries=None, actor: Membership | None = None) -> Tenant:
    changes = {}
    name = clean_name(name)
    if name != tenant.name:
        changes["name"] = [tenant.name, name]
        tenant.name = name
    if tenant.kind == "enterprise":
        if industry not in INDUSTRIES:
            raise TreeError("请选择企业所属行业领域。")
        if industry != tenant.industry:
            changes["industry"] = [tenant.industry, industry]
            tenant.industry = industry
        if bool(high_risk) != tenant.high_risk:
            changes["high_risk"] = [tenant.high_risk, bool(high_risk)]
            tenant.high_risk = bool(high_risk)
    if tenant.kind == "department":
        industries = _clean_industries(supervised_industries)
        if industries != list(tenant.supervised_industries or []):
            changes["supervised_industries"] = [tenant.supervised_industries, industries]
            tenant.supervised_industries = industries
    if changes:
        audit.record(tenant, "tenant.updated", tenant, changes, actor=actor)
    return tenant


def relocate(tenant: Tenant, new_parent: Tenant, *, actor: Membership | None = None) -> None:
    if tenant.parent_id is None:
        raise TreeError("根节点不能移动。")
    if within(new_parent.path, tenant.path):
        raise TreeError(f"不能把“{tenant.name}”移到它自己或它的下级“{new_parent.name}”之下。")
    _check_child_kind(new_parent, tenant.kind)
    old_parent_id = tenant.parent_id
    # Every copy of a moved path follows, also in rows owned outside the mover's write range (a
    # hazard found by a moved department at an enterprise that stays): the move itself is allowed.
    with unscoped():
        move(tenant, new_parent)
    moved = db.session.get(Tenant, tenant.id)
    audit.record(moved, "tenant.moved", moved, {"from": old_parent_id, "to": new_parent.id}, actor=actor)


def possible_parents(tenant: Tenant, within: Tenant):
    """Nodes inside `within` that may take `tenant` as a child, outside `tenant`'s own subtree."""
    kinds = [k for k, allowed in CHILD_KINDS.items() if tenant.kind in allowed]
    return (select(Tenant).where(in_subtree(Tenant.path, within.path), Tenant.kind.in_(kinds),
                                 ~in_subtree(Tenant.path, tenant.path), Tenant.id != tenant.parent_id)
            .order_by(Tenant.path).limit(1000))


def children(tenant: Tenant, q: str = "", kind: str = ""):
    stmt = select(Tenant).where(Tenant.parent_id == tenant.id)
    if q:
        stmt = stmt.where(or_(Tenant.name.contains(q, autoescape=True), Tenant.credit_code == q.upper()))
    if kind:
        stmt = stmt.where(Tenant.kind == kind)
    return stmt.order_by(Tenant.kind != "department", Tenant.kind, Tenant.id)


def search(q: str, kind: str = ""):
    """Nodes in scope whose name contains `q` (or whose credit or division code is `q`)."""
    q = q.strip()
    stmt = select(Tenant).where(or_(Tenant.name.contains(q, autoescape=True), Tenant.credit_code == q.upper(),
                                    Tenant.code == q))
    if kind:
        stmt = stmt.where(Tenant.kind == kind)
    return stmt.order_by(Tenant.depth, Tenant.path)


def supervised_enterprises(department: Tenant):
    """Enterprises a department answers for (三管三必须), inside its parent's subtree."""
    parent = department.parent
    return (select(Tenant).where(in_subtree(Tenant.path, parent.path), Tenant.kind == "enterprise",
                                 Tenant.industry.in_(department.supervised_industries or ["-"]))
            .order_by(Tenant.path))


def ancestors(tenant: Tenant) -> list[Tenant]:
    ids = tenant.ancestor_ids
    if not ids:
        return []
    found = {t.id: t for t in db.session.execute(select(Tenant).where(Tenant.id.in_(ids))).scalars()}
    return [found[i] for i in ids if i in found]


def subtree_counts(tenant: Tenant) -> dict[str, int]:
    rows = db.session.execute(
        select(Tenant.kind, func.count()).where(in_subtree(Tenant.path, tenant.path), Tenant.id != tenant.id)
        .group_by(Tenant.kind)).all()
    return dict(rows)


def members(tenant: Tenant) -> list[Membership]:
    """The node's memberships with their users (one query: the node page lists each user's name)."""
    return db.session.execute(select(Membership).where(Membership.tenant_id == tenant.id)
                              .options(joinedload(Membership.user)).order_by(Membership.id)).scalars().all()


def roster(tenant: Tenant) -> list[tuple[Tenant, list[Membership]]]:
    """The node's subtree, in tree order, each unit with its members: the roster export's rows."""
    units = db.session.execute(select(Tenant).where(in_subtree(Tenant.path, tenant.path))).scalars().all()
    units.sort(key=lambda t: [int(p) for p in t.path.strip("/").split("/")])
    by_tenant: dict[int, list[Membership]] = {}
    for m in db.session.execute(select(Membership).where(in_subtree(Membership.tenant_path, tenant.path))
                                .order_by(Membership.id)).scalars():
        by_tenant.setdefault(m.tenant_id, []).append(m)
    return [(t, by_tenant.get(t.id, [])) for t in units]
