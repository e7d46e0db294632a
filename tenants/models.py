"""Tenant nodes, memberships and inherited settings."""
from sqlalchemy import Index, String, UniqueConstraint, event, select
from sqlalchemy.orm import Session, declared_attr, relationship

from portal.extensions import db
from tenants.clock import now

KINDS = {
    "national": "国家",
    "province": "省级",
    "city": "市级",
    "district": "区县",
    "street": "街道/乡镇",
    "village": "村/社区",
    "department": "部门",
    "enterprise": "企业",
}
GOVERNMENT_KINDS = ("national", "province", "city", "district", "street", "village")

# Which kinds may sit under which: the shape every level's work assumes.
CHILD_KINDS = {
    "national": ("province", "department"),
    "province": ("city", "district", "department"),
    "city": ("district", "department"),
    "district": ("street", "department"),
    "street": ("village", "department", "enterprise"),
    "village": ("enterprise",),
    "department": (),
    "enterprise": (),
}

INDUSTRIES = {
    "hazchem": "危险化学品",
    "mining": "矿山",
    "fireworks": "烟花爆竹",
    "construction": "建筑施工",
    "fire": "消防",
    "gas": "燃气",
    "industry_trade": "工贸",
    "transport": "交通运输",
    "commerce": "商贸",
    # The township's fields (seed 003: each led by a 站所 under 三管三必须).
    "agriculture": "涉农",
    "waterways": "河道",
    "culture_tourism": "文化旅游",
    "campus": "校园",
    "forestry": "林业",
    "self_built_housing": "自建房",
    "food_hygiene": "食品卫生",
    "other": "其他",
}

ROLES = {
    "admin": "管理员",
    "leader": "领导",
    "staff": "工作人员",
    "inspector": "执法检查员",
    "discipline": "纪检监察",
    "auditor": "审计员",
    "principal": "主要负责人",
    "safety_officer": "安全管理员",
}
ENTERPRISE_ROLES = ("principal", "safety_officer")

# Path column compares byte-wise on PostgreSQL too, so the subtree range matches SQLite's.
PathType = String(255).with_variant(String(255, collation="C"), "postgresql")


class Scoped:
    """Marker for models whose every ORM read is filtered by tenants.scope."""


class Tenant(Scoped, db.Model):
    __tablename__ = "tenants"

    id = db.Column(db.Integer, primary_key=True)
    parent_id = db.Column(db.Integer, db.ForeignKey("tenants.id"), index=True)
    kind = db.Column(db.String(16), nullable=False)
    name = db.Column(db.String(100), nullable=False)
    # 2023 statistical division code for government nodes; None for departments and enterprises.
    code = db.Column(db.String(12), unique=True)
    credit_code = db.Column(db.String(18), unique=True)
    industry = db.Column(db.String(32))
    high_risk = db.Column(db.Boolean, nullable=False, default=False)
    # Where an enterprise is (生产经营地址); empty for government nodes and departments.
    address = db.Column(db.String(200), nullable=False, default="", server_default="")
    supervised_industries = db.Column(db.JSON, nullable=False, default=list)
    path = db.Column(PathType, nullable=False, unique=True, default="")
    depth = db.Column(db.Integer, nullable=False, default=0)
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    parent = relationship("Tenant", remote_side=[id], back_populates="children")
    children = relationship("Tenant", back_populates="parent", order_by="Tenant.id")

    __table_args__ = (db.Index("ix_tenants_kind_industry", "kind", "industry"),)

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def industry_label(self) -> str:
        return INDUSTRIES.get(self.industry or "", "")

    @property
    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/")[:-1]] if self.path else []

    @property
    def is_government(self) -> bool:
        return self.kind in GOVERNMENT_KINDS

    def __repr__(self) -> str:
        return f"<Tenant {self.id} {self.kind} {self.name}>"


class TenantOwned(Scoped):
    """A record owned by one node; carries a copy of the owner's path so subtree counts need no join.

    `path_copies` names further columns holding a copy of another node's path (the unit that did
    the work); tenants.paths.move rewrites them with tenant_path when a node moves."""

    path_copies: tuple[str, ...] = ()
    # A column naming the node that sent the record to its owner from outside the owner's chain (a
    # department's task reaching an enterprise under a street): readers of the record read that
    # node's row too (tenants.scope).
    sender_column: str | None = None
    # False for records only ever reached through another record, never by subtree.
    index_tenant_path: bool = True

    @declared_attr
    def tenant_id(cls):
        return db.Column(db.Integer, db.ForeignKey("tenants.id"), nullable=False, index=True)

    @declared_attr
    def tenant_path(cls):
        # A full (not partial) index of the model's own that starts with tenant_path serves every
        # subtree range; a single-column one beside it would only slow the writes.
        args = getattr(cls, "__table_args__", ())
        led = any(isinstance(a, Index) and a.expressions[:1] == ["tenant_path"]
                  and not any(k.endswith("_where") for k in a.kwargs) for a in args)
        return db.Column(PathType, nullable=False, index=cls.index_tenant_path and not led)

    @declared_attr
    def tenant(cls):
        return relationship("Tenant")


class Inherited(TenantOwned):
    """A record that applies to its owner's whole subtree (a setting, a determination standard):
    the owner's descendants must read it, so an ancestor's row is in scope as the ancestor is.

    A model may also define `reach_criteria(scope, b)`, a classmethod giving the rows read because
    they reached the scope from outside its chain (a department's task, by its assignments); the
    PostgreSQL policies say the same (tenants.rls.REACHED)."""


class Membership(TenantOwned, db.Model):
    __tablename__ = "memberships"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id"), nullable=False, index=True)
    role = db.Column(db.String(20), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=now)

    user = relationship("User", back_populates="memberships")

    __table_args__ = (UniqueConstraint("user_id", "tenant_id", "role", name="uq_memberships_user_tenant_role"),)

    @property
    def role_label(self) -> str:
        return ROLES[self.role]


class TenantSetting(Inherited, db.Model):
    """A value a node sets for itself and its subtree; read only through tenants.inherit."""

    __tablename__ = "tenant_settings"

    id = db.Column(db.Integer, primary_key=True)
    key = db.Column(db.String(64), nullable=False)
    value = db.Column(db.JSON, nullable=False)
    updated_at = db.Column(db.DateTime, nullable=False, default=now, onupdate=now)

    __table_args__ = (UniqueConstraint("tenant_id", "key", name="uq_tenant_settings_tenant_key"),)


@event.listens_for(Session, "before_flush")
def _copy_owner_path(session, flush_context, instances):
    """Fill tenant_path of new records from their owner, so no service can forget it."""
    tenants = Tenant.__table__
    for obj in session.new:
        if isinstance(obj, TenantOwned) and not obj.tenant_path:
            if obj.tenant is not None and obj.tenant.path:
                obj.tenant_path = obj.tenant.path
            else:
                obj.tenant_path = session.execute(
                    select(tenants.c.path).where(tenants.c.id == obj.tenant_id)
                ).scalar_one()
