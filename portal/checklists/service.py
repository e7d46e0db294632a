"""Responsibility lists, duty records and compliance.

- Templates: a node owns its part of a list; a unit's list is the union of the parts on its path
  (tenants.inherit.chain). Each item's proof requirement and each list's signing deadline are
  inherited settings (`checklist.item.<id>`, `checklist.<kind>.due`), so a lower level may only
  raise them; its own items it may add and remove, its parents' it may not.
- Fills: a unit answers every item; the principal signs with the password again; the signature
  stores a SHA-256 of the canonical content and freezes the version; a change is a new version.
- Duties and compliance: the enterprise records what its principal did (hot-work permits and the
  monthly check of key posts among them); `evaluate` judges it against every frequency rule in
  force (portal.plans.service.requirements: the strictest of its levels and supervising
  departments) and names every failure with the unit whose rule it breaks. A government level's
  lists are judged for signing on time, and its other duties by the modules that keep their
  records (`unit_duty`). Failures are kept in ComplianceFinding for the levels above and the
  dispatch table's duty rows; warnings (a period still running, a certificate about to expire)
  are for the enterprise alone.

Every write records its audit event in the caller's transaction; the caller commits.
"""
from __future__ import annotations

import hashlib
import json
from calendar import monthrange
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, time, timedelta, timezone
from typing import Callable

from sqlalchemy import and_, false, func, not_, or_, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from portal.audit import service as audit
from portal.auth import service as auth
from portal.checklists.models import (DATE_LABELS, DUTIES, ENTERPRISE_LISTS, EVIDENCE, GOVERNMENT_LISTS, KINDS,
                                      STATES, WORK_TYPES, WORKER_TYPES, ChecklistEntry, ChecklistFill,
                                      ChecklistItem, ChecklistTemplate, ComplianceFinding, DutyRecord,
                                      EnterpriseStatus, SpecialWorker)
from portal.database import lock
from portal.errors import Refused
from portal.exports import service as exports
from portal.extensions import db
from portal.plans import service as plans
from portal.uploads import service as uploads
from portal.permissions import allows
from tenants import clock, inherit
from tenants.models import Membership, Tenant
from tenants.paths import in_part, in_subtree, within
from tenants.scope import Scope

TITLE_MAX = 300
TEXT_MAX = 2000
MAX_FILES = 10


def _text(value: str | None, label: str, limit: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise Refused(f"请填写{label}。")
    if len(value) > limit:
        raise Refused(f"{label}最多 {limit} 个字，现为 {len(value)} 个字。")
    return value


def _not_after_today(day: date | None, label: str, today: date) -> None:
    if day is not None and day > today:
        raise Refused(f"{label}不能晚于今天（{today:%Y-%m-%d}），请填写已经发生的日期。")


def _store_files(tenant: Tenant, files, *, actor: Membership | None = None) -> list:
    files = [(name, data) for name, data in files or () if name]
    if len(files) > MAX_FILES:
        raise Refused(f"一次最多上传 {MAX_FILES} 个文件。")
    return [uploads.store(tenant, name, data, actor=actor) for name, data in files]


# ---------------------------------------------------------------- templates

def lists_for(tenant: Tenant) -> tuple[str, ...]:
    """The lists a unit fills itself."""
    return ENTERPRISE_LISTS if tenant.kind == "enterprise" else GOVERNMENT_LISTS


def can_own(tenant: Tenant, kind: str) -> bool:
    """A government level writes items for itself and every unit below; a department only for
    itself (no unit hangs below it); an enterprise only for its own lists."""
    if kind not in KINDS:
        return False
    return tenant.is_government or kind in lists_for(tenant)


def item_key(item_id: int) -> str:
    return f"checklist.item.{item_id}"


def due_key(kind: str) -> str:
    return f"checklist.{kind}.due"


def _evidence_rank(value: dict) -> int:
    return list(EVIDENCE).index(value["evidence"])


def _looser_evidence(parent: dict, child: dict) -> str | None:
    if _evidence_rank(child) < _evidence_rank(parent):
        return (f"不得放宽上级要求：上级规定该事项“{EVIDENCE[parent['evidence']]}”，"
                f"本级填写为“{EVIDENCE[child['evidence']]}”。下级只能提高要求。")
    return None


def _later_due(parent: dict, child: dict) -> str | None:
    if child["due_on"] > parent["due_on"]:
        return f"不得放宽上级要求：上级规定在 {parent['due_on']} 前签署，本级填写为 {child['due_on']}，只能提前。"
    return None


inherit.register_check("checklist.item.*", _looser_evidence, strictest=lambda a, b: max(a, b, key=_evidence_rank))
for _kind in KINDS:
    inherit.register_check(due_key(_kind), _later_due, strictest=lambda a, b: min(a, b, key=lambda v: v["due_on"]))


@dataclass
class ListItem:
    """An item as one unit sees it: who set it, and the strictest proof asked on the unit's path."""

    item: ChecklistItem
    owner: Tenant
    evidence: str
    own: bool
    number: int = 0

    @property
    def evidence_label(self) -> str:
        return EVIDENCE[self.evidence]

    @property
    def owner_name(self) -> str:
        # A supervising department reads an enterprise's list but not the street above it.
        return self.owner.name if self.owner is not None else "上级单位"


def own_template(tenant: Tenant, kind: str) -> ChecklistTemplate | None:
    return db.session.execute(select(ChecklistTemplate).where(
        ChecklistTemplate.tenant_id == tenant.id, ChecklistTemplate.kind == kind)).scalar_one_or_none()


def list_title(tenant: Tenant, kind: str) -> str:
    """The title the nearest template on the path gives the list."""
    ids = inherit.chain(tenant)
    rows = db.session.execute(select(ChecklistTemplate.tenant_id, ChecklistTemplate.title).where(
        ChecklistTemplate.kind == kind, ChecklistTemplate.tenant_id.in_(ids))).all()
    return max(rows, key=lambda r: ids.index(r.tenant_id)).title if rows else KINDS[kind]


def evidence_required(tenant: Tenant, item: ChecklistItem) -> str:
    """The strictest proof asked of `item` of `tenant` (tenants.inherit)."""
    return inherit.resolve(tenant, item_key(item.id), {"evidence": "none"})["evidence"]


def due_on(tenant: Tenant, kind: str) -> date | None:
    """The earliest signing deadline set for `tenant`'s `kind` (tenants.inherit)."""
    value = inherit.resolve(tenant, due_key(kind))
    return date.fromisoformat(value["due_on"]) if value else None


def due_set_by(tenant: Tenant, kind: str) -> tuple[date | None, str]:
    """`due_on` and the name of the unit that set it."""
    value, owner = inherit.resolve_with_owner(tenant, due_key(kind))
    if owner is None:
        return None, ""
    return date.fromisoformat(value["due_on"]), inherit.setters([owner])[owner.tenant_id].name


def effective_items(tenant: Tenant, kind: str) -> list[ListItem]:
    """The list `tenant` answers: every live item of `kind` on its path, the root's first."""
    ids = inherit.chain(tenant)
    rows = db.session.execute(
        select(ChecklistItem, ChecklistTemplate.tenant_id).join(ChecklistItem.template)
        .where(ChecklistTemplate.kind == kind, ChecklistTemplate.tenant_id.in_(ids), ChecklistItem.removed_at.is_(None))
    ).all()
    rows.sort(key=lambda r: (ids.index(r.tenant_id), r.ChecklistItem.position, r.ChecklistItem.id))
    evidence = inherit.resolve_many(tenant, [item_key(r.ChecklistItem.id) for r in rows])
    items = [ListItem(r.ChecklistItem, r.ChecklistItem.tenant,
                      (evidence[item_key(r.ChecklistItem.id)][0] or {"evidence": "none"})["evidence"],
                      r.tenant_id == tenant.id)
             for r in rows]
    for number, li in enumerate(items, 1):
        li.number = number
    return items


def add_item(tenant: Tenant, kind: str, *, title: str, body: str = "", evidence: str = "none",
             duty: str | None = None, actor: Membership | None = None) -> ChecklistItem:
    if not can_own(tenant, kind):
        raise Refused(f"“{tenant.name}”不能为“{KINDS.get(kind, kind)}”添加事项。")
    title = _text(title, "事项内容", TITLE_MAX)
    body = _text(body, "具体要求", TEXT_MAX, required=False)
    if evidence not in EVIDENCE:
        raise Refused("请选择证明材料要求。")
    duty = duty or None
    if duty is not None and (duty not in DUTIES or kind not in ENTERPRISE_LISTS):
        raise Refused("只有企业填写的清单事项可以对应企业履职记录，请从列出的履职类别中选择。")
    template = own_template(tenant, kind)
    if template is None:
        template = ChecklistTemplate(tenant=tenant, kind=kind, title=KINDS[kind], live_items=0,
                                     created_by_id=actor.user_id if actor else None)
        db.session.add(template)
        db.session.flush()
    position = db.session.execute(select(func.coalesce(func.max(ChecklistItem.position), 0))
                                  .where(ChecklistItem.template_id == template.id)).scalar_one() + 1
    item = ChecklistItem(tenant=tenant, template=template, position=position, title=title, body=body, duty=duty)
    template.live_items += 1
    db.session.add(item)
    db.session.flush()
    inherit.set_value(tenant, item_key(item.id), {"evidence": evidence})
    audit.record(tenant, "checklist.item_added", item, {"kind": kind, "title": title, "evidence": evidence,
                                                          "duty": duty}, actor=actor)
    return item


def remove_item(unit: Tenant, item: ChecklistItem, *, actor: Membership | None = None) -> None:
    """An own item leaves the list (versions that answered it keep it); a parent's never does."""
    if item.removed_at is not None:
        raise Refused(f"事项“{item.title}”已经删除。")
    if item.tenant_id != unit.id:
        if within(unit.path, item.tenant.path):
            raise Refused(f"“{item.title}”是{item.tenant.name}下发的事项，下级不能删除或放宽，"
                          "只能补充本级事项或提高它的证明材料要求。")
        raise Refused(f"“{item.title}”是{item.tenant.name}自己添加的事项，只有该单位可以删除。")
    item.removed_at = clock.now()
    item.template.live_items -= 1
    audit.record(unit, "checklist.item_removed", item, {"kind": item.template.kind, "title": item.title},
                 actor=actor)


def require_evidence(tenant: Tenant, item: ChecklistItem, evidence: str, *, actor: Membership | None = None) -> None:
    """Set what proof `tenant` and the units below must attach to `item`; refused if looser than
    what a level above asks."""
    if evidence not in EVIDENCE:
        raise Refused("请选择证明材料要求。")
    if not within(tenant.path, item.tenant.path) or item.removed_at is not None:
        raise Refused(f"“{item.title}”不在“{tenant.name}”的清单中。")
    inherit.set_value(tenant, item_key(item.id), {"evidence": evidence})
    audit.record(tenant, "checklist.item_tightened", item, {"title": item.title, "evidence": evidence}, actor=actor)


def set_due(tenant: Tenant, kind: str, due: date | None, *, actor: Membership | None = None) -> None:
    """The date by which the units below (and `tenant` itself) must have signed `kind`."""
    if kind not in KINDS:
        raise Refused("未知的清单类型。")
    if due is None:
        raise Refused("请填写签署期限。")
    inherit.set_value(tenant, due_key(kind), {"due_on": due.isoformat()})
    audit.record(tenant, "checklist.due_set", data={"kind": kind, "due_on": due.isoformat()}, actor=actor)


# ---------------------------------------------------------------- fills, signing, versions

def current_fill(tenant: Tenant, kind: str) -> ChecklistFill | None:
    return db.session.execute(select(ChecklistFill).where(
        ChecklistFill.tenant_id == tenant.id, ChecklistFill.kind == kind, ChecklistFill.is_current)
    ).scalar_one_or_none()


def versions(tenant: Tenant, kind: str) -> list[ChecklistFill]:
    return db.session.execute(select(ChecklistFill).where(
        ChecklistFill.tenant_id == tenant.id, ChecklistFill.kind == kind).order_by(ChecklistFill.version.desc())
    ).scalars().all()


def start(tenant: Tenant, kind: str, *, actor: Membership | None = None) -> ChecklistFill:
    """The draft to write in: the open one, the first version, or a new version of a signed list
    carrying its answers and evidence over."""
    if kind not in lists_for(tenant):
        raise Refused(f"“{tenant.name}”不填写“{KINDS.get(kind, kind)}”。")
    current = current_fill(tenant, kind)
    if current is not None:
        lock(current)  # two people pressing 修订 at once make one new version
        if not current.is_current:  # the other one's, made while this request waited
            return current_fill(tenant, kind)
    if current is not None and not current.signed:
        return current
    user_id = actor.user_id if actor else None
    fill = ChecklistFill(tenant=tenant, kind=kind, version=current.version + 1 if current else 1,
                         created_by_id=user_id)
    if current is not None:
        current.is_current = False
        db.session.flush()  # one current version per unit and list (a partial unique index)
    try:
        with db.session.begin_nested():  # a first version started twice at once: the index lets one in
            db.session.add(fill)
            db.session.flush()
    except IntegrityError:
        return current_fill(tenant, kind)
    if current is not None:
        for old in current.entries:
            if old.item.removed_at is None:
                db.session.add(ChecklistEntry(
                    tenant=tenant, fill=fill, item_id=old.item_id, responsible_name=old.responsible_name,
                    responsible_post=old.responsible_post, state=old.state, evidence_text=old.evidence_text,
                    evidence_date=old.evidence_date, uploads=list(old.uploads), duty_record_id=old.duty_record_id,
                    updated_by_id=user_id))
        db.session.flush()
    _recount(fill)
    audit.record(tenant, "checklist.revised" if current else "checklist.started", fill,
                 {"kind": kind, "version": fill.version}, actor=actor)
    return fill


def _require_draft(fill: ChecklistFill) -> None:
    lock(fill)  # an entry saved while the list is signed: the signature includes it, or the save is refused
    if fill.signed:
        raise Refused(f"第 {fill.version} 版已于 {clock.local(fill.signed_at)} 签署，不能直接修改。"
                      f"请点击“修订”生成第 {fill.version + 1} 版，在新版本中修改；已签署的版本保留可查。")
    if not fill.is_current:
        raise Refused(f"第 {fill.version} 版是历史版本，不能修改。")


def _entry(fill: ChecklistFill, item_id: int) -> ChecklistEntry | None:
    return next((e for e in fill.entries if e.item_id == item_id), None)


def missing_proof(evidence: str, state: str | None, text: str, files: int) -> str | None:
    """What an answer still lacks of the proof its item asks, or None. Nothing done proves nothing:
    未落实 needs no proof (the signature owns up to it)."""
    if state in (None, "", "not_done"):
        return None
    if evidence == "file" and not files:
        return "须上传文件或照片作为证明材料"
    if evidence == "text" and not text and not files:
        return "须填写证明材料说明"
    return None


def _recount(fill: ChecklistFill, items: list[ListItem] | None = None) -> None:
    """An item counts as filled when it names who answers for it, how far it is done, and carries
    the proof it asks for."""
    items = effective_items(fill.tenant, fill.kind) if items is None else items
    entries = {e.item_id: e for e in fill.entries}
    fill.total = len(items)
    fill.filled = sum(1 for li in items if (e := entries.get(li.item.id)) is not None and e.complete
                      and missing_proof(li.evidence, e.state, e.evidence_text, _proof_files(e)) is None)


def _proof_files(entry: ChecklistEntry) -> int:
    return len(entry.uploads) + (len(entry.duty_record.uploads) if entry.duty_record is not None else 0)


def _list_item(fill: ChecklistFill, item: ChecklistItem) -> tuple[ListItem, list[ListItem]]:
    items = effective_items(fill.tenant, fill.kind)
    found = next((li for li in items if li.item.id == item.id), None)
    if found is None:
        raise Refused(f"“{item.title}”不是“{fill.tenant.name}”这份{KINDS[fill.kind]}中的事项。")
    return found, items


def duty_record_of(fill: ChecklistFill, item: ChecklistItem, record_id: int | None) -> DutyRecord | None:
    """The unit's duty record of the item's kind an answer rests on: the one chosen, else its latest."""
    stmt = duties(fill.tenant, item.duty)
    if record_id:
        stmt = stmt.where(DutyRecord.id == record_id)
    record = db.session.execute(stmt.limit(1)).scalar_one_or_none()
    if record_id and record is None:
        raise Refused(f"所选记录不是本单位的{DUTIES[item.duty]}记录。")
    return record


def save_entry(fill: ChecklistFill, item: ChecklistItem, *, responsible_name: str, responsible_post: str,
               state: str | None, evidence_text: str = "", evidence_date: date | None = None, files=(),
               today: date, duty_record_id: int | None = None, actor: Membership | None = None) -> ChecklistEntry:
    """One item's answer. An item that is a duty rests on the unit's duty record of that kind (the
    one chosen, else the latest): done or partly done needs one, and its date and files are the
    answer's proof, so the duty's count and the list say the same."""
    _require_draft(fill)
    li, items = _list_item(fill, item)
    name = _text(responsible_name, "责任人", 50, required=False)
    post = _text(responsible_post, "职务或岗位", 100, required=False)
    if state and state not in STATES:
        raise Refused("请选择落实情况：已落实、部分落实或未落实。")
    text = _text(evidence_text, "证明材料说明", TEXT_MAX, required=False)
    _not_after_today(evidence_date, "证明材料日期", today)
    entry = _entry(fill, item.id)
    file_count = (len(entry.uploads) if entry else 0) + len([f for f in files or () if f[0]])
    if file_count > MAX_FILES:
        raise Refused(f"每个事项最多 {MAX_FILES} 个证明文件。")
    record = None
    if item.duty and state in ("done", "partial"):
        record = duty_record_of(fill, item, duty_record_id)
        if record is None:
            raise Refused(f"第 {li.number} 项是企业履职事项“{DUTIES[item.duty]}”，次数以履职记录为准：请先在“责任清单 → "
                          f"{DUTIES[item.duty]}”中登记（日期、内容和附件），再保存本项。")
        evidence_date = evidence_date or record.occurred_on
        text = text or f"{DUTIES[item.duty]}记录：{record.occurred_on:%Y-%m-%d} {record.subject}"
        file_count += len(record.uploads)
    lacking = missing_proof(li.evidence, state, text, file_count)
    if lacking:
        raise Refused(f"第 {li.number} 项“{item.title}”{lacking}；选择“{STATES[state]}”时请一并提交。"
                      "尚无材料的，可先选择“未落实”。")
    if entry is None:
        entry = ChecklistEntry(tenant=fill.tenant, fill=fill, item_id=item.id)
        db.session.add(entry)
    entry.responsible_name, entry.responsible_post, entry.state = name, post, state or None
    entry.evidence_text, entry.evidence_date, entry.updated_by_id = text, evidence_date, \
        actor.user_id if actor else None
    entry.duty_record = record
    entry.uploads.extend(_store_files(fill.tenant, files, actor=actor))
    db.session.flush()
    _recount(fill, items)
    audit.record(fill.tenant, "checklist.filled", entry, {
        "fill_id": fill.id, "version": fill.version, "item_id": item.id, "responsible_name": name,
        "state": entry.state, "files": [u.sha256 for u in entry.uploads],
        "duty_record_id": record.id if record else None}, actor=actor)
    return entry


def remove_file(fill: ChecklistFill, item: ChecklistItem, upload, *, actor: Membership | None = None) -> None:
    _require_draft(fill)
    entry = _entry(fill, item.id)
    if entry is None or upload not in entry.uploads:
        raise Refused("该文件不是这个事项的证明材料。")
    entry.uploads.remove(upload)
    _recount(fill)  # the last file of an item that asks for one: the item is no longer filled
    audit.record(fill.tenant, "checklist.filled", entry, {
        "fill_id": fill.id, "item_id": item.id, "removed_file": upload.sha256}, actor=actor)


def _rows(fill: ChecklistFill, items: list[ListItem]) -> list[dict]:
    """The list as plain data, item by item: what a signature covers and what a page shows."""
    rows = []
    for li in items:
        e = _entry(fill, li.item.id)
        rows.append({
            "no": li.number, "item_id": li.item.id, "owner": li.owner_name, "title": li.item.title,
            "body": li.item.body, "evidence": li.evidence,
            "responsible_name": e.responsible_name if e else "", "responsible_post": e.responsible_post if e else "",
            "state": e.state if e else None, "evidence_text": e.evidence_text if e else "",
            "evidence_date": e.evidence_date.isoformat() if e and e.evidence_date else None,
            "files": [{"upload_id": u.id, "filename": u.filename, "sha256": u.sha256, "size": u.size}
                      for u in (e.uploads if e else [])],
            "duty": li.item.duty,
            "duty_record": {"id": e.duty_record.id, "kind": e.duty_record.kind,
                            "occurred_on": e.duty_record.occurred_on.isoformat(), "subject": e.duty_record.subject,
                            "files": [{"upload_id": u.id, "filename": u.filename, "sha256": u.sha256, "size": u.size}
                                      for u in e.duty_record.uploads]} if e and e.duty_record else None,
        })
    return rows


def canonical(content: dict) -> bytes:
    return json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def digest(content: dict) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def rows_of(fill: ChecklistFill) -> list[dict]:
    """A signed version as it was signed; a draft as it stands."""
    if fill.signed:
        return fill.content["items"]
    return _rows(fill, effective_items(fill.tenant, fill.kind))


def sign(fill: ChecklistFill, signer: Membership, password: str, today: date) -> ChecklistFill:
    """The unit's principal (a government node's leader) confirms with the password; every item must
    be answered and carry the proof its requirement asks for. The content, signer and time are
    hashed and the version is frozen."""
    _require_draft(fill)
    if signer.tenant_id != fill.tenant_id or not allows(signer, "checklists.sign"):
        raise Refused(f"只有“{fill.tenant.name}”的主要负责人（政府和部门为领导）可以签署这份清单。")
    user = signer.user
    auth.confirm_password(user, password, "密码不正确，未签署。签署须输入您本人的登录密码。")
    items = effective_items(fill.tenant, fill.kind)
    if not items:
        raise Refused("清单中还没有事项，不能签署。")
    rows = _rows(fill, items)
    missing = [str(r["no"]) for r in rows if not (r["responsible_name"] and r["state"])]
    if missing:
        raise Refused(f"第 {'、'.join(missing)} 项尚未填写责任人和落实情况，不能签署。")
    for r in rows:
        lacking = missing_proof(r["evidence"], r["state"], r["evidence_text"],
                                len(r["files"]) + len((r["duty_record"] or {}).get("files", ())))
        if lacking:
            raise Refused(f"第 {r['no']} 项“{r['title']}”{lacking}，才能签署。")
    signed_at = clock.now()
    content = {
        "unit": {"id": fill.tenant.id, "name": fill.tenant.name, "credit_code": fill.tenant.credit_code},
        "kind": fill.kind, "title": list_title(fill.tenant, fill.kind), "version": fill.version, "items": rows,
        "signer": {"user_id": user.id, "name": user.display_name, "post": user.post or ""},
        "signed_at": signed_at.isoformat(timespec="seconds"),
    }
    fill.content, fill.content_sha256 = content, digest(content)
    fill.status, fill.signed_by_id, fill.signed_at = "signed", user.id, signed_at
    _recount(fill, items)
    audit.record(fill.tenant, "checklist.signed", fill, {
        "kind": fill.kind, "version": fill.version, "content_sha256": fill.content_sha256}, actor=user)
    if fill.tenant.kind == "enterprise":
        setattr(statuses([fill.tenant])[fill.tenant_id], f"{fill.kind}_signed", True)
    refresh([fill.tenant], today)  # a late list's failure closes the day it is signed
    return fill


def signature_intact(fill: ChecklistFill) -> bool:
    return fill.signed and digest(fill.content) == fill.content_sha256


def request_pdf(fill: ChecklistFill, *, actor: Membership | None = None):
    if not fill.signed:
        raise Refused("只有已签署的版本可以导出 PDF。")
    title = f"{fill.tenant.name}{fill.content['title']}（第 {fill.version} 版）"
    return exports.request_export(fill.tenant, kind="checklist", title=title[:200], params={"fill_id": fill.id},
                                  actor=actor)


# A signed list is read by the unit that signed it and every level that supervises it.
@exports.builder("checklist", readers=exports.access.ANYONE_IN_SCOPE)
def build_checklist(tenant: Tenant, params: dict) -> exports.Built:
    fill = db.session.execute(select(ChecklistFill).where(ChecklistFill.id == params["fill_id"])).scalar_one()
    files = [(r["no"], f) for r in fill.content["items"] for f in r["files"]]
    return exports.Built("checklists/pdf.html", {"list": fill.content, "content_sha256": fill.content_sha256},
                         {"fill": fill, "list": fill.content, "files": files, "STATES": STATES,
                          "EVIDENCE": EVIDENCE})


# ---------------------------------------------------------------- duty records

# Which fields each kind keeps, with the label a missing one is asked for by.
DUTY_FIELDS = {
    "inspection": {"person": "带队负责人", "subject": "检查范围", "findings": None},
    "drill": {"subject": "演练科目（事故情景）", "participants": "参加人数", "escape_routes_known": None, "findings": None},
    "education": {"subject": "警示教育主题", "participants": "参加人数", "findings": None},
    "outsourcing": {"person": "承包或承租方", "subject": "外包外租的项目或场所", "qualified": None,
                    "agreement_signed": None, "duties_clear": None, "managed": None, "findings": None},
    "training": {"person": "人员姓名", "worker_type": "人员类别", "subject": "培训内容", "passed": None,
                 "findings": None},
    "key_post": {"person": "排查负责人", "subject": "排查的岗位和人员", "participants": "排查人数", "findings": None},
    "hot_work": {"person": "动火作业人员", "subject": "动火地点及作业内容", "approver": "审批人", "guard": "现场监护人",
                 "starts_at": "作业开始时间", "ends_at": "作业结束时间", "equipment_checked": None,
                 "fire_measures_checked": None, "findings": None},
}


def record_duty(tenant: Tenant, kind: str, *, occurred_on: date | None, today: date, files=(),
                actor: Membership | None = None, **values) -> DutyRecord:
    if tenant.kind != "enterprise":
        raise Refused("履职记录由企业填写。")
    if kind not in DUTIES:
        raise Refused("未知的履职记录类别。")
    if occurred_on is None:
        raise Refused(f"请填写{DATE_LABELS[kind]}。")
    _not_after_today(occurred_on, DATE_LABELS[kind], today)
    record = DutyRecord(tenant=tenant, kind=kind, occurred_on=occurred_on,
                        created_by_id=actor.user_id if actor else None)
    for name, label in DUTY_FIELDS[kind].items():
        value = values.get(name)
        if name in ("person", "subject"):
            value = _text(value, label, 100 if name == "person" else TITLE_MAX)
        elif name == "findings":
            value = _text(value, "情况说明", TEXT_MAX, required=False)
        elif name == "participants":
            if not isinstance(value, int) or value < 1:
                raise Refused(f"{label}应为大于 0 的整数。")
        elif name == "worker_type":
            if value not in WORKER_TYPES:
                raise Refused("请选择人员类别：劳务派遣人员、灵活用工人员或实习生。")
        elif name in ("approver", "guard"):
            value = _text(value, label, 50)
        elif name in ("starts_at", "ends_at"):
            if not isinstance(value, time):
                raise Refused(f"请填写{label}。")
        else:
            value = bool(value)
        setattr(record, name, value)
    if kind == "hot_work":
        _check_permit(record)
    db.session.add(record)
    record.uploads = _store_files(tenant, files, actor=actor)
    db.session.flush()
    audit.record(tenant, "duty.recorded", record, {"kind": kind, "occurred_on": occurred_on.isoformat(),
                                                    "files": [u.sha256 for u in record.uploads]}, actor=actor)
    refresh([tenant], today)
    return record


def _check_permit(record: DutyRecord) -> None:
    """A hot-work permit names a guard other than the worker and an approver other than both
    (seed 002: 审批手续, 明确现场监护人员), and a window that ends after it starts."""
    if record.ends_at <= record.starts_at:
        raise Refused(f"作业结束时间（{record.ends_at:%H:%M}）应晚于开始时间（{record.starts_at:%H:%M}）；"
                      "跨日作业请按日分别审批。")
    if record.guard == record.person:
        raise Refused("现场监护人不能由动火作业人员本人担任，请另行指定监护人员。")
    if record.approver in (record.person, record.guard):
        raise Refused("动火作业须由作业人员和监护人以外的负责人审批，请填写审批人。")


def delete_duty(record: DutyRecord, today: date, *, actor: Membership | None = None) -> None:
    cited = db.session.execute(select(ChecklistFill).join(ChecklistEntry, ChecklistEntry.fill_id == ChecklistFill.id)
                               .where(ChecklistEntry.duty_record_id == record.id).limit(1)).scalar_one_or_none()
    if cited is not None:
        raise Refused(f"这条记录是“{list_title(cited.tenant, cited.kind)}”第 {cited.version} 版中一项的落实依据，不能删除。")
    tenant = record.tenant
    audit.record(tenant, "duty.deleted", record, {"kind": record.kind, "occurred_on": record.occurred_on.isoformat(),
                                                   "person": record.person, "subject": record.subject}, actor=actor)
    record.uploads = []
    db.session.delete(record)
    db.session.flush()
    refresh([tenant], today)


def duties(tenant: Tenant, kind: str):
    """One kind of duty record of `tenant`, newest first (a SELECT to paginate)."""
    return select(DutyRecord).where(DutyRecord.tenant_id == tenant.id, DutyRecord.kind == kind) \
        .order_by(DutyRecord.occurred_on.desc(), DutyRecord.id.desc())


def _certificate(work_type: str, certificate_no: str, expires_on: date | None, today: date) -> str:
    if work_type not in WORK_TYPES:
        raise Refused("请选择特种作业类别。")
    number = _text(certificate_no, "证书编号", 32)
    if expires_on is None:
        raise Refused("请填写证书有效期。")
    if expires_on < today:
        raise Refused(f"该{WORK_TYPES[work_type][1]}有效期至 {expires_on:%Y-%m-%d}，已经过期，不能登记为有效证书。"
                      "请复审换证后按新证登记；证书过期的人员不得从事特种作业。")
    return number


def add_worker(tenant: Tenant, *, name: str, work_type: str, certificate_no: str, expires_on: date | None,
               today: date, actor: Membership | None = None) -> SpecialWorker:
    if tenant.kind != "enterprise":
        raise Refused("特种作业人员由企业登记。")
    name = _text(name, "姓名", 50)
    number = _certificate(work_type, certificate_no, expires_on, today)
    if db.session.execute(select(SpecialWorker.id).where(
            SpecialWorker.tenant_id == tenant.id, SpecialWorker.certificate_no == number,
            SpecialWorker.removed_on.is_(None))).first():
        raise Refused(f"证书编号 {number} 已登记在本企业的在岗人员中。")
    worker = SpecialWorker(tenant=tenant, name=name, work_type=work_type, certificate_no=number,
                           expires_on=expires_on, created_by_id=actor.user_id if actor else None)
    db.session.add(worker)
    db.session.flush()
    audit.record(tenant, "worker.added", worker, {"name": name, "work_type": work_type, "certificate_no": number,
                                                   "expires_on": expires_on.isoformat()}, actor=actor)
    refresh([tenant], today)
    return worker


def renew_worker(worker: SpecialWorker, *, certificate_no: str, expires_on: date | None, today: date,
                 actor: Membership | None = None) -> None:
    """The certificate after 复审 or 换证: the expiry moves on and the finding closes."""
    if worker.removed_on is not None:
        raise Refused(f"{worker.name} 已离岗，不能更新证书。")
    number = _certificate(worker.work_type, certificate_no, expires_on, today)
    worker.certificate_no, worker.expires_on = number, expires_on
    audit.record(worker.tenant, "worker.renewed", worker, {"certificate_no": number,
                                                            "expires_on": expires_on.isoformat()}, actor=actor)
    refresh([worker.tenant], today)


def remove_worker(worker: SpecialWorker, today: date, *, actor: Membership | None = None) -> None:
    if worker.removed_on is not None:
        raise Refused(f"{worker.name} 已于 {worker.removed_on:%Y-%m-%d} 离岗。")
    worker.removed_on = today
    audit.record(worker.tenant, "worker.removed", worker, {"name": worker.name, "removed_on": today.isoformat()},
                 actor=actor)
    refresh([worker.tenant], today)


def workers(tenant: Tenant):
    return select(SpecialWorker).where(SpecialWorker.tenant_id == tenant.id).order_by(
        SpecialWorker.removed_on.is_not(None), SpecialWorker.expires_on, SpecialWorker.id)


# ---------------------------------------------------------------- compliance

@dataclass(frozen=True)
class FindingKind:
    label: str
    spot_row: str | None  # the row of the national dispatch table (DISPATCH_ROWS.md) it counts in


FINDING_KINDS = {
    "principal_not_led": FindingKind("主要负责人未带队检查", "spot.principal_not_led"),
    "no_duty_list": FindingKind("未制定分管负责人职责清单", "spot.no_duty_list"),
    "uncertified_worker": FindingKind("特种作业人员无有效证书", "spot.uncertified_welders"),
    "outsourcing_chaos": FindingKind("外包外租安全管理混乱", "spot.outsourcing_chaos"),
    "no_drill": FindingKind("未按规定开展应急演练", "spot.no_drill"),
    "escape_unknown": FindingKind("员工不熟悉逃生出口", "spot.no_drill"),
    "no_key_post_check": FindingKind("未按规定开展关键岗位人员岗位责任排查", None),
    "hot_work_unsafe": FindingKind("动火作业未落实安全检查", None),
    "no_education": FindingKind("未开展全员安全警示教育", None),
    "untrained_worker": FindingKind("劳务派遣和灵活用工人员未经培训合格", None),
    "no_outsourcing_check": FindingKind("未开展外包外租全面排查", None),
    "list_unsigned": FindingKind("责任清单未签署", None),
    "list_late": FindingKind("领导班子职责清单、年度任务清单未按期签署", None),
    "no_circular": FindingKind("未按规定通报排查整治进展情况", None),
}
# Kept for government levels and departments, counted in units (个) rather than enterprises (家).
UNIT_FINDINGS = ("list_late", "no_circular")
# Warnings only: never kept, never counted.
WARNING_ONLY = ("list_unsigned",)


@dataclass(frozen=True)
class Finding:
    code: str
    subject: str
    text: str
    since: date  # the day it became (or, for a warning, becomes) a failure
    severity: str  # "warning": the enterprise alone; "failure": its street and departments too
    source: str = ""  # the unit whose rule it breaks, or the campaign whose plan asks it

    @property
    def label(self) -> str:
        return FINDING_KINDS[self.code].label

    @property
    def spot_row(self) -> str | None:
        return FINDING_KINDS[self.code].spot_row


# The national plan asks once during the campaign (组织开展 1 次) for a warning-education session and a
# full outsourcing check. Where no plan rule sets how often (warning_education, outsourcing_check),
# and not every enterprise outsources, a missing one is a reminder to the enterprise, never a failure.
ONCE = {"education": ("no_education", "全员安全警示教育"), "outsourcing": ("no_outsourcing_check", "外包外租全面排查")}
LOOKBACK = 12  # closed periods looked back over to date a run of failures (within the records read)
HISTORY_YEARS = 2  # how far back evaluation reads duty records
EXPIRY_WARNING_DAYS = 30
THIS_PERIOD = {"week": "本周", "half_month": "本半月", "month": "本月", "quarter": "本季度", "half_year": "本半年",
               "year": "本年度"}
PERIOD_UNIT = {"week": "周", "half_month": "半月", "month": "月", "quarter": "季度", "half_year": "半年", "year": "年"}


def _history_start(today: date) -> date:
    return date(today.year - HISTORY_YEARS, 1, 1)


def _month_end(year: int, month: int) -> date:
    return date(year, month, monthrange(year, month)[1])


def period_of(day: date, per: str) -> tuple[date, date]:
    """The calendar period of kind `per` that contains `day`, first and last day."""
    if per == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if per == "half_month":
        if day.day <= 15:
            return day.replace(day=1), day.replace(day=15)
        return day.replace(day=16), _month_end(day.year, day.month)
    if per == "month":
        return day.replace(day=1), _month_end(day.year, day.month)
    if per == "quarter":
        first = 3 * ((day.month - 1) // 3) + 1
        return date(day.year, first, 1), _month_end(day.year, first + 2)
    if per == "half_year":
        return (date(day.year, 1, 1), date(day.year, 6, 30)) if day.month <= 6 else \
            (date(day.year, 7, 1), date(day.year, 12, 31))
    if per == "year":
        return date(day.year, 1, 1), date(day.year, 12, 31)
    raise ValueError(per)


def period_name(start: date, per: str) -> str:
    if per == "week":
        year, week, _ = start.isocalendar()
        return f"{year}年第{week}周"
    if per == "half_month":
        return f"{start.year}年{start.month}月{'上' if start.day == 1 else '下'}半月"
    if per == "month":
        return f"{start.year}年{start.month}月"
    if per == "quarter":
        return f"{start.year}年第{'一二三四'[(start.month - 1) // 3]}季度"
    if per == "half_year":
        return f"{start.year}年{'上' if start.month == 1 else '下'}半年"
    return f"{start.year}年"


def _periodic(code: str, noun: str, dates: list[date], rule: dict, today: date, floor: date,
              source: str) -> list[Finding]:
    """A duty due `times` per calendar period: a warning while the current period runs short, and a
    failure once a period has closed short, dated from the first of the closed periods in a row. A
    missed period stays a failure until a later period closes with the duty done: doing it late
    does not undo the miss, and what is done in one period never counts for another."""
    per, times = rule["per"], rule["times"]
    start, end = period_of(today, per)

    def count(a: date, b: date) -> int:
        return sum(a <= d <= b for d in dates)

    findings = []
    done = count(start, today)
    if done < times:
        findings.append(Finding(code, "", f"{THIS_PERIOD[per]}{noun}（每{PERIOD_UNIT[per]}至少 {times} 次，"
                                          f"已 {done} 次，须在 {end:%Y-%m-%d} 前完成）", end + timedelta(days=1),
                                "warning", source))
    failed = []
    s = start
    for _ in range(LOOKBACK):
        s, e = period_of(s - timedelta(days=1), per)
        if s < floor or count(s, e) >= times:
            break
        failed.append(s)
    if failed:
        text = period_name(failed[0], per) + noun
        if len(failed) > 1:
            text += f"（自{period_name(failed[-1], per)}起连续 {len(failed)} 个{PERIOD_UNIT[per]}）"
        findings.append(Finding(code, "", text, period_of(failed[-1], per)[1] + timedelta(days=1), "failure",
                                source))
    return findings


@dataclass
class _Facts:
    """What one enterprise's evaluation reads, loaded for many enterprises at once."""

    records: list = field(default_factory=list)
    workers: list = field(default_factory=list)
    signed: set = field(default_factory=set)


def campaign_on(today: date):
    """The campaign in force on `today` (the latest begun, if two overlap), or None."""
    running = [c for c in plans.campaigns() if c.starts_on <= today <= c.ends_on]
    return max(running, key=lambda c: c.starts_on) if running else None


# The periodic duties: the plan rule that sets how often each is due, the finding a missed period
# is, and how the finding reads. Every frequency rule an enterprise answers for is here.
PERIODIC = {
    "inspection": ("principal_inspection", "principal_not_led", "主要负责人未带队检查"),
    "drill": ("drill", "no_drill", "未按规定开展应急演练"),
    "key_post": ("key_post_check", "no_key_post_check", "未开展动火等危险作业及关键岗位人员岗位责任排查"),
    "education": ("warning_education", "no_education", "未开展全员安全警示教育"),
    "outsourcing": ("outsourcing_check", "no_outsourcing_check", "未开展外包外租全面排查"),
}
# The 特种作业目录's source, for a certificate finding (it binds with or without a campaign).
CERTIFICATE_RULE = "特种作业人员安全技术培训考核管理规定（原国家安全监管总局令第 30 号）"


def _rules(enterprise: Tenant, campaign) -> dict[str, tuple[dict | None, Tenant | None]]:
    """How often each periodic duty is due for `enterprise` while `campaign` runs, and the unit that
    said so; the plan rules are read only through portal.plans (the strictest in force of its levels
    and supervising departments, the high-risk part if it binds)."""
    if campaign is None:
        return {}
    found = plans.requirements(enterprise, campaign.id)
    return {duty: found.get(code, (None, None)) for duty, (code, _, _) in PERIODIC.items()}


def duty_rule(enterprise: Tenant, duty: str, today: date) -> str | None:
    """The requirement in words, for the page where the duty is recorded."""
    campaign = campaign_on(today)
    if campaign is None:
        return None
    # Which unit set it: the enterprise's street or district, or a department supervising its industry.
    rule, setter = _rules(enterprise, campaign).get(duty, (None, None))
    if rule:
        return f"每{PERIOD_UNIT[rule['per']]}至少 {rule['times']} 次（{campaign.name}，{setter.name}规定）"
    if duty in ONCE:
        return f"专项行动期间至少 1 次（{campaign.name}）"
    return None


def _registered_on(tenant: Tenant) -> date:
    return tenant.created_at.replace(tzinfo=timezone.utc).astimezone(clock.BEIJING).date()


def _evaluate(e: Tenant, facts: _Facts, campaign, today: date, warnings: bool) -> list[Finding]:
    found: list[Finding] = []
    by_kind = defaultdict(list)
    for r in facts.records:
        by_kind[r.kind].append(r)

    rules = _rules(e, campaign)
    plan = campaign.name if campaign is not None else ""

    def source(duty: str) -> str:
        """Who set the rule a record-based failure breaks: the duty's rule where a plan sets one."""
        setter = rules.get(duty, (None, None))[1]
        return setter.name if setter is not None else plan

    if campaign is not None:
        # No period is judged that closed before the campaign, before the records read, or before the
        # enterprise was registered here: what it did then was never recorded in this system.
        floor = max(campaign.starts_on, _history_start(today), _registered_on(e))
        for kind, (_, code, noun) in PERIODIC.items():
            rule, setter = rules[kind]
            if rule:
                found += _periodic(code, noun, [r.occurred_on for r in by_kind[kind]], rule, today, floor,
                                   setter.name)
        for kind, (code, noun) in ONCE.items():
            if warnings and not rules[kind][0] and not any(r.occurred_on >= campaign.starts_on for r in by_kind[kind]):
                found.append(Finding(code, "", f"专项行动期间尚未开展{noun}（至少 1 次，{campaign.ends_on:%Y-%m-%d} 前）",
                                     campaign.ends_on + timedelta(days=1), "warning", plan))

    drills = sorted(by_kind["drill"], key=lambda r: (r.occurred_on, r.id))
    if drills and drills[-1].escape_routes_known is False:
        last = drills[-1]
        found.append(Finding("escape_unknown", f"drill:{last.id}",
                             f"{last.occurred_on:%Y-%m-%d} 应急演练中从业人员不熟悉安全逃生出口（避灾路线）",
                             last.occurred_on, "failure", source("drill")))

    latest: dict[str, DutyRecord] = {}
    for r in sorted(by_kind["outsourcing"], key=lambda r: (r.occurred_on, r.id)):
        latest[r.person.strip()] = r
    for counterparty, r in latest.items():
        if r.outsourcing_problems:
            found.append(Finding("outsourcing_chaos", f"outsourcing:{counterparty}"[:120],
                                 f"外包外租单位“{counterparty}”：{'、'.join(r.outsourcing_problems)}",
                                 r.occurred_on, "failure", source("outsourcing")))

    # A permit issued without the checks before the work stays a failure until the next full check
    # of the hot-work and key posts (the monthly 全面排查 the plans ask) reviews it.
    checked = max((r.occurred_on for r in by_kind["key_post"]), default=None)
    for r in by_kind["hot_work"]:
        if r.hot_work_problems and (checked is None or checked <= r.occurred_on):
            found.append(Finding("hot_work_unsafe", f"hot_work:{r.id}",
                                 f"{r.occurred_on:%Y-%m-%d} 动火作业（{r.subject}）{'、'.join(r.hot_work_problems)}"[:300],
                                 r.occurred_on, "failure", source("key_post")))

    trained: dict[tuple[str, str], DutyRecord] = {}
    for r in sorted(by_kind["training"], key=lambda r: (r.occurred_on, r.id)):
        trained[(r.worker_type, r.person.strip())] = r
    for (worker_type, name), r in trained.items():
        if r.passed is False:
            found.append(Finding("untrained_worker", f"training:{worker_type}:{name}"[:120],
                                 f"{WORKER_TYPES[worker_type]} {name} 培训考核不合格，未经培训合格不得上岗作业",
                                 r.occurred_on, "failure", plan))

    for w in facts.workers:
        if w.expires_on < today:
            found.append(Finding("uncertified_worker", f"worker:{w.id}",
                                 f"特种作业人员 {w.name} {w.certificate_label} 已过期（有效期至 {w.expires_on:%Y-%m-%d}）",
                                 w.expires_on + timedelta(days=1), "failure", CERTIFICATE_RULE))
        elif w.expires_on <= today + timedelta(days=EXPIRY_WARNING_DAYS):
            found.append(Finding("uncertified_worker", f"worker:{w.id}",
                                 f"特种作业人员 {w.name} {w.certificate_label} 将于 {w.expires_on:%Y-%m-%d} 到期，请及时复审",
                                 w.expires_on + timedelta(days=1), "warning", CERTIFICATE_RULE))

    if "deputy_duties" not in facts.signed:
        due, setter = due_set_by(e, "deputy_duties")
        if due is not None and today > due:
            found.append(Finding("no_duty_list", "list:deputy_duties",
                                 f"未制定分管负责人职责清单（应于 {due:%Y-%m-%d} 前签署）", due + timedelta(days=1),
                                 "failure", setter))
        elif warnings:
            found.append(Finding("no_duty_list", "list:deputy_duties", "企业分管负责人安全生产职责清单尚未签署"
                                 + (f"，须于 {due:%Y-%m-%d} 前签署" if due else ""),
                                 (due or today) + timedelta(days=1), "warning", setter))
    if warnings:
        for kind in ("all_staff_duties", "campaign_tasks"):
            if kind not in facts.signed and effective_items(e, kind):
                due = due_on(e, kind)
                found.append(Finding("list_unsigned", f"list:{kind}", f"{KINDS[kind]}尚未签署"
                                     + (f"，须于 {due:%Y-%m-%d} 前签署" if due else ""),
                                     (due or today) + timedelta(days=1), "warning"))
    return sorted(found, key=lambda f: (f.severity != "failure", f.since, f.code))


# A government level's duties judged from records kept by modules above this one (a progress circular
# is an issued summary): each such module registers a judge, called with the non-enterprise units of
# every refresh; it returns their failures by unit id.
UnitJudge = Callable[[list[Tenant], date], dict[int, list[Finding]]]
_unit_judges: list[UnitJudge] = []


def unit_duty(judge: UnitJudge) -> UnitJudge:
    _unit_judges.append(judge)
    return judge


def periodic_findings(unit: Tenant, rule_code: str, code: str, noun: str, dates: list[date],
                      today: date) -> list[Finding]:
    """A unit's duty due as often as the plan rule `rule_code` in force for it says (the strictest of
    its levels), judged like an enterprise's: `dates` are when it was done."""
    campaign = campaign_on(today)
    if campaign is None:
        return []
    rule, setter = plans.requirements(unit, campaign.id).get(rule_code, (None, None))
    if not rule:
        return []
    floor = max(campaign.starts_on, _history_start(today), _registered_on(unit))
    return _periodic(code, noun, dates, rule, today, floor, setter.name)


def _late_lists(unit: Tenant, signed: set, today: date) -> list[Finding]:
    """A government level's or department's lists (领导班子成员安全生产职责清单, 年度任务清单) that a
    level above asked to be signed by a date that has passed: a failure from the day after."""
    found = []
    for kind in GOVERNMENT_LISTS:
        if kind in signed:
            continue
        due, setter = due_set_by(unit, kind)
        if due is not None and today > due and effective_items(unit, kind):
            found.append(Finding("list_late", f"list:{kind}", f"{list_title(unit, kind)}未按期签署（应于 {due:%Y-%m-%d} 前签署）",
                                 due + timedelta(days=1), "failure", setter))
    return found


def evaluate_many(enterprises: list[Tenant], today: date, warnings: bool = False) -> dict[int, list[Finding]]:
    """Findings per enterprise. The records of all of them are read in three queries; the rules in
    force are one call per enterprise into portal.plans."""
    ids = [e.id for e in enterprises]
    facts = {i: _Facts() for i in ids}
    if not ids:
        return {}
    for r in db.session.execute(select(DutyRecord).where(DutyRecord.tenant_id.in_(ids),
                                                         DutyRecord.occurred_on >= _history_start(today))).scalars():
        facts[r.tenant_id].records.append(r)
    for w in db.session.execute(select(SpecialWorker).where(SpecialWorker.tenant_id.in_(ids),
                                                            SpecialWorker.removed_on.is_(None))).scalars():
        facts[w.tenant_id].workers.append(w)
    for tenant_id, kinds in _signed(ids).items():
        facts[tenant_id].signed = kinds
    campaign = campaign_on(today)
    return {e.id: _evaluate(e, facts[e.id], campaign, today, warnings) for e in enterprises}


def evaluate(enterprise: Tenant, today: date) -> list[Finding]:
    """Everything the enterprise should know, warnings included: what it sees first."""
    return evaluate_many([enterprise], today, warnings=True)[enterprise.id]


def _signed(ids: list[int]) -> dict[int, set]:
    """The lists each unit has signed a version of: one query."""
    signed = defaultdict(set)
    for tenant_id, kind in db.session.execute(select(ChecklistFill.tenant_id, ChecklistFill.kind).where(
            ChecklistFill.tenant_id.in_(ids), ChecklistFill.status == "signed").distinct()):
        signed[tenant_id].add(kind)
    return signed


def refresh(units: list[Tenant], today: date) -> int:
    """Bring the kept failures of `units` up to date: an enterprise's duties; a government level's
    or department's signing deadlines and the duties other modules judge (`unit_duty`). New ones
    open, gone ones close today; a failure that lasts keeps the day it began. Returns how many rows
    changed."""
    enterprises = [u for u in units if u.kind == "enterprise"]
    others = [u for u in units if u.kind != "enterprise"]
    if not units:
        return 0
    found = evaluate_many(enterprises, today)
    signed = _signed([u.id for u in others]) if others else {}
    found.update({u.id: _late_lists(u, signed.get(u.id, set()), today) for u in others})
    for judge in _unit_judges if others else ():
        for unit_id, failures in judge(others, today).items():
            found[unit_id] += failures
    open_rows = {(r.tenant_id, r.code, r.subject): r for r in db.session.execute(
        select(ComplianceFinding).where(ComplianceFinding.tenant_id.in_([u.id for u in units]),
                                        ComplianceFinding.resolved_on.is_(None))).scalars()}
    changed = 0
    since = defaultdict(list)  # per enterprise, when each failure still open began
    for u in units:
        for f in found[u.id]:
            if f.severity != "failure":
                continue
            row = open_rows.pop((u.id, f.code, f.subject), None)
            if row is None:
                try:
                    # The night's job and a write that judges the unit again may find it at once: the
                    # partial unique index lets one open row in, and the other stands.
                    with db.session.begin_nested():
                        db.session.add(ComplianceFinding(tenant=u, code=f.code, spot_row=f.spot_row,
                                                         subject=f.subject, text=f.text, source=f.source[:200],
                                                         since=f.since))
                    changed += 1
                except IntegrityError:
                    pass
            elif (row.text, row.source) != (f.text, f.source[:200]):
                row.text, row.source = f.text, f.source[:200]
                changed += 1
            since[u.id].append(row.since if row is not None else f.since)
    for row in open_rows.values():
        row.resolved_on = today
        changed += 1
    for tenant_id, status in statuses(enterprises).items():
        status.open_findings, status.failing_since = len(since[tenant_id]), min(since[tenant_id], default=None)
    db.session.flush()
    return changed


def statuses(enterprises: list[Tenant]) -> dict[int, EnterpriseStatus]:
    """The status rows of `enterprises`, created where missing. Two writers may race to create the
    same row; the insert then yields to the row that won."""
    ids = [e.id for e in enterprises]
    found = {s.tenant_id: s for s in db.session.execute(
        select(EnterpriseStatus).where(EnterpriseStatus.tenant_id.in_(ids))).scalars()}
    missing = [e for e in enterprises if e.id not in found]
    if missing:
        dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
        db.session.execute(dialect.insert(EnterpriseStatus.__table__).values([dict(
            tenant_id=e.id, tenant_path=e.path, deputy_duties_signed=False, all_staff_duties_signed=False,
            campaign_tasks_signed=False, open_findings=0, updated_at=clock.now()) for e in missing])
            .on_conflict_do_nothing(index_elements=["tenant_id"]))
        found.update({s.tenant_id: s for s in db.session.execute(
            select(EnterpriseStatus).where(EnterpriseStatus.tenant_id.in_([e.id for e in missing]))).scalars()})
    return found


def refresh_subtree(root: Tenant, today: date, batch: int = 500) -> dict:
    """Re-evaluate every enterprise and every other unit under `root` (a daily job: periods close,
    certificates expire and signing deadlines pass without anyone writing). Commits batch by batch;
    one audit event for the run."""
    checked = units = changed = 0
    last_id = 0
    while True:
        chunk = db.session.execute(
            select(Tenant).where(in_subtree(Tenant.path, root.path), Tenant.id > last_id)
            .order_by(Tenant.id).limit(batch)).scalars().all()
        if not chunk:
            break
        changed += refresh(chunk, today)
        enterprises = sum(t.kind == "enterprise" for t in chunk)
        checked, units = checked + enterprises, units + len(chunk) - enterprises
        last_id = chunk[-1].id
        db.session.commit()
    audit.record(root, "compliance.evaluated", data={"date": today.isoformat(), "enterprises": checked,
                                                     "units": units, "changed": changed})
    db.session.commit()
    return {"enterprises": checked, "units": units, "changed": changed}


# The dispatch rows of kept failures: per kind, the units of an area with such a failure begun in
# the table's span (a cumulative table's span starts with the campaign).
DISPATCH_ROWS = {f"duty.{code}": code for code in FINDING_KINDS if code not in WARNING_ONLY}


def _dispatch_area(tenant: Tenant, start: date, end: date, part: tuple[str, ...] | None = None):
    """The failures `tenant` answers for (its subtree; for a department, also its industries'
    enterprises, as tenants.scope reads them; with `part`, a level's own part of its subtree:
    hazards.dispatch_figures) begun from `start` to `end`."""
    area = Scope.of(tenant, "staff").area(ComplianceFinding) if part is None else \
        in_part(ComplianceFinding.tenant_path, tenant.path, part)
    return and_(area, ComplianceFinding.since.between(start, end))


def dispatch_figures(tenant: Tenant, start: date, end: date, part: tuple[str, ...] | None = None) -> dict[str, int]:
    """Every duty row for `start`..`end`: distinct units with a failure of the row's kind (each
    unit's failures lie on its own path, so the counts of disjoint parts add up). One grouped
    query; the current scope still applies."""
    out = dict.fromkeys(DISPATCH_ROWS, 0)
    for code, count in db.session.execute(
            select(ComplianceFinding.code, func.count(func.distinct(ComplianceFinding.tenant_id)))
            .where(_dispatch_area(tenant, start, end, part)).group_by(ComplianceFinding.code)).all():
        if f"duty.{code}" in out:
            out[f"duty.{code}"] = int(count)
    return out


def dispatch_records(tenant: Tenant, row: str, start: date, end: date):
    """The failures behind one duty row, as `dispatch_figures` counts them (a SELECT)."""
    return select(ComplianceFinding).where(_dispatch_area(tenant, start, end),
                                           ComplianceFinding.code == DISPATCH_ROWS[row]) \
        .order_by(ComplianceFinding.since, ComplianceFinding.id)


def open_findings(tenant: Tenant) -> list[ComplianceFinding]:
    return db.session.execute(select(ComplianceFinding).where(
        ComplianceFinding.tenant_id == tenant.id, ComplianceFinding.resolved_on.is_(None))
        .order_by(ComplianceFinding.since, ComplianceFinding.id)).scalars().all()


def findings_until(tenant: Tenant, until: date) -> list[ComplianceFinding]:
    """Every failure of `tenant` that had begun by `until`, resolved since or not: the duties the
    accountability trace lists."""
    return db.session.execute(select(ComplianceFinding).where(
        ComplianceFinding.tenant_id == tenant.id, ComplianceFinding.since <= until)
        .order_by(ComplianceFinding.since, ComplianceFinding.id)).scalars().all()


# ---------------------------------------------------------------- overview for the levels above

@dataclass
class Filters:
    industry: str | None = None
    high_risk: bool | None = None
    state: str | None = None
    q: str = ""


def expected_lists() -> dict[str, list[str]]:
    """Per enterprise list, the paths of the nodes whose templates ask for it (readable ones)."""
    rows = db.session.execute(select(ChecklistTemplate.kind, ChecklistTemplate.tenant_path).where(
        ChecklistTemplate.kind.in_(ENTERPRISE_LISTS), ChecklistTemplate.live_items > 0)).all()
    paths = defaultdict(list)
    for kind, path in rows:
        paths[kind].append(path)
    return paths


def _complete_clause(expected: dict[str, list[str]]):
    """Every list a template above asks of the enterprise has a signed version. An enterprise
    without a status row has signed nothing, so it is complete only where nothing is asked."""
    signed_all = select(EnterpriseStatus.tenant_id).where(and_(true(), *(
        or_(not_(or_(*(in_subtree(EnterpriseStatus.tenant_path, p) for p in paths))),
            getattr(EnterpriseStatus, f"{kind}_signed").is_(True)) for kind, paths in expected.items())))
    asked = or_(false(), *(in_subtree(Tenant.path, p) for paths in expected.values() for p in paths))
    return or_(Tenant.id.in_(signed_all), not_(asked))


def enterprises(filters: Filters, expected: dict[str, list[str]] | None = None, noncompliant: bool = False):
    """Enterprises in the reader's scope with the filters applied (a SELECT to paginate); every
    state filter is a test on the status rows. The non-compliant list orders by how long the oldest
    open failure has lasted (its state filter is implied)."""
    stmt = select(Tenant).where(Tenant.kind == "enterprise")
    if filters.industry:
        stmt = stmt.where(Tenant.industry == filters.industry)
    if filters.high_risk is not None:
        stmt = stmt.where(Tenant.high_risk.is_(filters.high_risk))
    if filters.q:
        like = f"%{filters.q.strip()}%"
        stmt = stmt.where(or_(Tenant.name.like(like), Tenant.credit_code == filters.q.strip().upper()))
    if noncompliant:
        return stmt.join(EnterpriseStatus, EnterpriseStatus.tenant_id == Tenant.id) \
            .where(EnterpriseStatus.open_findings > 0).order_by(EnterpriseStatus.failing_since, Tenant.id)
    failing = select(EnterpriseStatus.tenant_id).where(EnterpriseStatus.open_findings > 0)
    if filters.state in ("complete", "incomplete"):
        clause = _complete_clause(expected_lists() if expected is None else expected)
        stmt = stmt.where(clause if filters.state == "complete" else not_(clause))
    elif filters.state == "noncompliant":
        stmt = stmt.where(Tenant.id.in_(failing))
    elif filters.state == "compliant":
        stmt = stmt.where(Tenant.id.not_in(failing))
    return stmt.order_by(Tenant.name, Tenant.id)


@dataclass
class Cell:
    expected: bool
    current: ChecklistFill | None = None
    signed_version: int | None = None

    @property
    def complete(self) -> bool:
        return self.signed_version is not None


@dataclass
class GridRow:
    tenant: Tenant
    cells: dict[str, Cell]
    findings: list[ComplianceFinding]

    @property
    def complete(self) -> bool:
        return all(c.complete for c in self.cells.values() if c.expected)

    @property
    def since(self) -> date | None:
        return min((f.since for f in self.findings), default=None)


def grid(page_items: list[Tenant], expected: dict[str, list[str]]) -> list[GridRow]:
    """The lists and open failures of one page of enterprises: two queries whatever the page size."""
    ids = [t.id for t in page_items]
    fills = db.session.execute(select(ChecklistFill).where(
        ChecklistFill.tenant_id.in_(ids) if ids else false(),
        or_(ChecklistFill.is_current, ChecklistFill.status == "signed"))).scalars().all()
    current, signed = {}, defaultdict(int)
    for f in fills:
        if f.is_current:
            current[(f.tenant_id, f.kind)] = f
        if f.signed:
            signed[(f.tenant_id, f.kind)] = max(signed[(f.tenant_id, f.kind)], f.version)
    findings = defaultdict(list)
    for f in db.session.execute(select(ComplianceFinding).where(
            ComplianceFinding.tenant_id.in_(ids) if ids else false(), ComplianceFinding.resolved_on.is_(None))
            .order_by(ComplianceFinding.since, ComplianceFinding.id)).scalars():
        findings[f.tenant_id].append(f)
    rows = []
    for t in page_items:
        cells = {kind: Cell(any(within(t.path, p) for p in expected.get(kind, ())), current.get((t.id, kind)),
                            signed.get((t.id, kind))) for kind in ENTERPRISE_LISTS}
        rows.append(GridRow(t, cells, findings[t.id]))
    return rows


def unit_summary(tenant: Tenant) -> list[dict]:
    """Each list the unit fills: its title, the current version, the last signed version."""
    out = []
    for kind in lists_for(tenant):
        vs = versions(tenant, kind)
        out.append({"kind": kind, "title": list_title(tenant, kind),
                    "current": next((v for v in vs if v.is_current), None),
                    "signed": next((v for v in vs if v.signed), None), "items": len(effective_items(tenant, kind)),
                    "due_on": due_on(tenant, kind)})
    return out


def duty_counts(tenant: Tenant, today: date) -> dict[str, int]:
    """Records of each kind this year: the enterprise page's summary, one grouped query."""
    rows = db.session.execute(select(DutyRecord.kind, func.count()).where(
        DutyRecord.tenant_id == tenant.id, DutyRecord.occurred_on >= date(today.year, 1, 1))
        .group_by(DutyRecord.kind)).all()
    return {kind: n for kind, n in rows}
