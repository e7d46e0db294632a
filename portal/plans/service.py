"""Plans and tasks: issuing a plan that implements the one above, tightening its rules, assigning
tasks down the tree, changing or withdrawing them once sent, the assignment state machine, reminders,
notifications and the boards.

Rules are read only through `effective_rule` / `requirement`, one call into tenants.inherit.
Every write records its audit event in the caller's transaction; the caller commits.
"""
from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import case, exists, false, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from portal.audit import service as audit
from portal.audit.models import AuditEvent
from portal.database import compare_and_set, lock
from portal.errors import Refused
from portal.exports import service as exports
from portal.extensions import db
from portal.plans import rules
from portal.plans.models import (STATES, Assignment, AssignmentReport, Campaign, Clause, Notification,
                                 NotificationRead, Phase, Plan, ReportFile, Task, TaskAttachment)
from portal.uploads import service as uploads
from portal.permissions import allows
from tenants import clock, inherit
from tenants import service as tenants
from tenants.models import KINDS, Membership, Tenant, TenantSetting
from tenants.paths import ids_of, in_subtree
from tenants.scope import Scope, unscoped

PHASE_NAMES = ("动员部署", "企业自查自改", "部门帮扶/精准执法", "总结提高")
YELLOW_DAYS = 3  # 黄: due within three days
MAX_FILES = 10
TITLE_MAX = 200


def _text(value: str | None, label: str, limit: int | None = None, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise Refused(f"请填写{label}。")
    if limit and len(value) > limit:
        raise Refused(f"{label}最多 {limit} 个字，现为 {len(value)} 个字。")
    return value


# ---------------------------------------------------------------- campaigns and plans

def campaigns() -> list[Campaign]:
    return db.session.execute(select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.id)).scalars().all()


def create_campaign(root: Tenant, *, name: str, starts_on: date, ends_on: date,
                    actor: Membership | None = None) -> Campaign:
    if root.kind != "national":
        raise Refused("专项行动由国家层面部署，只有国务院安委会可以新建。")
    name = _text(name, "专项行动名称", TITLE_MAX)
    if not starts_on or not ends_on or ends_on < starts_on:
        raise Refused("请填写开始和结束日期，结束日期不能早于开始日期。")
    if db.session.execute(select(Campaign.id).where(Campaign.name == name)).first():
        raise Refused(f"已有名为“{name}”的专项行动。")
    campaign = Campaign(name=name, starts_on=starts_on, ends_on=ends_on)
    db.session.add(campaign)
    db.session.flush()
    audit.record(root, "campaign.created", campaign,
                 {"name": name, "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()}, actor=actor)
    return campaign


def chain_plans(tenant: Tenant, campaign_id: int) -> list[Plan]:
    """The campaign's plans on `tenant`'s path, from the top down (its own last). One query."""
    ids = ids_of(tenant.path)
    found = db.session.execute(select(Plan).where(Plan.campaign_id == campaign_id, Plan.tenant_id.in_(ids))
                               ).scalars().all()
    return sorted(found, key=lambda p: ids.index(p.tenant_id))


def effective_plan(tenant: Tenant, campaign_id: int) -> Plan | None:
    """The plan `tenant` works under: its own, else the nearest one above."""
    found = chain_plans(tenant, campaign_id)
    return found[-1] if found else None


def plans_in_scope(campaign_id: int | None = None):
    """Plans the reader sees: those above it (it implements them) and those in its subtree."""
    stmt = (select(Plan).join(Plan.campaign).order_by(Campaign.starts_on.desc(), Plan.tenant_path)
            .options(contains_eager(Plan.campaign), selectinload(Plan.tenant),
                     selectinload(Plan.parent_plan).selectinload(Plan.tenant)))
    return stmt.where(Plan.campaign_id == campaign_id) if campaign_id else stmt


def create_plan(tenant: Tenant, campaign: Campaign, *, title: str, issuer: str, doc_number: str = "",
                issued_on: date | None = None, recipients: str = "", preamble: str = "",
                actor: Membership | None = None) -> Plan:
    """Issue `tenant`'s plan for `campaign`. It implements the nearest plan above and starts with
    that plan's phases; plans below that implemented the same one now implement this one."""
    if not (tenant.is_government or tenant.kind == "department"):
        raise Refused("方案由各级安委会、政府和部门发布；企业的工作方案请作为任务上报。")
    own = db.session.execute(select(Plan).where(Plan.tenant_id == tenant.id, Plan.campaign_id == campaign.id)
                             ).scalar_one_or_none()
    if own is not None:
        raise Refused(f"本单位已发布该专项行动的方案《{own.title}》，请在其中修改。")
    if issued_on and not campaign.starts_on - timedelta(days=60) <= issued_on <= campaign.ends_on:
        raise Refused(f"印发日期应在专项行动期间（{campaign.starts_on} 至 {campaign.ends_on}）。")
    parent = effective_plan(tenant.parent, campaign.id) if tenant.parent_id else None
    plan = Plan(tenant=tenant, campaign=campaign, parent_plan=parent, title=_text(title, "方案标题", TITLE_MAX),
                issuer=_text(issuer, "发文机关", 100), doc_number=_text(doc_number, "文号", 64, required=False),
                issued_on=issued_on, recipients=_text(recipients, "主送单位", 300, required=False),
                preamble=_text(preamble, "正文导语", required=False))
    db.session.add(plan)
    db.session.flush()
    template = [(p.name, p.starts_on, p.ends_on, p.body) for p in parent.phases] if parent else \
        [(name, None, None, "") for name in PHASE_NAMES]
    for position, (name, starts_on, ends_on, body) in enumerate(template, 1):
        db.session.add(Phase(tenant=tenant, plan=plan, position=position, name=name, starts_on=starts_on,
                             ends_on=ends_on, body=body))
    # Plans issued earlier below this node implemented the plan above it; now they implement this one.
    db.session.execute(
        update(Plan).where(Plan.campaign_id == campaign.id, in_subtree(Plan.tenant_path, tenant.path),
                           Plan.id != plan.id,
                           Plan.parent_plan_id == parent.id if parent else Plan.parent_plan_id.is_(None))
        .values(parent_plan_id=plan.id).execution_options(synchronize_session=False))
    db.session.flush()
    audit.record(tenant, "plan.issued", plan, {"title": plan.title, "campaign_id": campaign.id,
                                               "implements": parent.id if parent else None}, actor=actor)
    return plan


@dataclass
class Item:
    """One clause in force in a plan: the clause, the plan that wrote it, and the clause above it
    replaced (None for a clause added at its level)."""

    clause: Clause
    owner: Plan
    replaced: Clause | None = None
    number: int = 0

    @property
    def tightened(self) -> bool:
        return bool(self.replaced is not None and self.clause.rule
                    and self.clause.rule_value != self.replaced.rule_value)


def effective_clauses(plan: Plan) -> list[Item]:
    """Every clause in force in `plan`: inherited, replaced at some level, or added; grouped by
    section in the order sections first appear, numbered within each. Two queries."""
    plans = chain_plans(plan.tenant, plan.campaign_id)
    rows = db.session.execute(select(Clause).where(Clause.plan_id.in_([p.id for p in plans]))
                              .order_by(Clause.position, Clause.id)).scalars().all()
    by_plan = defaultdict(list)
    for c in rows:
        by_plan[c.plan_id].append(c)
    items: list[Item] = []
    slot: dict[int, int] = {}  # any clause id ever in force → its place in `items`
    for p in plans:
        for c in by_plan[p.id]:
            if c.replaces_id in slot:
                i = slot[c.replaces_id]
                items[i] = Item(c, p, items[i].clause)
            else:
                i = len(items)
                items.append(Item(c, p))
            slot[c.id] = i
    sections = list(dict.fromkeys(item.clause.section for item in items))
    items.sort(key=lambda item: sections.index(item.clause.section))  # stable: keeps order within a section
    count: dict[str, int] = defaultdict(int)
    for item in items:
        count[item.clause.section] += 1
        item.number = count[item.clause.section]
    return items


def sections(items: list[Item]) -> list[tuple[str, list[Item]]]:
    grouped: dict[str, list[Item]] = {}
    for item in items:
        grouped.setdefault(item.clause.section, []).append(item)
    return list(grouped.items())


def effective_rule(tenant: Tenant, campaign_id: int, code: str) -> dict | None:
    """The rule `code` in force for `tenant` in the campaign: the strictest of the levels above it
    and, for an enterprise, of the departments supervising it (tenants.inherit). One query."""
    return inherit.resolve(tenant, rules.key(campaign_id, code))


def requirement(enterprise: Tenant, campaign_id: int, code: str) -> dict | None:
    """What binds one enterprise, e.g. {"times": 1, "per": "month"} for a high-risk one."""
    return rules.applicable(code, effective_rule(enterprise, campaign_id, code), enterprise.high_risk)


def requirements(enterprise: Tenant, campaign_id: int) -> dict[str, tuple[dict | None, Tenant | None]]:
    """Every frequency rule binding one enterprise (its part, as `requirement`) with the unit that
    set it: what the daily evaluation judges. Two queries."""
    return {row["rule"].code: (rules.applicable(row["rule"].code, row["value"], enterprise.high_risk), row["owner"])
            for row in rule_table(enterprise, campaign_id) if row["rule"].shape == "frequency"}


def rule_table(tenant: Tenant, campaign_id: int) -> list[dict]:
    """Every rule with the value in force for `tenant` and the unit that set it. Two queries."""
    keys = {code: rules.key(campaign_id, code) for code in rules.RULES}
    found = inherit.resolve_many(tenant, list(keys.values()))
    table = []
    # A supervising department may have set it: outside an enterprise user's read scope, named
    # because its rule binds the enterprise.
    units = inherit.setters([owner for _, owner in found.values() if owner])
    for code, rule in rules.RULES.items():
        value, owner = found[keys[code]]
        table.append({"rule": rule, "value": value, "owner": units[owner.tenant_id] if owner else None,
                      "text": rules.describe(code, value)})
    return table


def _set_rule(plan: Plan, code: str, value: dict) -> dict:
    """Make `value` the plan node's own rule, refused if looser than the one above. A stricter
    value reaches the levels below at once (tenants.inherit resolves the strictest)."""
    key = rules.key(plan.campaign_id, code)
    try:
        value = rules.clean(code, rules.merge(code, inherit.inherited(plan.tenant, key), value))
    except rules.RuleError as e:
        raise Refused(str(e)) from None
    inherit.set_value(plan.tenant, key, value)
    return value


def save_clause(plan: Plan, *, title: str, body: str, section: str | None = None, clause: Clause | None = None,
                replaces: Clause | None = None, rule: str | None = None, rule_value: dict | None = None,
                actor: Membership | None = None) -> Clause:
    """Edit one of the plan's own clauses, restate (or tighten) an inherited one, or add a new one.
    A rule value makes the clause's rule the node's own; looser than the level above is refused.
    Everything is checked before anything is written."""
    title, body = _text(title, "条款标题", TITLE_MAX), _text(body, "条款内容")
    if clause is not None:
        if clause.plan_id != plan.id:
            raise Refused("只能修改本级方案自己的条款。")
        rule = clause.rule
    elif replaces is not None:
        in_force = {item.clause.id: item for item in effective_clauses(plan)}
        if replaces.id not in in_force or in_force[replaces.id].owner.id == plan.id:
            raise Refused("只能细化或从严调整上级方案中现行有效的条款。")
        clause = db.session.execute(select(Clause).where(Clause.plan_id == plan.id,
                                                         Clause.replaces_id == replaces.id)).scalar_one_or_none()
        rule = replaces.rule
    else:
        section = _text(section, "所属部分", 200)
        if rule is not None:
            if rule not in rules.RULES:
                raise Refused("未知的规则。")
            carried = [i for i in effective_clauses(plan) if i.clause.rule == rule]
            if carried:
                raise Refused(f"“{rules.RULES[rule].label}”已由第 {carried[0].number} 条规定，请在该条上从严调整。")
    value = _set_rule(plan, rule, rule_value) if rule and rule_value is not None else None
    if clause is None and replaces is not None:
        clause = Clause(tenant=plan.tenant, plan=plan, replaces_id=replaces.id, section=replaces.section,
                        position=replaces.position, rule=rule, rule_value=replaces.rule_value)
        db.session.add(clause)
    elif clause is None:
        position = db.session.execute(select(func.coalesce(func.max(Clause.position), 0))
                                      .where(Clause.plan_id == plan.id)).scalar_one() + 1
        # Added clauses follow every inherited one of their section.
        clause = Clause(tenant=plan.tenant, plan=plan, section=section, position=1000 + position, rule=rule)
        db.session.add(clause)
    clause.title, clause.body = title, body
    if value is not None:
        clause.rule_value = value
    db.session.flush()
    audit.record(plan.tenant, "plan.clause_saved", clause,
                 {"title": title, "replaces": clause.replaces_id, "rule": rule, "rule_value": clause.rule_value},
                 actor=actor)
    return clause


def delete_clause(plan: Plan, clause: Clause, *, actor: Membership | None = None) -> None:
    """Remove an own clause: the clause above it is in force again, and so is the rule above."""
    if clause.plan_id != plan.id:
        raise Refused("只能删除本级方案自己的条款。")
    # Plans below that replaced this clause now replace what it replaced (or stand as additions).
    db.session.execute(update(Clause).where(Clause.replaces_id == clause.id)
                       .values(replaces_id=clause.replaces_id).execution_options(synchronize_session=False))
    if clause.rule and clause.rule_value is not None:
        inherit.clear_value(plan.tenant, rules.key(plan.campaign_id, clause.rule))
    audit.record(plan.tenant, "plan.clause_deleted", clause, {"title": clause.title, "rule": clause.rule}, actor=actor)
    db.session.delete(clause)
    db.session.flush()


def update_phase(plan: Plan, phase: Phase, *, starts_on: date | None, ends_on: date | None, body: str,
                 name: str | None = None, actor: Membership | None = None) -> Phase:
    if phase.plan_id != plan.id:
        raise Refused("只能修改本级方案的阶段安排。")
    name = _text(name, "阶段名称", 50) if name is not None else phase.name
    campaign = plan.campaign
    if starts_on and ends_on and ends_on < starts_on:
        raise Refused("阶段结束日期不能早于开始日期。")
    for day in (starts_on, ends_on):
        if day and not campaign.starts_on - timedelta(days=60) <= day <= campaign.ends_on:
            raise Refused(f"阶段日期应在专项行动期间（截至 {campaign.ends_on}）。")
    if ends_on:
        late = db.session.execute(select(func.count()).select_from(Task).where(
            Task.phase_id == phase.id, Task.deadline > ends_on, Task.withdrawn_at.is_(None))).scalar_one()
        if late:
            raise Refused(f"已有 {late} 项任务的截止日期晚于 {ends_on}，请先调整这些任务或改用更晚的结束日期。")
    phase.name, phase.starts_on, phase.ends_on, phase.body = name, starts_on, ends_on, (body or "").strip()
    audit.record(plan.tenant, "plan.phase_updated", phase, {
        "name": name, "starts_on": starts_on.isoformat() if starts_on else None,
        "ends_on": ends_on.isoformat() if ends_on else None}, actor=actor)
    return phase


def phase_end(phase: Phase) -> date:
    """The last day a task serving `phase` may be due: the phase's end, else the campaign's."""
    return phase.ends_on or phase.plan.campaign.ends_on


# ---------------------------------------------------------------- the plan as an official document

def document(plan: Plan) -> dict:
    """What the plan's PDF shows, as plain data (its digest is printed on the document)."""
    items = effective_clauses(plan)
    return {
        "title": plan.title, "doc_number": plan.doc_number, "issuer": plan.issuer,
        "issued_on": plan.issued_on.isoformat() if plan.issued_on else None, "recipients": plan.recipients,
        "campaign": plan.campaign.name, "preamble": plan.preamble,
        "implements": [[p.issuer, p.title] for p in chain_plans(plan.tenant, plan.campaign_id)[:-1]],
        "phases": [[p.name, p.starts_on.isoformat() if p.starts_on else None,
                    p.ends_on.isoformat() if p.ends_on else None, p.body] for p in plan.phases],
        "clauses": [[section, [[i.number, i.clause.title, i.clause.body, i.owner.issuer] for i in group]]
                    for section, group in sections(items)],
        "tightened": [[i.clause.title, rules.describe(i.clause.rule, i.replaced.rule_value),
                       rules.describe(i.clause.rule, i.clause.rule_value)]
                      for i in items if i.owner.id == plan.id and i.tightened],
    }


# A plan is issued down the tree and read by every unit it applies to.
@exports.builder("plan", readers=exports.access.ANYONE_IN_SCOPE)
def build_plan(tenant: Tenant, params: dict) -> exports.Built:
    plan = db.session.execute(select(Plan).where(Plan.id == params["plan_id"])).scalar_one()
    content = document(plan)
    return exports.Built("plans/document.html", content, {"plan": plan, "content": content})


# ---------------------------------------------------------------- who may do what

def is_receiver(assignment: Assignment, actor: Membership) -> bool:
    return actor.tenant_id == assignment.tenant_id and allows(actor, "tasks.handle")


def is_assigner(task: Task, actor: Membership) -> bool:
    return actor.tenant_id == task.tenant_id and allows(actor, "tasks.assign")


def can_open_task(task: Task, scope: Scope) -> bool:
    """The whole board of a task is for its assigner and the levels above, and (read-only) for a
    level above receivers the task reached from outside its chain (a street whose enterprises a
    department tasked): it reads their assignments, not only its own. Receivers open their own
    assignment instead."""
    return scope.contains(task.tenant) or db.session.execute(select(exists().where(
        Assignment.task_id == task.id, Assignment.tenant_id != scope.tenant_id))).scalar()


def served(task: Task) -> Phase:
    """The phase `task` serves, with its plan and campaign. A department's task serves a phase of the
    department's plan, which its receivers and their street do not read (that plan binds them only
    through its rules, tenants.inherit): read whole here, for a task the reader already reads."""
    with unscoped():
        return db.session.execute(select(Phase).where(Phase.id == task.phase_id)
                                  .options(joinedload(Phase.plan).joinedload(Plan.campaign))).scalar_one()


def can_read_task_files(task: Task, scope: Scope) -> bool:
    """The assigner's side, and every receiver of the task (an assignment of it in scope)."""
    return scope.contains(task.tenant) or db.session.execute(
        select(exists().where(Assignment.task_id == task.id))).scalar()


def _require_receiver(assignment: Assignment, actor: Membership, verb: str) -> None:
    if not is_receiver(assignment, actor):
        raise Refused(f"只有接收单位“{assignment.tenant.name}”的人员才能{verb}。")


def _require_assigner(task: Task, actor: Membership, verb: str) -> None:
    if not is_assigner(task, actor):
        raise Refused(f"只有交办单位“{task.tenant.name}”的人员才能{verb}。")


# ---------------------------------------------------------------- tasks

def phase_choices(tenant: Tenant) -> list[Phase]:
    """Phases a task of `tenant` may serve: those of the plan it works under, in every campaign."""
    ids = ids_of(tenant.path)
    plans = db.session.execute(select(Plan).where(Plan.tenant_id.in_(ids))).scalars().all()
    nearest: dict[int, Plan] = {}
    for p in sorted(plans, key=lambda p: ids.index(p.tenant_id)):
        nearest[p.campaign_id] = p
    if not nearest:
        return []
    return db.session.execute(select(Phase).join(Phase.plan).join(Plan.campaign)
                              .where(Phase.plan_id.in_([p.id for p in nearest.values()]))
                              .order_by(Campaign.starts_on.desc(), Phase.position)).scalars().all()


def children(tenant: Tenant) -> list[Tenant]:
    return db.session.execute(select(Tenant).where(Tenant.parent_id == tenant.id)
                              .order_by(Tenant.kind, Tenant.id)).scalars().all()


NO_RECEIVERS = "请选择接收单位，或选择“全部某类下级”。"
NO_RECEIVERS_SUPERVISED = "请选择接收企业，或选择全部、某一行业领域或高危企业。"


def candidates(assigner: Tenant) -> list[Tenant]:
    """The units `assigner` may give a task to: its direct children; for a department or 站所, which
    has none, the enterprises it supervises (三管三必须), wherever they sit under its level."""
    if assigner.kind == "department":
        return sorted(db.session.execute(tenants.supervised_enterprises(assigner)).scalars(), key=lambda t: t.id)
    return children(assigner)


def _receivers(assigner: Tenant, ids: list[int], kinds: list[str], industries: list[str] = (),
               high_risk: bool = False) -> list[Tenant]:
    """The units chosen on the task form: picked one by one, all of a kind, and for a department
    all of an industry it supervises or all its high-risk enterprises; each unit once."""
    ids, kinds, industries = {int(i) for i in ids}, set(kinds), set(industries)
    department = assigner.kind == "department"
    if not (ids or kinds or industries or high_risk):
        raise Refused(NO_RECEIVERS_SUPERVISED if department else NO_RECEIVERS)
    if kinds - KINDS.keys():
        raise Refused("未知的单位类型。")
    if not department and (industries or high_risk):
        raise Refused("按行业领域或高危企业交办只适用于部门和站所，请选择下级单位。")
    if industries - set(assigner.supervised_industries or []):
        raise Refused(f"“{assigner.name}”不监管所选行业领域，只能按本部门监管的行业领域交办。")
    pool = candidates(assigner)
    if ids - {t.id for t in pool}:
        raise Refused(f"只能向“{assigner.name}”监管的企业交办，所选单位中有不在本部门监管范围内的。" if department
                      else f"只能向“{assigner.name}”的直接下级单位交办，所选单位中有不属于本单位下级的。")
    found = [t for t in pool if t.id in ids or t.kind in kinds or t.industry in industries
             or (high_risk and t.high_risk)]
    if not found:
        raise Refused("所选范围内没有监管企业。" if department else "所选类型下没有下级单位。")
    return sorted(found, key=lambda t: (t.kind, t.id))


def _check_files(files: list[tuple[str, bytes]]) -> list[tuple[str, str, str, bytes]]:
    if len(files) > MAX_FILES:
        raise Refused(f"一次最多上传 {MAX_FILES} 个附件。")
    checked = []
    for raw_name, data in files:
        if re.search(r"[\\/]", raw_name or ""):
            raise Refused(f"文件名“{raw_name}”含有路径，请只选择文件本身上传。")
        name, kind, mimetype = uploads.check(raw_name, data)
        checked.append((name, kind, mimetype, data))
    return checked


def deadline_refusal(deadline: date | None, phase: Phase, parent_assignment: Assignment | None,
                     today: date) -> str | None:
    """What is wrong with a task's deadline, when it is given and whenever it changes: not past,
    inside its phase, and for a task passed down, not after the deadline it was given. The form
    asks it too, to say it beside the date together with every other problem of the form."""
    if deadline is None:
        return "请填写截止日期。"
    if deadline < today:
        return f"截止日期 {deadline} 已经过去，请选择今天（{today}）或以后的日期。"
    if deadline > phase_end(phase):
        return f"截止日期不能晚于“{phase.name}”阶段的结束日期 {phase_end(phase)}。"
    if parent_assignment is not None and deadline > parent_assignment.deadline:
        return f"截止日期不能晚于上级任务的截止日期 {parent_assignment.deadline}。"
    return None


def _check_deadline(deadline: date | None, phase: Phase, parent_assignment: Assignment | None, today: date) -> None:
    refusal = deadline_refusal(deadline, phase, parent_assignment, today)
    if refusal:
        raise Refused(refusal)


def create_task(assigner: Tenant, actor: Membership, *, title: str, body: str, deadline: date | None,
                phase_id: int | None, receiver_ids=(), receiver_kinds=(), receiver_industries=(),
                high_risk: bool = False, files=(), request_key: str,
                parent_assignment: Assignment | None = None, today: date | None = None) -> Task:
    """Assign a task to units directly below `assigner`, or for a department to enterprises it
    supervises (`candidates`): one assignment each, audited in each receiver's chain, and a
    notification to each. With `parent_assignment`, the receiver of that assignment passes it down
    (cascade): same phase, no later deadline."""
    today = today or clock.today()
    if actor.tenant_id != assigner.id or not allows(actor, "tasks.assign"):
        raise Refused(f"只有“{assigner.name}”的管理员、领导或工作人员才能以本单位名义交办任务。")
    title, body = _text(title, "任务标题", TITLE_MAX), _text(body, "任务内容")
    request_key = _text(request_key, "表单标识", 64)
    if db.session.execute(select(Task.id).where(Task.request_key == request_key)).first():
        raise Refused("这份任务已经提交过了，请勿重复提交。可在“我交办的”中查看。")
    if parent_assignment is not None:
        if parent_assignment.tenant_id != assigner.id:
            raise Refused("只能把本单位收到的任务向下交办。")
        if parent_assignment.state != "in_progress":
            raise Refused(f"任务当前为“{parent_assignment.state_label}”，签收后、上报前才能向下交办。")
        phase = parent_assignment.task.phase
    else:
        phase = next((p for p in phase_choices(assigner) if p.id == phase_id), None)
        if phase is None:
            raise Refused("请选择任务服务的阶段（本单位所执行方案中的阶段）。")
    _check_deadline(deadline, phase, parent_assignment, today)
    receivers = _receivers(assigner, list(receiver_ids), list(receiver_kinds), list(receiver_industries), high_risk)
    checked = _check_files(list(files))

    task = Task(tenant=assigner, title=title, body=body, deadline=deadline, phase=phase, request_key=request_key,
                parent_assignment=parent_assignment, created_by_id=actor.user_id)
    try:
        with db.session.begin_nested():  # two submissions racing: the unique key lets only one through
            db.session.add(task)
            db.session.flush()
    except IntegrityError:
        raise Refused("这份任务已经提交过了，请勿重复提交。可在“我交办的”中查看。") from None
    for name, kind, mimetype, data in checked:
        db.session.add(TaskAttachment(tenant=assigner, task=task, filename=name, kind=kind, mimetype=mimetype,
                                      size=len(data), sha256=hashlib.sha256(data).hexdigest(), content=data,
                                      created_by_id=actor.user_id))
    assignments = [Assignment(tenant=r, task=task, assigner_id=assigner.id, deadline=deadline) for r in receivers]
    db.session.add_all(assignments)
    db.session.flush()
    audit.record(assigner, "task.created", task, {
        "title": title, "deadline": deadline.isoformat(), "phase_id": phase.id, "receivers": [r.id for r in receivers],
        "files": [c[0] for c in checked], "parent_assignment": parent_assignment.id if parent_assignment else None},
        actor=actor.user)
    for a in assignments:
        audit.record(a.tenant, "assignment.created", a, {"task_id": task.id, "deadline": deadline.isoformat()},
                     actor=actor.user)
    if parent_assignment is not None:
        audit.record(parent_assignment.tenant, "assignment.passed_down", parent_assignment,
                     {"task_id": task.id, "receivers": len(receivers)}, actor=actor.user)
    notify(assignments, "task", f"{assigner.name}交办新任务《{title}》，截止 {deadline}")
    return task


# The state machine: action → (allowed from, to).
TRANSITIONS = {
    "sign": ({"pending"}, "in_progress"),
    "report": ({"in_progress"}, "reported"),
    "approve": ({"reported"}, "done"),
    "return": ({"reported"}, "returned"),
    "resume": ({"returned"}, "in_progress"),
}
VERBS = {"sign": "签收", "report": "上报", "approve": "审核办结", "return": "退回", "resume": "重新办理"}
# States that are off the overdue ladder: finished, or taken back by the assigner.
CLOSED = ("done", "withdrawn")


def _move(assignment: Assignment, action: str, **values) -> None:
    """Change state if the machine allows it from the state the row has *now* (a compare-and-set
    UPDATE), so a double submission or two reviewers at once cannot both pass."""
    allowed, target = TRANSITIONS[action]
    if assignment.state == "withdrawn":
        raise Refused(f"交办单位已撤回该任务（{assignment.task.withdrawn_reason}），不能{VERBS[action]}。")
    if assignment.state not in allowed:
        if action == "report" and assignment.state == "reported":
            raise Refused("已上报，正在等待交办单位审核，请勿重复提交。")
        if action == "report" and assignment.state == "returned":
            raise Refused("任务已被退回，请先点击“重新办理”，再修改后上报。")
        raise Refused(f"任务当前为“{assignment.state_label}”，不能{VERBS[action]}。")
    compare_and_set(assignment, "state", "该任务刚刚已被他人处理，当前为“{record.state_label}”，请刷新页面查看。",
                    state=target, **values)


def sign(assignment: Assignment, actor: Membership) -> None:
    _require_receiver(assignment, actor, "签收")
    _move(assignment, "sign", signed_at=clock.now())
    audit.record(assignment.tenant, "assignment.signed", assignment, {}, actor=actor.user)


def report(assignment: Assignment, actor: Membership, *, body: str, files=()) -> AssignmentReport:
    _require_receiver(assignment, actor, "上报")
    body = _text(body, "办理情况")
    checked = _check_files(list(files))
    _move(assignment, "report", reported_at=clock.now())
    entry = AssignmentReport(tenant=assignment.tenant, assignment=assignment, body=body, submitted_by_id=actor.user_id)
    db.session.add(entry)
    stored = [uploads.store(assignment.tenant, name, data, actor=actor) for name, _, _, data in checked]
    db.session.add_all(ReportFile(tenant=assignment.tenant, report=entry, upload=u) for u in stored)
    db.session.flush()
    audit.record(assignment.tenant, "assignment.reported", assignment,
                 {"report_id": entry.id, "body": body[:500], "files": [u.filename for u in stored]}, actor=actor.user)
    notify([assignment], "reported", f"{assignment.tenant.name}已上报《{assignment.task.title}》，请审核",
           to_assigner=True)
    return entry


def _pending_report(assignment: Assignment) -> AssignmentReport:
    return db.session.execute(select(AssignmentReport).where(
        AssignmentReport.assignment_id == assignment.id, AssignmentReport.outcome.is_(None))
        .order_by(AssignmentReport.id.desc())).scalars().first()


def approve(assignment: Assignment, actor: Membership) -> None:
    _require_assigner(assignment.task, actor, "审核")
    _move(assignment, "approve", done_at=clock.now())
    entry = _pending_report(assignment)
    entry.outcome, entry.reviewed_by_id, entry.reviewed_at = "approved", actor.user_id, clock.now()
    audit.record(assignment.tenant, "assignment.approved", assignment, {"report_id": entry.id}, actor=actor.user)
    notify([assignment], "approved", f"《{assignment.task.title}》已审核通过，办结")


def return_(assignment: Assignment, actor: Membership, *, reason: str) -> None:
    _require_assigner(assignment.task, actor, "退回")
    reason = _text(reason, "退回理由", 500)
    _move(assignment, "return")
    entry = _pending_report(assignment)
    entry.outcome, entry.reason = "returned", reason
    entry.reviewed_by_id, entry.reviewed_at = actor.user_id, clock.now()
    audit.record(assignment.tenant, "assignment.returned", assignment, {"report_id": entry.id, "reason": reason},
                 actor=actor.user)
    notify([assignment], "returned", f"《{assignment.task.title}》被退回：{reason}"[:300])


def resume(assignment: Assignment, actor: Membership) -> None:
    _require_receiver(assignment, actor, "重新办理")
    _move(assignment, "resume")
    audit.record(assignment.tenant, "assignment.resumed", assignment, {}, actor=actor.user)


def _reminded_today(assignment: Assignment, today: date) -> bool:
    return assignment.last_reminded_at is not None and \
        (assignment.last_reminded_at + timedelta(hours=8)).date() == today


def remind(assignment: Assignment, actor: Membership, today: date | None = None) -> None:
    """催办: the receiver is told, the assignment counts one more reminder. Once a day at most."""
    today = today or clock.today()
    _require_assigner(assignment.task, actor, "催办")
    lock(assignment)  # two 催办 at once: one reminder, counted once
    if assignment.state in CLOSED:
        raise Refused(f"任务{assignment.state_label}，无需催办。")
    if _reminded_today(assignment, today):
        raise Refused(f"今天已经催办过“{assignment.tenant.name}”，明天可再次催办。")
    assignment.reminders += 1
    assignment.last_reminded_at = clock.now()
    audit.record(assignment.tenant, "assignment.reminded", assignment,
                 {"count": assignment.reminders, "deadline": assignment.deadline.isoformat(),
                  "ladder": ladder(assignment, today)}, actor=actor.user)
    notify([assignment], "reminder",
           f"{assignment.task.tenant.name}催办《{assignment.task.title}》（截止 {assignment.deadline}）")


def remind_overdue(assigner: Tenant, actor: Membership, task: Task | None = None,
                   today: date | None = None) -> tuple[int, int]:
    """催办 every overdue receiver of `assigner`'s tasks (or of one task) at once.
    Returns (reminded, skipped because already reminded today)."""
    today = today or clock.today()
    if actor.tenant_id != assigner.id or not allows(actor, "tasks.assign"):
        raise Refused(f"只有“{assigner.name}”的管理员、领导或工作人员才能催办。")
    stmt = select(Assignment).where(Assignment.assigner_id == assigner.id, Assignment.state.not_in(CLOSED),
                                    Assignment.deadline < today).order_by(Assignment.id)
    if task is not None:
        stmt = stmt.where(Assignment.task_id == task.id)
    sent = skipped = 0
    for a in db.session.execute(stmt).scalars().all():
        if _reminded_today(a, today):
            skipped += 1
        else:
            remind(a, actor, today)
            sent += 1
    return sent, skipped


def notify_overdue(today: date | None = None) -> int:
    """The daily automatic reminder (portal.schedule): every receiving unit of an open task past its
    deadline is told. It is not a 催办: no reminder is counted against the unit."""
    today = today or clock.today()
    overdue = db.session.execute(select(Assignment).where(
        Assignment.state.not_in(CLOSED), Assignment.deadline < today).order_by(Assignment.id)
        .options(selectinload(Assignment.task), selectinload(Assignment.tenant))).scalars().all()
    for a in overdue:
        notify([a], "overdue", f"《{a.task.title}》已逾期（截止 {a.deadline}），请尽快办理并上报")
    return len(overdue)


# ---------------------------------------------------------------- changing a task once sent

def _sub_tasks_of(task_ids) -> list[Task]:
    """Tasks the receivers of `task_ids` passed down, not withdrawn."""
    return db.session.execute(select(Task).where(
        Task.parent_assignment_id.in_(select(Assignment.id).where(Assignment.task_id.in_(task_ids))),
        Task.withdrawn_at.is_(None)).order_by(Task.deadline.desc(), Task.id)
        .options(selectinload(Task.tenant))).scalars().all()


def change_deadline(task: Task, actor: Membership, *, deadline: date | None, reason: str,
                    today: date | None = None) -> None:
    """延期 (or an earlier deadline): under the rules of assigning, and never before a deadline the
    receivers already passed down. The task and its assignments change together; receivers still at
    work are told the old and the new deadline and why."""
    today = today or clock.today()
    _require_assigner(task, actor, "调整截止日期")
    lock(task)  # against a withdrawal or another change of the deadline at the same moment
    if task.withdrawn_at is not None:
        raise Refused("任务已撤回，不能调整截止日期。")
    reason = _text(reason, "调整理由", 500)
    if deadline == task.deadline:
        raise Refused(f"新的截止日期与原截止日期 {task.deadline} 相同。")
    _check_deadline(deadline, task.phase, task.parent_assignment, today)
    later = [t for t in _sub_tasks_of([task.id]) if t.deadline > deadline]
    if later:
        named = "、".join(f"{t.tenant.name}的《{t.title}》（截止 {t.deadline}）" for t in later[:3])
        more = f"等 {len(later)} 项" if len(later) > 3 else ""
        raise Refused(f"截止日期不能早于接收单位已向下分解的任务：{named}{more}。"
                      f"请选择 {later[0].deadline} 或以后的日期，或请其先调整。")
    old, task.deadline = task.deadline, deadline
    # Assignments carry the deadline the boards and the ladder read: all of them, in one statement.
    db.session.execute(update(Assignment).where(Assignment.task_id == task.id).values(deadline=deadline))
    change = {"old_deadline": old.isoformat(), "deadline": deadline.isoformat(), "reason": reason}
    audit.record(task.tenant, "task.deadline_changed", task, change, actor=actor.user)
    open_ = db.session.execute(select(Assignment).where(Assignment.task_id == task.id, Assignment.state != "done")
                               .order_by(Assignment.id)).scalars().all()
    for a in open_:
        audit.record(a.tenant, "assignment.deadline_changed", a, change, actor=actor.user)
    notify(open_, "deadline", f"{task.tenant.name}将《{task.title}》的截止日期由 {old} 调整为 {deadline}：{reason}")


def _cascade(task: Task) -> list[Task]:
    """`task` and every task passed down from it, level by level (one query a level)."""
    found, level = [task], [task]
    while level:
        level = _sub_tasks_of([t.id for t in level])
        found += level
    return found


def withdraw_refusal(task: Task, cascade: list[Task] | None = None) -> str | None:
    """Why `task` can no longer be withdrawn (it is already, or a unit of it or of a task passed down
    from it has reported), or None. `cascade`: `_cascade(task)` when the caller has it."""
    if task.withdrawn_at is not None:
        return "任务已撤回。"
    ids = [t.id for t in cascade or _cascade(task)]
    reported = or_(Assignment.state.in_(("reported", "done")),
                   exists().where(AssignmentReport.assignment_id == Assignment.id))
    direct, below = db.session.execute(select(
        func.count(case((reported & (Assignment.task_id == task.id), 1))),
        func.count(case((reported & (Assignment.task_id != task.id), 1)))).where(Assignment.task_id.in_(ids))).one()
    if direct or below:
        where = f"（其中 {below} 个在向下分解的任务中）" if below else ""
        return f"已有 {direct + below} 个单位上报过办理情况{where}，不能撤回；如需调整，请改截止日期或在审核时退回。"
    return None


def withdraw(task: Task, actor: Membership, *, reason: str) -> None:
    """撤回 a task sent by mistake, with the tasks passed down from it, while nobody has reported.
    Nothing is deleted: the tasks keep when and why, their assignments become 已撤回, receivers are told."""
    _require_assigner(task, actor, "撤回")
    lock(task)  # a second 撤回 at once waits, then reads "任务已撤回"
    reason = _text(reason, "撤回理由", 500)
    tasks = _cascade(task)
    refusal = withdraw_refusal(task, tasks)
    if refusal:
        raise Refused(refusal)
    ids = [t.id for t in tasks]
    assignments = db.session.execute(select(Assignment).where(Assignment.task_id.in_(ids))
                                     .order_by(Assignment.id)).scalars().all()
    before = {a.id: a.state for a in assignments}
    # Compare-and-set: a report sent since the check above leaves its row out, and the count tells.
    moved = db.session.execute(update(Assignment).where(Assignment.task_id.in_(ids),
                                                        Assignment.state.in_(("pending", "in_progress")))
                               .values(state="withdrawn"))
    if moved.rowcount != len(assignments):
        raise Refused("刚刚有单位上报了办理情况，不能撤回，请刷新页面查看。")
    now = clock.now()
    for t in tasks:
        t.withdrawn_at = now
        t.withdrawn_reason = reason if t is task else f"随上级任务《{task.title}》撤回：{reason}"
        audit.record(t.tenant, "task.withdrawn", t, {"reason": t.withdrawn_reason, "with_task": task.id},
                     actor=actor.user)
        mine = [a for a in assignments if a.task_id == t.id]
        for a in mine:
            audit.record(a.tenant, "assignment.withdrawn", a, {"reason": t.withdrawn_reason, "state": before[a.id]},
                         actor=actor.user)
        notify(mine, "withdrawn", f"{t.tenant.name}撤回了任务《{t.title}》：{t.withdrawn_reason}")


def task_files(task: Task, scope: Scope) -> list[TaskAttachment]:
    return task.attachments if can_read_task_files(task, scope) else []


def sub_tasks(assignment: Assignment) -> list[Task]:
    return db.session.execute(select(Task).where(Task.parent_assignment_id == assignment.id)
                              .order_by(Task.id)).scalars().all()


def task_timeline(task: Task, limit: int = 30) -> list[AuditEvent]:
    """The latest steps of every receiver of `task` (and the task's own creation), newest first."""
    receivers = select(Assignment.id).where(Assignment.task_id == task.id)
    return db.session.execute(select(AuditEvent).where(
        ((AuditEvent.object_type == "Assignment") & AuditEvent.object_id.in_(receivers))
        | ((AuditEvent.object_type == "Task") & (AuditEvent.object_id == task.id)))
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).limit(limit)
        .options(selectinload(AuditEvent.actor), selectinload(AuditEvent.tenant))).scalars().all()


def timeline(assignment: Assignment) -> list[AuditEvent]:
    """Every step of one assignment, dated, with who did it: its audit events."""
    return db.session.execute(select(AuditEvent).where(
        AuditEvent.tenant_id == assignment.tenant_id, AuditEvent.object_type == "Assignment",
        AuditEvent.object_id == assignment.id).order_by(AuditEvent.seq)).scalars().all()


# ---------------------------------------------------------------- notifications

def notify(assignments: list[Assignment], kind: str, text: str, to_assigner: bool = False) -> None:
    """Tell each assignment's receiving unit (or its assigning unit) in one INSERT."""
    units = [a.task.tenant if to_assigner else a.tenant for a in assignments]
    _insert(kind, text, [(unit, {"assignment_id": a.id}) for unit, a in zip(units, assignments)])


def notify_units(links: list[tuple[Tenant, str]], kind: str, text: str) -> None:
    """Tell each unit news that is not about an assignment, with the page (a path) it opens; one INSERT."""
    _insert(kind, text, [(unit, {"link": link}) for unit, link in links])


def _insert(kind: str, text: str, targets: list[tuple[Tenant, dict]]) -> None:
    rows = [{"tenant_id": unit.id, "tenant_path": unit.path, "kind": kind, "text": text[:300],
             "created_at": clock.now(), **target} for unit, target in targets]
    if rows:
        # The unit told may be outside the sender's write range (a street's report tells its
        # district): by the rules, so neither the listener nor PostgreSQL's row-level security
        # may refuse it.
        with unscoped():
            db.session.execute(insert(Notification), rows)


def _unread(actor: Membership):
    return ~exists().where(NotificationRead.notification_id == Notification.id,
                           NotificationRead.user_id == actor.user_id)


def _inbox(actor: Membership):
    stmt = select(Notification).where(Notification.tenant_id == actor.tenant_id)
    if not (allows(actor, "tasks.assign") or allows(actor, "tasks.handle")):
        stmt = stmt.where(false())
    return stmt


def unread_count(actor: Membership) -> int:
    inbox = _inbox(actor).where(_unread(actor)).subquery()
    return db.session.execute(select(func.count()).select_from(inbox)).scalar_one()


def notifications(actor: Membership, unread_only: bool = False):
    """The unit's notifications for this person, newest first, each with its assignment as it
    stands now. A SELECT to paginate."""
    stmt = _inbox(actor).options(selectinload(Notification.assignment)).order_by(Notification.id.desc())
    return stmt.where(_unread(actor)) if unread_only else stmt


WAITING = ("pending", "in_progress", "returned")
# The assignment states in which what a notification asked still waits: a report to review, a
# task to sign for, a return to answer, a reminder to act on.
STILL_ASKED = {"task": ("pending",), "reported": ("reported",), "returned": ("returned",), "reminder": WAITING,
               "overdue": WAITING, "deadline": WAITING}


def settled(notification: Notification) -> bool:
    """What the notification asked has been dealt with since (the report reviewed, the task done)."""
    a = notification.assignment
    return a is not None and notification.kind in STILL_ASKED and a.state not in STILL_ASKED[notification.kind]


def read_ids(actor: Membership, shown: list[Notification]) -> set[int]:
    """Which of the notifications on a page this person has read. One query."""
    return set(db.session.execute(select(NotificationRead.notification_id).where(
        NotificationRead.user_id == actor.user_id,
        NotificationRead.notification_id.in_([n.id for n in shown]))).scalars())


def mark_read(actor: Membership, notification: Notification | None = None) -> int:
    """Mark one notification, or all of the unit's, read for this person."""
    stmt = _inbox(actor).where(_unread(actor))
    if notification is not None:
        stmt = stmt.where(Notification.id == notification.id)
    unread = db.session.execute(stmt).scalars().all()
    db.session.add_all(NotificationRead(tenant_id=n.tenant_id, tenant_path=n.tenant_path, notification_id=n.id,
                                        user_id=actor.user_id) for n in unread)
    db.session.flush()
    return len(unread)


# ---------------------------------------------------------------- the overdue ladder and the boards

def ladder(assignment: Assignment, today: date | None = None) -> str:
    """绿 on track, 黄 due within three days, 红 overdue; done is done, withdrawn is off the ladder."""
    if assignment.state == "withdrawn":
        return "withdrawn"
    return ladder_of(assignment.deadline, assignment.state == "done", today or clock.today())


def ladder_of(deadline: date, done: bool, today: date) -> str:
    if done:
        return "done"
    if deadline < today:
        return "red"
    return "yellow" if deadline <= today + timedelta(days=YELLOW_DAYS) else "green"


def _ladder_sql(today: date):
    return case((Assignment.state == "done", "done"), (Assignment.deadline < today, "red"),
                (Assignment.deadline <= today + timedelta(days=YELLOW_DAYS), "yellow"), else_="green")


NOUNS = {"province": "省", "city": "市", "district": "区县", "street": "街道", "township": "乡镇",
         "village": "村（社区）", "department": "部门", "enterprise": "企业"}
# Streets and townships share a kind; the name tells which a roll-up is counting.
_NOUN_KIND = case((or_(Tenant.name.endswith("镇"), Tenant.name.endswith("乡")), "township"), else_=Tenant.kind)


@dataclass
class Rollup:
    """Counts of a set of assignments by state and by ladder colour."""

    states: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    colours: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    kinds: set = field(default_factory=set)
    # Not overdue, by state: 待签收 and 已上报 are told apart from 办理中.
    on_time: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, state: str, colour: str, count: int) -> None:
        self.states[state] += count
        self.colours[colour] += count
        if colour != "red":
            self.on_time[state] += count

    @property
    def total(self) -> int:
        return sum(self.states.values())

    @property
    def done(self) -> int:
        return self.states["done"]

    @property
    def overdue(self) -> int:
        return self.colours["red"]

    @property
    def pending(self) -> int:
        """待签收 and not overdue."""
        return self.on_time["pending"]

    @property
    def reported(self) -> int:
        """已上报, waiting for review, and not overdue."""
        return self.on_time["reported"]

    @property
    def open(self) -> int:
        """办理中 on a board: signed for (or returned), neither reported, finished nor overdue."""
        return self.total - self.done - self.overdue - self.pending - self.reported

    @property
    def noun(self) -> str:
        return NOUNS.get(next(iter(self.kinds)), "单位") if len(self.kinds) == 1 else "单位"

    def sentence(self) -> str:
        return (f"{self.total} 个{self.noun}：已办结 {self.done}，已上报 {self.reported}，办理中 {self.open}，"
                f"待签收 {self.pending}，逾期 {self.overdue}")


def _rollups_by(key, ids: list[int], today: date | None, *joins) -> dict[int, Rollup]:
    """Assignments counted per `key` (a task id, a parent assignment id) by kind, state and colour;
    withdrawn ones count nowhere."""
    colour = _ladder_sql(today or clock.today())
    out: dict[int, Rollup] = defaultdict(Rollup)
    if not ids:
        return out
    stmt = select(key, _NOUN_KIND, Assignment.state, colour, func.count())
    for target, on in (*joins, (Tenant, Tenant.id == Assignment.tenant_id)):
        stmt = stmt.join(target, on)
    for group, kind, state, c, n in db.session.execute(
            stmt.where(key.in_(ids), Assignment.state != "withdrawn")
            .group_by(key, _NOUN_KIND, Assignment.state, colour)):
        out[group].add(state, c, n)
        out[group].kinds.add(kind)
    return out


def rollups(task_ids: list[int], today: date | None = None) -> dict[int, Rollup]:
    """Counts per task for a page of tasks: one grouped query."""
    return _rollups_by(Assignment.task_id, task_ids, today)


def sub_rollups(assignment_ids: list[int], today: date | None = None) -> dict[int, Rollup]:
    """For assignments a receiver passed down: its sub-tasks' counts, per parent assignment. One query."""
    return _rollups_by(Task.parent_assignment_id, assignment_ids, today, (Task, Task.id == Assignment.task_id))


def child_rollups(assigner: Tenant, today: date | None = None) -> list[tuple[Tenant, Rollup]]:
    """Per unit below `assigner`: its assignments from `assigner` (not withdrawn), by state and colour.
    One query."""
    today = today or clock.today()
    colour = _ladder_sql(today)
    rows = db.session.execute(
        select(Tenant, Assignment.state, colour, func.count())
        .join(Tenant, Tenant.id == Assignment.tenant_id)
        .where(Assignment.assigner_id == assigner.id, Assignment.state != "withdrawn")
        .group_by(Tenant.id, Assignment.state, colour)).all()
    out: dict[int, tuple[Tenant, Rollup]] = {}
    for tenant, state, c, n in rows:
        out.setdefault(tenant.id, (tenant, Rollup()))[1].add(state, c, n)
    return sorted(out.values(), key=lambda pair: (-pair[1].overdue, pair[0].kind, pair[0].id))


def _filter_assignments(stmt, *, state: str = "", overdue: bool = False, today: date):
    if state in STATES:
        stmt = stmt.where(Assignment.state == state)
    if overdue:
        stmt = stmt.where(Assignment.state.not_in(CLOSED), Assignment.deadline < today)
    return stmt


def assigned(assigner: Tenant, *, phase_id: int | None = None, state: str = "", overdue: bool = False,
             today: date | None = None):
    """The tasks `assigner` gave, newest first; with a state or overdue filter, those having such an
    assignment. A SELECT to paginate."""
    today = today or clock.today()
    stmt = select(Task).where(Task.tenant_id == assigner.id).order_by(Task.id.desc()).options(selectinload(Task.phase))
    if phase_id:
        stmt = stmt.where(Task.phase_id == phase_id)
    if state in STATES or overdue:
        matching = _filter_assignments(select(Assignment.id).where(Assignment.task_id == Task.id),
                                       state=state, overdue=overdue, today=today)
        stmt = stmt.where(matching.exists())
    return stmt


FROM_DEPARTMENTS_SHOWN = 50


def from_departments(unit: Tenant, limit: int = FROM_DEPARTMENTS_SHOWN) -> list[Task]:
    """Tasks that departments and 站所 gave to enterprises below `unit` (a street sees what reached
    its enterprises besides its own tasks, read-only), the latest `limit`, newest first."""
    reached = select(Assignment.task_id).where(in_subtree(Assignment.tenant_path, unit.path),
                                               Assignment.tenant_id != unit.id)
    return db.session.execute(
        select(Task).join(Tenant, Tenant.id == Task.tenant_id)
        .where(Tenant.kind == "department", Task.tenant_id != unit.id, Task.id.in_(reached))
        .order_by(Task.id.desc()).limit(limit).options(contains_eager(Task.tenant))).scalars().all()


def received(receiver: Tenant, *, phase_id: int | None = None, state: str = "", overdue: bool = False,
             today: date | None = None):
    """What `receiver` was given and has not been taken back (unless it asks for 已撤回): overdue
    first, then by deadline. A SELECT to paginate."""
    today = today or clock.today()
    stmt = (select(Assignment).join(Task, Task.id == Assignment.task_id)
            .options(contains_eager(Assignment.task), selectinload(Assignment.assigner))
            .where(Assignment.tenant_id == receiver.id)
            .order_by(case((Assignment.state == "done", 1), else_=0), Assignment.deadline, Assignment.id))
    if phase_id:
        stmt = stmt.where(Task.phase_id == phase_id)
    if state != "withdrawn":
        stmt = stmt.where(Assignment.state != "withdrawn")
    return _filter_assignments(stmt, state=state, overdue=overdue, today=today)


def receivers_of(task: Task, *, state: str = "", overdue: bool = False, today: date | None = None):
    """The board of one task: its assignments, overdue first. A SELECT to paginate."""
    today = today or clock.today()
    stmt = (select(Assignment).where(Assignment.task_id == task.id).options(selectinload(Assignment.tenant))
            .order_by(case((Assignment.state == "done", 1), else_=0), Assignment.deadline, Assignment.tenant_id))
    return _filter_assignments(stmt, state=state, overdue=overdue, today=today)


def task_phases(assigner: Tenant) -> list[Phase]:
    """Phases the assigner's tasks serve, for the board's filter."""
    # With their plan and campaign: the filter names each phase by its campaign.
    return db.session.execute(select(Phase).where(Phase.id.in_(
        select(Task.phase_id).where(Task.tenant_id == assigner.id))).order_by(Phase.plan_id, Phase.position)
        .options(joinedload(Phase.plan).joinedload(Plan.campaign))).scalars().all()

