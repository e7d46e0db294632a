"""Inspections and their rules: who may be listed, what a draft may hold, signing with one's own
password, immutability and amendments, enforcement (and the 依法不予处罚 warning), accidents,
and the dispatch figures of spot checks and enforcement. No request, no templates."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import current_app
from sqlalchemy import and_, case, distinct, exists, func, literal_column, null, or_, select, union_all
from sqlalchemy.orm import selectinload

from portal.audit import service as audit
from portal.auth import service as auth
from portal.auth.models import User
from portal.database import compare_and_set, lock
from portal.errors import Refused
from portal.permissions import allows
from portal.exports import service as exports
from portal.extensions import db
from portal.hazards import service as hazards
from portal.hazards.models import OPEN_STATUSES, Hazard
from portal.plans import service as plans
from portal.inspections.models import (ACCIDENT_KINDS, ACTION_KINDS, EXPOSURE_KINDS, FINDINGS, FINE_KINDS, KINDS,
                                       Accident, CheckedItem, EnforcementAction, Inspection, InspectionHazard,
                                       Signature, SpotFinding)
from tenants import clock
from tenants.models import GOVERNMENT_KINDS, Membership, Tenant
from tenants.paths import ids_of, in_subtree
from tenants.scope import Scope, may_change

# Who may be listed on (and sign) an inspection record of their unit.
SIGNER_ROLES = ("inspector", "staff")
MIN_INSPECTORS = 2
NOTES_MAX = 5000
AMOUNT_MAX = Decimal("100000000")


class InspectionError(Refused):
    """A step the inspection rules refuse; the message says what to do."""


class PenaltyWarning(InspectionError):
    """A fine on a hazard the enterprise reported itself in time: allowed only with a reason."""


def government_level(unit: Tenant) -> str:
    """The kind of government level whose work `unit` does (a department works for its parent)."""
    if unit.kind in GOVERNMENT_KINDS:
        return unit.kind
    parent = unit.parent
    return parent.kind if parent is not None and parent.kind in GOVERNMENT_KINDS else unit.kind


def inspectors_of(unit: Tenant):
    """People who may be listed on the unit's inspection records (a SELECT of users)."""
    return (select(User).join(Membership, Membership.user_id == User.id)
            .where(Membership.tenant_id == unit.id, Membership.role.in_(SIGNER_ROLES), User.active.is_(True))
            .distinct().order_by(User.display_name, User.id))


def _clean(text: str | None, limit: int, label: str) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise InspectionError(f"{label}不超过 {limit} 字。")
    return text


def _check_target(actor: Membership, target: Tenant, kind: str) -> None:
    if kind not in KINDS:
        raise InspectionError("请选择检查方式。")
    if actor.tenant.kind == "enterprise":
        raise InspectionError("企业人员不能登记监管检查记录。")
    if not may_change(actor, target) or target.id == actor.tenant_id:
        raise InspectionError("被检查单位须在本单位的管辖范围内。")
    if kind == "assist":
        if target.kind == "department":
            raise InspectionError("帮扶指导的对象应为下级政府层级或企业。")
    elif target.kind != "enterprise":
        raise InspectionError(f"“{KINDS[kind]}”的对象须为企业；对下级地区的帮扶指导请选择“帮扶指导”。")


def _inspectors(unit: Tenant, ids) -> list[User]:
    ids = list(dict.fromkeys(int(i) for i in ids or []))
    if len(ids) < MIN_INSPECTORS:
        raise InspectionError(f"执法检查人员不得少于 {MIN_INSPECTORS} 人，请至少选择 {MIN_INSPECTORS} 名检查人员。")
    found = {u.id: u for u in db.session.execute(inspectors_of(unit).where(User.id.in_(ids))).scalars()}
    if len(found) != len(ids):
        raise InspectionError(f"检查人员须为“{unit.name}”的执法检查员或工作人员。")
    return [found[i] for i in ids]


def _check_date(inspected_on: date | None, today: date) -> date:
    if inspected_on is None:
        raise InspectionError("请填写检查日期。")
    if inspected_on > today:
        raise InspectionError("检查日期不能晚于今天。")
    return inspected_on


def _key(request_key: str | None) -> str | None:
    return (request_key or "").strip()[:64] or None


def create(actor: Membership, target: Tenant, *, kind: str, inspected_on: date | None, inspector_ids,
           partners: str = "", notes: str = "", today: date | None = None, request_key: str | None = None
           ) -> Inspection:
    """A draft record of `actor`'s unit visiting `target`, listing the inspectors who will sign.
    The same form sent again (its `request_key`) gives back the record it made, and makes no other."""
    today = today or clock.today()
    request_key = _key(request_key)
    if request_key is not None:
        # The unit's own records: a key from another unit's form never reveals theirs.
        made = db.session.execute(select(Inspection).where(Inspection.request_key == request_key,
                                                           Inspection.unit_id == actor.tenant_id)).scalar_one_or_none()
        if made is not None:
            return made
    _check_target(actor, target, kind)
    partners = _clean(partners, 300, "联合执法单位")
    if kind == "joint" and not partners:
        raise InspectionError("联合执法须写明参加的其他部门。")
    unit = actor.tenant
    inspectors = _inspectors(unit, inspector_ids)
    inspection = Inspection(tenant=target, kind=kind, unit=unit, unit_name=unit.name, level=government_level(unit),
                            inspected_on=_check_date(inspected_on, today), partners=partners,
                            notes=_clean(notes, NOTES_MAX, "检查情况"), created_by_id=actor.user_id,
                            request_key=request_key)
    inspection.signatures = [Signature(tenant=target, user=u, position=i) for i, u in enumerate(inspectors, start=1)]
    db.session.add(inspection)
    db.session.flush()
    audit.record(target, "inspection.created", inspection,
                 {"kind": kind, "unit": unit.name, "inspected_on": inspection.inspected_on.isoformat(),
                  "inspectors": [s.user.display_name for s in inspection.signatures]}, actor=actor.user)
    return inspection


def _editable(inspection: Inspection) -> None:
    lock(inspection)  # an edit and a first signature at once: the signature sees the edit, or the edit is refused
    if inspection.signed:
        raise InspectionError("该检查记录已由全部检查人员签名，不能修改。如需更正，请新建更正记录，与原记录并列显示。")
    if inspection.locked:
        raise InspectionError("已有检查人员签名，记录内容已锁定，不能修改。")


def update(inspection: Inspection, actor: Membership, *, inspected_on: date | None, partners: str, notes: str,
           today: date | None = None) -> Inspection:
    _editable(inspection)
    partners = _clean(partners, 300, "联合执法单位")
    if inspection.kind == "joint" and not partners:
        raise InspectionError("联合执法须写明参加的其他部门。")
    inspection.inspected_on = _check_date(inspected_on, today or clock.today())
    inspection.partners, inspection.notes = partners, _clean(notes, NOTES_MAX, "检查情况")
    audit.record(inspection.tenant, "inspection.updated", inspection,
                 {"inspected_on": inspection.inspected_on.isoformat()}, actor=actor.user)
    return inspection


def applicable_items(inspection: Inspection) -> list:
    """Standard items and key check items that apply to the inspected enterprise."""
    return hazards.applicable_items(inspection.tenant) if inspection.tenant.kind == "enterprise" else []


def checked_items(inspection: Inspection) -> list:
    """What the inspection covered, in code order, as every reader of the record reads it (a
    department's key check items included)."""
    found = hazards.bound_items(inspection.tenant, [c.standard_item_id for c in inspection.checked_items])
    return sorted(found.values(), key=lambda item: item.code)


def set_items(inspection: Inspection, actor: Membership, item_ids) -> Inspection:
    """What the inspection covered. 查不出 is judged against these, so they are signed with it."""
    _editable(inspection)
    applicable = {i.id for i in applicable_items(inspection)}
    wanted = {int(i) for i in item_ids or []}
    if wanted - applicable:
        raise InspectionError("所选检查事项不适用于该企业所属行业。")
    current = {c.standard_item_id: c for c in inspection.checked_items}
    for item_id in set(current) - wanted:
        inspection.checked_items.remove(current[item_id])
    for item_id in sorted(wanted - set(current)):
        inspection.checked_items.append(CheckedItem(tenant=inspection.tenant, standard_item_id=item_id))
    db.session.flush()
    audit.record(inspection.tenant, "inspection.items_set", inspection, {"items": sorted(wanted)}, actor=actor.user)
    return inspection


def record_hazard(inspection: Inspection, actor: Membership, finding: hazards.Finding, photos=(),
                  today: date | None = None, request_key: str | None = None) -> Hazard:
    """A hazard found on this visit goes into the ledger (source 部门检查) and onto the record.
    The same form sent again (its `request_key`) gives back the hazard it recorded, and records
    no other: the lock on the record queues a second sending behind the first."""
    _editable(inspection)
    request_key = _key(request_key)
    if request_key is not None:
        made = db.session.execute(select(InspectionHazard).where(
            InspectionHazard.inspection_id == inspection.id, InspectionHazard.request_key == request_key)).scalar()
        if made is not None:
            return made.hazard
    if inspection.tenant.kind != "enterprise":
        raise InspectionError("隐患须登记在企业名下；帮扶指导地区的记录不登记隐患。")
    if actor.tenant_id != inspection.unit_id:
        raise InspectionError("只有检查单位的人员可以登记本次检查发现的隐患。")
    if finding.found_at is None:
        finding.found_at = inspection.inspected_on
    hazard = hazards.record(inspection.tenant, actor, finding, photos, today=today)
    inspection.hazard_links.append(InspectionHazard(tenant=inspection.tenant, hazard=hazard, request_key=request_key))
    db.session.flush()
    audit.record(inspection.tenant, "inspection.hazard_linked", inspection, {"hazard_id": hazard.id},
                 actor=actor.user)
    return hazard


def add_finding(inspection: Inspection, actor: Membership, code: str, note: str = "") -> SpotFinding:
    _editable(inspection)
    if inspection.kind != "spot":
        raise InspectionError("只有“抽查”记录登记对企业自查自改的抽查发现。")
    if code not in FINDINGS:
        raise InspectionError("请选择抽查发现的问题类别。")
    if any(f.code == code for f in inspection.findings):
        raise InspectionError(f"“{FINDINGS[code]}”已登记。")
    finding = SpotFinding(tenant=inspection.tenant, code=code, note=_clean(note, 500, "说明"))
    inspection.findings.append(finding)
    db.session.flush()
    audit.record(inspection.tenant, "inspection.finding_added", inspection, {"code": code}, actor=actor.user)
    return finding


def penalty_exempt(hazard: Hazard, on: date) -> bool:
    """依法不予处罚: the enterprise found the hazard itself, reported it before `on`, and is
    fixing it in time (a plan or an on-the-spot fix, not past its deadline)."""
    if hazard.source != "self" or hazard.found_at > on:
        return False
    fixed = hazard.rectified_on is not None and hazard.rectified_on <= on
    overdue = hazard.status in OPEN_STATUSES and hazard.fix_deadline is not None and hazard.fix_deadline < on
    acting = fixed or hazard.on_the_spot or hazard.has_fixes
    return acting and not overdue


@dataclass
class ActionInput:
    kind: str
    decided_on: date | None
    hazard_id: int | None = None
    amount: Decimal | None = None
    persons: int | None = None
    person_names: str = ""
    document_number: str = ""
    note: str = ""
    override_reason: str = ""
    published_case: bool = False
    dangerous_operation_crime: bool = False


def enterprise_hazards(inspection: Inspection) -> list[Hazard]:
    """Hazards an action of this inspection may answer: the enterprise's, newest first."""
    return db.session.execute(select(Hazard).where(Hazard.tenant_id == inspection.tenant_id)
                              .order_by(Hazard.found_at.desc(), Hazard.id.desc()).limit(500)).scalars().all()


def add_action(inspection: Inspection, actor: Membership, data: ActionInput, today: date | None = None
               ) -> EnforcementAction:
    _editable(inspection)
    today = today or clock.today()
    if inspection.tenant.kind != "enterprise":
        raise InspectionError("执法措施针对企业；帮扶指导地区的记录不登记执法措施。")
    if data.kind not in ACTION_KINDS:
        raise InspectionError("请选择执法措施。")
    label = ACTION_KINDS[data.kind]
    if data.decided_on is None:
        raise InspectionError("请填写决定日期。")
    if data.decided_on < inspection.inspected_on or data.decided_on > today:
        raise InspectionError("决定日期应在检查日期与今天之间。")
    hazard = None
    if data.hazard_id:
        hazard = db.session.execute(select(Hazard).where(Hazard.id == data.hazard_id,
                                                         Hazard.tenant_id == inspection.tenant_id)).scalar_one_or_none()
        if hazard is None:
            raise InspectionError("所选隐患不属于被检查企业。")
    amount = data.amount
    if data.kind in FINE_KINDS:
        if amount is None or amount <= 0:
            raise InspectionError(f"{label}须填写罚款金额（万元）。")
        if amount >= AMOUNT_MAX:
            raise InspectionError("罚款金额过大，请以万元为单位填写。")
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    elif amount is not None:
        raise InspectionError(f"“{label}”不填写罚款金额。")
    persons = data.persons or 0
    names = _clean(data.person_names, 300, "人员姓名")
    if data.kind == "referral":
        if persons < 1:
            raise InspectionError("移送司法机关须填写移送人数。")
        if not names:
            raise InspectionError("移送司法机关须写明被移送人员姓名。")
    elif persons:
        raise InspectionError(f"“{label}”不填写移送人数。")
    reason = _clean(data.override_reason, 500, "处罚理由")
    if data.kind in FINE_KINDS and hazard is not None and penalty_exempt(hazard, data.decided_on) and not reason:
        raise PenaltyWarning("该隐患系企业自查发现并已按规定报告、正在整改，依法不予行政处罚。"
                             "如确需处罚，请在“处罚理由”中写明依据后再提交。")
    if data.dangerous_operation_crime and not data.published_case:
        raise InspectionError("危险作业罪案例须同时勾选“公布为典型执法案例”。")
    action = EnforcementAction(
        tenant=inspection.tenant, kind=data.kind, hazard=hazard, amount=amount, persons=persons, person_names=names,
        decided_on=data.decided_on, document_number=_clean(data.document_number, 100, "文书编号"),
        note=_clean(data.note, 1000, "说明"), override_reason=reason, published_case=bool(data.published_case),
        dangerous_operation_crime=bool(data.dangerous_operation_crime))
    inspection.actions.append(action)
    db.session.flush()
    audit.record(inspection.tenant, "inspection.action_added", inspection,
                 {"kind": data.kind, "amount": str(amount) if amount is not None else None,
                  "hazard_id": hazard.id if hazard else None, "override_reason": reason}, actor=actor.user)
    return action


# A draft's parts that may be taken off it again: (relationship, name, audit action, what the event keeps).
PARTS = {"finding": ("findings", "抽查发现", "inspection.finding_removed", "code"),
         "action": ("actions", "执法措施", "inspection.action_removed", "kind")}


def remove_part(inspection: Inspection, actor: Membership, part: str, part_id: int | None) -> None:
    """Take a spot-check finding or an enforcement action off a draft."""
    _editable(inspection)
    if part not in PARTS:
        raise InspectionError("未指定要删除的内容。")
    attribute, name, action, kept = PARTS[part]
    rows = getattr(inspection, attribute)
    row = next((r for r in rows if r.id == part_id), None)
    if row is None:
        raise InspectionError(f"该{name}不存在或已删除。")
    rows.remove(row)
    audit.record(inspection.tenant, action, inspection, {kept: getattr(row, kept)}, actor=actor.user)


# --- Signing -----------------------------------------------------------------------------------------

def content(inspection: Inspection) -> dict:
    """What the inspectors sign: everything the record states, in a fixed order."""
    target = inspection.tenant
    return {
        "id": inspection.id,
        "amends": inspection.amends_id,
        "inspected": {"id": target.id, "name": target.name, "credit_code": target.credit_code},
        "unit": {"id": inspection.unit_id, "name": inspection.unit_name, "level": inspection.level},
        "kind": inspection.kind,
        "inspected_on": inspection.inspected_on.isoformat(),
        "partners": inspection.partners,
        "notes": inspection.notes,
        "inspectors": [{"id": s.user_id, "name": s.user.display_name} for s in inspection.signatures],
        "items": sorted(c.standard_item.code for c in inspection.checked_items),
        "hazards": [{"id": h.id, "level": h.level, "description": h.description, "location": h.location,
                     "item": h.standard_item.code if h.standard_item else None, "found_at": h.found_at.isoformat()}
                    for h in inspection.hazards],
        "findings": [{"code": f.code, "note": f.note} for f in inspection.findings],
        "actions": [{"kind": a.kind, "hazard_id": a.hazard_id, "amount": str(a.amount) if a.amount is not None else None,
                     "persons": a.persons, "person_names": a.person_names, "decided_on": a.decided_on.isoformat(),
                     "document_number": a.document_number, "note": a.note, "override_reason": a.override_reason,
                     "published_case": a.published_case, "dangerous_operation_crime": a.dangerous_operation_crime}
                    for a in inspection.actions],
    }


def digest(inspection: Inspection) -> str:
    canonical = json.dumps(content(inspection), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def intact(inspection: Inspection) -> bool | None:
    """Whether the stored rows still say what was signed (None before anyone signed)."""
    signed = [s.content_sha256 for s in inspection.signatures if s.signed_at]
    if not signed:
        return None
    now_digest = digest(inspection)
    return all(d == now_digest for d in signed) and inspection.content_sha256 in (None, now_digest)


def sign(inspection: Inspection, signer_id: int, acting: User, password: str) -> Signature:
    """`acting` signs as themself with their own password. The first signature freezes the
    content; the last makes the record final."""
    if signer_id != acting.id:
        raise InspectionError("只能本人签名，不能代他人签名。请由该检查人员登录自己的账号签名。")
    # Inspectors signing at once sign one after another: each compares with the signatures before
    # it, and only the last one's finalizes the record.
    lock(inspection, "signatures")
    signature = next((s for s in inspection.signatures if s.user_id == acting.id), None)
    if signature is None:
        raise InspectionError("您不在本次检查的检查人员名单中，不能签名。")
    if signature.signed_at is not None:
        raise InspectionError("您已签名，无需重复签名。")
    auth.confirm_password(acting, password, "密码不正确，签名未完成。签名须输入您本人的登录密码。")
    value = digest(inspection)
    if any(s.signed_at and s.content_sha256 != value for s in inspection.signatures):
        raise InspectionError("记录内容与已签名的内容不一致，不能签名。请联系管理员核查。")
    signature.signed_at, signature.content_sha256 = clock.now(), value
    inspection.status = "signing"
    audit.record(inspection.tenant, "inspection.signed", inspection, {"user_id": acting.id, "sha256": value},
                 actor=acting)
    if all(s.signed_at for s in inspection.signatures):
        inspection.status, inspection.content_sha256, inspection.signed_at = "signed", value, signature.signed_at
        audit.record(inspection.tenant, "inspection.finalized", inspection, {"sha256": value}, actor=acting)
    db.session.flush()
    return signature


def amend(original: Inspection, actor: Membership, *, notes: str, inspector_ids, today: date | None = None
          ) -> Inspection:
    """A correction: a new record of the same unit and enterprise, linked to the original and
    signed like it. The original stays as it was signed."""
    lock(original, "amendments")  # a double submission makes one correction
    if not original.signed:
        raise InspectionError("原记录尚未完成签名，不能更正；请先完成签名。")
    if original.amends_id is not None:
        raise InspectionError("请对原始检查记录进行更正，而不是对更正记录再更正。")
    if actor.tenant_id != original.unit_id:
        raise InspectionError(f"只有原检查单位（{original.unit_name}）可以更正该记录。")
    notes = _clean(notes, NOTES_MAX, "更正内容")
    if not notes:
        raise InspectionError("请写明更正的内容和原因。")
    pending = next((a for a in original.amendments if not a.signed), None)
    if pending is not None:
        raise InspectionError(f"已有一份更正记录（{clock.local(pending.created_at)} 新建）尚未完成签名，"
                              "请先在其中修改并完成签名，再作新的更正。")
    today = today or clock.today()
    inspectors = _inspectors(actor.tenant, inspector_ids)
    amendment = Inspection(tenant=original.tenant, kind=original.kind, unit=actor.tenant, unit_name=actor.tenant.name,
                           level=original.level, inspected_on=today, partners=original.partners, notes=notes,
                           amends=original, created_by_id=actor.user_id)
    amendment.signatures = [Signature(tenant=original.tenant, user=u, position=i)
                            for i, u in enumerate(inspectors, start=1)]
    db.session.add(amendment)
    db.session.flush()
    audit.record(original.tenant, "inspection.amended", amendment, {"amends": original.id}, actor=actor.user)
    return amendment


# --- Reading -----------------------------------------------------------------------------------------

LOADS = (selectinload(Inspection.signatures).selectinload(Signature.user),
         selectinload(Inspection.checked_items).selectinload(CheckedItem.standard_item),
         selectinload(Inspection.hazard_links).selectinload(InspectionHazard.hazard),
         selectinload(Inspection.findings), selectinload(Inspection.actions))


def listing(q: str = "", kind: str = "", status: str = "", within: Tenant | None = None, by_unit: bool = False,
            finding: str = "", start: date | None = None, end: date | None = None):
    """Inspection records readable in the current scope (a SELECT to paginate). `within` keeps
    those of the enterprises in its subtree or, `by_unit`, those done by it and the units below it
    (as the dispatch counts them); `finding`, the spot checks that found it; `start` and `end`,
    the visits on those days (both included)."""
    stmt = select(Inspection).options(selectinload(Inspection.tenant),
                                      selectinload(Inspection.signatures).selectinload(Signature.user))
    if within is not None:
        stmt = stmt.where(in_subtree(Inspection.unit_path if by_unit else Inspection.tenant_path, within.path))
    if kind in KINDS:
        stmt = stmt.where(Inspection.kind == kind)
    if status in ("draft", "signing", "signed"):
        stmt = stmt.where(Inspection.status == status)
    if finding in FINDINGS:
        stmt = stmt.where(exists().where(SpotFinding.inspection_id == Inspection.id, SpotFinding.code == finding))
    if start is not None:
        stmt = stmt.where(Inspection.inspected_on >= start)
    if end is not None:
        stmt = stmt.where(Inspection.inspected_on <= end)
    q = (q or "").strip()
    if q:
        names = select(Tenant.id).where(or_(Tenant.name.contains(q, autoescape=True), Tenant.credit_code == q.upper()))
        stmt = stmt.where(or_(Inspection.tenant_id.in_(names), Inspection.unit_name.contains(q, autoescape=True)))
    return stmt.order_by(Inspection.inspected_on.desc(), Inspection.id.desc())


def enterprises_visited(listed) -> int:
    """How many different enterprises the records of a listing visited: the dispatch counts spot
    checks in 家, an enterprise checked twice once."""
    return db.session.execute(select(func.count(distinct(listed.order_by(None).subquery().c.tenant_id)))).scalar_one()


def awaiting_signature(user: User):
    """Records on which `user` is listed and has not signed yet."""
    return (select(Inspection).join(Signature, Signature.inspection_id == Inspection.id)
            .where(Signature.user_id == user.id, Signature.signed_at.is_(None))
            .options(selectinload(Inspection.tenant)).order_by(Inspection.inspected_on, Inspection.id))


def of_enterprise(enterprise: Tenant, until: date | None = None, signed_only: bool = True) -> list[Inspection]:
    stmt = select(Inspection).where(Inspection.tenant_id == enterprise.id).options(*LOADS)
    if until is not None:
        stmt = stmt.where(Inspection.inspected_on <= until)
    if signed_only:
        stmt = stmt.where(Inspection.status == "signed")
    return db.session.execute(stmt.order_by(Inspection.inspected_on, Inspection.id)).scalars().all()


def by_units_of(node: Tenant, until: date | None = None) -> list[Inspection]:
    """Signed inspections done by `node` and the units below it, readable in the current scope."""
    stmt = (select(Inspection).where(in_subtree(Inspection.unit_path, node.path), Inspection.status == "signed")
            .options(*LOADS, selectinload(Inspection.tenant)))
    if until is not None:
        stmt = stmt.where(Inspection.inspected_on <= until)
    return db.session.execute(stmt.order_by(Inspection.inspected_on, Inspection.id)).scalars().all()


def hazards_of(enterprise_ids, until: date | None = None) -> list[Hazard]:
    """The ledger rows of these enterprises found up to `until` (through the hazards' scope)."""
    stmt = (select(Hazard).where(Hazard.tenant_id.in_(list(enterprise_ids)))
            .options(selectinload(Hazard.standard_item), selectinload(Hazard.listed_by),
                     selectinload(Hazard.listed_tracker), selectinload(Hazard.found_by_unit)))
    if until is not None:
        stmt = stmt.where(Hazard.found_at <= until)
    return db.session.execute(stmt.order_by(Hazard.found_at, Hazard.id)).scalars().all()


def finder_of(hazard_ids) -> dict[int, int]:
    """hazard id → id of the inspection that found it."""
    if not hazard_ids:
        return {}
    return dict(db.session.execute(select(InspectionHazard.hazard_id, InspectionHazard.inspection_id)
                                   .where(InspectionHazard.hazard_id.in_(list(hazard_ids)))).all())


# --- The signed record as a document ----------------------------------------------------------------

def request_record(inspection: Inspection, scope: Scope, *, actor: Membership | None = None):
    """Queue the signed record's PDF, under the inspecting unit's letterhead when the reader may
    read the unit's documents, else under the enterprise's."""
    if not inspection.signed:
        raise InspectionError("记录尚未由全部检查人员签名，不能导出正式记录。")
    unit = inspection.unit
    owner = unit if unit is not None and scope.contains(unit) else inspection.tenant
    title = f"{inspection.tenant.name}{inspection.kind_label}记录（第 {inspection.id} 号）"
    return exports.request_export(owner, kind="inspections.record", title=title[:200],
                                  params={"inspection_id": inspection.id}, actor=actor)


# The signed record is the inspected enterprise's copy as much as the inspecting unit's (it is
# filed under whichever of the two asked for it, see request_record), and every level above reads it.
@exports.builder("inspections.record", readers=exports.access.ANYONE_IN_SCOPE)
def build_record(tenant: Tenant, params: dict) -> exports.Built:
    inspection = db.session.execute(select(Inspection).where(Inspection.id == params["inspection_id"])
                                    .options(*LOADS)).scalar_one()
    amendments = [a for a in inspection.amendments if a.signed]
    data = {"record": content(inspection), "sha256": inspection.content_sha256,
               "signatures": [[s.user.display_name, s.signed_at.isoformat(), s.content_sha256]
                              for s in inspection.signatures],
               "amendments": [{"record": content(a), "sha256": a.content_sha256} for a in amendments]}
    return exports.Built("inspections/record_document.html", data,
                         {"inspection": inspection, "amendments": amendments, "checked_items": checked_items})


# --- Accidents ---------------------------------------------------------------------------------------

def record_accident(actor: Membership, enterprise: Tenant, *, occurred_on: date | None, kind: str,
                    deaths: int | None, injuries: int | None, summary: str, today: date | None = None) -> Accident:
    """An accident recorded by a government unit (or department) over the enterprise: confirmed as
    it is recorded. The enterprise reports its own through report_accident."""
    if actor.tenant.kind == "enterprise" or not may_change(actor, enterprise):
        raise InspectionError("该企业不在本单位的管辖范围内。")
    accident = _accident(actor, enterprise, occurred_on, kind, deaths, injuries, summary, today)
    accident.confirmed_at, accident.confirmed_by_id = clock.now(), actor.user_id
    db.session.flush()
    audit.record(enterprise, "accident.recorded", accident,
                 {"occurred_on": occurred_on.isoformat(), "kind": kind, "deaths": accident.deaths,
                  "injuries": accident.injuries}, actor=actor.user)
    return accident


def report_accident(actor: Membership, *, occurred_on: date | None, kind: str, deaths: int | None,
                    injuries: int | None, summary: str, today: date | None = None) -> Accident:
    """The enterprise reports its own accident at once to its township or street (seed 003), which
    is told and confirms it; the trace counts it from the report on."""
    enterprise = actor.tenant
    if enterprise.kind != "enterprise" or not allows(actor, "accidents.report"):
        raise InspectionError("只有企业的主要负责人或安全管理人员可以报告本企业的事故。")
    accident = _accident(actor, enterprise, occurred_on, kind, deaths, injuries, summary, today)
    accident.self_reported = True
    db.session.flush()
    audit.record(enterprise, "accident.reported", accident,
                 {"occurred_on": occurred_on.isoformat(), "kind": kind, "deaths": accident.deaths,
                  "injuries": accident.injuries}, actor=actor.user)
    street = confirmer(enterprise)
    urls = current_app.url_map.bind("", script_name=current_app.config["APPLICATION_ROOT"])
    plans.notify_units([(street, urls.build("inspections.accidents", {"pending": 1}))], "accident",
                       f"{enterprise.name}报告事故：{occurred_on} {accident.kind_label}，死亡 {accident.deaths} 人、"
                       f"受伤 {accident.injuries} 人，请核实确认")
    return accident


def confirmer(enterprise: Tenant) -> Tenant:
    """The unit an enterprise reports its accidents to: its township or street (else the nearest
    government level above it)."""
    above = db.session.execute(select(Tenant).where(Tenant.id.in_(ids_of(enterprise.path)[:-1]),
                                                    Tenant.kind.in_(GOVERNMENT_KINDS))).scalars().all()
    above.sort(key=lambda t: t.path.count("/"))
    return next((t for t in above if t.kind == "street"), above[-1])


def confirm_accident(actor: Membership, accident: Accident) -> None:
    """The township or street (or a level above it) confirms an accident the enterprise reported;
    two confirmations at once record one."""
    if actor.tenant.kind == "enterprise" or not allows(actor, "accidents.record") \
            or not may_change(actor, accident.tenant):
        raise InspectionError("只有企业所在街道（乡镇）或上级单位的人员可以确认事故报告。")
    if not accident.self_reported:
        raise InspectionError("这起事故由政府部门登记，无需确认。")
    if accident.confirmed_at is not None:
        raise InspectionError(f"这起事故已于 {clock.local(accident.confirmed_at)} 确认。")
    compare_and_set(accident, "confirmed_at", "这起事故刚刚已由他人确认（{record.confirmed_by.display_name}）。",
                    confirmed_at=clock.now(), confirmed_by_id=actor.user_id)
    audit.record(accident.tenant, "accident.confirmed", accident, {"occurred_on": accident.occurred_on.isoformat()},
                 actor=actor.user)


def _accident(actor: Membership, enterprise: Tenant, occurred_on: date | None, kind: str, deaths: int | None,
              injuries: int | None, summary: str, today: date | None) -> Accident:
    """An accident checked and added (flushed by the caller), or refused in Chinese."""
    today = today or clock.today()
    if enterprise.kind != "enterprise":
        raise InspectionError("事故须登记在企业名下。")
    if kind not in ACCIDENT_KINDS:
        raise InspectionError("请选择事故类别。")
    if occurred_on is None or occurred_on > today:
        raise InspectionError("请填写事故发生日期，且不能晚于今天。")
    deaths, injuries = deaths or 0, injuries or 0
    if deaths < 0 or injuries < 0:
        raise InspectionError("伤亡人数不能为负数。")
    summary = _clean(summary, NOTES_MAX, "事故概况")
    if not summary:
        raise InspectionError("请填写事故概况。")
    accident = Accident(tenant=enterprise, occurred_on=occurred_on, kind=kind, deaths=deaths, injuries=injuries,
                        summary=summary, recorded_by_id=actor.user_id)
    db.session.add(accident)
    return accident


def accidents(within: Tenant | None = None, enterprise: Tenant | None = None, since: date | None = None,
              pending: bool = False):
    stmt = select(Accident).options(selectinload(Accident.tenant))
    if since is not None:
        stmt = stmt.where(Accident.occurred_on >= since)
    if pending:
        stmt = stmt.where(Accident.self_reported.is_(True), Accident.confirmed_at.is_(None))
    if within is not None:
        stmt = stmt.where(in_subtree(Accident.tenant_path, within.path))
    if enterprise is not None:
        stmt = stmt.where(Accident.tenant_id == enterprise.id)
    return stmt.order_by(Accident.occurred_on.desc(), Accident.id.desc())


# --- Dispatch figures --------------------------------------------------------------------------------

SPOT_CODES = ("spot.enterprises", *FINDINGS)
ENF_CODES = ("enf.assist_areas", "enf.assist_enterprises", "enf.penalties", "enf.penalties.amount",
             "enf.double_penalties", "enf.referred_persons", "enf.suspended", "enf.exposed", "enf.cases_published",
             "enf.cases_published.crime")


@dataclass
class Figures:
    """Rows of sections (二) and (三) of the dispatch table by code (DISPATCH_ROWS.md); a row with
    two figures has a second code (`enf.penalties.amount` in 万元, `enf.cases_published.crime`).
    `by_level` holds the same per kind of the level that did the work (省、市、县分别统计)."""

    total: dict[str, int | Decimal] = field(default_factory=dict)
    by_level: dict[str, dict[str, int | Decimal]] = field(default_factory=dict)

    def get(self, code: str, level: str | None = None):
        """A figure of the total, or of one level; 0 where nothing was counted."""
        return (self.total if level is None else self.by_level.get(level, {})).get(code, 0)

    def add(self, level: str | None, code: str, value) -> None:
        """Set a figure of one level, or of the total when `level` is None."""
        target = self.total if level is None else self.by_level.setdefault(level, {})
        target[code] = value


def _per_level_and_total(make):
    """One statement: `make(level)` grouped per level, and again with no level for the total;
    distinct counts do not add up across levels, so the total is counted on its own."""
    return union_all(*make(Inspection.level), *make(null()))


def _n(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


_a = EnforcementAction
# The enforcement rows: which actions each counts, and how (actions, 万元, persons, enterprises).
ACTION_ROWS = {
    "enf.penalties": (_a.kind.in_(FINE_KINDS), "count"),
    "enf.penalties.amount": (_a.kind.in_(FINE_KINDS), "amount"),
    "enf.double_penalties": (_a.kind == "double_penalty", "count"),
    "enf.referred_persons": (_a.kind == "referral", "persons"),
    "enf.suspended": (_a.kind == "suspension", "enterprises"),
    "enf.exposed": (_a.kind.in_(EXPOSURE_KINDS), "enterprises"),
    "enf.cases_published": (_a.published_case, "count"),
    "enf.cases_published.crime": (and_(_a.published_case, _a.dangerous_operation_crime), "count"),
}


def _dispatch_conditions(tenant: Tenant, start: date, end: date):
    """(signed by this unit or one below, spot checks in the period, 帮扶指导 visits in the period,
    actions decided in the period on such records): what the figures count and the drill-down
    lists."""
    signed = and_(in_subtree(Inspection.unit_path, tenant.path), Inspection.status == "signed")
    spot = and_(signed, Inspection.kind == "spot", Inspection.inspected_on.between(start, end))
    visits = and_(signed, Inspection.kind == "assist", Inspection.amends_id.is_(None),
                  Inspection.inspected_on.between(start, end))
    return signed, spot, visits, and_(signed, EnforcementAction.decided_on.between(start, end))


def dispatch_records(tenant: Tenant, code: str, start: date, end: date):
    """The records behind one row of sections (二) and (三), as `dispatch_figures` counts them:
    ("inspections", SELECT of Inspection) for spot checks (by enterprise: the row counts 家) and
    visits, ("actions", SELECT of EnforcementAction, how the row counts them) for enforcement."""
    _, spot, visits, decided = _dispatch_conditions(tenant, start, end)
    if code in SPOT_CODES:
        stmt = select(Inspection).where(spot)
        if code != "spot.enterprises":
            stmt = stmt.where(exists().where(SpotFinding.inspection_id == Inspection.id, SpotFinding.code == code))
        return "inspections", stmt.order_by(Inspection.inspected_on, Inspection.id), "enterprises"
    if code in ("enf.assist_areas", "enf.assist_enterprises"):
        t = Tenant.__table__
        to_enterprise = t.c.kind == "enterprise"
        stmt = (select(Inspection).join(t, t.c.id == Inspection.tenant_id)
                .where(visits, to_enterprise if code == "enf.assist_enterprises" else ~to_enterprise))
        return "inspections", stmt.order_by(Inspection.inspected_on, Inspection.id), "count"
    condition, how = ACTION_ROWS[code]
    stmt = (select(EnforcementAction).join(Inspection, Inspection.id == EnforcementAction.inspection_id)
            .where(decided, condition).order_by(EnforcementAction.decided_on, EnforcementAction.id))
    return "actions", stmt, how


def dispatch_figures(tenant: Tenant, start: date, end: date) -> Figures:
    """Spot checks and enforcement done by `tenant` and the units below it from `start` to `end`
    (both included), counting signed records only:

    - spot.*: distinct enterprises spot-checked (抽查) in the period, and with each finding;
    - enf.assist_*: 帮扶指导 visits to lower levels and to enterprises (个次 / 家次);
    - enf.penalties: fines (行政处罚 and 一案双罚) decided in the period, count and 万元;
    - enf.double_penalties, enf.referred_persons (persons), enf.suspended (distinct enterprises),
      enf.exposed (distinct enterprises exposed, interviewed or jointly punished),
      enf.cases_published and of them 危险作业罪.

    Amendments add what they add (their own findings and actions) but are not extra visits.
    One statement per family (spot checks, visits, enforcement); the current scope applies."""
    figures = Figures()
    _, spot, visited, decided = _dispatch_conditions(tenant, start, end)
    enterprises = func.count(distinct(Inspection.tenant_id))

    def spot_rows(level):
        grouped = level is Inspection.level
        checked = select(level.label("level"), literal_column("'spot.enterprises'").label("code"),
                         enterprises.label("n")).where(spot)
        found = (select(level.label("level"), SpotFinding.code.label("code"), enterprises.label("n"))
                 .join(Inspection, Inspection.id == SpotFinding.inspection_id).where(spot))
        return (checked.group_by(level) if grouped else checked,
                found.group_by(level, SpotFinding.code) if grouped else found.group_by(SpotFinding.code))
    figures.total.update({code: 0 for code in SPOT_CODES})
    for level, code, count in db.session.execute(_per_level_and_total(spot_rows)).all():
        if count:
            figures.add(level, code, int(count))

    # The plain table, so the join is not itself re-scoped: it only tells enterprises from levels.
    t = Tenant.__table__
    to_enterprise = t.c.kind == "enterprise"
    visits = (select(Inspection.level, _n(~to_enterprise), _n(to_enterprise))
              .join(t, t.c.id == Inspection.tenant_id).where(visited).group_by(Inspection.level))
    figures.total.update({"enf.assist_areas": 0, "enf.assist_enterprises": 0})
    for level, areas, to_enterprises in db.session.execute(visits).all():
        # Visits add up across levels, so the total is their sum.
        figures.add(level, "enf.assist_areas", int(areas))
        figures.add(level, "enf.assist_enterprises", int(to_enterprises))
        figures.total["enf.assist_areas"] += int(areas)
        figures.total["enf.assist_enterprises"] += int(to_enterprises)

    a = EnforcementAction
    measure = {"count": lambda c: _n(c), "amount": lambda c: func.coalesce(func.sum(case((c, a.amount))), 0),
               "persons": lambda c: func.coalesce(func.sum(case((c, a.persons), else_=0)), 0),
               "enterprises": lambda c: func.count(distinct(case((c, a.tenant_id))))}
    codes = tuple(ACTION_ROWS)

    def enforcement_rows(level):
        stmt = (select(level.label("level"), *[measure[how](condition) for condition, how in ACTION_ROWS.values()])
                .join(Inspection, Inspection.id == a.inspection_id).where(decided))
        return (stmt.group_by(level),) if level is Inspection.level else (stmt,)
    for level, *values in db.session.execute(_per_level_and_total(enforcement_rows)).all():
        for code, value in zip(codes, values):
            value = Decimal(str(value or 0)).quantize(Decimal("0.01")) if code.endswith(".amount") else int(value or 0)
            figures.add(level, code, value)
    return figures
