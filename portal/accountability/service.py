"""The accountability trace (倒查) and accountability records.

A trace reads, for an enterprise up to a date (an accident's, or today), every signed inspection
with its signers, every hazard and its life, listed supervision and who tracked it, the tasks
given to the enterprise's street and supervising departments, the principal's failed duties,
enforcement and accidents, and names the four questions the plans ask (seed 000 and 002):

- 查不出: a signed inspection whose checked items covered a hazard found later (and after the
  previous hazard of that item there, if any);
- 查出后未督促整改到位: a hazard an inspection found still open past its deadline (or at the accident);
- 只检查不处罚: an inspection that found a major hazard and imposed no sanction;
- 以罚代管: a fine whose hazard was left open past its deadline.

The same questions for a node: its units' signed inspections and what their inspectors missed.
No request, no templates."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import String, and_, case, cast, distinct, func, literal, null, or_, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from portal.accountability.models import LETTERS, MEASURES, UNIT_MEASURES, AccountabilityRecord, Letter
from portal.audit import service as audit
from portal.checklists import service as checklists
from portal.errors import Refused
from portal.exports import service as exports
from portal.extensions import db
from portal.hazards.models import Hazard
from portal.inspections import service as inspections
from portal.inspections.models import PRINCIPAL_FINDINGS, SANCTION_KINDS, Accident, EnforcementAction, Inspection
from portal.plans import service as plans
from tenants import clock
from tenants.models import GOVERNMENT_KINDS, Membership, Tenant
from tenants.paths import in_subtree
from tenants.scope import may_change

QUESTIONS = {
    "missed": "查不出",
    "not_followed": "查出后未督促整改到位",
    "no_sanction": "只检查不处罚",
    "fine_instead": "以罚代管",
}
REASON_MAX = 5000


class AccountabilityError(Refused):
    """A step the accountability rules refuse; the message says what to do."""


# --- The trace ---------------------------------------------------------------------------------------

@dataclass
class Question:
    code: str
    text: str
    inspection: Inspection | None
    hazard: Hazard | None = None
    people: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return QUESTIONS[self.code]

    @property
    def key(self) -> str:
        return f"{self.code}:{self.inspection.id if self.inspection else 0}:{self.hazard.id if self.hazard else 0}"


@dataclass
class HazardLife:
    """A hazard as it stood at the end of the trace."""

    hazard: Hazard
    found_by: Inspection | None
    open_at_end: bool
    open_days: int
    overdue_days: int
    returned: int
    exempt: bool


@dataclass
class Entry:
    """One dated line of the timeline; `key` names it when a record cites it."""

    on: date
    kind: str
    title: str
    detail: str = ""
    people: list[str] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    key: str = ""


ENTRY_KINDS = {"inspection": "检查", "amendment": "更正", "hazard": "隐患", "listed": "挂牌督办",
               "action": "执法", "accident": "事故", "task": "交办", "duty": "履职", "record": "问责"}


@dataclass
class InspectorSummary:
    name: str
    inspections: int = 0
    counts: dict[str, int] = field(default_factory=lambda: {code: 0 for code in QUESTIONS})


@dataclass
class Trace:
    subject: Tenant
    until: date
    accident: Accident | None
    inspections: list[Inspection]
    hazards: list[HazardLife]
    questions: list[Question]
    entries: list[Entry]
    assignments: list = field(default_factory=list)
    accidents: list[Accident] = field(default_factory=list)
    records: list[AccountabilityRecord] = field(default_factory=list)
    inspectors: list[InspectorSummary] = field(default_factory=list)
    # The enterprise's failed duties as its responsibility lists judge them (portal.checklists).
    duties: list = field(default_factory=list)
    # 提醒函/督办函 sent to the subject or about its records, with their replies (letters_about).
    letters: list = field(default_factory=list)

    @property
    def is_enterprise(self) -> bool:
        return self.subject.kind == "enterprise"

    def items(self) -> dict[str, str]:
        """What an accountability record may cite: every question and every flagged line."""
        found = {q.key: f"{q.label}：{q.text}" for q in self.questions}
        for e in self.entries:
            if e.key and e.key not in found:
                found[e.key] = f"{e.on:%Y-%m-%d} {e.title}" + (f"（{e.detail}）" if e.detail else "")
        return found

    def by_question(self) -> dict[str, list[Question]]:
        return {code: [q for q in self.questions if q.code == code] for code in QUESTIONS}

    def units(self) -> list[Tenant]:
        """Units a record about this trace may name: the inspecting units readable here, the
        enterprise, its street and departments."""
        seen, found = set(), []
        for unit in [i.unit for i in self.inspections] + [a.tenant for a in self.assignments] + [self.subject]:
            if unit is not None and unit.id not in seen:
                seen.add(unit.id)
                found.append(unit)
        return found

    def people(self) -> list:
        """Users the trace names: signers and tracking persons."""
        seen, found = set(), []
        users = [s.user for i in self.inspections for s in i.signatures] + \
            [h.hazard.listed_tracker for h in self.hazards if h.hazard.listed_tracker is not None]
        for user in users:
            if user.id not in seen:
                seen.add(user.id)
                found.append(user)
        return found


def _signers(inspection: Inspection) -> list[str]:
    return [s.user.display_name for s in inspection.signatures]


def _rectified_by(hazard: Hazard, day: date) -> bool:
    return hazard.rectified_on is not None and hazard.rectified_on <= day


def _life(hazard: Hazard, found_by: Inspection | None, end: date, returned: int) -> HazardLife:
    open_at_end = not _rectified_by(hazard, end)
    stop = end if open_at_end else hazard.rectified_on
    due = hazard.fix_deadline or hazard.listed_deadline
    overdue = max(0, (stop - due).days) if due else 0
    return HazardLife(hazard, found_by, open_at_end, max(0, (stop - hazard.found_at).days), overdue, returned,
                      inspections.penalty_exempt(hazard, end))


def _neglected(life: HazardLife, end: date, at_accident: bool) -> bool:
    """Open when it should not be: past its deadline, or standing when the accident happened."""
    if not life.open_at_end:
        return False
    due = life.hazard.fix_deadline or life.hazard.listed_deadline
    return at_accident or (due is not None and due < end)


@dataclass
class _Group:
    """An original inspection with its amendments: what it checked, found and did, together."""

    original: Inspection
    amendments: list[Inspection]
    end: date

    @property
    def records(self) -> list[Inspection]:
        return [self.original, *self.amendments]

    @property
    def item_ids(self) -> set[int]:
        return {c.standard_item_id for i in self.records for c in i.checked_items}

    @property
    def hazard_ids(self) -> set[int]:
        return {link.hazard_id for i in self.records for link in i.hazard_links}

    @property
    def actions(self) -> list[EnforcementAction]:
        # A sanction decided after the cut-off neither answers 只检查不处罚 nor may be cited.
        return [a for i in self.records for a in i.actions if a.decided_on <= self.end]


def _groups(records: list[Inspection], end: date) -> list[_Group]:
    originals = {i.id: _Group(i, [], end) for i in records if i.amends_id is None}
    for i in records:
        if i.amends_id is not None and i.amends_id in originals:
            originals[i.amends_id].amendments.append(i)
    return list(originals.values())


def _questions(groups: list[_Group], lives: dict[int, HazardLife], end: date, at_accident: bool) -> list[Question]:
    """The four questions over `groups`, against the hazards in `lives` (hazard id → life)."""
    found: list[Question] = []
    by_enterprise: dict[int, list[HazardLife]] = {}
    for life in lives.values():
        by_enterprise.setdefault(life.hazard.tenant_id, []).append(life)
    # A hazard can only have been missed since the last one of the same item there was found: an
    # inspection before that saw the item in the state that was then found and dealt with.
    since: dict[int, date] = {}
    last: dict[tuple[int, int], date] = {}
    for life in sorted(lives.values(), key=lambda x: (x.hazard.found_at, x.hazard.id)):
        h = life.hazard
        if h.standard_item_id is not None:
            key = (h.tenant_id, h.standard_item_id)
            if key in last and last[key] < h.found_at:
                since[h.id] = last[key]
            last[key] = h.found_at
    for g in groups:
        i, people = g.original, _signers(g.original)
        items, own = g.item_ids, g.hazard_ids
        for life in by_enterprise.get(i.tenant_id, []):
            h = life.hazard
            if h.id not in own and h.standard_item_id in items and i.inspected_on < h.found_at <= end \
                    and i.inspected_on > since.get(h.id, date.min):
                item = h.standard_item.cited if h.standard_item else ""
                found.append(Question("missed", f"{i.inspected_on:%Y-%m-%d} {i.unit_name}{i.kind_label}检查了"
                                      f"{item}，未发现 {h.found_at:%Y-%m-%d} 查出的“{h.description}”",
                                      i, h, people))
        mine = [lives[h] for h in own if h in lives]
        for life in mine:
            if _neglected(life, end, at_accident):
                tracker = life.hazard.listed_tracker
                found.append(Question("not_followed", f"{i.unit_name} {i.inspected_on:%Y-%m-%d} 查出的“{life.hazard.description}”"
                                      f"至 {end:%Y-%m-%d} 仍未整改" + (f"，逾期 {life.overdue_days} 天" if life.overdue_days else ""),
                                      i, life.hazard, people + ([tracker.display_name] if tracker else [])))
        if any(life.hazard.level == "major" for life in mine) and not any(a.kind in SANCTION_KINDS for a in g.actions):
            major = next(life.hazard for life in mine if life.hazard.level == "major")
            found.append(Question("no_sanction", f"{i.unit_name} {i.inspected_on:%Y-%m-%d} 查出重大事故隐患"
                                  f"“{major.description}”，未作行政处罚等处理", i, major, people))
        for action in (a for a in g.actions if a.is_fine):
            concerned = [lives[action.hazard_id]] if action.hazard_id in lives else mine
            left = next((life for life in concerned if _neglected(life, end, at_accident)), None)
            if left is not None:
                found.append(Question("fine_instead", f"{action.decided_on:%Y-%m-%d} 罚款 {action.amount} 万元后，"
                                      f"“{left.hazard.description}”至 {end:%Y-%m-%d} 仍未整改", i, left.hazard, people))
    return found


def _lives(hazard_rows: list[Hazard], records: list[Inspection], end: date) -> dict[int, HazardLife]:
    finders = inspections.finder_of([h.id for h in hazard_rows])
    returned = audit.times("hazard.returned", "Hazard", [h.id for h in hazard_rows])
    by_id = {i.id: i for i in records}
    return {h.id: _life(h, by_id.get(finders.get(h.id)), end, returned.get(h.id, 0)) for h in hazard_rows}


def responsible_units(enterprise: Tenant) -> list[Tenant]:
    """The enterprise's street (属地) and the departments above it that supervise its industry
    (三管三必须), as far as the current scope reads them."""
    ancestors = enterprise.ancestor_ids
    streets = select(Tenant).where(Tenant.id.in_(ancestors), Tenant.kind.in_(("street", "village")))
    departments = select(Tenant).where(Tenant.parent_id.in_(ancestors), Tenant.kind == "department")
    units = db.session.execute(streets).scalars().all()
    units += [d for d in db.session.execute(departments).scalars()
              if enterprise.industry in (d.supervised_industries or [])]
    return sorted(units, key=lambda t: t.path)


def trace(enterprise: Tenant, until: date | None = None, accident: Accident | None = None) -> Trace:
    """The trace of one enterprise up to `until` (the accident's day when an accident is given)."""
    end = accident.occurred_on if accident is not None else (until or clock.today())

    def before(day: date, created_at) -> bool:
        # An accident has a day, not an hour: on that day, what was entered after the accident
        # itself (a task sent, an inspection recorded that afternoon) came after it.
        return day < end or (day == end and (accident is None or created_at <= accident.created_at))
    records = [i for i in inspections.of_enterprise(enterprise, end) if before(i.inspected_on, i.created_at)]
    lives = _lives([h for h in inspections.hazards_of([enterprise.id], end) if before(h.found_at, h.created_at)],
                   records, end)
    questions = _questions(_groups(records, end), lives, end, accident is not None)
    accident_rows = [x for x in db.session.execute(inspections.accidents(enterprise=enterprise)
                                                   .where(Accident.occurred_on <= end)).scalars()
                     if accident is None or x.id == accident.id or before(x.occurred_on, x.created_at)]
    assignments = [a for unit in responsible_units(enterprise)
                   for a in db.session.execute(plans.received(unit, today=end)).scalars()
                   if before(date.fromisoformat(clock.local(a.created_at, "%Y-%m-%d")), a.created_at)]
    found_records = db.session.execute(records_about(enterprise)).scalars().all()
    result = Trace(enterprise, end, accident, records, list(lives.values()), questions, [], assignments,
                   list(reversed(accident_rows)), found_records, duties=checklists.findings_until(enterprise, end),
                   letters=letters_about(enterprise, end))
    result.entries = _timeline(result)
    return result


def _timeline(t: Trace) -> list[Entry]:
    end = t.until
    asked: dict[int, list[Question]] = {}
    for q in t.questions:
        asked.setdefault(q.inspection.id, []).append(q)
    entries: list[Entry] = []
    for i in t.inspections:
        signed = "、".join(f"{s.user.display_name}（{clock.local(s.signed_at, '%Y-%m-%d')}签名）" for s in i.signatures)
        parts = [f"检查事项 {len(i.checked_items)} 项", f"发现隐患 {len(i.hazard_links)} 项"]
        parts += [f"抽查发现：{f.label}" for f in i.findings]
        parts += [a.kind_label + (f" {a.amount} 万元" if a.amount is not None else "") for a in i.actions]
        if i.amends_id:
            entries.append(Entry(i.inspected_on, "amendment", f"{i.unit_name}更正第 {i.amends_id} 号检查记录",
                                 i.notes, _signers(i), [], f"inspection:{i.id}"))
        else:
            entries.append(Entry(i.inspected_on, "inspection", f"{i.unit_name}{i.kind_label}（第 {i.id} 号，{signed}）",
                                 "；".join(parts), _signers(i), asked.get(i.id, []), f"inspection:{i.id}"))
        for f in i.findings:
            if f.code in PRINCIPAL_FINDINGS:
                entries.append(Entry(i.inspected_on, "duty", f"抽查发现主要负责人未履职：{f.label}", f.note,
                                     key=f"duty:{i.id}:{f.code}"))
    for life in t.hazards:
        h = life.hazard
        state = "至 {:%Y-%m-%d} 仍未整改".format(end) if life.open_at_end else f"{h.rectified_on:%Y-%m-%d} 整改完成"
        detail = [f"{h.source_label}（{h.found_by_unit.name}）", state, f"存在 {life.open_days} 天"]
        if life.overdue_days:
            detail.append(f"逾期 {life.overdue_days} 天")
        if life.returned:
            detail.append(f"验收退回 {life.returned} 次")
        if life.exempt:
            detail.append("企业自查按时报告，依法不予处罚")
        entries.append(Entry(h.found_at, "hazard", f"{h.level_label}：{h.description}", "；".join(detail),
                             key=f"hazard:{h.id}"))
        if h.listed_on and h.listed_on <= end:
            tracker = h.listed_tracker.display_name if h.listed_tracker else ""
            entries.append(Entry(h.listed_on, "listed", f"{h.listed_by.name}挂牌督办“{h.description}”",
                                 f"督办文号 {h.listed_document_number}；期限 {h.listed_deadline}；跟踪责任人 {tracker}",
                                 [tracker] if tracker else [], key=f"listed:{h.id}"))
    for i in t.inspections:
        for a in i.actions:
            if a.decided_on > end:
                continue  # decided after the cut-off: not part of what the trace may cite
            amount = f"{a.amount} 万元" if a.amount is not None else ""
            entries.append(Entry(a.decided_on, "action", f"{i.unit_name}{a.kind_label} {amount}".strip(),
                                 "；".join(x for x in (a.document_number, a.person_names, a.note, a.override_reason) if x),
                                 key=f"action:{a.id}"))
    for a in t.assignments:
        late = a.state != "done" and a.deadline < end
        title = f"{a.assigner.name}交办{a.tenant.name}《{a.task.title}》"
        detail = f"期限 {a.deadline}；{a.state_label}；催办 {a.reminders} 次" + ("；逾期未办结" if late else "")
        entries.append(Entry(date.fromisoformat(clock.local(a.created_at, "%Y-%m-%d")), "task", title, detail, key=f"task:{a.id}" if late else ""))
    for d in t.duties:
        lasted = f"至 {end:%Y-%m-%d} 仍未落实" if d.resolved_on is None or d.resolved_on > end \
            else f"{d.resolved_on:%Y-%m-%d} 已落实"
        entries.append(Entry(d.since, "duty", f"企业履职：{d.text}", lasted, key=f"compliance:{d.id}"))
    for x in t.accidents:
        entries.append(Entry(x.occurred_on, "accident", f"事故：{x.kind_label}，死亡 {x.deaths} 人、受伤 {x.injuries} 人"
                             f"（{x.report_label}）",
                             x.summary, key=f"accident:{x.id}"))
    for r in t.records:
        entries.append(Entry(r.decided_on, "record", f"{r.tenant.name}{r.measure_label}：{r.subject_unit_name}"
                             f"{r.subject_person}", r.reason))
    order = list(ENTRY_KINDS)
    return sorted(entries, key=lambda e: (e.on, order.index(e.kind)))


def trace_node(node: Tenant, until: date | None = None) -> Trace:
    """What the inspectors of `node` and the units below it signed, and what they missed."""
    end = until or clock.today()
    records = inspections.by_units_of(node, end)
    enterprise_ids = {i.tenant_id for i in records if i.tenant.kind == "enterprise"}
    lives = _lives(inspections.hazards_of(enterprise_ids, end) if enterprise_ids else [], records, end)
    questions = _questions(_groups(records, end), lives, end, False)
    inspectors: dict[int, InspectorSummary] = {}
    for i in records:
        if i.amends_id is None:
            for s in i.signatures:
                inspectors.setdefault(s.user_id, InspectorSummary(s.user.display_name)).inspections += 1
    for q in questions:
        for s in q.inspection.signatures:
            inspectors[s.user_id].counts[q.code] += 1
    entries = [Entry(i.inspected_on, "amendment" if i.amends_id else "inspection",
                     f"{i.unit_name}{i.kind_label}：{i.tenant.name}（第 {i.id} 号）",
                     f"发现隐患 {len(i.hazard_links)} 项；执法措施 {len(i.actions)} 项", _signers(i),
                     [q for q in questions if q.inspection.id == i.id], f"inspection:{i.id}") for i in records]
    return Trace(node, end, None, records, [lives[h] for h in lives if lives[h].found_by is not None], questions,
                 entries, inspectors=sorted(inspectors.values(), key=lambda s: (-sum(s.counts.values()), s.name)),
                 letters=letters_about(node, end))


def letters_about(subject: Tenant, end: date) -> list[Letter]:
    """The letters sent by `end` to `subject` or about its records, as far as the scope reads them."""
    about = or_(Letter.tenant_id == subject.id, AccountabilityRecord.enterprise_id == subject.id)
    # An outer join: the receiver reads the letters sent to it, not the issuer's records behind them.
    return db.session.execute(select(Letter).outerjoin(Letter.record).where(about, Letter.sent_on <= end)
                              .options(selectinload(Letter.files)).order_by(Letter.sent_on, Letter.id)).scalars().all()


# --- Accountability records --------------------------------------------------------------------------

def records_about(enterprise: Tenant):
    return (select(AccountabilityRecord).where(AccountabilityRecord.enterprise_id == enterprise.id)
            .options(selectinload(AccountabilityRecord.tenant)).order_by(AccountabilityRecord.decided_on))


def listing(q: str = "", measure: str = ""):
    """Records readable in the current scope: those decided by it and below it (a SELECT)."""
    stmt = select(AccountabilityRecord).options(selectinload(AccountabilityRecord.tenant))
    if measure in MEASURES:
        stmt = stmt.where(AccountabilityRecord.measure == measure)
    q = (q or "").strip()
    if q:
        stmt = stmt.where(or_(AccountabilityRecord.subject_unit_name.contains(q, autoescape=True),
                              AccountabilityRecord.subject_person.contains(q, autoescape=True)))
    return stmt.order_by(AccountabilityRecord.decided_on.desc(), AccountabilityRecord.id.desc())


@dataclass
class RecordInput:
    measure: str
    subject_unit_id: int | None
    subject_person: str = ""
    subject_post: str = ""
    subject_user_id: int | None = None
    reason: str = ""
    requirement: str = ""
    basis: list[str] = field(default_factory=list)
    decided_on: date | None = None
    document_number: str = ""
    issuer: str = ""
    request_key: str | None = None
    # The day a 督办函's reply is due.
    reply_by: date | None = None


SUBMITTED = "这份问责记录已经提交过了，请勿重复提交。可在“倒查追责”页的追责问责记录中查看。"


def default_issuer(actor: Membership) -> str:
    return f"{actor.tenant.name}纪委监委" if actor.role == "discipline" else f"{actor.tenant.name}安全生产委员会"


def record(actor: Membership, t: Trace, data: RecordInput, today: date | None = None) -> AccountabilityRecord:
    """An accountability record resting on items of trace `t`, decided by `actor`'s node."""
    _deciding(actor)
    units = {u.id: u for u in t.units()}
    unit = units.get(data.subject_unit_id or 0)
    if unit is None or not may_change(actor, unit):
        raise AccountabilityError("请从倒查涉及的单位中选择被问责单位。")
    user = None
    if data.subject_user_id:
        user = next((u for u in t.people() if u.id == data.subject_user_id), None)
        if user is None:
            raise AccountabilityError("所选人员不在倒查涉及的人员中。")
    items = t.items()
    unknown = [k for k in data.basis if k not in items]
    if unknown:
        raise AccountabilityError("所选倒查事项已变化，请刷新倒查页面后重新选择。")
    if not data.basis:
        raise AccountabilityError("请至少勾选一项倒查发现作为问责依据。")
    return decide(actor, unit, data, [{"key": k, "text": items[k]} for k in data.basis], user=user,
                  enterprise_id=t.subject.id if t.is_enterprise else None,
                  accident_id=t.accident.id if t.accident else None, today=today)


def _deciding(actor: Membership) -> None:
    if actor.role not in ("discipline", "leader") or actor.tenant.kind not in GOVERNMENT_KINDS:
        raise AccountabilityError("追责问责记录只能由政府层级的纪检监察或领导角色填写。")


def decide(actor: Membership, unit: Tenant, data: RecordInput, basis: list[dict], *, user=None,
           enterprise_id: int | None = None, accident_id: int | None = None,
           today: date | None = None) -> AccountabilityRecord:
    """The record of `actor`'s node about `unit`, resting on `basis` ([{"key", "text"}], what the
    caller checked the node may read); a letter is delivered to `unit` at once (Letter)."""
    today = today or clock.today()
    _deciding(actor)
    node = actor.tenant
    if data.measure not in MEASURES:
        raise AccountabilityError("请选择处理方式。")
    letter = data.measure in LETTERS
    if letter and unit.id == node.id:
        raise AccountabilityError("提醒函、督办函发给下级单位，不能发给本单位。")
    person, post = (data.subject_person or "").strip(), (data.subject_post or "").strip()
    if user is not None:
        person, post = person or user.display_name, post or user.post
    if len(person) > 64 or len(post) > 64:
        raise AccountabilityError("姓名和职务各不超过 64 字。")
    if data.measure not in LETTERS + UNIT_MEASURES and not person:
        raise AccountabilityError(f"“{MEASURES[data.measure]}”须写明被问责人员。")
    reason = (data.reason or "").strip()
    if not reason:
        raise AccountabilityError("请写明问责事由。")
    if len(reason) > REASON_MAX or len(data.requirement or "") > REASON_MAX:
        raise AccountabilityError(f"事由和要求各不超过 {REASON_MAX} 字。")
    if data.decided_on is None or data.decided_on > today:
        raise AccountabilityError("请填写决定日期，且不能晚于今天。")
    # A 督办函 demands a written reply by a date; a 提醒函 demands none.
    reply_by = data.reply_by if data.measure == "supervision_letter" else None
    if data.measure == "supervision_letter" and (reply_by is None or reply_by < today):
        raise AccountabilityError("督办函须填写回复期限，且不能早于今天。")
    issuer = (data.issuer or "").strip() or default_issuer(actor)
    if len(issuer) > 100 or len(data.document_number or "") > 64:
        raise AccountabilityError("署名不超过 100 字，文号不超过 64 字。")
    entry = AccountabilityRecord(
        tenant=node, level=inspections.government_level(node), measure=data.measure, subject_unit_id=unit.id,
        subject_unit_name=unit.name, subject_person=person, subject_post=post, subject_user_id=user.id if user else None,
        reason=reason, requirement=(data.requirement or "").strip(), basis=basis,
        enterprise_id=enterprise_id, accident_id=accident_id,
        decided_on=data.decided_on, document_number=(data.document_number or "").strip(), issuer=issuer,
        created_by_id=actor.user_id, request_key=(data.request_key or "").strip()[:64] or None)
    try:
        with db.session.begin_nested():  # a second submission of the form, at once or later: the key lets one in
            db.session.add(entry)
            db.session.flush()
    except IntegrityError:
        raise AccountabilityError(SUBMITTED) from None
    audit.record(node, "accountability.recorded", entry,
                 {"measure": data.measure, "unit": unit.name, "person": person, "basis": [b["key"] for b in basis]},
                 actor=actor.user)
    if letter:
        _deliver(entry, unit, reply_by, actor)
    return entry


def letter_link(letter: Letter) -> str:
    """The letter's page, for the bell: from the URL map, as a service call may have no request."""
    urls = current_app.url_map.bind("", script_name=current_app.config["APPLICATION_ROOT"])
    return urls.build("accountability.show_letter", {"letter_id": letter.id})


def _deliver(entry: AccountabilityRecord, unit: Tenant, reply_by: date | None, actor: Membership) -> Letter:
    """The letter as `unit` receives it, and the news in its bell."""
    letter = Letter(tenant=unit, record=entry, issuer_id=entry.tenant_id, measure=entry.measure,
                    issuer_name=entry.issuer, document_number=entry.document_number, reason=entry.reason,
                    requirement=entry.requirement, basis=entry.basis, sent_on=entry.decided_on, reply_by=reply_by)
    db.session.add(letter)
    db.session.flush()
    audit.record(entry.tenant, "letter.sent", letter, {"unit": unit.name, "measure": entry.measure,
                                                       "reply_by": reply_by.isoformat() if reply_by else None},
                 actor=actor.user)
    plans.notify_units([(unit, letter_link(letter))], "letter",
                       f"{entry.issuer}{entry.measure_label}：{entry.reason[:80]}"
                       + (f"（请于 {reply_by} 前书面回复）" if reply_by else ""))
    return letter


# --- Dispatch figures --------------------------------------------------------------------------------

def _dispatch_conditions(tenant: Tenant, start: date, end: date):
    """(records of `tenant`'s subtree decided in the period, naming a person other than by a
    letter, aimed at a unit by 约谈 or 通报): what the figures count and the drill-down lists."""
    r = AccountabilityRecord
    return (and_(in_subtree(r.tenant_path, tenant.path), r.decided_on.between(start, end)),
            and_(r.subject_person != "", r.measure.notin_(LETTERS)),
            and_(r.subject_person == "", r.measure.in_(UNIT_MEASURES)))


def dispatch_records(tenant: Tenant, code: str, start: date, end: date):
    """The records behind enf.accountable_persons (one a person: the row counts people) or
    enf.interviews, as `dispatch_figures` counts them (a SELECT)."""
    period, named, aimed_at_unit = _dispatch_conditions(tenant, start, end)
    r = AccountabilityRecord
    return select(r).where(period, named if code == "enf.accountable_persons" else aimed_at_unit) \
        .order_by(r.decided_on, r.id)


def dispatch_figures(tenant: Tenant, start: date, end: date) -> inspections.Figures:
    """Every spot-check and enforcement row of the dispatch table (sections 二 and 三) for the
    work of `tenant` and the units below it, `start`..`end` inclusive: the inspections' figures
    (portal.inspections.service.dispatch_figures) and, from accountability records decided in the
    period,

    - enf.accountable_persons: distinct persons named by a record other than a letter (提醒函 /
      督办函 go to units);
    - enf.interviews: 约谈 and 通报 aimed at a unit (no person named).

    One more grouped statement; the current scope applies."""
    figures = inspections.dispatch_figures(tenant, start, end)
    r = AccountabilityRecord
    period, named, aimed_at_unit = _dispatch_conditions(tenant, start, end)
    # A person is their name within their unit: the same name in two units is two people.
    person = case((named, cast(r.subject_unit_id, String) + literal(":") + r.subject_person))
    at_unit = func.coalesce(func.sum(case((aimed_at_unit, 1), else_=0)), 0)

    def rows(level):
        stmt = select(level.label("level"), func.count(distinct(person)), at_unit).where(period)
        return stmt.group_by(level) if level is r.level else stmt
    figures.total.update({"enf.accountable_persons": 0, "enf.interviews": 0})
    for level, persons, interviews in db.session.execute(union_all(rows(r.level), rows(null()))).all():
        figures.add(level, "enf.accountable_persons", int(persons))
        figures.add(level, "enf.interviews", int(interviews))
    return figures


# --- Documents ---------------------------------------------------------------------------------------

def _when(params: dict) -> date | None:
    return date.fromisoformat(params["until"]) if params.get("until") else None


def trace_for(subject: Tenant, until: date | None = None, accident: Accident | None = None) -> Trace:
    return trace(subject, until, accident) if subject.kind == "enterprise" else trace_node(subject, until)


# 倒查材料 and 提醒函/督办函: discipline and leaders of the issuing level and the levels above, never
# the unit investigated nor the units and inspectors named (portal.exports.access.Readers).
DOCUMENT_READERS = exports.access.readers("discipline", "leader", issuing_line=True)


@exports.builder("accountability.dossier", readers=DOCUMENT_READERS)
def build_dossier(issuer: Tenant, params: dict) -> exports.Built:
    subject = db.session.execute(select(Tenant).where(Tenant.id == params["subject_id"])).scalar_one()
    accident = None
    if params.get("accident_id"):
        accident = db.session.execute(select(Accident).where(Accident.id == params["accident_id"])).scalar_one_or_none()
    t = trace_for(subject, _when(params), accident)
    content = {"subject": subject.name, "until": t.until.isoformat(),
               "questions": [[q.key, q.text, q.people] for q in t.questions],
               "entries": [[e.on.isoformat(), e.kind, e.title, e.detail, e.people] for e in t.entries],
               "signatures": [[i.id, i.content_sha256, [[s.user.display_name, clock.local(s.signed_at)]
                                                         for s in i.signatures]] for i in t.inspections],
               "letters": [[x.id, x.measure, x.tenant.name, x.sent_on.isoformat(),
                            x.reply_by.isoformat() if x.reply_by else None, x.outcome_on(t.until),
                            x.reply if x.replied_on_or_before(t.until) else "",
                            [[f.filename, f.sha256] for f in x.files] if x.replied_on_or_before(t.until) else []]
                           for x in t.letters]}
    return exports.Built("accountability/dossier_document.html", content,
                         {"trace": t, "ENTRY_KINDS": ENTRY_KINDS, "QUESTIONS": QUESTIONS})


@exports.builder("accountability.letter", readers=DOCUMENT_READERS)
def build_letter(tenant: Tenant, params: dict) -> exports.Built:
    entry = db.session.execute(select(AccountabilityRecord).where(AccountabilityRecord.id == params["record_id"])
                               ).scalar_one()
    sent = db.session.execute(select(Letter).where(Letter.record_id == entry.id)).scalar_one_or_none()
    reply_by = sent.reply_by if sent is not None else None
    content = {"id": entry.id, "measure": entry.measure, "issuer": entry.issuer, "number": entry.document_number,
               "to": entry.subject_unit_name, "person": entry.subject_person, "reason": entry.reason,
               "requirement": entry.requirement, "basis": entry.basis, "decided_on": entry.decided_on.isoformat(),
               "reply_by": reply_by.isoformat() if reply_by else None}
    return exports.Built("accountability/letter_document.html", content, {"record": entry, "reply_by": reply_by})


def request_dossier(issuer: Tenant, subject: Tenant, until: date | None, accident: Accident | None, *,
                    actor: Membership | None = None):
    """Queue the dossier of `subject`, filed under the issuing level `issuer` (the requester's node):
    who may read it is decided by the issuer's place in the tree, never by the subject's."""
    end = accident.occurred_on if accident else until
    title = f"{subject.name}倒查追责材料" + (f"（截至 {end:%Y-%m-%d}）" if end else "")
    return exports.request_export(issuer, kind="accountability.dossier", title=title[:200],
                                  params={"subject_id": subject.id, "until": end.isoformat() if end else None,
                                          "accident_id": accident.id if accident else None}, actor=actor)


def request_letter(entry: AccountabilityRecord, *, actor: Membership | None = None):
    if not entry.is_letter:
        raise AccountabilityError("只有提醒函、督办函生成公文；其他处理方式请导出倒查材料。")
    return exports.request_export(entry.tenant, kind="accountability.letter",
                                  title=f"关于{entry.subject_unit_name}的{entry.measure_label}",
                                  params={"record_id": entry.id}, actor=actor)
