"""Dispatch tables: which table a unit reports in and for which period, the figures of a node
computed from its subtree's records (derived rows) and its units' typed figures (manual rows),
submission, approval, locking and supersession, reminders and the official exports."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.accountability import letters
from portal.accountability import service as accountability
from portal.accountability.models import AccountabilityRecord
from portal.audit import service as audit
from portal import cache
from portal.checklists import service as checklists
from portal.checklists.models import ComplianceFinding
from portal.database import compare_and_set, lock
from portal.dispatch import periods as periods_
from portal.dispatch.periods import (PERIOD_LABELS, DispatchError, Period, current_period, parse_period,  # noqa: F401
                                     period_of, periods, span)
from portal.dispatch.models import (DispatchChange, DispatchReceipt, DispatchRollup, ManualFigure, ReportDefinition,
                                     ReportSubmission, UpwardReport)
from portal.exports import service as exports
from portal import spreadsheets
from portal.extensions import db
from portal.hazards import service as hazards
from portal.hazards.models import Hazard
from portal.inspections import service as inspections
from portal.inspections.models import EnforcementAction, Inspection, SpotFinding
from portal.plans import rules as plan_rules
from portal.plans import service as plans
from portal.plans.models import Campaign
from portal.tips import service as tips
from portal.tips.models import Tip
from tenants import clock, inherit
from tenants.models import Membership, Tenant, TenantSetting
from tenants.paths import ids_of, in_subtree
from tenants.scope import Scope, scoped_as

Figures = inspections.Figures


@dataclass(frozen=True)
class Metric:
    label: str
    unit: str
    source: str  # hazards, inspections, tips, checklists or manual
    by_level: bool = False  # counted separately for 省 / 市 / 县 where the form asks
    second: tuple[str, str, str] | None = None  # (code, label, unit) of a row's second figure
    yes_no: bool = False

    @property
    def manual(self) -> bool:
        return self.source == "manual"

    @property
    def money(self) -> bool:
        return self.unit == "万元"


# Every row of both tables by its code (/work/shared/DISPATCH_ROWS.md).
METRICS = {
    "hazards.self_found": Metric("企业自查发现的重大事故隐患", "个", "hazards"),
    "hazards.self_rectified": Metric("企业自查发现重大事故隐患中已完成整改的", "个", "hazards"),
    "hazards.dept_found": Metric("部门检查发现的重大事故隐患", "个", "hazards"),
    "hazards.dept_rectified": Metric("部门检查发现重大事故隐患中已完成整改的", "个", "hazards"),
    "hazards.listed": Metric("政府挂牌督办的重大事故隐患", "个", "hazards", by_level=True),
    "hazards.listed_rectified": Metric("挂牌督办重大事故隐患中已完成整改的", "个", "hazards", by_level=True),
    "spot.enterprises": Metric("部门抽查检查的企业总数", "家", "inspections"),
    **{code: Metric(label, "家", "inspections") for code, label in inspections.FINDINGS.items()},
    "enf.assist_areas": Metric("帮扶指导重点市、县", "个次", "inspections"),
    "enf.assist_enterprises": Metric("帮扶指导重点企业", "家次", "inspections"),
    "enf.penalties": Metric("行政处罚", "次", "inspections", second=("enf.penalties.amount", "罚款", "万元")),
    "enf.double_penalties": Metric("企业和企业主要负责人“一案双罚”", "次", "inspections"),
    "enf.referred_persons": Metric("移送司法机关", "人", "inspections"),
    "enf.suspended": Metric("责令停产整顿", "家", "inspections"),
    "enf.exposed": Metric("曝光、约谈、联合惩戒企业", "家", "inspections"),
    "enf.cases_published": Metric("公布典型执法案例", "个", "inspections",
                                  second=("enf.cases_published.crime", "其中危险作业罪案例", "个")),
    "enf.accountable_persons": Metric("责任倒查追责问责", "人", "inspections"),
    "enf.interviews": Metric("约谈通报有关地区及部门", "次", "inspections"),
    "lead.study_sessions": Metric("专题学习安全生产十五条硬措施", "次", "manual", by_level=True),
    "lead.principal_studies": Metric("党政主要负责同志专题研究", "次", "manual", by_level=True),
    "lead.site_supervision": Metric("负责同志现场督导检查", "次", "manual", by_level=True),
    "lead.enterprise_briefings": Metric("安委会成员单位负责同志到企业宣讲", "次", "manual", by_level=True),
    "lead.tip_rewards": Metric("举报奖励", "万元", "tips",
                               second=("lead.tip_rewards.anonymous", "其中匿名举报查实奖励", "万元")),
    "lead.media_column": Metric("是否在主流媒体播放安全生产专题栏目", "是/否", "manual", yes_no=True),
    "lead.inspectors": Metric("配备专兼职技术检查员数量", "人", "manual", by_level=True),
    "lead.supervision_rounds": Metric("组织开展考核巡查督导检查", "次", "manual"),
    # The 2024–2026 三年行动 (seeds/004_…): clear the 2023 stock by 2024, curb the increment in
    # 2025, dynamic zero by 2026. Counted as at the period's end, whatever the table's start.
    "stock.open": Metric("2023年及以前排查发现的重大事故隐患存量（尚未销号）", "个", "hazards"),
    "stock.cleared": Metric("存量重大事故隐患中已整改销号的", "个", "hazards"),
    "increment.found": Metric("本年新排查发现的重大事故隐患（增量）", "个", "hazards"),
    "increment.open": Metric("本年增量中尚未销号的", "个", "hazards"),
    "zero.overdue": Metric("超过整改期限仍未销号的重大事故隐患", "个", "hazards"),
    "zero.reached": Metric("是否实现重大事故隐患动态清零", "是/否", "hazards", yes_no=True),
    # Failed duties the daily evaluation keeps (portal.checklists): enterprises, and for the lists of
    # the government levels and departments, units.
    **{row: Metric(checklists.FINDING_KINDS[code].label, "个" if code in checklists.UNIT_FINDINGS else "家", "checklists")
       for row, code in checklists.DISPATCH_ROWS.items()},
}
# The catalogue's blocks: a table composed from codes puts each row under its block, in this order.
BLOCKS = {"hazards": "总体情况", "spot": "对企业自查自改进行抽查检查情况", "enf": "部门精准严格执法情况",
          "lead": "组织领导情况", "stock": "治本攻坚三年行动重大事故隐患存量、增量和动态清零情况",
          "duty": "企业履职和责任清单签署情况（系统按方案规定判定）"}
BLOCK_OF = {"hazards": "hazards", "spot": "spot", "enf": "enf", "lead": "lead", "stock": "stock",
            "increment": "stock", "zero": "stock", "duty": "duty"}


def block_of(code: str) -> str:
    return BLOCK_OF[code.split(".")[0]]
SECOND = {m.second[0]: (code, m.second) for code, m in METRICS.items() if m.second}
# Levels of the national split (省、市、县分别统计).
LEVELS = {"province": "省级", "city": "市级", "district": "县级"}
# Kinds of unit a table may be filled by; 站所 are departments under a township.
FILLERS = {"province": "省级", "city": "市级", "district": "区县", "street": "街道/乡镇", "village": "村/社区",
           "department": "部门", "station": "站所"}
# The filler kinds that can sit below an owner of each kind (tenants.models.CHILD_KINDS, with the
# departments under a street as 站所).
FILLERS_BELOW = {
    "national": tuple(FILLERS), "province": ("city", "district", "street", "village", "department", "station"),
    "city": ("district", "street", "village", "department", "station"),
    "district": ("street", "village", "department", "station"), "street": ("village", "station"),
}
# Who filled a table before the kinds were chosen: every government level and department below.
LEGACY_FILLERS = ("province", "city", "district", "street", "department")
BOARD = {"submitted": "已报", "pending": "未报", "overdue": "逾期"}


def codes(definition: ReportDefinition) -> list[str]:
    return [row["code"] for block in definition.layout for row in block["rows"]]


def layout_rows(definition: ReportDefinition):
    """(block index, block title, row number, code, label, metric) in the form's order."""
    for b, block in enumerate(definition.layout):
        for n, row in enumerate(block["rows"], 1):
            yield b, block["title"], n, row["code"], row.get("label") or METRICS[row["code"]].label, METRICS[row["code"]]


# ---------------------------------------------------------------- definitions

def filler_kind(tenant: Tenant) -> str:
    if tenant.kind == "department" and tenant.parent is not None and tenant.parent.kind == "street":
        return "station"
    return tenant.kind


def catalogue() -> list[tuple[str, str, list[tuple[str, Metric]]]]:
    """The rows a table can be composed of, by block: [(block, title, [(code, metric)])]."""
    return [(key, title, [(code, m) for code, m in METRICS.items() if block_of(code) == key])
            for key, title in BLOCKS.items()]


def compose(rows: list[str], base: list[dict] | None = None) -> list[dict]:
    """A layout of the catalogue's `rows`: those of the base (a parent table's layout, its titles and
    labels kept) in its order, every other added to the block of its kind in the catalogue's order."""
    layout = [{"title": b["title"], "rows": [dict(r) for r in b["rows"] if r["code"] in rows]} for b in base or []]
    present = {r["code"] for b in layout for r in b["rows"]}
    for code in (c for c in METRICS if c in rows and c not in present):
        key = block_of(code)
        block = next((b for b in layout if b["rows"] and block_of(b["rows"][0]["code"]) == key), None)
        if block is None:
            block = {"title": BLOCKS[key], "rows": []}
            layout.append(block)
        block["rows"].append({"code": code})
    return layout


def _terms(d) -> dict:
    """What a child table may not loosen, as the inheritance check compares it."""
    return {"rows": set(codes(d)), "period": d.period, "due_day": d.due_day, "due_month": d.due_month,
            "due_time": d.due_time, "cumulative": d.cumulative, "describe": periods_.describe(d),
            "starts_on": periods_.first_day(d), "ends_on": periods_.last_day(d)}


def _looser(parent: dict, child: dict) -> str | None:
    """Why a table is looser than the parent table it extends: a row dropped, reported less often
    or later, not cumulative where the parent is, starting later or ending earlier."""
    dropped = [METRICS[c].label for c in METRICS if c in parent["rows"] and c not in child["rows"]]
    if dropped:
        return f"不得删减上级调度表的行：{'、'.join(dropped)}。"
    p_days, c_days = plan_rules.PERIODS[parent["period"]][1], plan_rules.PERIODS[child["period"]][1]
    later = c_days == p_days and (child["due_month"] or 0, child["due_day"] or 0, child["due_time"] or time.max) > \
        (parent["due_month"] or 0, parent["due_day"] or 0, parent["due_time"] or time.max)
    if c_days > p_days or later:
        return f"不得放宽上级调度表的上报要求：上级为“{parent['describe']}”，本级为“{child['describe']}”。"
    if parent["cumulative"] and not child["cumulative"]:
        return "上级调度表报累计数据，本级也须报累计数据。"
    if child["starts_on"] > parent["starts_on"] or child["ends_on"] < parent["ends_on"]:
        return (f"上报起止日期不得短于上级调度表（{parent['starts_on']} 至 {parent['ends_on']}）。")
    return None


inherit.register_check("dispatch.table", _looser)


def current(definition: ReportDefinition) -> ReportDefinition:
    """The version of `definition`'s table in force now."""
    if definition.replaced_at is None:
        return definition
    return db.session.execute(select(ReportDefinition).where(
        ReportDefinition.series_id == definition.series_id, ReportDefinition.replaced_at.is_(None))).scalar_one()


def _series_ids(definition: ReportDefinition):
    return select(ReportDefinition.id).where(ReportDefinition.series_id == definition.series_id)


@dataclass
class TableSpec:
    """What an admin chooses for a table; `clean` checks it whole and says everything wrong."""
    name: str = ""
    rows: list[str] | None = None
    layout: list[dict] | None = None
    parent: ReportDefinition | None = None
    period: str | None = None
    due_day: int | None = None
    due_month: int | None = None
    due_time: time | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    cumulative: bool = True
    fillers: list[str] | None = None
    by_level: bool = False
    notes: str = ""


def _clean(owner: Tenant, campaign: Campaign, spec: TableSpec, same: ReportDefinition | None = None) -> dict:
    errors = []
    name = (spec.name or "").strip()
    if not name:
        errors.append("请填写调度表名称。")
    elif len(name) > 200:
        errors.append(f"调度表名称最多 200 个字，现为 {len(name)} 个字。")
    elif db.session.execute(select(ReportDefinition.id).where(
            ReportDefinition.tenant_id == owner.id, ReportDefinition.name == name,
            ReportDefinition.replaced_at.is_(None),
            ReportDefinition.series_id != (same.series_id if same else -1))).first():
        errors.append(f"本单位已有名为“{name}”的调度表。")
    period, day, month, at = spec.period, spec.due_day, spec.due_month, spec.due_time
    if period not in PERIOD_LABELS:
        errors.append("请选择上报周期：每周、每半月、每月、每季度或每年。")
    elif period == "week":
        if day not in range(1, 8):
            errors.append("每周上报请选择截止的星期几。")
        at = at or time(12)  # 河北区: 每周一中午前
        month = None
    elif period == "half_month":
        day = month = None
    elif period == "month":
        if day not in range(1, 29):
            errors.append("每月上报请填写次月的截止日（1 到 28 日）。")
        month = None
    elif period == "quarter":
        if day not in range(1, 32):
            errors.append("每季度上报请填写季度末月的截止日（1 到 31 日）。")
        month = None
    else:
        try:
            date(2001, month, day)
        except (TypeError, ValueError):
            errors.append("每年上报请填写有效的截止日期（月、日）。")
    starts = spec.starts_on or campaign.starts_on
    ends = spec.ends_on or campaign.ends_on
    if ends < starts:
        errors.append(f"停止上报日期（{ends}）不能早于开始上报日期（{starts}）。")
    fillers = list(dict.fromkeys(spec.fillers or []))
    allowed = FILLERS_BELOW.get(owner.kind, ())
    if not fillers:
        errors.append("请选择由哪些下级单位填报。")
    elif any(f not in allowed for f in fillers):
        wrong = [FILLERS.get(f, f) for f in fillers if f not in allowed]
        errors.append(f"{owner.name}之下没有这类单位：{'、'.join(wrong)}。")
    parent = spec.parent
    if parent is not None:
        parent = current(parent)
        if parent.tenant_id not in owner.ancestor_ids:
            errors.append("只能继承上级单位的调度表。")
        elif parent.campaign_id != campaign.id:
            errors.append("继承的调度表须属于同一专项行动。")
    layout = spec.layout
    if layout is None:
        rows = [r for r in (spec.rows or []) if r]
        unknown = [r for r in rows if r not in METRICS]
        if unknown:
            errors.append(f"未知的调度表行：{'、'.join(unknown)}。")
        # A changed table keeps its own titles and labels; a new one starts from its parent's.
        base = same.layout if same is not None else parent.layout if parent is not None else None
        layout = compose(rows, base)
    else:
        unknown = [r["code"] for b in layout for r in b["rows"] if r["code"] not in METRICS]
        if unknown:
            errors.append(f"未知的调度表行：{'、'.join(unknown)}。")
    layout = [b for b in layout if b["rows"]]
    if not layout:
        errors.append("请至少选择一行。")
    if errors:
        raise DispatchError("；".join(errors))
    value = dict(name=name, period=period, due_day=day, due_month=month, due_time=at, starts_on=spec.starts_on,
                 ends_on=spec.ends_on, cumulative=bool(spec.cumulative), fillers=fillers, layout=layout,
                 parent_id=parent.id if parent is not None else None, by_level=spec.by_level, notes=spec.notes or "")
    draft = ReportDefinition(campaign=campaign, **value)
    if parent is not None:
        message = inherit.looser("dispatch.table", _terms(parent), _terms(draft))
        if message:
            raise DispatchError(message)
    rule = plans.effective_rule(owner, campaign.id, "dispatch_report")
    # A yearly table is the annual summary asked besides the periodic one (东丽经开区: quarterly
    # and by 12-25); the plan's cadence binds the periodic tables.
    if rule and period != "year":
        message = plan_rules.looser("dispatch_report", rule, {"period": period, "due_day": day,
                                                              "cumulative": value["cumulative"]})
        if message:
            raise DispatchError(message)
    return value


def create_definition(owner: Tenant, campaign: Campaign, spec: TableSpec | None = None, *, actor=None,
                      uid: str | None = None, **fields) -> ReportDefinition:
    """A table `owner` sends to the units below it. Period and due day default to the plan rule in
    force for the owner (调度表上报) and may not be looser than it, nor than a parent table's.
    `uid` names the table between platforms; a new table gets a random one unless it is a table
    every platform carries (NATIONAL_UID)."""
    spec = spec or TableSpec(**fields)
    if spec.period is None:
        rule = plans.effective_rule(owner, campaign.id, "dispatch_report") or {}
        spec.period, spec.due_day = rule.get("period"), rule.get("due_day")
        spec.cumulative = rule.get("cumulative", True) if "cumulative" not in fields else spec.cumulative
    if spec.fillers is None:
        spec.fillers = [k for k in LEGACY_FILLERS if k in FILLERS_BELOW.get(owner.kind, ())]
    value = _clean(owner, campaign, spec)
    definition = ReportDefinition(tenant=owner, campaign=campaign, uid=uid or uuid.uuid4().hex, **value)
    db.session.add(definition)
    db.session.flush()
    definition.series_id = definition.id
    audit.record(owner, "dispatch.defined", definition, _described(definition), actor=actor)
    return definition


def _described(d: ReportDefinition) -> dict:
    return {"name": d.name, "version": d.version, "period": d.period, "due": periods_.describe(d),
            "starts_on": str(periods_.first_day(d)), "ends_on": str(periods_.last_day(d)),
            "cumulative": d.cumulative, "fillers": d.fillers, "rows": codes(d),
            "parent": d.parent.name if d.parent_id else None}


def filed(definition: ReportDefinition) -> bool:
    """Whether any unit has submitted on this version: then a change makes a new version."""
    return db.session.execute(select(ReportSubmission.id).where(
        ReportSubmission.definition_id == definition.id, ReportSubmission.status != "draft").limit(1)).first() \
        is not None


def change_definition(definition: ReportDefinition, spec: TableSpec, actor: Membership) -> ReportDefinition:
    """Change a table: in place while nobody has filed on it, otherwise as a new version (the
    periods filed keep theirs; unfiled drafts move to the new one). The tables that extend it
    gain the rows it gains."""
    if definition.replaced_at is not None:
        raise DispatchError("这是调度表的旧版本，请修改现行版本。")
    if actor.tenant_id != definition.tenant_id:
        raise DispatchError("只有制定调度表的单位可以修改它。")
    return _change(definition, spec, actor.user)


def _change(definition: ReportDefinition, spec: TableSpec, user) -> ReportDefinition:
    if spec.parent is None and definition.parent_id:
        spec.parent = definition.parent
    value = _clean(definition.tenant, definition.campaign, spec, same=definition)
    before = _described(definition)
    if filed(definition):
        # Of two admins changing one table at once, one makes the next version; the other is told.
        compare_and_set(definition, "replaced_at", "该调度表刚刚已被他人修改，请刷新页面，在现行版本上修改。",
                        replaced_at=clock.now())
        new = ReportDefinition(tenant=definition.tenant, campaign=definition.campaign, series_id=definition.series_id,
                               uid=definition.uid, version=definition.version + 1, **value)
        db.session.add(new)
        db.session.flush()
        db.session.execute(update(ReportSubmission).where(
            ReportSubmission.definition_id == definition.id, ReportSubmission.status.in_(("draft", "returned")))
            .values(definition_id=new.id).execution_options(synchronize_session=False))
        db.session.expire_all()
        event = "dispatch.versioned"
    else:
        new = definition
        for key, v in value.items():
            setattr(new, key, v)
        db.session.flush()
        event = "dispatch.changed"
    audit.record(new.tenant, event, new, {"before": before, "after": _described(new)}, actor=user)
    added = set(codes(new))
    for child in db.session.execute(select(ReportDefinition).where(
            ReportDefinition.parent_id.in_(_series_ids(new)), ReportDefinition.replaced_at.is_(None))).scalars().all():
        if not added <= set(codes(child)):
            _change(child, TableSpec(
                name=child.name, layout=compose(codes(child) + list(added), child.layout), parent=new,
                period=child.period, due_day=child.due_day, due_month=child.due_month, due_time=child.due_time,
                starts_on=child.starts_on, ends_on=child.ends_on, cumulative=child.cumulative,
                fillers=child.fillers, by_level=child.by_level, notes=child.notes), user)
    return new


def spec_of(definition: ReportDefinition) -> TableSpec:
    return TableSpec(name=definition.name, rows=codes(definition), parent=definition.parent,
                     period=definition.period, due_day=definition.due_day, due_month=definition.due_month,
                     due_time=definition.due_time, starts_on=definition.starts_on, ends_on=definition.ends_on,
                     cumulative=definition.cumulative, fillers=list(definition.fillers), by_level=definition.by_level,
                     notes=definition.notes)


def definitions_for(tenant: Tenant) -> list[ReportDefinition]:
    """Tables in force for `tenant`: owned on its path, nearest owner last. One query."""
    ids = ids_of(tenant.path)
    found = db.session.execute(select(ReportDefinition).where(
        ReportDefinition.tenant_id.in_(ids), ReportDefinition.replaced_at.is_(None))).scalars().all()
    return sorted(found, key=lambda d: (ids.index(d.tenant_id), d.id))


def reporting_definitions(tenant: Tenant, in_force: list[ReportDefinition] | None = None) -> list[ReportDefinition]:
    """The tables `tenant` fills: those naming its kind set by the nearest level above it that
    sets any (a table extending a parent's holds every row of it, so the unit never fills both).
    `in_force`: definitions_for(tenant), when the caller has it already."""
    kind = filler_kind(tenant)
    above = [d for d in (definitions_for(tenant) if in_force is None else in_force)
             if d.tenant_id != tenant.id and kind in d.fillers]
    return [d for d in above if d.tenant_id == above[-1].tenant_id] if above else []


def fills(definition: ReportDefinition, tenant: Tenant) -> bool:
    return any(d.id == definition.id for d in reporting_definitions(tenant))


# ---------------------------------------------------------------- figures

def _add(figures: Figures, code: str, level: str | None, value) -> None:
    figures.total[code] = figures.total.get(code, 0) + value
    if level:
        figures.by_level.setdefault(level, {})
        figures.by_level[level][code] = figures.by_level[level].get(code, 0) + value


def _accepted(children: list[ReportSubmission], day: date) -> Figures:
    """The typed figures the units below accepted up to `day`: each one's latest approved table,
    cumulative from the campaign start (which already holds its own units' accepted figures)."""
    latest: dict[int, ReportSubmission] = {}
    for sub in children:
        if sub.period_end <= day:
            latest[sub.tenant_id] = sub
    out = Figures()
    for sub in latest.values():
        manual = sub.figures["manual"]
        for code, value in manual["total"].items():
            _add(out, code, None, _number(code, value))
        for level, values in manual["by_level"].items():
            for code, value in values.items():
                out.by_level.setdefault(level, {})
                out.by_level[level][code] = out.by_level[level].get(code, 0) + _number(code, value)
    return out


def _sent_to(tenant: Tenant, subs: list[ReportSubmission]) -> list[ReportSubmission]:
    """Of tables filed below `tenant`, those that reached it with nothing between that fills or
    owns the table (a village's table goes past a street that does not fill it; a street's goes to
    the district, which sums its villages' through it). One query for the units between."""
    depth = len(ids_of(tenant.path))
    between = {i for sub in subs for i in ids_of(sub.tenant_path)[depth:-1]}
    nodes = {t.id: t for t in db.session.execute(select(Tenant).where(Tenant.id.in_(between))).scalars()} \
        if between else {}

    def stops(node: Tenant, definition: ReportDefinition) -> bool:
        return node.id == definition.tenant_id or filler_kind(node) in definition.fillers
    return [sub for sub in subs
            if not any(stops(nodes[i], sub.definition) for i in ids_of(sub.tenant_path)[depth:-1])]


def _manual(tenant: Tenant, start: date, end: date, figures: Figures) -> None:
    """Typed figures: the unit's own for periods ending in the span, plus what the units below it
    accepted (their latest approved tables at the span's end less those before its start). Three
    queries."""
    m = ManualFigure
    for code in (c for c, metric in METRICS.items() if metric.manual):
        figures.total[code] = 0
    own = db.session.execute(
        select(m.code, m.level, func.sum(m.value)).where(m.tenant_id == tenant.id, m.period_end.between(start, end))
        .group_by(m.code, m.level)).all()
    for code, level, value in own:
        _add(figures, code, level, _number(code, value))
    below = _sent_to(tenant, db.session.execute(
        select(ReportSubmission).where(in_subtree(ReportSubmission.tenant_path, tenant.path),
                                       ReportSubmission.tenant_id != tenant.id, ReportSubmission.status == "approved",
                                       ReportSubmission.period_end <= end)
        .order_by(ReportSubmission.period_end)).scalars().all())
    upto, before = _accepted(below, end), _accepted(below, start - timedelta(days=1))
    for code, value in upto.total.items():
        _add(figures, code, None, value - before.total.get(code, 0))
    for level, values in upto.by_level.items():
        for code, value in values.items():
            figures.by_level.setdefault(level, {})
            figures.by_level[level][code] = (figures.by_level[level].get(code, 0) + value
                                             - before.by_level.get(level, {}).get(code, 0))


def _number(code: str, value) -> int | Decimal:
    metric = METRICS.get(code) or METRICS[SECOND[code][0]]
    unit = metric.unit if code in METRICS else SECOND[code][1][2]
    value = Decimal(str(value or 0))
    return value.quantize(Decimal("0.01")) if unit == "万元" else int(value)


def compute(tenant: Tenant, start: date, end: date) -> Figures:
    """Every figure of `tenant`'s subtree from `start` to `end` (both included): hazards, spot
    checks, enforcement and accountability, tip rewards from the other modules' grouped queries,
    typed figures from one more; each total and, where it can be, per level (省/市/县)."""
    return _completed(tenant, start, end, _additive(tenant, start, end))


def _additive(tenant: Tenant, start: date, end: date, part: tuple[str, ...] | None = None) -> Figures:
    """The rows of hazards, duty failures and tip rewards: each record counts once on its own
    tenant's path (a duty row's distinct units too), so the figures of disjoint parts of a
    subtree add up. With `part`, only the node's own part (hazards.dispatch_figures)."""
    figures = Figures()
    for key, value in hazards.dispatch_figures(tenant, start, end, part).items():
        code, _, level = key.partition("@")
        if code in METRICS:
            if level:
                figures.add(level, code, value)
            else:
                figures.total[code] = value
    figures.total.update(checklists.dispatch_figures(tenant, start, end, part))
    total, anonymous = tips.reward_figures(tenant, start, end, part)
    figures.total["lead.tip_rewards"] = total.quantize(Decimal("0.01"))
    figures.total["lead.tip_rewards.anonymous"] = anonymous.quantize(Decimal("0.01"))
    return figures


def _completed(tenant: Tenant, start: date, end: date, additive: Figures) -> Figures:
    """The whole table of `tenant` from its additive rows: spot checks, enforcement and
    accountability counted over the subtree (they count distinct enterprises and persons, and
    one enterprise checked by a province's department and by a district's counts once at the
    province, so these do not add up), typed figures and what lower platforms sent."""
    figures = accountability.dispatch_figures(tenant, start, end)
    _combine(figures, additive)
    _manual(tenant, start, end, figures)
    _received(tenant, start, end, figures)
    return figures


def _combine(figures: Figures, part: Figures) -> None:
    """Add the figures of a disjoint part: counts and sums add; 是/否 rows hold where they hold
    everywhere (动态清零 is reached only if every part reached it)."""
    for level, values in [(None, part.total), *part.by_level.items()]:
        target = figures.total if level is None else figures.by_level.setdefault(level, {})
        for code, value in values.items():
            if METRICS.get(code) is not None and METRICS[code].yes_no:
                target[code] = min(target.get(code, 1), value)
            else:
                target[code] = target.get(code, 0) + value


def _received(tenant: Tenant, start: date, end: date, figures: Figures) -> None:
    """Add what lower platforms sent up for nodes of `tenant`'s subtree (DispatchReceipt), as if
    their records were here: of each node, the latest table received for the same span start up
    to `end` (a cumulative table's latest figures; a periodic one's own period). Their derived
    rows only: the typed ones reach `_manual` as any approved table's do. One query."""
    for sub in _latest_received(tenant, start, end):
        received = thawed(sub.figures)
        derived = Figures()
        for level, values in [(None, received.total), *received.by_level.items()]:
            kept = {code: v for code, v in values.items() if not (METRICS.get(code) or METRICS[SECOND[code][0]]).manual}
            if level is None:
                derived.total = kept
            else:
                derived.by_level[level] = kept
        _combine(figures, derived)


def _latest_received(tenant: Tenant, start: date, end: date) -> list[ReportSubmission]:
    """Of each node in `tenant`'s subtree that a lower platform reports for, its latest table
    received for the span starting `start` and ending by `end`. One query."""
    latest: dict[int, ReportSubmission] = {}
    # Led by the receipts' own path index: a few rows per province, where the submissions under
    # a national path are every unit's.
    for sub in db.session.execute(select(ReportSubmission).join(DispatchReceipt, DispatchReceipt.submission_id
                                                                == ReportSubmission.id).where(
            in_subtree(DispatchReceipt.tenant_path, tenant.path), DispatchReceipt.span_start == start,
            ReportSubmission.period_end <= end, ReportSubmission.status == "approved")
            .order_by(ReportSubmission.period_end)).scalars():
        latest[sub.tenant_id] = sub
    return list(latest.values())


def received_units(tenant: Tenant, start: date, end: date) -> list[Tenant]:
    """The nodes whose figures in `tenant`'s span came from their own platforms: their records are
    kept there, so a drill-down here lists none of them."""
    return [sub.tenant for sub in _latest_received(tenant, start, end)]


def table(definition: ReportDefinition, tenant: Tenant, period: Period) -> Figures:
    return compute(tenant, *span(definition, period))


# ---------------------------------------------------------------- drill-down

@dataclass(frozen=True)
class Record:
    """One thing a derived figure counts, once, as the figure counts it (an enterprise for a row in
    家, a person for 人), and what it adds to the figure."""
    day: date
    unit: str
    text: str
    value: int | Decimal
    endpoint: str
    args: dict


def _grouped(items, key, make) -> list[Record]:
    groups: dict = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return [make(group) for group in groups.values()]


def records(tenant: Tenant, code: str, start: date, end: date) -> list[Record] | None:
    """The records behind a derived figure of `tenant` for `start`..`end` (the table's span), with
    the very conditions that count it (each module's dispatch query); None for a typed row. For
    动态清零 (yes/no), the hazards that keep it from being reached."""
    first = SECOND[code][0] if code in SECOND else code
    source = METRICS[first].source
    if source == "hazards":
        found = db.session.execute(select(Hazard).where(hazards.dispatch_filter(tenant, code, start, end))
                                   .order_by(Hazard.found_at, Hazard.id)).scalars().all()
        return [Record(h.found_at, h.tenant.name, f"{h.description}（{h.status_label}）",
                       0 if code == "zero.reached" else 1, "hazards.show", {"hazard_id": h.id}) for h in found]
    if source == "checklists":
        found = db.session.execute(checklists.dispatch_records(tenant, code, start, end)).scalars().all()
        return _grouped(found, lambda f: f.tenant_id, lambda group: Record(
            group[0].since, group[0].tenant.name, "；".join(f.text for f in group), 1, "checklists.unit",
            {"tenant_id": group[0].tenant_id}))
    if source == "tips":
        found = db.session.execute(tips.rewarded_tips(tenant, start, end, code.endswith(".anonymous"))).scalars()
        return [Record(t.rewarded_on, t.enterprise_name, "匿名举报" if t.anonymous else "实名举报",
                       Decimal(t.reward).quantize(Decimal("0.01")), "tips.show", {"tip_id": t.id}) for t in found]
    if code in ("enf.accountable_persons", "enf.interviews"):
        found = db.session.execute(accountability.dispatch_records(tenant, code, start, end)).scalars().all()
        if code == "enf.interviews":
            return [Record(r.decided_on, r.subject_unit_name, r.measure_label, 1, "accountability.show",
                           {"record_id": r.id}) for r in found]
        return _grouped(found, lambda r: (r.subject_unit_id, r.subject_person), lambda rs: Record(
            rs[0].decided_on, rs[0].subject_unit_name,
            f"{rs[0].subject_person}：{'、'.join(r.measure_label for r in rs)}", 1, "accountability.show",
            {"record_id": rs[0].id}))
    if source != "inspections":
        return None
    kind, stmt, how = inspections.dispatch_records(tenant, code, start, end)
    found = db.session.execute(stmt).scalars().all()
    if kind == "inspections":
        if how == "enterprises":
            return _grouped(found, lambda i: i.tenant_id, lambda group: Record(
                group[0].inspected_on, group[0].tenant.name,
                "抽查 " + "、".join(f"{i.inspected_on}（{i.unit_name}）" for i in group), 1,
                "inspections.show", {"inspection_id": group[0].id}))
        return [Record(i.inspected_on, i.tenant.name, f"{i.unit_name}帮扶指导", 1, "inspections.show",
                       {"inspection_id": i.id}) for i in found]

    def action(a, value) -> Record:
        return Record(a.decided_on, a.inspection.tenant.name, f"{a.kind_label} {a.document_number}".strip(), value,
                      "inspections.show", {"inspection_id": a.inspection_id})
    if how == "enterprises":
        return _grouped(found, lambda a: a.tenant_id, lambda group: action(group[0], 1))
    value = {"amount": lambda a: Decimal(a.amount or 0).quantize(Decimal("0.01")), "persons": lambda a: a.persons,
             "count": lambda a: 1}[how]
    return [action(a, value(a)) for a in found]


# ---------------------------------------------------------------- kept figures

# Levels whose subtrees hold millions of records: counting them live takes 0.6 s (a province) to
# 9.5 s (the root) at national scale (bench/dispatch_national.py). Their kept figures are their
# own part's plus their children's, so a change below recounts one district and re-sums the few
# levels above it.
ROLLUP_KINDS = ("national", "province", "city")
# Nodes whose figures are kept (DispatchRollup) for the current period of every table that applies
# to them: a district is counted over its subtree, the levels above are summed.
KEPT_KINDS = (*ROLLUP_KINDS, "district")
# A page shows kept figures while no change below them has waited longer than this; the refresh
# (`flask dispatch rollup`) runs every 30 s.
KEPT_MAX_LAG = timedelta(seconds=60)


def _changed_paths(row) -> tuple[str, ...]:
    """Where a written row changes figures: on its tenant's path and, for the work of an
    inspecting unit (counted on the unit's path), on the unit's."""
    if isinstance(row, Tenant):
        return (row.path,)
    if isinstance(row, Inspection):
        return (row.tenant_path, row.unit_path)
    if isinstance(row, (SpotFinding, EnforcementAction)):
        return (row.tenant_path, row.inspection.unit_path if row.inspection is not None else "")
    return (row.tenant_path,)


def _log_changes(session, paths: set[str] | None) -> None:
    """Log, in the writer's transaction, where the kept figures are no longer exact ("/": a
    statement whose rows may be anywhere)."""
    at = clock.now()
    session.add_all([DispatchChange(path=path, marked_at=at) for path in paths or {"/"}])


# Every record compute() reads, and the nodes (a new district changes its level's sum).
cache.watch((Hazard, Inspection, SpotFinding, EnforcementAction, AccountabilityRecord, Tip, ComplianceFinding,
             ManualFigure, ReportSubmission, DispatchReceipt, TenantSetting, Tenant), _changed_paths, _log_changes)


def _rollup(tenant: Tenant, start: date, end: date) -> DispatchRollup | None:
    return db.session.execute(select(DispatchRollup).where(
        DispatchRollup.tenant_id == tenant.id, DispatchRollup.span_start == start,
        DispatchRollup.span_end == end)).scalar_one_or_none()


def _waiting_since(tenant: Tenant) -> datetime | None:
    """When the oldest change not yet counted into `tenant`'s kept figures was made: one at or
    below it, or a statement over a level above it (DispatchChange). One query."""
    ids = ids_of(tenant.path)
    above = ["/", *("/" + "/".join(map(str, ids[:n])) + "/" for n in range(1, len(ids)))]
    return db.session.execute(select(func.min(DispatchChange.marked_at)).where(
        or_(in_subtree(DispatchChange.path, tenant.path), DispatchChange.path.in_(above)))).scalar()


def shown(definition: ReportDefinition, tenant: Tenant, period: Period,
          today: date | None = None) -> tuple[Figures, datetime | None]:
    """The figures a page shows and the time up to which they are exact (数据截至), None when they
    are exact now. A kept node's current period: its kept figures, exact but for the changes still
    waiting for the refresh (as of the oldest, if any); counted live when one has waited longer
    than KEPT_MAX_LAG, or for a district as soon as one waits (it counts in tens of ms). An
    earlier period: its kept figures of whatever age (counted once; the history reads every
    period). Anything else counts live."""
    start, end = span(definition, period)
    if tenant.kind in KEPT_KINDS:
        found = _rollup(tenant, start, end)
        if found is not None and (start, end) != span(definition, current_period(definition, today)):
            return thawed(found.figures), found.computed_at
        if found is not None:
            waiting = _waiting_since(tenant)
            if waiting is None or (tenant.kind in ROLLUP_KINDS and waiting >= clock.now() - KEPT_MAX_LAG):
                return thawed(found.figures), waiting
    return compute(tenant, start, end), None


def count_kept(tenant: Tenant, start: date, end: date) -> DispatchRollup:
    """Count and keep `tenant`'s figures for the span, in its own scope, so they are what any
    reader of the whole node sees: a district over its subtree; a level above as its own part
    (itself and its children not kept) plus its kept children's additive rows (each counted
    first if it has none), and the rows that do not add up over its subtree. A child whose stock
    cut-off differs counts here with the level's (stock is the level's notion). Not audited: it
    changes no record, only a kept sum."""
    with scoped_as(Scope.of(tenant, "staff")):
        if tenant.kind in ROLLUP_KINDS:
            children = db.session.execute(select(Tenant).where(Tenant.parent_id == tenant.id)).scalars().all()
            cut = hazards.cutoff(tenant)
            summed = [c for c in children if c.kind in KEPT_KINDS and hazards.cutoff(c) == cut]
            additive = _additive(tenant, start, end, tuple(c.path for c in children if c not in summed))
            kept = {r.tenant_id: r for r in db.session.execute(select(DispatchRollup).where(
                DispatchRollup.tenant_id.in_([c.id for c in summed]), DispatchRollup.span_start == start,
                DispatchRollup.span_end == end)).scalars()}
            for child in summed:
                _combine(additive, thawed((kept.get(child.id) or count_kept(child, start, end)).counted))
        else:
            additive = _additive(tenant, start, end)
        figures = _completed(tenant, start, end, additive)
    found = _rollup(tenant, start, end)
    if found is None:
        found = DispatchRollup(tenant=tenant, span_start=start, span_end=end, figures={})
        db.session.add(found)
    found.figures, found.counted, found.computed_at = frozen(figures), frozen(additive), clock.now()
    db.session.flush()
    return found


# How long a refresh may spend on earlier periods (the history) once the current ones are counted:
# the next run starts 30 s after this one.
HISTORY_BUDGET = timedelta(seconds=20)


def refresh_rollups(today: date | None = None, history: timedelta = HISTORY_BUDGET) -> int:
    """Recount the kept figures a logged change concerns (DispatchChange: the kept nodes on its
    path and below it) for the current period of every table, and count those missing (a new
    period); districts first, then each level above from its children. Then, for up to
    `history`, earlier periods not yet counted (once each, for the history; later runs go on
    where this one stopped). Commits each count as it goes, so the write lock is never held for
    the whole run, then deletes the changes it read: one logged while it ran waits for the next
    run. Run every 30 s (`flask dispatch rollup`, the schedule's dispatch-rollup). Returns how
    many it counted."""
    today = today or clock.today()
    changes = db.session.execute(select(DispatchChange.id, DispatchChange.path)).all()
    nodes = db.session.execute(select(Tenant).where(Tenant.kind.in_(KEPT_KINDS))).scalars().all()
    paths = {path for _, path in changes}
    dirty = {n.id for n in nodes if any(n.path.startswith(p) or p.startswith(n.path) for p in paths)}
    have = {tuple(row) for row in db.session.execute(select(DispatchRollup.tenant_id, DispatchRollup.span_start,
                                                            DispatchRollup.span_end))}
    todo = {}  # (node, start, end): whether only the history reads it
    for definition in db.session.execute(select(ReportDefinition).where(ReportDefinition.replaced_at.is_(None))
                                         .order_by(ReportDefinition.id)).scalars():
        *earlier, current = periods(definition, today)
        for node in (n for n in nodes if n.path.startswith(definition.tenant.path)):
            for period in (current, *earlier):
                key = (node.id, *span(definition, period))
                if key not in have or (period is current and node.id in dirty):
                    todo[key] = todo.get(key, True) and period is not current
    by_id = {n.id: n for n in nodes}
    # The pages' current periods first (a page counts live until they are in), each level after
    # the levels below it; the changes are then counted in, and the history waits its turn.
    ordered = sorted(todo, key=lambda k: (todo[k], -by_id[k[0]].depth, k))
    counted = 0
    for key in (k for k in ordered if not todo[k]):
        count_kept(by_id[key[0]], *key[1:])
        db.session.commit()
        counted += 1
    if changes:
        db.session.execute(delete(DispatchChange).where(DispatchChange.id.in_([i for i, _ in changes])))
        db.session.commit()
    stop = clock.now() + history
    for key in (k for k in ordered if todo[k]):
        if clock.now() >= stop:
            break
        count_kept(by_id[key[0]], *key[1:])
        db.session.commit()
        counted += 1
    return counted


def frozen(figures: Figures) -> dict:
    """Figures as JSON (numbers as text, so 万元 keep their two decimals)."""
    return {"total": {k: str(v) for k, v in figures.total.items()},
            "by_level": {lvl: {k: str(v) for k, v in vals.items()} for lvl, vals in figures.by_level.items()}}


def thawed(data: dict) -> Figures:
    out = Figures()
    out.total = {k: _number(k, v) for k, v in data["total"].items()}
    out.by_level = {lvl: {k: _number(k, v) for k, v in vals.items()} for lvl, vals in data["by_level"].items()}
    return out


def display(code: str, value) -> str:
    metric = METRICS.get(code)
    if metric is not None and metric.yes_no:
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


# ---------------------------------------------------------------- submissions

def submission(definition: ReportDefinition, tenant: Tenant, period: Period) -> ReportSubmission | None:
    """`tenant`'s table for `period`, on whichever version of the table it was filed."""
    return db.session.execute(select(ReportSubmission).where(
        ReportSubmission.definition_id.in_(_series_ids(definition)), ReportSubmission.tenant_id == tenant.id,
        ReportSubmission.period_end == period.end)).scalar_one_or_none()


def _draft(definition: ReportDefinition, tenant: Tenant, period: Period) -> ReportSubmission:
    """The unit's row for `period`, made if need be and locked until commit: two saves or two
    上报 of one period at once queue on it, and its unique key lets only one of them insert it."""
    found = submission(definition, tenant, period)
    if found is None:
        found = ReportSubmission(tenant=tenant, definition=definition, period_start=period.start,
                                 period_end=period.end, status="draft")
        try:
            with db.session.begin_nested():
                db.session.add(found)
                db.session.flush()
        except IntegrityError:
            found = submission(definition, tenant, period)  # the other request's, committed meanwhile
    lock(found)
    if found.status in ("draft", "returned") and found.definition_id != definition.id:
        # Not filed (or sent back): it is filed on the version in force.
        found.definition = definition
    return found


def _fillable(definition: ReportDefinition, tenant: Tenant) -> None:
    if not fills(definition, tenant):
        raise DispatchError(f"“{tenant.name}”不填报“{definition.name}”。")


def _editable(sub: ReportSubmission) -> None:
    if sub.status == "approved":
        raise DispatchError("该期调度表已审核通过并锁定，不能修改；之后的更正会体现在下一期调度表中。")
    if sub.status == "submitted":
        raise DispatchError("该期调度表已上报，等待上级审核，不能修改；如需修改，请上级退回。")


def parse_manual(code: str, raw: str | None) -> Decimal:
    """A typed figure: a non-negative number (万元 to two decimals, counts whole), 是/否 as 1/0."""
    metric = METRICS[code]
    text = (raw or "").strip()
    if metric.yes_no:
        if text not in ("是", "否", "1", "0"):
            raise DispatchError(f"“{metric.label}”请填写“是”或“否”。")
        return Decimal(1 if text in ("是", "1") else 0)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise DispatchError(f"“{metric.label}”应填写数字，现为“{text}”。") from None
    if not value.is_finite() or value < 0:
        raise DispatchError(f"“{metric.label}”不能为负数。")
    if value >= Decimal("1e10"):
        raise DispatchError(f"“{metric.label}”数值过大。")
    if metric.money:
        if value != value.quantize(Decimal("0.01")):
            raise DispatchError(f"“{metric.label}”以万元计，最多两位小数。")
    elif value != value.to_integral_value():
        raise DispatchError(f"“{metric.label}”以{metric.unit}计，应为整数。")
    return value


def save_manual(definition: ReportDefinition, tenant: Tenant, period: Period, values: dict[str, str | None],
                *, actor: Membership | None = None) -> ReportSubmission:
    """Store the typed figures of `tenant`'s own work for `period`; all or nothing."""
    _fillable(definition, tenant)
    allowed = set(codes(definition))
    for code in values:
        if code not in METRICS or code not in allowed:
            raise DispatchError(f"调度表中没有“{code}”这一行。")
        if not METRICS[code].manual:
            raise DispatchError(f"“{METRICS[code].label}”由系统根据记录自动统计，不能手工填写。")
    parsed = {code: parse_manual(code, raw) for code, raw in values.items() if (raw or "").strip() != ""}
    sub = _draft(definition, tenant, period)
    _editable(sub)
    existing = {f.code: f for f in sub.manual}
    level = inspections.government_level(tenant)
    for code, value in parsed.items():
        if code in existing:
            existing[code].value = value
        else:
            sub.manual.append(ManualFigure(tenant=tenant, code=code, value=value, level=level,
                                           period_end=period.end))
    db.session.flush()
    audit.record(tenant, "dispatch.figures_saved", sub,
                 {"definition": definition.name, "period_end": period.key,
                  "values": {k: str(v) for k, v in parsed.items()}}, actor=actor)
    return sub


def manual_values(sub: ReportSubmission | None) -> dict[str, Decimal]:
    return {f.code: f.value for f in sub.manual} if sub is not None else {}


def corrections_since(definition: ReportDefinition, tenant: Tenant, before: Period) -> dict[str, dict]:
    """Locked tables of `tenant` before `before` whose figures the records no longer give:
    {period_end: {code: [locked, now]}}. A cumulative table carries the correction forward."""
    locked = db.session.execute(select(ReportSubmission).where(
        ReportSubmission.definition_id.in_(_series_ids(definition)), ReportSubmission.tenant_id == tenant.id,
        ReportSubmission.status == "approved", ReportSubmission.period_end < before.end)
        .order_by(ReportSubmission.period_end)).scalars().all()
    out = {}
    for sub in locked:
        now = frozen(table(definition, tenant, period_of(definition, sub.period_end)))["total"]
        changed = {code: [old, now.get(code, "0")] for code, old in sub.figures["total"].items()
                   if now.get(code, "0") != old}
        if changed:
            out[sub.period_end.isoformat()] = changed
    return out


def submit(definition: ReportDefinition, tenant: Tenant, period: Period, actor: Membership,
           now: datetime | None = None) -> ReportSubmission:
    """Send `tenant`'s table for `period` to its parent, frozen as computed now; late from the
    period's deadline on."""
    _fillable(definition, tenant)
    now = now or clock.now()
    sub = _draft(definition, tenant, period)
    if sub.status in ("submitted", "approved"):
        raise DispatchError(f"{period.end:%Y-%m-%d} 这一期已经上报过（当前为“{sub.status_label}”），不能重复上报。")
    manual = Figures()
    _manual(tenant, definition.campaign.starts_on, period.end, manual)
    # The typed part is also kept cumulative, whatever the table shows: the level above sums it.
    sub.figures = {**frozen(table(definition, tenant, period)), "manual": frozen(manual)}
    sub.corrections = corrections_since(definition, tenant, period) or None
    sub.status, sub.submitted_at, sub.late = "submitted", now, period.late(now)
    sub.reason = ""
    db.session.flush()
    for end in sub.corrections or {}:
        older = db.session.execute(select(ReportSubmission).where(
            ReportSubmission.definition_id.in_(_series_ids(definition)), ReportSubmission.tenant_id == tenant.id,
            ReportSubmission.period_end == date.fromisoformat(end))).scalar_one()
        older.superseded_by_id = sub.id
    audit.record(tenant, "dispatch.submitted", sub, {"definition": definition.name, "period_end": period.key,
                                                     "late": sub.late, "figures": sub.figures["total"],
                                                     "corrections": sub.corrections}, actor=actor.user)
    return sub


def reviewer(definition: ReportDefinition, unit: Tenant) -> Tenant:
    """The unit `unit` sends its table to: the nearest above it that fills the same table, or else
    the table's owner (a village's table goes to the district that set it when the street between
    does not fill it)."""
    ids = ids_of(unit.path)[:-1]
    above = {t.id: t for t in db.session.execute(select(Tenant).where(Tenant.id.in_(ids))).scalars()}
    for tid in reversed(ids):
        node = above[tid]
        if tid == definition.tenant_id or filler_kind(node) in definition.fillers:
            return node
    return above[definition.tenant_id]


def on_parent_platform(node: Tenant) -> bool:
    """Whether `node` works on the parent platform rather than here: a platform that reports to a
    parent (PARENT_PLATFORM_URL) holds the levels above its own as its tree's root, where nobody
    works, so the tables sent to the root go to the parent platform instead."""
    return node.parent_id is None and bool(current_app.config["PARENT_PLATFORM_URL"])


def sent_up(sub: ReportSubmission) -> bool:
    """Whether `sub` goes to the parent platform: then its own unit's leaders approve it here
    before it is sent (the parent records who did)."""
    return on_parent_platform(reviewer(sub.definition, sub.tenant))


def _decider(sub: ReportSubmission, actor: Membership) -> None:
    if sent_up(sub):
        if actor.tenant_id != sub.tenant_id:
            raise DispatchError(f"该调度表报送上级平台，由“{sub.tenant.name}”的领导或管理员审核后上报。")
    else:
        above = reviewer(sub.definition, sub.tenant)
        if above.id != actor.tenant_id:
            raise DispatchError(f"只有“{sub.tenant.name}”的上一级（{above.name}）可以审核它的调度表。")
    if sub.status != "submitted":
        raise DispatchError(f"该期调度表当前为“{sub.status_label}”，没有待审核的上报。")


def _decide(sub: ReportSubmission, **values) -> None:
    # Two members of the level above at once (通过 and 退回): one decides, the other is told.
    compare_and_set(sub, "status", "该期调度表刚刚已被他人审核，当前为“{record.status_label}”，请刷新页面查看。",
                    **values)


def approve(sub: ReportSubmission, actor: Membership) -> ReportSubmission:
    """Accept a child's table; the period is locked from now on."""
    _decider(sub, actor)
    _decide(sub, status="approved", decided_at=clock.now(), decided_by_id=actor.user_id)
    audit.record(sub.tenant, "dispatch.approved", sub, {"period_end": sub.period_end.isoformat()},
                 actor=actor.user)
    if sent_up(sub):
        # Written with the approval, so an approved table never misses its way up; it is sent
        # after the commit and, while the parent cannot be reached, again later (exchange.deliver).
        report = UpwardReport(tenant=sub.tenant, submission=sub, key=uuid.uuid4().hex, status="queued",
                              next_attempt_at=clock.now())
        db.session.add(report)
        db.session.flush()
        audit.record(sub.tenant, "dispatch.upward_queued", report, {"period_end": sub.period_end.isoformat(),
                                                                    "table": sub.definition.uid, "key": report.key},
                     actor=actor.user)
    return sub


def upward_report(sub: ReportSubmission | None) -> UpwardReport | None:
    if sub is None:
        return None
    return db.session.execute(select(UpwardReport).where(UpwardReport.submission_id == sub.id)).scalar_one_or_none()


def receipt(sub: ReportSubmission | None) -> DispatchReceipt | None:
    """How `sub` came, when a lower platform sent it (portal.dispatch.exchange)."""
    if sub is None:
        return None
    return db.session.execute(select(DispatchReceipt).where(DispatchReceipt.submission_id == sub.id)) \
        .scalar_one_or_none()


def return_(sub: ReportSubmission, actor: Membership, reason: str) -> ReportSubmission:
    reason = (reason or "").strip()
    if not reason:
        raise DispatchError("退回时请写明原因。")
    if len(reason) > 500:
        raise DispatchError(f"退回原因最多 500 个字，现为 {len(reason)} 个字。")
    _decider(sub, actor)
    _decide(sub, status="returned", decided_at=clock.now(), decided_by_id=actor.user_id, reason=reason, figures=None,
            corrections=None)
    audit.record(sub.tenant, "dispatch.returned", sub, {"period_end": sub.period_end.isoformat(), "reason": reason},
                 actor=actor.user)
    return sub


def children(definition: ReportDefinition, parent: Tenant) -> list[Tenant]:
    """The units that send `parent` their tables of `definition`: those below it that fill it with
    no other filling unit between (reviewer). One query."""
    kinds = {"department" if k == "station" else k for k in definition.fillers}
    below = db.session.execute(select(Tenant).where(in_subtree(Tenant.path, parent.path), Tenant.id != parent.id,
                                                    Tenant.kind.in_(kinds)).order_by(Tenant.path)).scalars().all()
    units = [t for t in below if filler_kind(t) in definition.fillers]
    filling = {t.id for t in units}
    depth = len(ids_of(parent.path))
    return [t for t in units if not filling.intersection(ids_of(t.path)[depth:-1])]


@dataclass
class BoardRow:
    unit: Tenant
    submission: ReportSubmission | None
    state: str  # submitted, pending, overdue

    @property
    def state_label(self) -> str:
        return BOARD[self.state]


def board(definition: ReportDefinition, parent: Tenant, period: Period, now: datetime | None = None
          ) -> list[BoardRow]:
    """已报 / 未报 / 逾期 (from the period's deadline on) of each unit below `parent` for `period`.
    Two queries."""
    now = now or clock.now()
    units = children(definition, parent)
    subs = {s.tenant_id: s for s in db.session.execute(select(ReportSubmission).where(
        ReportSubmission.definition_id.in_(_series_ids(definition)), ReportSubmission.period_end == period.end,
        ReportSubmission.tenant_id.in_([u.id for u in units]))).scalars()}
    rows = []
    for unit in units:
        sub = subs.get(unit.id)
        if sub is not None and sub.status in ("submitted", "approved"):
            state = "submitted"
        else:
            state = "overdue" if now >= period.deadline else "pending"
        rows.append(BoardRow(unit, sub, state))
    return rows


def remind(definition: ReportDefinition, parent: Tenant, period: Period, actor: Membership,
           now: datetime | None = None) -> list[Tenant]:
    """Urge (催报) every unit below `parent` that has not submitted `period`; once a day each."""
    now = now or clock.now()
    today = clock.day_of(now)
    urged = []
    for row in board(definition, parent, period, now):
        if row.state == "submitted":
            continue
        sub = row.submission or _draft(definition, row.unit, period)
        if sub.reminded_on == today:
            continue
        sub.reminded_on = today
        urged.append(row.unit)
    if not urged:
        raise DispatchError("没有需要催报的单位（都已上报，或今天已催报过）。")
    plans.notify_units([(unit, table_link(definition, unit, period)) for unit in urged], "dispatch_remind",
                       f"{parent.name}催报：请上报《{definition.name}》（截至 {period.end}）")
    audit.record(parent, "dispatch.reminded", None, {"definition": definition.name, "period_end": period.key,
                                                     "units": [u.name for u in urged]}, actor=actor.user)
    return urged


def fillers(definition: ReportDefinition) -> list[Tenant]:
    """Every unit that fills `definition` (reporting_definitions, for a whole subtree at once): below
    its owner, of a filling kind, and under no nearer level that sets a table for its kind. Two queries."""
    owner = definition.tenant
    kinds = {"department" if k == "station" else k for k in definition.fillers}
    below = db.session.execute(select(Tenant).where(in_subtree(Tenant.path, owner.path), Tenant.id != owner.id,
                                                    Tenant.kind.in_(kinds)).order_by(Tenant.path)).scalars().all()
    nearer: dict[int, set[str]] = {}
    for d in db.session.execute(select(ReportDefinition).where(
            ReportDefinition.tenant_id.in_(select(Tenant.id).where(in_subtree(Tenant.path, owner.path),
                                                                   Tenant.id != owner.id)),
            ReportDefinition.replaced_at.is_(None))).scalars():
        nearer.setdefault(d.tenant_id, set()).update(d.fillers)
    return [t for t in below if filler_kind(t) in definition.fillers
            and not any(filler_kind(t) in nearer.get(above, ()) for above in ids_of(t.path)[:-1])]


def _latest_due(definition: ReportDefinition, today: date) -> Period | None:
    """The last period of `definition` due today or before; None before its first is due."""
    period = period_of(definition, min(today, periods_.last_day(definition)))
    while period.due > today:
        period = period_of(definition, period.start - timedelta(days=1))
    return None if period.end < periods_.first_day(definition) else period


def notify_unfiled(now: datetime | None = None) -> int:
    """The daily automatic reminder (portal.schedule): every unit that has not filed the latest
    period due of each table it fills is told, on the due day and each day after until the next
    period falls due. It is not a 催报: no reminder is counted against the unit."""
    now = now or clock.now()
    told = 0
    for definition in db.session.execute(select(ReportDefinition).where(ReportDefinition.replaced_at.is_(None))
                                         .order_by(ReportDefinition.id)).scalars().all():
        period = _latest_due(definition, clock.day_of(now))
        if period is None:
            continue
        filed = set(db.session.execute(select(ReportSubmission.tenant_id).where(
            ReportSubmission.definition_id.in_(_series_ids(definition)), ReportSubmission.period_end == period.end,
            ReportSubmission.status.in_(("submitted", "approved")))).scalars())
        late = [unit for unit in fillers(definition) if unit.id not in filed]
        when = "已逾期未报，请尽快上报" if period.late(now) else f"今天截止（{period.due_label}），请按时上报"
        plans.notify_units([(unit, table_link(definition, unit, period)) for unit in late], "overdue",
                           f"《{definition.name}》（截至 {period.end}）{when}")
        told += len(late)
    return told


@letters.source("dispatch")
def letter_source(rest: str, today: date) -> letters.Source | None:
    """A unit's report for one period (`definition:unit:period end`) that is late or missing: the
    ground of a 提醒函/督办函 (portal.accountability.letters)."""
    definition_id, unit_id, key = (rest.split(":") + ["", "", ""])[:3]
    definition = db.session.execute(select(ReportDefinition).where(
        ReportDefinition.id == (int(definition_id) if definition_id.isdigit() else 0))).scalar_one_or_none()
    unit = db.session.execute(select(Tenant).where(
        Tenant.id == (int(unit_id) if unit_id.isdigit() else 0))).scalar_one_or_none()
    if definition is None or unit is None or not fills(definition, unit):
        return None
    try:
        period = parse_period(definition, key, today)
    except DispatchError:
        return None
    sub = submission(definition, unit, period)
    missing = (sub is None or sub.status not in ("submitted", "approved")) and clock.now() >= period.deadline
    if not missing and not (sub is not None and sub.late):
        raise letters.LetterError("该单位本期调度表没有逾期，无需据此发函。")
    return letters.Source(f"dispatch:{definition.id}:{unit.id}:{period.key}",
                          f"《{definition.name}》{period.end:%Y-%m-%d} 期（{period.due:%m-%d} 前报送）：{unit.name}"
                          + ("逾期未报" if missing else "逾期上报"), [unit], "dispatch.table",
                          {"definition_id": definition.id, "tenant_id": unit.id, "period": period.key})


def table_link(definition: ReportDefinition, tenant: Tenant, period: Period) -> str:
    """The path of `tenant`'s table page for `period`. Built from the URL map rather than
    url_for, which needs a request: a reminder is a service call that may have none."""
    urls = current_app.url_map.bind("", script_name=current_app.config["APPLICATION_ROOT"])
    return urls.build("dispatch.table", {"definition_id": definition.id, "tenant_id": tenant.id, "period": period.key})


def series(definition: ReportDefinition, tenant: Tenant, code: str, today: date | None = None
           ) -> list[tuple[Period, int | Decimal, datetime | None]]:
    """A metric of `tenant` over every period so far (as the table shows it: cumulative or not),
    with when each figure was counted (None: now). A kept node's earlier periods come from their
    kept figures of whatever age: counting each live would take seconds per period."""
    if code not in METRICS and code not in SECOND:
        raise DispatchError("没有这一行。")
    points = [(p, *shown(definition, tenant, p, today)) for p in periods(definition, today)]
    return [(p, figures.get(code), as_of) for p, figures, as_of in points]


# ---------------------------------------------------------------- exports

def _cell(code: str, value):
    """A figure as a spreadsheet cell: a number Excel can sum (money to two decimals), 是/否 as text."""
    return display(code, value) if METRICS[code].yes_no else value


def sheet_rows(definition: ReportDefinition, figures: list[Figures]):
    """The form's rows as printed: (block title, number, label with unit, [figure per column],
    [(省级/市级/县级, [figure per column])] where the form counts the row by level, else [])."""
    for _, title, n, code, label, metric in layout_rows(definition):
        text = f"{label}（{metric.unit}）"
        values = [_cell(code, f.get(code)) for f in figures]
        if metric.second:
            text = f"{label}（{metric.unit}，{metric.second[2]}）" if metric.second[1] == "罚款" else \
                f"{label}（{metric.unit}），{metric.second[1]}（{metric.second[2]}）"
            values = [f"{display(code, f.get(code))} / {display(metric.second[0], f.get(metric.second[0]))}"
                      for f in figures]
        levels = []
        if definition.by_level and metric.by_level:
            levels = [(label_, [f.get(code, lvl) for f in figures]) for lvl, label_ in LEVELS.items()]
        yield title, n, text, values, levels


def _columns(tenant: Tenant, params: dict) -> tuple[ReportDefinition, Period, list[tuple[str, Figures]]]:
    definition = db.session.execute(select(ReportDefinition).where(
        ReportDefinition.id == params["definition_id"])).scalar_one()
    period = period_of(definition, date.fromisoformat(params["period_end"]))
    columns = [(tenant.name, table(definition, tenant, period))]
    if params.get("children"):
        columns += [(child.name, table(definition, child, period)) for child in children(definition, tenant)]
    return definition, period, columns


def _content(definition, period, columns) -> dict:
    return {"definition": definition.name, "period_end": period.key,
            "columns": [{"unit": name, **frozen(f)} for name, f in columns]}


def write_xlsx(definition: ReportDefinition, period: Period, columns: list[tuple[str, Figures]]) -> bytes:
    """The attachment's layout: title, unit and date, then per block its title in the first
    column and two rows to a line (number, label, figure); with children, one figure column each.
    A table counted by level (省、市、县分别统计) gives each unit 合计 and a cell per level, under a
    header line, so the levels can be summed and checked against the total."""
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    wb = spreadsheets.workbook()
    ws = wb.active
    ws.title = "调度表"
    per_row = 1 if len(columns) > 1 else 2
    heads = ["合计", *LEVELS.values()] if definition.by_level else [None]
    stride = 2 + len(columns) * len(heads)  # cells of one row of the form: number, label, figures
    width = 1 + per_row * stride
    ws.cell(1, 1, definition.name).font = Font(bold=True, size=14)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    ws.cell(2, 1, f"填报单位：{columns[0][0]}")
    ws.cell(2, width, f"时间：{period.end.year}年{period.end.month}月{period.end.day}日")
    row = 3
    if len(columns) > 1:
        for i, (name, _) in enumerate(columns):
            first = 4 + i * len(heads)
            ws.cell(row, first, name).font = Font(bold=True)
            if len(heads) > 1:
                ws.merge_cells(start_row=row, start_column=first, end_row=row, end_column=first + len(heads) - 1)
        row += 1
    if definition.by_level:
        for j in range(per_row):
            for i in range(len(columns)):
                for h, head in enumerate(heads):
                    ws.cell(row, 2 + j * stride + 2 + i * len(heads) + h, head).font = Font(bold=True)
        row += 1
    thin = Side(style="thin")
    blocks: dict[str, list] = {}
    for title, n, text, values, levels in sheet_rows(definition, [f for _, f in columns]):
        blocks.setdefault(title, []).append((n, text, values, levels))
    for title, items in blocks.items():
        first = row
        for i in range(0, len(items), per_row):
            for j, (n, text, values, levels) in enumerate(items[i:i + per_row]):
                col = 2 + j * stride
                ws.cell(row, col, n)
                ws.cell(row, col + 1, text).alignment = Alignment(wrap_text=True, vertical="center")
                for k, value in enumerate(values):
                    figures = [value] + [vals[k] for _, vals in levels]
                    for h, figure in enumerate(figures):
                        cell = ws.cell(row, col + 2 + k * len(heads) + h, figure)
                        if isinstance(figure, Decimal):
                            cell.number_format = "0.00"
            row += 1
        ws.cell(first, 1, title).alignment = Alignment(wrap_text=True, vertical="center")
        if row - 1 > first:
            ws.merge_cells(start_row=first, start_column=1, end_row=row - 1, end_column=1)
    for r in ws.iter_rows(min_row=3, max_row=row - 1, max_col=width):
        for c in r:
            c.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.column_dimensions["A"].width = 14
    for j in range(per_row):
        ws.column_dimensions[get_column_letter(3 + j * stride)].width = 40
    if definition.notes:
        ws.cell(row + 1, 1, "注：" + definition.notes).alignment = Alignment(wrap_text=True)
        ws.merge_cells(start_row=row + 1, start_column=1, end_row=row + 1, end_column=width)
    return spreadsheets.save(wb)


# The offices that fill, review and export the tables; discipline reads them.
DISPATCH_READERS = exports.access.readers("admin", "leader", "staff", "discipline")


@exports.builder("dispatch_xlsx", readers=DISPATCH_READERS, file_type="xlsx")
def build_xlsx(tenant: Tenant, params: dict) -> exports.Built:
    definition, period, columns = _columns(tenant, params)
    return exports.Built(None, _content(definition, period, columns),
                         write=lambda context: write_xlsx(definition, period, columns))


@exports.builder("dispatch_pdf", readers=DISPATCH_READERS)
def build_pdf(tenant: Tenant, params: dict) -> exports.Built:
    definition, period, columns = _columns(tenant, params)
    rows = list(sheet_rows(definition, [f for _, f in columns]))
    return exports.Built("dispatch/document.html", _content(definition, period, columns),
                         {"definition": definition, "period": period, "units": [n for n, _ in columns], "rows": rows})


def request_export(definition: ReportDefinition, tenant: Tenant, period: Period, file_type: str,
                   with_children: bool, *, actor: Membership | None = None):
    kind = "dispatch_xlsx" if file_type == "xlsx" else "dispatch_pdf"
    title = f"{tenant.name}{definition.name}（截至{period.end:%Y年%m月%d日}）" + ("（含下级）" if with_children else "")
    return exports.request_export(tenant, kind=kind, title=title,
                                  params={"definition_id": definition.id, "period_end": period.key,
                                          "children": bool(with_children)}, actor=actor)


# ---------------------------------------------------------------- the seeds' two forms

def _block(title: str, rows: list, labels: dict | None = None) -> dict:
    return {"title": title, "rows": [{"code": c, **({"label": labels[c]} if labels and c in labels else {})}
                                     for c in rows]}


_HAZARDS = ["hazards.self_found", "hazards.self_rectified", "hazards.dept_found", "hazards.dept_rectified"]
_SPOT = ["spot.enterprises", "spot.principal_not_studied", "spot.principal_not_led", "spot.no_duty_list",
         "spot.no_safety_staff", "spot.uncertified_welders", "spot.outsourcing_chaos", "spot.no_drill"]
_ENF = ["enf.assist_areas", "enf.assist_enterprises", "enf.penalties", "enf.double_penalties",
        "enf.referred_persons", "enf.suspended", "enf.exposed", "enf.cases_published", "enf.accountable_persons",
        "enf.interviews"]
_LEAD = ["lead.study_sessions", "lead.principal_studies", "lead.site_supervision", "lead.enterprise_briefings",
         "lead.tip_rewards", "lead.media_column", "lead.inspectors", "lead.supervision_rounds"]

# 全国重大事故隐患专项排查整治 2023 行动进展情况调度表 (seeds/002_…).
NATIONAL_LAYOUT = [
    _block("总体情况", _HAZARDS + ["hazards.listed", "hazards.listed_rectified"]),
    _block("对企业自查自改进行抽查情况", _SPOT),
    _block("部门精准严格执法情况", _ENF),
    _block("党委政府组织领导情况", _LEAD, {
        "lead.study_sessions": "省、市、县党委政府分别组织专题学习安全生产十五条硬措施",
        "lead.principal_studies": "省、市、县党委政府主要负责同志分别专题研究",
        "lead.site_supervision": "省、市、县政府负责同志分别现场督导检查",
        "lead.enterprise_briefings": "省、市、县安委会成员单位负责同志分别到企业宣讲",
        "lead.media_column": "是否在省级主流媒体播放安全生产专题栏目",
        "lead.inspectors": "市县两级配备专兼职技术检查员数量"}),
]
# Its name between platforms: the national platform and every provincial one carry this table.
NATIONAL_UID = "national-2023-major-hazards-monthly"
NATIONAL_NOTES = ("1. 国务院安委会办公室对各地区工作进展情况进行月度调度。调度表自6月份开始上报，每月5日前上报截至上月末的累计情况。"
                  "2. 调度表内容应围绕专项排查整治工作并对照方案具体要求如实填报。3. 调度表中明确提出省、市、县三级的有关事项需要分开进行统计上报。")

# 河北区重大事故隐患专项排查整治2023行动进展情况调度表 (seeds/001_…): no listed rows, adds 2.9.
HEBEI_LAYOUT = [
    _block("总体情况", _HAZARDS, {"hazards.dept_found": "部门检查发现的重大事故隐患（行业主管部门填写）",
                                  "hazards.dept_rectified": "部门检查发现重大事故隐患中已完成整改的（行业主管部门填写）"}),
    _block("对企业自查自改进行抽查检查情况", _SPOT + ["spot.no_safety_fund"], {"spot.enterprises": "抽查检查的企业总数"}),
    _block("区级部门精准严格执法情况（执法部门填写）", _ENF, {"enf.assist_areas": "帮扶指导重点街道",
                                                          "enf.interviews": "约谈通报街道及部门"}),
    _block("区级部门、各街道组织领导情况", _LEAD, {
        "lead.study_sessions": "组织专题学习安全生产十五条硬措施", "lead.site_supervision": "有关负责同志现场督导检查",
        "lead.enterprise_briefings": "有关负责同志到企业宣讲", "lead.media_column": "是否依托媒体设置并播放安全生产专题栏目",
        "lead.supervision_rounds": "组织开展督导检查"}),
]
HEBEI_NOTES = ("1. 区安委会办公室持续对工作进展情况进行调度，调度表自5月25日开始上报，每周一上报自专项行动开展以来累计数据。"
               "2. 调度表内容应围绕排查整治工作并对照方案具体要求如实填报。")
