"""Issue, revoke and reissue an enterprise's code, find the code a scan carries, and build the
poster (A4, through the export pipeline) it is printed on."""
from __future__ import annotations

import secrets

import segno
from sqlalchemy import insert, select
from sqlalchemy.orm import joinedload

from portal.audit import service as audit
from portal.codes.models import EnterpriseCode
from portal.database import lock
from portal.errors import Refused
from portal.exports import access
from portal.exports.service import Built, builder, letterhead
from portal.extensions import db
from portal.permissions import allows
from tenants import clock
from tenants.models import Membership, Tenant
from tenants.paths import in_subtree
from tenants.scope import may_change, unscoped
from tenants.service import ancestors

POSTER = "enterprise_poster"
# 16 random bytes (128 bits), URL-safe: short enough for a low-density QR code a phone reads from
# two metres, far too many to guess.
TOKEN_BYTES = 16


class CodeError(Refused):
    pass


def in_force(enterprise: Tenant) -> EnterpriseCode | None:
    return db.session.execute(select(EnterpriseCode).where(
        EnterpriseCode.tenant_id == enterprise.id, EnterpriseCode.revoked_at.is_(None))).scalar_one_or_none()


def history(enterprise: Tenant) -> list[EnterpriseCode]:
    return list(db.session.execute(select(EnterpriseCode).where(EnterpriseCode.tenant_id == enterprise.id)
                                   .order_by(EnterpriseCode.id.desc())).scalars())


def _as_manager(enterprise: Tenant, actor: Membership) -> None:
    if enterprise.kind != "enterprise":
        raise CodeError("一企一码只发给企业。")
    if not allows(actor, "codes.manage") or not may_change(actor, enterprise, administer=True):
        raise CodeError("一企一码由企业所在辖区的管理员生成和作废。")


def _new(enterprise: Tenant, actor: Membership) -> EnterpriseCode:
    code = EnterpriseCode(tenant=enterprise, token=secrets.token_urlsafe(TOKEN_BYTES), issued_by_id=actor.user_id)
    db.session.add(code)
    db.session.flush()
    audit.record(enterprise, "code.issued", code, actor=actor)
    return code


def issue(enterprise: Tenant, actor: Membership) -> EnterpriseCode:
    """Give the enterprise its first code (or one after its last was revoked)."""
    _as_manager(enterprise, actor)
    lock(enterprise)  # two admins at once: one code
    if in_force(enterprise) is not None:
        raise CodeError("该企业已有在用的二维码；如需更换，请点“作废并重新生成”。")
    return _new(enterprise, actor)


def issue_missing(node: Tenant, actor: Membership) -> int:
    """Give every enterprise under `node` that has no code in force one: a street's or district's
    first round of posters. Written in bulk, one audit event per code in its enterprise's chain.
    Returns how many were issued."""
    if node.kind not in ("district", "street", "village") or not allows(actor, "codes.manage") \
            or not may_change(actor, node, administer=True):
        raise CodeError("辖区企业的一企一码由区县、街道/乡镇或村/社区的管理员批量生成。")
    lock(node)  # two admins pressing at once: the second finds the first one's codes
    holding = select(EnterpriseCode.tenant_id).where(EnterpriseCode.revoked_at.is_(None))
    missing = db.session.execute(select(Tenant.id, Tenant.path).where(
        in_subtree(Tenant.path, node.path), Tenant.kind == "enterprise", Tenant.id.not_in(holding))
        .order_by(Tenant.id)).all()
    if not missing:
        return 0
    at = clock.now()
    rows = [{"tenant_id": id_, "tenant_path": path, "token": secrets.token_urlsafe(TOKEN_BYTES), "issued_at": at,
             "issued_by_id": actor.user_id} for id_, path in missing]
    db.session.execute(insert(EnterpriseCode), rows)
    made = db.session.execute(select(EnterpriseCode.id, EnterpriseCode.tenant_id, EnterpriseCode.tenant_path).where(
        EnterpriseCode.token.in_([r["token"] for r in rows]))).all()
    audit.record_many([{"tenant_id": tenant_id, "tenant_path": path, "action": "code.issued",
                        "object_type": "EnterpriseCode", "object_id": id_, "data": {"bulk": node.id}}
                       for id_, tenant_id, path in made], actor=actor)
    return len(made)


def revoke(enterprise: Tenant, actor: Membership, *, reissue: bool, reason: str = "") -> EnterpriseCode | None:
    """Void the code in force (a poster torn down, copied or misused); with `reissue`, give a new
    one at once. Scanning an old poster then says it is void. Returns the new code, if any."""
    _as_manager(enterprise, actor)
    lock(enterprise)
    current = in_force(enterprise)
    if current is None:
        raise CodeError("该企业没有在用的二维码，无需作废。")
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise CodeError("作废原因不超过 200 字。")
    current.revoked_at, current.revoked_by_id = clock.now(), actor.user_id
    db.session.flush()  # the old one leaves force before the new one enters it
    audit.record(enterprise, "code.revoked", current, {"reason": reason, "reissued": reissue}, actor=actor)
    return _new(enterprise, actor) if reissue else None


def lookup(token: str) -> EnterpriseCode | None:
    """The code a scan carries, with its enterprise, whoever scans: looked up by the token alone."""
    token = (token or "").strip()
    if not token or len(token) > 32:
        return None
    with unscoped():
        return db.session.execute(select(EnterpriseCode).options(joinedload(EnterpriseCode.tenant))
                                  .where(EnterpriseCode.token == token)).scalar_one_or_none()


def street_of(enterprise: Tenant) -> Tenant | None:
    """The street or township the enterprise belongs to (its territorial owner, 属地)."""
    return next((t for t in reversed(ancestors(enterprise)) if t.kind == "street"), None)


def district_of(enterprise: Tenant) -> Tenant | None:
    return next((t for t in reversed(ancestors(enterprise)) if t.kind == "district"), None)


def qr_svg(url: str) -> str:
    """The QR code of `url` as an SVG data URI, made here, with no service called."""
    return segno.make(url, error="m").svg_data_uri(scale=10, border=2)


def request_poster_params(code: EnterpriseCode, url: str) -> dict:
    if not code.in_force:
        raise CodeError("该二维码已作废，不能再打印。")
    return {"code_id": code.id, "url": url}


# Printed and posted at the gate: the people who keep and post it, inside the scope that covers it.
@builder(POSTER, readers=access.readers("admin", "leader", "staff", "inspector", "principal", "safety_officer"))
def build_poster(tenant: Tenant, params: dict) -> Built:
    code = db.session.execute(select(EnterpriseCode).where(EnterpriseCode.id == params["code_id"])).scalar_one()
    street = street_of(tenant)
    content = {"enterprise": tenant.name, "credit_code": tenant.credit_code, "address": tenant.address,
               "url": params["url"], "street": street.name if street else ""}
    return Built("codes/poster.html", content, {
        "code": code, "url": params["url"], "qr": qr_svg(params["url"]), "street": street,
        "street_letterhead": letterhead(street) if street else None})
