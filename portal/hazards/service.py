"""The hazard ledger's rules and queries: standards and key check items, recording a hazard with
its five fixes, the closed loop, listed supervision, stock and increment, the dispatch figures,
and the ledger's Excel import and Excel/PDF export. No request, no templates."""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, case, extract, func, or_, select
from sqlalchemy.orm import selectinload

from portal import spreadsheets
from portal.audit import service as audit
from portal.audit.models import AuditEvent
from portal.database import compare_and_set, lock
from portal.errors import Refused
from portal.exports import service as exports
from portal.extensions import db
from portal.hazards.models import (LEVELS, OPEN_STATUSES, SOURCES, STATUSES, Hazard, HazardPhoto, Standard,
                                   StandardItem)
from portal.plans import service as plans
from portal.uploads import service as uploads
from tenants import clock, inherit
from tenants.models import GOVERNMENT_KINDS, INDUSTRIES, Membership, Tenant
from tenants.paths import in_part, in_subtree
from tenants.scope import Scope, may_change, unscoped

DATA = Path(__file__).resolve().parent / "data"
STOCK_CUTOFF = "hazards.stock_cutoff"
DEFAULT_CUTOFF = date(2024, 1, 1)
MAX_PHOTOS = 9
PDF_MAX_ROWS = 5000
# Above this a PDF is laid out in a worker process of its own (WeasyPrint holds ~5 MiB a page).
PDF_INLINE_ROWS = 200
IMPORT_MAX_ROWS = 5000


class HazardError(Refused):
    """A step the ledger's rules refuse; the message says what to do."""


class ImportRejected(spreadsheets.ImportRejected, HazardError):
    """An import with bad rows: nothing was written."""


# --- Standards ---------------------------------------------------------------------------------

# (file in data/, code, industries it serves, completeness as shown, partial). See data/README.md.
NATIONAL_STANDARDS = (
    ("chem_hazchem_2017_anjianzongguansan_121.json", "HC2017", ["hazchem"],
     "完整（20/20 项）；第十五至二十项仅见于一个来源", False),
    ("fireworks_2017_anjianzongguansan_121.json", "YH2017", ["fireworks"],
     "20 项，仅一个来源，未与官方文本核对；缺序言", False),
    ("gongmao_2023_mem_order_10.json", "GM2023", ["industry_trade", "commerce"],
     "部分：收录第三条、第四条、第十一条的 16 项情形（官方共 64 项）和第十四条；第五条至第十条、第十二条、第十三条未收录", True),
    ("fangwu_shizheng_fragments.json", "FS2022", ["construction"],
     "片段：仅收录部分条款，多数片段版本未核实，以住房和城乡建设部官方文本为准", True),
)
SOURCE_NOTE = ("条文转录自公开的二手来源（逐条注明来源，见 portal/hazards/data/README.md），"
               "使用前请以应急管理部、国务院公报等官方文本为准。")
CATALOG_NOTE = "仅收录名称、文号和发布机关，条文未收录；文号、现行有效性未经官方页面核实，请查阅官方文本。"
# Catalogued standards whose item texts were not obtained: listed so a user knows they exist.
CATALOG_INDUSTRIES = {
    "金属非金属矿山重大事故隐患判定标准": ["mining"],
    "金属非金属矿山重大事故隐患判定标准补充情形": ["mining"],
    "煤矿重大事故隐患判定标准": ["mining"],
    "城镇燃气经营安全重大隐患判定标准": ["gas"],
    "重大火灾隐患判定方法": ["fire"],
    "民用爆炸物品行业重大事故隐患判定标准（试行）": ["other"],
    "道路运输企业和城市客运企业安全生产重大事故隐患判定标准（试行）": ["transport"],
    "电力重大事故隐患判定标准及治理监督管理规定": ["other"],
}
ITEM_STATUSES = {
    "verbatim": "原文",
    "verbatim-single-source": "原文（单一来源）",
    "truncated": "原文截断",
    "fragment": "片段（版本未核实）",
}
_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def _number(chinese: str | None) -> int | None:
    """第十一条 → 11, （三）→ 3: the numbers the standards print, up to 99."""
    text = (chinese or "").strip("第条（）() ")
    if not text:
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _DIGITS.get(tens, 1) * 10 + _DIGITS.get(ones, 0)
    return _DIGITS.get(text)


def _items_of(data: dict, code: str) -> list[dict]:
    """Items of a standard file in print order, each with a stable code (standard, article, item)."""
    if "items" in data:  # the 2017 lists: numbered items
        return [{"code": f"{code}-{i['seq']:02d}", "label": f"第{i['label']}项", "heading": data.get("preamble") or "",
                 "text": i["text"], "status": _status(i.get("status"), "fragment")} for i in data["items"]]
    found = []
    # The gazette's articles are verbatim; fragments gathered from secondary pages are not.
    default = "fragment" if "fragments" in data else "verbatim"
    for n, article in enumerate(data.get("articles") or data.get("fragments") or [], start=1):
        number = _number(article.get("article"))
        article_code = f"{number:02d}" if number else f"X{n}"
        article_label = article.get("article") or "条号不详"
        criterion = "判定为重大事故隐患" in article["text"] or "应判定为" in article["text"]
        if article.get("items"):
            for item in article["items"]:
                found.append({"code": f"{code}-{article_code}.{_number(item['item'])}",
                              "label": f"{article_label}{item['item']}", "heading": article["text"],
                              "text": item["text"],
                              "status": _status(item.get("status") or article.get("status"), default)})
        elif criterion and not article["text"].endswith("："):
            # An article that is itself one criterion (no enumerated items).
            found.append({"code": f"{code}-{article_code}", "label": article_label, "heading": "",
                          "text": article["text"], "status": _status(article.get("status"), default)})
    return found


def _status(raw: str | None, default: str) -> str:
    """The data's status words ("verbatim (punctuation at end not shown)") as one of ITEM_STATUSES."""
    if not raw:
        return default
    return next((s for s in sorted(ITEM_STATUSES, key=len, reverse=True) if raw.startswith(s)), default)


def load_national_standards(root: Tenant) -> int:
    """Put the bundled national standards on the national root; idempotent. Returns how many
    standards were added. Runs unscoped (CLI, demo)."""
    existing = set(db.session.execute(select(Standard.code)).scalars())
    created = []
    for filename, code, industries, completeness, partial in NATIONAL_STANDARDS:
        if code in existing:
            continue
        data = json.loads((DATA / filename).read_text(encoding="utf-8"))
        number = data.get("document_number") or "；".join(e["document_number"] for e in data.get("editions", []))
        issuer = data.get("issuer") or "；".join(sorted({e["issuer"] for e in data.get("editions", [])}))
        standard = Standard(tenant=root, kind="standard", code=code, name=data["standard_name"],
                            document_number=number, issuer=issuer, industries=industries,
                            completeness=completeness, partial=partial, note=SOURCE_NOTE)
        standard.items = [StandardItem(tenant=root, seq=i, **item) for i, item in enumerate(_items_of(data, code), 1)]
        db.session.add(standard)
        created.append(code)
    catalog = json.loads((DATA / "catalog.json").read_text(encoding="utf-8"))
    for n, entry in enumerate(catalog["standards"], start=1):
        code = f"CAT{n:02d}"
        if entry.get("file") or entry["name"] not in CATALOG_INDUSTRIES or code in existing:
            continue
        # The catalog's own remarks are in English; only the number as printed is kept.
        number = (entry.get("number") or "").split(";")[0].strip()
        db.session.add(Standard(tenant=root, kind="standard", code=code, name=entry["name"], document_number=number,
                                issuer=entry.get("issuer") or "", industries=CATALOG_INDUSTRIES[entry["name"]],
                                completeness="条文未收录", partial=True, note=CATALOG_NOTE))
        created.append(code)
    if created:
        db.session.flush()
        audit.record(root, "standards.loaded", data={"codes": created})
    return len(created)


def applicable_standards(tenant: Tenant, industry: str | None = None) -> list[Standard]:
    """Standards and key check items that apply at `tenant`: those published anywhere on its
    path and, for an enterprise, by the departments and 站所 that supervise its industry there
    (tenants.inherit.binding; they inherit down, a level adds to its parents', never removes them)."""
    # The binding units are named exactly; a supervising department is outside an enterprise's scope.
    with unscoped():
        rows = db.session.execute(
            select(Standard).where(Standard.tenant_id.in_(inherit.binding(tenant)), Standard.withdrawn_at.is_(None))
            .options(selectinload(Standard.items).joinedload(StandardItem.standard))
            .order_by(Standard.kind, Standard.id)).scalars().all()
    return [s for s in rows if industry is None or industry in (s.industries or [])]


def applicable_items(enterprise: Tenant) -> list[StandardItem]:
    return [item for s in applicable_standards(enterprise, enterprise.industry or "") for item in s.items]


def basis_standards(enterprise: Tenant) -> tuple[list[Standard], list[Standard]]:
    """What a hazard form offers as 判定依据, standard by standard: (those of the enterprise's
    industry whose clauses the system holds, the key check items a level published first, as the
    nearer and more specific rule; those of its industry it only names, text not bundled)."""
    rows = applicable_standards(enterprise, enterprise.industry or "")
    held = sorted((s for s in rows if s.items), key=lambda s: s.kind != "key_items")
    return held, [s for s in rows if not s.items]


def published_standard(reader: Tenant, standard_id: int) -> Standard | None:
    """Key check items a department of one of `reader`'s levels published: a public document for
    the units and enterprises below that level (通知到行业内企业单位), though the department itself is
    outside their scope."""
    t = Tenant.__table__
    departments = select(t.c.id).where(t.c.kind == "department", t.c.parent_id.in_(inherit.chain(reader)[:-1]))
    with unscoped():
        return db.session.execute(select(Standard).where(
            Standard.id == standard_id, Standard.kind == "key_items", Standard.tenant_id.in_(departments))
            .options(selectinload(Standard.items))).scalar_one_or_none()


def bound_items(enterprise: Tenant, ids) -> dict[int, StandardItem]:
    """The items among `ids` that bind `enterprise`, withdrawn ones too (a record cites what applied
    then), read as every reader of the enterprise's records reads them: a supervising department's
    key check items are outside its street's scope, yet the street reads what its hazards cite."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    with unscoped():
        return {i.id: i for i in db.session.execute(select(StandardItem).where(
            StandardItem.id.in_(ids), StandardItem.tenant_id.in_(inherit.binding(enterprise)))
            .options(selectinload(StandardItem.standard))).scalars()}


def basis_of(hazard: Hazard) -> StandardItem | None:
    """The item a hazard cites."""
    return bound_items(hazard.tenant, [hazard.standard_item_id]).get(hazard.standard_item_id)


def cited_items(hazards: list[Hazard]) -> dict[int, StandardItem]:
    """The items `hazards` cite, by id, for a list or export of many enterprises' hazards in one
    query. A hazard cites only an item that binds its enterprise (checked when it is recorded), so
    whoever reads the hazard reads what it cites, a supervising department's key items included."""
    ids = {h.standard_item_id for h in hazards if h.standard_item_id is not None}
    if not ids:
        return {}
    with unscoped():
        return {i.id: i for i in db.session.execute(select(StandardItem).where(StandardItem.id.in_(ids))).scalars()}


def publish_key_items(node: Tenant, *, name: str, document_number: str, industry: str, items: list[str],
                      actor: Membership | None = None) -> Standard:
    """Key check items (重点检查事项) a government level sets for one industry of its subtree, or a
    department or 站所 for one of the industries it supervises (seed 002: where no national standard
    exists, the department makes its own); they bind that industry's enterprises on its level."""
    if node.kind == "department":
        if industry not in (node.supervised_industries or []):
            supervised = "、".join(INDUSTRIES[i] for i in node.supervised_industries or []) or "无"
            raise HazardError(f"部门只能为本部门监管的行业领域发布重点检查事项（{node.name}监管：{supervised}）。")
    elif node.kind not in GOVERNMENT_KINDS:
        raise HazardError("重点检查事项须由政府层级（安委会）或负有监管职责的部门发布。")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise HazardError("请填写名称（不超过 200 字）。")
    if industry not in INDUSTRIES:
        raise HazardError("请选择适用的行业领域。")
    texts = [t.strip() for t in items if t and t.strip()]
    if not texts:
        raise HazardError("请至少填写一项检查事项，每行一项。")
    if len(texts) > 100 or any(len(t) > 1000 for t in texts):
        raise HazardError("检查事项最多 100 项，每项不超过 1000 字。")
    standard = Standard(tenant=node, kind="key_items", code=f"~{uuid.uuid4().hex[:15]}", name=name,
                        document_number=(document_number or "").strip()[:100], issuer=node.name,
                        industries=[industry], completeness=f"共 {len(texts)} 项", partial=False)
    db.session.add(standard)
    db.session.flush()
    # The code needs the id; the placeholder never leaves this flush.
    standard.code = f"K{standard.id}"
    standard.items = [StandardItem(tenant=node, seq=i, code=f"K{standard.id}-{i:02d}", label=f"第{i}项", text=t)
                      for i, t in enumerate(texts, start=1)]
    db.session.flush()
    audit.record(node, "standard.published", standard, {"name": name, "industry": industry, "items": len(texts)},
                 actor=actor)
    return standard


def withdraw_standard(node: Tenant, standard: Standard, *, actor: Membership | None = None) -> None:
    """A level withdraws its own key check items; hazards that cite them keep the citation."""
    if standard.kind != "key_items" or standard.tenant_id != node.id:
        raise HazardError("只能撤回本单位发布的重点检查事项；国家判定标准和上级发布的事项不能撤回。")
    if standard.withdrawn_at is not None:
        raise HazardError("该重点检查事项已撤回。")
    standard.withdrawn_at = clock.now()
    audit.record(node, "standard.withdrawn", standard, {"name": standard.name}, actor=actor)


# --- Recording a hazard and its five fixes -------------------------------------------------------

@dataclass
class Fixes:
    """五落实: who answers for the fix, what is done, the money (万元), by when, and the
    emergency plan until then."""

    owner: str = ""
    measures: str = ""
    funds: Decimal | None = None
    deadline: date | None = None
    contingency: str = ""

    def empty(self) -> bool:
        return not (self.owner or self.measures or self.contingency) and self.funds is None and self.deadline is None


FIX_LABELS = {"owner": "责任人", "measures": "整改措施", "funds": "整改资金", "deadline": "整改期限",
              "contingency": "应急预案"}


def _checked_fixes(fixes: Fixes, found_at: date) -> Fixes:
    fixes = Fixes(owner=(fixes.owner or "").strip(), measures=(fixes.measures or "").strip(), funds=fixes.funds,
                  deadline=fixes.deadline, contingency=(fixes.contingency or "").strip())
    missing = [FIX_LABELS[f.name] for f in fields(Fixes) if getattr(fixes, f.name) in ("", None)]
    if missing:
        raise HazardError("五落实须填写完整，还缺：" + "、".join(missing) + "。")
    if len(fixes.owner) > 64:
        raise HazardError("责任人不超过 64 字。")
    if len(fixes.measures) > 1000 or len(fixes.contingency) > 1000:
        raise HazardError("整改措施和应急预案各不超过 1000 字。")
    if fixes.funds < 0:
        raise HazardError("整改资金不能为负数。")
    if fixes.funds >= Decimal("10000000000"):
        raise HazardError("整改资金数额过大，请以万元为单位填写。")
    if fixes.deadline < found_at:
        raise HazardError(f"整改期限（{fixes.deadline:%Y-%m-%d}）不能早于发现日期（{found_at:%Y-%m-%d}）。")
    return fixes


@dataclass
class Finding:
    """What a person reports about one hazard, before it becomes a row."""

    level: str
    description: str
    found_at: date | None
    location: str = ""
    item_id: int | None = None
    on_the_spot: bool = False
    fixes: Fixes | None = None


def _source_of(enterprise: Tenant, actor: Membership) -> str:
    if actor.tenant.kind == "enterprise":
        if actor.tenant_id != enterprise.id:
            raise HazardError("企业只能登记本企业的隐患。")
        return "self"
    if not may_change(actor, enterprise):
        raise HazardError("该企业不在您的管辖范围内。")
    return "department"


def _checked(enterprise: Tenant, finding: Finding, items: dict[int, StandardItem], today: date) -> dict:
    """The columns of a new hazard, or a refusal naming the first problem."""
    if enterprise.kind != "enterprise":
        raise HazardError("隐患须登记在企业名下。")
    if finding.level not in LEVELS:
        raise HazardError("请选择隐患级别（重大事故隐患或一般隐患）。")
    description = (finding.description or "").strip()
    if not description or len(description) > 500:
        raise HazardError("请填写隐患描述（不超过 500 字）。")
    location = (finding.location or "").strip()
    if len(location) > 200:
        raise HazardError("隐患部位不超过 200 字。")
    if finding.found_at is None:
        raise HazardError("请填写发现日期。")
    if finding.found_at > today:
        raise HazardError("发现日期不能晚于今天。")
    if finding.item_id is not None and finding.item_id not in items:
        raise HazardError("所选判定依据条款不适用于该企业所属行业。")
    if finding.level == "major" and finding.item_id is None and items:
        raise HazardError("重大事故隐患须注明判定依据：请选择判定标准条款或重点检查事项。")
    fixes = None if finding.fixes is None or finding.fixes.empty() else _checked_fixes(finding.fixes, finding.found_at)
    columns = dict(level=finding.level, description=description, location=location, found_at=finding.found_at,
                   standard_item_id=finding.item_id, on_the_spot=bool(finding.on_the_spot),
                   industry=enterprise.industry or "")
    if fixes:
        columns.update(fix_owner=fixes.owner, fix_measures=fixes.measures, fix_funds=fixes.funds,
                       fix_deadline=fixes.deadline, fix_contingency=fixes.contingency)
    return columns


def _create(enterprise: Tenant, actor: Membership | None, source: str, found_by: Tenant, columns: dict,
            audit_data: dict | None = None) -> Hazard:
    hazard = Hazard(tenant=enterprise, source=source, found_by_unit=found_by,
                    created_by_id=actor.user_id if actor else None, **columns)
    db.session.add(hazard)
    db.session.flush()
    audit.record(enterprise, "hazard.recorded", hazard,
                 {"level": hazard.level, "source": source, "found_by": found_by.name, **(audit_data or {})},
                 actor=actor.user if actor else None)
    return hazard


def record(enterprise: Tenant, actor: Membership, finding: Finding, photos=(), today: date | None = None) -> Hazard:
    """An enterprise records its own hazard (企业自查), or a department or government level one it
    found at an enterprise in its scope (部门检查). `photos` are (filename, bytes) pairs."""
    today = today or clock.today()
    source = _source_of(enterprise, actor)
    items = {i.id: i for i in applicable_items(enterprise)}
    hazard = _create(enterprise, actor, source, actor.tenant, _checked(enterprise, finding, items, today))
    if photos:
        add_photos(hazard, actor, photos)
    return hazard


def record_from_tip(enterprise: Tenant, actor: Membership, finding: Finding, photos=(),
                    today: date | None = None) -> Hazard:
    """A verified tip becomes a hazard with source 举报, found by the unit that verified it."""
    today = today or clock.today()
    if not may_change(actor, enterprise):
        raise HazardError("该企业不在您的管辖范围内。")
    items = {i.id: i for i in applicable_items(enterprise)}
    hazard = _create(enterprise, actor, "tip", actor.tenant, _checked(enterprise, finding, items, today))
    if photos:
        add_photos(hazard, actor, photos)
    return hazard


def _as_enterprise(hazard: Hazard, actor: Membership, doing: str) -> None:
    if actor.tenant.kind != "enterprise" or actor.tenant_id != hazard.tenant_id:
        raise HazardError(f"只有本企业的主要负责人或安全管理员可以{doing}。")


def _as_reviewer(hazard: Hazard, actor: Membership, doing: str) -> None:
    if actor.tenant.kind == "enterprise" or not may_change(actor, hazard):
        raise HazardError(f"{doing}须由企业所在街道、负责该行业的部门或上级进行。")


def set_fixes(hazard: Hazard, actor: Membership, fixes: Fixes) -> Hazard:
    """The enterprise fills or revises the five fixes while the hazard is still being fixed."""
    _as_enterprise(hazard, actor, "填写五落实")
    lock(hazard)  # not while a step of the loop moves it on
    if hazard.status not in OPEN_STATUSES:
        raise HazardError(f"隐患已“{hazard.status_label}”，不能再修改五落实。")
    fixes = _checked_fixes(fixes, hazard.found_at)
    before = {"deadline": hazard.fix_deadline.isoformat() if hazard.fix_deadline else None,
              "funds": str(hazard.fix_funds) if hazard.fix_funds is not None else None}
    hazard.fix_owner, hazard.fix_measures, hazard.fix_funds = fixes.owner, fixes.measures, fixes.funds
    hazard.fix_deadline, hazard.fix_contingency = fixes.deadline, fixes.contingency
    audit.record(hazard.tenant, "hazard.fixes_set", hazard,
                 {"owner": fixes.owner, "funds": str(fixes.funds), "deadline": fixes.deadline.isoformat(),
                  "before": before}, actor=actor.user)
    return hazard


def add_photos(hazard: Hazard, actor: Membership, photos) -> list[HazardPhoto]:
    """Attach (filename, bytes) images; stored as the enterprise's uploads, checked by content."""
    lock(hazard)  # two uploads at once count against one limit
    if hazard.status == "closed":
        raise HazardError("已销号的隐患不能再添加照片。")
    photos = list(photos)
    if len(hazard.photos) + len(photos) > MAX_PHOTOS:
        raise HazardError(f"每个隐患最多 {MAX_PHOTOS} 张照片。")
    added = []
    for filename, data in photos:
        upload = uploads.store(hazard.tenant, filename, data, kinds=("image",), actor=actor)
        added.append(HazardPhoto(tenant=hazard.tenant, hazard=hazard, upload=upload))
    db.session.add_all(added)
    db.session.flush()
    audit.record(hazard.tenant, "hazard.photos_added", hazard, {"uploads": [p.upload_id for p in added]},
                 actor=actor.user)
    return added


# --- The closed loop -------------------------------------------------------------------------------

# action → (from, to, who acts, audit action, label)
TRANSITIONS = {
    "start": ("pending", "rectifying", "enterprise", "hazard.started", "开始整改"),
    "report": ("rectifying", "rectified", "enterprise", "hazard.reported", "报告整改完成"),
    "return": ("rectified", "rectifying", "reviewer", "hazard.returned", "退回"),
    "accept": ("rectified", "accepted", "reviewer", "hazard.accepted", "验收通过"),
    "close": ("accepted", "closed", "reviewer", "hazard.closed", "销号"),
}
LOOP = " → ".join(STATUSES.values())


def actions_for(hazard: Hazard, actor: Membership | None) -> list[str]:
    """The transitions `actor` could take now (the page offers only these)."""
    if actor is None:
        return []
    enterprise = actor.tenant.kind == "enterprise" and actor.tenant_id == hazard.tenant_id
    return [a for a, (source, _, who, _, _) in TRANSITIONS.items()
            if source == hazard.status and (who == "enterprise") == enterprise
            and (enterprise or actor.tenant.kind != "enterprise")]


def transition(hazard: Hazard, actor: Membership, action: str, reason: str = "",
               today: date | None = None) -> Hazard:
    """Move the hazard one step along 待整改 → 整改中 → 已整改待验收 → 已验收 → 已销号 (or back
    from acceptance to 整改中 with a reason). Every step is audited with who and when."""
    if action not in TRANSITIONS:
        raise HazardError("未知的操作。")
    source, target, who, audit_action, label = TRANSITIONS[action]
    if hazard.status != source:
        raise HazardError(f"隐患当前为“{hazard.status_label}”，不能{label}。闭环须依次经过：{LOOP}，不能跳过。")
    if who == "enterprise":
        _as_enterprise(hazard, actor, label)
    else:
        _as_reviewer(hazard, actor, label)
    reason = (reason or "").strip()
    if action == "return" and not reason:
        raise HazardError("退回须写明理由，企业将按理由继续整改。")
    if len(reason) > 500:
        raise HazardError("说明不超过 500 字。")
    if action == "start" and not hazard.on_the_spot and not hazard.has_fixes:
        raise HazardError("未当场整改的隐患，须先落实责任人、措施、资金、期限和应急预案（五落实），才能开始整改。")
    today = today or clock.today()
    dates = {"report": {"rectified_on": today}, "return": {"rectified_on": None}, "accept": {"accepted_on": today},
             "close": {"closed_on": today}}.get(action, {})
    # Two reviewers at once (验收通过 and 退回 of one 已整改待验收): one moves it, the other is told.
    compare_and_set(hazard, "status", "该隐患刚刚已被他人处理，当前为“{record.status_label}”，请刷新页面查看。",
                    status=target, **dates)
    audit.record(hazard.tenant, audit_action, hazard,
                 {"from": source, "to": target, **({"reason": reason} if reason else {})}, actor=actor.user)
    return hazard


def light(hazard: Hazard, today: date | None = None) -> str:
    """The plans' overdue ladder on the five-fix deadline (红 past it, 黄 within three days, 绿
    otherwise); empty once the enterprise has reported the fix, or before there is a deadline."""
    if hazard.status not in OPEN_STATUSES or hazard.fix_deadline is None:
        return ""
    return plans.ladder_of(hazard.fix_deadline, False, today or clock.today())


def _overdue(today: date):
    return and_(Hazard.status.in_(OPEN_STATUSES), Hazard.fix_deadline < today)


def notify_overdue(today: date | None = None) -> int:
    """The daily automatic reminder (portal.schedule): each enterprise with a hazard past its
    rectification deadline is told, with the hazard's page."""
    today = today or clock.today()
    hazards = db.session.execute(select(Hazard).where(_overdue(today)).order_by(Hazard.id)
                                 .options(selectinload(Hazard.tenant))).scalars().all()
    urls = current_app.url_map.bind("", script_name=current_app.config["APPLICATION_ROOT"])
    for h in hazards:
        plans.notify_units([(h.tenant, urls.build("hazards.show", {"hazard_id": h.id}))], "overdue",
                           f"隐患“{h.description[:60]}”整改期限 {h.fix_deadline} 已过，请尽快整改并上报")
    return len(hazards)


# --- Listed supervision ----------------------------------------------------------------------------

GOVERNMENT_ROLES = ("admin", "leader", "staff", "inspector")


def trackers(node: Tenant):
    """People who may track a hazard listed by `node`: government and department staff of its subtree."""
    from portal.auth.models import User
    return (select(User).join(Membership, Membership.user_id == User.id)
            .where(in_subtree(Membership.tenant_path, node.path), Membership.role.in_(GOVERNMENT_ROLES),
                   User.active.is_(True))
            .distinct().order_by(User.display_name).limit(500))


def list_hazard(hazard: Hazard, actor: Membership, *, document_number: str, tracker_id: int | None,
                deadline: date | None, today: date | None = None) -> Hazard:
    """挂牌督办: a government level puts a major hazard of its subtree on its list."""
    from portal.auth.models import User
    node = actor.tenant
    if node.kind not in GOVERNMENT_KINDS:
        raise HazardError("挂牌督办须由政府层级进行。")
    lock(hazard)  # two levels listing at once: the second finds it listed by the first
    if not may_change(actor, hazard):
        raise HazardError("只能对本辖区内的隐患挂牌督办。")
    if hazard.level != "major":
        raise HazardError("只有重大事故隐患可以挂牌督办。")
    if hazard.status == "closed":
        raise HazardError("该隐患已销号，无需挂牌督办。")
    if hazard.listed:
        raise HazardError(f"该隐患已由{hazard.listed_by.name}挂牌督办。")
    document_number = (document_number or "").strip()
    if not document_number or len(document_number) > 100:
        raise HazardError("请填写督办文号（不超过 100 字）。")
    tracker = db.session.execute(trackers(node).where(User.id == tracker_id)).scalar_one_or_none() \
        if tracker_id else None
    if tracker is None:
        raise HazardError("请选择跟踪督办责任人：须为本级或下级政府、部门的在岗人员。")
    today = today or clock.today()
    if deadline is None or deadline < today:
        raise HazardError("督办期限须为今天或以后的日期。")
    hazard.listed_by, hazard.listed_level, hazard.listed_document_number = node, node.kind, document_number
    hazard.listed_tracker, hazard.listed_deadline, hazard.listed_on, hazard.delisted_on = tracker, deadline, today, None
    audit.record(hazard.tenant, "hazard.listed", hazard,
                 {"by": node.name, "document_number": document_number, "tracker": tracker.display_name,
                  "deadline": deadline.isoformat()}, actor=actor.user)
    return hazard


def may_delist(hazard: Hazard, actor: Membership) -> bool:
    """摘牌 is for the government level that listed the hazard, or one above it."""
    return actor.tenant.kind in GOVERNMENT_KINDS and may_change(actor, hazard.listed_by, administer=True)


def delist_hazard(hazard: Hazard, actor: Membership, today: date | None = None) -> Hazard:
    """摘牌: only after 销号, by the level that listed it or one above."""
    lock(hazard)
    if not hazard.listed:
        raise HazardError("该隐患没有挂牌督办。")
    if not may_delist(hazard, actor):
        raise HazardError(f"只有挂牌单位（{hazard.listed_by.name}）或其上级可以摘牌。")
    if hazard.status != "closed":
        raise HazardError(f"隐患尚未销号（当前为“{hazard.status_label}”），不能摘牌。")
    hazard.delisted_on = today or clock.today()
    audit.record(hazard.tenant, "hazard.delisted", hazard, {"by": actor.tenant.name}, actor=actor.user)
    return hazard


# --- Queries ---------------------------------------------------------------------------------------

SORTS = {"unit": "按单位（台账顺序）", "recent": "最新登记", "found": "发现日期（新→旧）", "deadline": "整改期限（近→远）"}


@dataclass
class LedgerFilter:
    status: str = ""
    level: str = ""
    source: str = ""
    industry: str = ""
    overdue: bool = False
    listed: bool = False
    # A street or enterprise inside the user's scope; its subtree only.
    within: Tenant | None = None
    q: str = ""
    sort: str = "unit"
    # A dispatch row (DISPATCH_ROWS) of `within` for the days `start`..`end`: exactly the hazards
    # its figure counts.
    row: str = ""
    start: date | None = None
    end: date | None = None

    @property
    def dispatch_row(self) -> bool:
        return self.row in DISPATCH_ROWS and self.within is not None and self.start is not None \
            and self.end is not None

    def params(self) -> dict:
        """The filter as export parameters (JSON)."""
        return {"status": self.status, "level": self.level, "source": self.source, "industry": self.industry,
                "overdue": self.overdue, "listed": self.listed, "within_id": self.within.id if self.within else None,
                "q": self.q, "sort": self.sort, "row": self.row,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None}


def ledger(f: LedgerFilter, today: date | None = None):
    """Hazards readable in the current scope that match `f` (a SELECT to paginate or export)."""
    stmt = select(Hazard)
    if f.dispatch_row:
        stmt = stmt.where(dispatch_filter(f.within, f.row, f.start, f.end))
    elif f.within is not None:
        stmt = stmt.where(in_subtree(Hazard.tenant_path, f.within.path))
    if f.status in STATUSES:
        stmt = stmt.where(Hazard.status == f.status)
    if f.level in LEVELS:
        stmt = stmt.where(Hazard.level == f.level)
    if f.source in SOURCES:
        stmt = stmt.where(Hazard.source == f.source)
    if f.industry in INDUSTRIES:
        stmt = stmt.where(Hazard.industry == f.industry)
    if f.overdue:
        stmt = stmt.where(_overdue(today or clock.today()))
    if f.listed:
        stmt = stmt.where(Hazard.listed_by_id.is_not(None), Hazard.delisted_on.is_(None))
    q = (f.q or "").strip()
    if q:
        by_name = select(Tenant.id).where(Tenant.kind == "enterprise", Tenant.name.contains(q, autoescape=True))
        matches = [Hazard.description.contains(q, autoescape=True), Hazard.location.contains(q, autoescape=True),
                   Hazard.tenant_id.in_(by_name)]
        if q.isdigit():
            matches.append(Hazard.id == int(q))
        stmt = stmt.where(or_(*matches))
    # Tree order (street by street, enterprise by enterprise) is the ledger's own order and the
    # index's, so a page of it costs no sort however large the subtree; the others sort it.
    order = {"recent": (Hazard.id.desc(),), "found": (Hazard.found_at.desc(), Hazard.id.desc()),
             "deadline": (Hazard.fix_deadline.is_(None), Hazard.fix_deadline, Hazard.id),
             }.get(f.sort, (Hazard.tenant_path, Hazard.id))
    return stmt.options(selectinload(Hazard.tenant), selectinload(Hazard.standard_item)).order_by(*order)


def count(stmt) -> int:
    return db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()


def inbox():
    """For a street, department or level above: (awaiting its acceptance or close-out, major
    hazards still open). Routing is the scope: a street reads its enterprises, a department the
    enterprises of its industries in its government's territory (分级属地, 三管三必须)."""
    awaiting = (select(Hazard).where(Hazard.status.in_(("rectified", "accepted")))
                .options(selectinload(Hazard.tenant)).order_by(Hazard.rectified_on, Hazard.id))
    open_major = (select(Hazard).where(Hazard.level == "major", Hazard.status.in_(OPEN_STATUSES))
                  .options(selectinload(Hazard.tenant)).order_by(Hazard.id.desc()))
    return awaiting, open_major


def listed(current_only: bool = True, near: date | None = None):
    """Listed hazards (only those still on the list unless `current_only` is off); with `near`
    (today), those whose listing deadline falls within the overdue ladder's yellow days."""
    stmt = select(Hazard).where(Hazard.listed_by_id.is_not(None))
    if current_only or near:
        stmt = stmt.where(Hazard.delisted_on.is_(None))
    if near:
        stmt = stmt.where(Hazard.listed_deadline >= near,
                          Hazard.listed_deadline <= near + timedelta(days=plans.YELLOW_DAYS))
    return stmt.options(selectinload(Hazard.tenant), selectinload(Hazard.listed_by),
                        selectinload(Hazard.listed_tracker)).order_by(Hazard.listed_deadline, Hazard.id)


def timeline(hazard: Hazard) -> list[AuditEvent]:
    """Every audited step of the hazard, oldest first: who, when, what, why."""
    return db.session.execute(
        select(AuditEvent).where(AuditEvent.tenant_id == hazard.tenant_id, AuditEvent.object_type == "Hazard",
                                 AuditEvent.object_id == hazard.id)
        .options(selectinload(AuditEvent.actor)).order_by(AuditEvent.seq)).scalars().all()


# --- Stock, increment, trend and the dispatch figures ----------------------------------------------

def _area(tenant: Tenant):
    """The hazards a node answers for: its subtree; for a department, also its industries'
    enterprises in its government's territory. The same rule as tenants.scope, so the figures of a
    node are what its own users see."""
    return Scope.of(tenant, "staff").area(Hazard)


def cutoff(tenant: Tenant) -> date:
    """Hazards found before this day are stock (存量). 2024-01-01 unless a level set its own."""
    value = inherit.resolve(tenant, STOCK_CUTOFF)
    return date.fromisoformat(value) if value else DEFAULT_CUTOFF


@dataclass(frozen=True)
class StockFigures:
    year: int
    cutoff: date
    as_of: date
    stock: int  # found before the cut-off
    stock_open: int  # of them not closed out by as_of
    stock_cleared_in_year: int
    increment: int  # found in the year (on or after the cut-off)
    increment_open: int
    overdue: int  # open past their deadline on as_of

    @property
    def dynamic_zero(self) -> bool:
        """动态清零: no stock left and nothing open past its deadline."""
        return self.stock_open == 0 and self.overdue == 0


def stock_figures(tenant: Tenant, year: int, today: date | None = None) -> StockFigures:
    """Major hazards of `tenant`'s area for `year`, counted as of the year's end (or today)."""
    today = today or clock.today()
    cut = cutoff(tenant)
    start, end = date(year, 1, 1), min(date(year, 12, 31), today)
    increment_from = max(start, cut)
    stock = Hazard.found_at < cut
    still_open = or_(Hazard.closed_on.is_(None), Hazard.closed_on > end)
    in_year = and_(Hazard.found_at >= increment_from, Hazard.found_at <= end)
    overdue = and_(Hazard.status.in_(OPEN_STATUSES), Hazard.fix_deadline < end, Hazard.found_at <= end)

    def n(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
    row = db.session.execute(
        select(n(stock), n(and_(stock, still_open)), n(and_(stock, Hazard.closed_on >= start, Hazard.closed_on <= end)),
               n(in_year), n(and_(in_year, still_open)), n(overdue))
        .where(_area(tenant), Hazard.level == "major", Hazard.found_at <= end)).one()
    return StockFigures(year, cut, end, *[int(v) for v in row])


@dataclass(frozen=True)
class Month:
    month: int
    found: int
    closed: int
    open_at_end: int
    stock_open_at_end: int


def monthly_trend(tenant: Tenant, year: int, today: date | None = None) -> list[Month]:
    """Per month of `year` up to today: major hazards found, closed out, and open at the month's
    end (all, and the stock among them). Three grouped queries."""
    today = today or clock.today()
    cut, start = cutoff(tenant), date(year, 1, 1)
    last_month = 12 if year < today.year else (today.month if year == today.year else 0)
    base = select().where(_area(tenant), Hazard.level == "major")
    open_before = db.session.execute(
        base.add_columns(func.count(), func.coalesce(func.sum(case((Hazard.found_at < cut, 1), else_=0)), 0))
        .where(Hazard.found_at < start, or_(Hazard.closed_on.is_(None), Hazard.closed_on >= start))).one()
    is_stock = case((Hazard.found_at < cut, 1), else_=0)

    def per_month(column):
        month = extract("month", column)
        counts: dict[int, list[int]] = {}
        for m, stock_flag, n in db.session.execute(
                base.add_columns(month, is_stock, func.count())
                .where(column >= start, column <= date(year, 12, 31)).group_by(month, is_stock)).all():
            counts.setdefault(int(m), [0, 0])[int(stock_flag)] += n
        return counts
    found, closed = per_month(Hazard.found_at), per_month(Hazard.closed_on)
    months, open_now, stock_now = [], int(open_before[0]), int(open_before[1])
    for m in range(1, last_month + 1):
        found_other, found_stock = found.get(m, [0, 0])
        closed_other, closed_stock = closed.get(m, [0, 0])
        open_now += found_other + found_stock - closed_other - closed_stock
        stock_now += found_stock - closed_stock
        months.append(Month(m, found_other + found_stock, closed_other + closed_stock, open_now, stock_now))
    return months


def dispatch_conditions(tenant: Tenant, start: date, end: date) -> dict:
    """What each hazard row of a dispatch table counts, as a condition on a hazard, for the days
    `start`..`end` (both included). The figures sum these and the drill-down lists them, so a
    number and its list cannot disagree.

    - found: found (`found_at`) in the period, by source: 企业自查 (self), 部门检查 (department);
    - rectified: of those, accepted (验收通过, `accepted_on`) on or before `end`: the department has
      checked the fix, which is what 已完成整改 means on the table;
    - listed: listed for supervision (`listed_on`) in the period by a level, whenever found;
    - stock.* (存量, the three-year action): found before the stock cut-off (`cutoff`), still open
      at `end` / closed out by then; a snapshot at `end`, whatever the table's start;
    - increment.* (增量): found from 1 January of `end`'s year (not before the cut-off) to `end`,
      and of them those still open at `end`;
    - zero.overdue: open at `end` and past its rectification deadline; 动态清零 (zero.reached) is
      reached when neither these nor stock are left.
    """
    found = Hazard.found_at.between(start, end)
    listed = and_(Hazard.listed_on.between(start, end), Hazard.listed_level.is_not(None))
    rectified = Hazard.accepted_on <= end
    cut = cutoff(tenant)
    open_at_end = and_(Hazard.found_at <= end, or_(Hazard.closed_on.is_(None), Hazard.closed_on > end))
    stock = Hazard.found_at < cut
    increment = Hazard.found_at.between(max(cut, date(end.year, 1, 1)), end)
    return {
        "hazards.self_found": and_(Hazard.source == "self", found),
        "hazards.self_rectified": and_(Hazard.source == "self", found, rectified),
        "hazards.dept_found": and_(Hazard.source == "department", found),
        "hazards.dept_rectified": and_(Hazard.source == "department", found, rectified),
        "hazards.listed": listed,
        "hazards.listed_rectified": and_(listed, rectified),
        # Not rows of the seeds' tables: verified tips that became major hazards.
        "hazards.tip_found": and_(Hazard.source == "tip", found),
        "hazards.tip_rectified": and_(Hazard.source == "tip", found, rectified),
        "stock.open": and_(stock, open_at_end),
        "stock.cleared": and_(stock, Hazard.closed_on <= end),
        "increment.found": increment,
        "increment.open": and_(increment, open_at_end),
        "zero.overdue": and_(open_at_end, Hazard.fix_deadline < end),
        "zero.reached": or_(and_(stock, open_at_end), and_(open_at_end, Hazard.fix_deadline < end)),
    }


# Rows of the dispatch table counted from the ledger (the codes of DISPATCH_ROWS.md).
DISPATCH_ROWS = ("hazards.self_found", "hazards.self_rectified", "hazards.dept_found", "hazards.dept_rectified",
                 "hazards.listed", "hazards.listed_rectified", "hazards.tip_found", "hazards.tip_rectified",
                 "stock.open", "stock.cleared", "increment.found", "increment.open", "zero.overdue", "zero.reached")


def dispatch_filter(tenant: Tenant, code: str, start: date, end: date):
    """The major hazards of `tenant`'s area that the row `code` counts (for zero.reached: those
    that keep it from 动态清零)."""
    return and_(_area(tenant), Hazard.level == "major", dispatch_conditions(tenant, start, end)[code])


def dispatch_figures(tenant: Tenant, start: date, end: date, part: tuple[str, ...] | None = None) -> dict:
    """Every hazard row of `tenant`'s area for `start`..`end` (dispatch_conditions), and the
    listed rows by the kind of the listing level (省、市、县分别统计) as
    {"hazards.listed@city": n, …}. With `part`, of a level's subtree only the node itself and
    the subtrees at `part` (tenants.paths.in_part; its other children's figures are kept apart).
    One grouped query; the current scope still applies, so a caller sees only what its user may
    read."""
    conditions = dispatch_conditions(tenant, start, end)
    counted = [code for code in DISPATCH_ROWS if code != "zero.reached"]

    def n(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
    rows = db.session.execute(
        select(Hazard.listed_level, *[n(conditions[code]) for code in counted])
        .where(_area(tenant) if part is None else in_part(Hazard.tenant_path, tenant.path, part),
               Hazard.level == "major", Hazard.found_at <= end)
        .group_by(Hazard.listed_level)).all()
    out = {code: 0 for code in counted}
    for level, *values in rows:
        for code, value in zip(counted, values):
            out[code] += int(value)
            if level and code.startswith("hazards.listed") and value:
                out[f"{code}@{level}"] = out.get(f"{code}@{level}", 0) + int(value)
    out["zero.reached"] = int(out["stock.open"] == 0 and out["zero.overdue"] == 0)
    return out


# --- Excel import and export -------------------------------------------------------------------------

# The ledger's columns in the order of the import template; the export writes them too (plus the
# columns in EXPORT_ONLY), so an exported sheet can be edited and imported elsewhere.
COLUMNS = {
    "credit_code": "统一社会信用代码",
    "level": "隐患级别",
    "source": "隐患来源",
    "item": "判定依据条款编号",
    "description": "隐患描述",
    "location": "隐患部位",
    "found_at": "发现日期",
    "on_the_spot": "当场整改",
    "fix_owner": "整改责任人",
    "fix_measures": "整改措施",
    "fix_funds": "整改资金（万元）",
    "fix_deadline": "整改期限",
    "fix_contingency": "应急预案",
}
REQUIRED_COLUMNS = ("credit_code", "level", "description", "found_at")
EXPORT_ONLY = {"id": "隐患编号", "enterprise": "企业名称", "status": "状态", "listed": "挂牌督办", "light": "逾期"}
XLSX = spreadsheets.XLSX
_LEVEL_WORDS = {"重大": "major", "重大事故隐患": "major", "一般": "general", "一般隐患": "general",
                **{v: k for k, v in LEVELS.items()}}
_SOURCE_WORDS = {"企业自查": "self", "自查": "self", "部门检查": "department", "检查": "department"}
_YES, _NO = spreadsheets.YES, spreadsheets.NO


def _cell_date(value, label: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = spreadsheets.cell_text(value).replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").rstrip("日")
    try:
        return date.fromisoformat("-".join(part.zfill(2) for part in text.split("-")))
    except ValueError:
        raise HazardError(f"{label}“{spreadsheets.cell_text(value)}”不是有效日期，请写成 2024-03-15。") from None


def _cell_money(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(spreadsheets.cell_text(value).replace(",", "").replace("万元", "").replace("万", ""))
    except InvalidOperation:
        raise HazardError(f"整改资金“{spreadsheets.cell_text(value)}”不是数字（单位：万元）。") from None


def _rows_of(data: bytes):
    return spreadsheets.read(data, COLUMNS, REQUIRED_COLUMNS, IMPORT_MAX_ROWS, HazardError).rows


def import_ledger(actor: Membership, data: bytes, today: date | None = None) -> list[Hazard]:
    """Create one hazard per row of an uploaded workbook, all or nothing: every row is checked
    first, and any bad row refuses the whole file with each problem's row number."""
    today = today or clock.today()
    rows = _rows_of(data)
    if not rows:
        raise HazardError("表格中没有数据行。")
    codes = {spreadsheets.cell_text(r["credit_code"]).upper() for _, r in rows}
    # Read through the scope: an enterprise outside it is simply not found.
    enterprises = {t.credit_code: t for t in db.session.execute(
        select(Tenant).where(Tenant.kind == "enterprise", Tenant.credit_code.in_(codes))).scalars()}
    # Looked up past scope (a supervising department's key items), then checked against what binds
    # each row's enterprise below.
    with unscoped():
        items_by_code = {i.code: i for i in db.session.execute(select(StandardItem).where(
            StandardItem.code.in_({spreadsheets.cell_text(r.get("item")) for _, r in rows}))).scalars()}
    applicable: dict[int, dict[int, StandardItem]] = {}
    accepted, errors = [], []
    for number, r in rows:
        try:
            code = spreadsheets.cell_text(r["credit_code"]).upper()
            enterprise = enterprises.get(code)
            if enterprise is None:
                raise HazardError(f"统一社会信用代码“{code}”不是您管辖范围内已登记的企业。" if code
                                  else "请填写企业的统一社会信用代码。")
            source = _source_of(enterprise, actor)
            word = spreadsheets.cell_text(r.get("source"))
            if word:
                if word not in _SOURCE_WORDS:
                    raise HazardError("隐患来源只能填“企业自查”或“部门检查”（举报须经举报核查登记）。")
                if actor.tenant.kind == "enterprise" and _SOURCE_WORDS[word] != "self":
                    raise HazardError("企业导入的隐患来源只能是“企业自查”。")
                source = _SOURCE_WORDS[word]
            level = _LEVEL_WORDS.get(spreadsheets.cell_text(r["level"]))
            if level is None:
                raise HazardError("隐患级别只能填“重大”或“一般”。")
            spot = spreadsheets.cell_text(r.get("on_the_spot"))
            if spot not in _YES | _NO:
                raise HazardError("当场整改只能填“是”或“否”。")
            item_code = spreadsheets.cell_text(r.get("item"))
            if item_code and item_code not in items_by_code:
                raise HazardError(f"判定依据条款编号“{item_code}”不存在，编号见“判定标准”页面。")
            if enterprise.id not in applicable:
                applicable[enterprise.id] = {i.id: i for i in applicable_items(enterprise)}
            fixes = Fixes(owner=spreadsheets.cell_text(r.get("fix_owner")), measures=spreadsheets.cell_text(r.get("fix_measures")),
                          funds=_cell_money(r.get("fix_funds")), deadline=_cell_date(r.get("fix_deadline"), "整改期限"),
                          contingency=spreadsheets.cell_text(r.get("fix_contingency")))
            finding = Finding(level=level, description=spreadsheets.cell_text(r["description"]),
                              location=spreadsheets.cell_text(r.get("location")),
                              found_at=_cell_date(r["found_at"], "发现日期"),
                              item_id=items_by_code[item_code].id if item_code else None,
                              on_the_spot=spot in _YES, fixes=fixes)
            accepted.append((enterprise, source, _checked(enterprise, finding, applicable[enterprise.id], today)))
        except HazardError as e:
            errors.append(f"第 {number} 行：{e}")
    if errors:
        raise ImportRejected(errors)
    return [_create(enterprise, actor, source, actor.tenant, columns, {"imported": True})
            for enterprise, source, columns in accepted]


def template_workbook() -> bytes:
    """The empty import template: the header row and one example row to overwrite."""
    return spreadsheets.template("隐患台账", COLUMNS, [[
        "91120102MA05XXXXXX", "重大", "企业自查", "GM2023-03.1", "（示例，请删除本行）外包单位未纳入统一管理",
        "二号库房", "2024-03-15", "否", "张三", "签订安全协议并纳入统一检查", 2.5, "2024-04-30",
        "整改期间停止外包作业，设专人监护"]])


def _row_values(h: Hazard, today: date, cited: dict[int, StandardItem]) -> dict:
    item = cited.get(h.standard_item_id)
    return {"id": h.id, "enterprise": h.tenant.name, "credit_code": h.tenant.credit_code, "level": LEVELS[h.level],
            "source": SOURCES[h.source], "item": item.code if item else "",
            "description": h.description, "location": h.location, "found_at": h.found_at,
            "on_the_spot": "是" if h.on_the_spot else "否", "fix_owner": h.fix_owner, "fix_measures": h.fix_measures,
            "fix_funds": h.fix_funds, "fix_deadline": h.fix_deadline, "fix_contingency": h.fix_contingency,
            "status": STATUSES[h.status],
            "listed": f"{h.listed_by.name} {h.listed_document_number}" if h.listed else "",
            "light": "逾期" if light(h, today) == "red" else ""}


def _filter_from(params: dict) -> LedgerFilter:
    within = None
    if params.get("within_id"):
        within = db.session.execute(select(Tenant).where(Tenant.id == params["within_id"])).scalar_one_or_none()
    known = {f.name for f in fields(LedgerFilter)} - {"within"}
    return LedgerFilter(within=within, **{k: v for k, v in params.items() if k in known})


def _export_rows(params: dict, limit: int) -> list[Hazard]:
    stmt = ledger(_filter_from(params)).options(selectinload(Hazard.listed_by))
    return db.session.execute(stmt.limit(limit)).scalars().all()


def _content(rows: list[Hazard], today: date, cited: dict[int, StandardItem]) -> list[list[str]]:
    keys = list(EXPORT_ONLY) + list(COLUMNS)
    return [["" if v is None else str(v) for v in map(_row_values(h, today, cited).get, keys)] for h in rows]


# The ledger shows the hazards of the node, which everyone whose scope covers the node reads in the pages.
@exports.builder("hazards.ledger", readers=exports.access.ANYONE_IN_SCOPE)
def build_ledger_pdf(tenant: Tenant, params: dict) -> exports.Built:
    today = clock.today()
    rows = _export_rows(params, PDF_MAX_ROWS)
    cited = cited_items(rows)
    return exports.Built("hazards/ledger_document.html", {"rows": _content(rows, today, cited)},
                         {"rows": rows, "today": today, "light": light, "filters": describe(params), "cited": cited})


@exports.builder("hazards.ledger_xlsx", readers=exports.access.ANYONE_IN_SCOPE, file_type="xlsx")
def build_ledger_xlsx(tenant: Tenant, params: dict) -> exports.Built:
    today = clock.today()
    rows = _export_rows(params, 1_000_000)
    cited = cited_items(rows)
    content = _content(rows, today, cited)

    def write(context: dict) -> bytes:
        workbook = spreadsheets.workbook(write_only=True)
        sheet = workbook.create_sheet("隐患台账")
        keys = list(EXPORT_ONLY) + list(COLUMNS)
        spreadsheets.append(sheet, [{**EXPORT_ONLY, **COLUMNS}[k] for k in keys])
        for h in rows:
            values = _row_values(h, today, cited)
            spreadsheets.append(sheet, [values[k] for k in keys])
        about = workbook.create_sheet("说明")
        doc = context["doc"]
        for line in (("标题", doc.title), ("单位", " › ".join(t.name for t in context["chain"])),
                     ("筛选条件", describe(params) or "全部"), ("行数", len(rows)),
                     ("生成时间", context["generated_at"]), ("文件编号", f"EXP-{doc.id:06d}"),
                     ("校验码", doc.code), ("内容摘要（SHA-256）", doc.content_sha256),
                     ("核验", "在本平台“文件核验”页面输入校验码")):
            spreadsheets.append(about, list(line))
        return spreadsheets.save(workbook)
    return exports.Built(None, {"rows": content}, write=write)


def describe(params: dict) -> str:
    """The filters of an export in words, printed on the document."""
    words = []
    for key, names in (("status", STATUSES), ("level", LEVELS), ("source", SOURCES), ("industry", INDUSTRIES)):
        if params.get(key) in names:
            words.append(names[params[key]])
    if params.get("overdue"):
        words.append("逾期未整改")
    if params.get("listed"):
        words.append("挂牌督办中")
    if params.get("within_id"):
        within = db.session.execute(select(Tenant.name).where(Tenant.id == params["within_id"])).scalar()
        if within:
            words.append(within)
    if params.get("q"):
        words.append(f"含“{params['q']}”")
    return "、".join(words)


def request_export(tenant: Tenant, f: LedgerFilter, file_type: str, today: date | None = None,
                   *, actor: Membership | None = None):
    """Queue the ledger as a PDF or Excel document. Returns (document, rows, heavy): a PDF over
    PDF_INLINE_ROWS rows is heavy and is laid out in a process of its own."""
    rows = count(ledger(f, today))
    if rows == 0:
        raise HazardError("没有符合条件的隐患，无需导出。")
    kind = "hazards.ledger_xlsx" if file_type == "xlsx" else "hazards.ledger"
    if kind == "hazards.ledger" and rows > PDF_MAX_ROWS:
        raise HazardError(f"共 {rows} 条，PDF 最多 {PDF_MAX_ROWS} 条。请缩小筛选范围，或导出 Excel。")
    title = f"{tenant.name}隐患台账" + (f"（{describe(f.params())}）" if describe(f.params()) else "")
    doc = exports.request_export(tenant, kind=kind, title=title[:200], params=f.params(), actor=actor)
    return doc, rows, kind == "hazards.ledger" and rows > PDF_INLINE_ROWS
