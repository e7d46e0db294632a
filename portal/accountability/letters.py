"""提醒函/督办函 to any unit below the issuing level, about any record it reads that lags (an overdue
task, a late or missing dispatch report, a listed hazard past its deadline, a failed duty); the
reply a 督办函 demands by its date (text and files, once), and the issuer's 办结.

A record kind that may ground a letter registers a resolver with `source` (the modules above
this one, dispatch, register their own). No request, no templates."""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, select

from portal.accountability import service
from portal.accountability.models import LETTERS, Letter, LetterFile
from portal.audit import service as audit
from portal.checklists.models import ComplianceFinding
from portal.database import compare_and_set
from portal.errors import Refused
from portal.extensions import db
from portal.hazards.models import OPEN_STATUSES, Hazard
from portal.permissions import allows
from portal.plans import service as plans
from portal.plans.models import Assignment
from portal.uploads import service as uploads
from tenants import clock
from tenants.models import Membership, Tenant
from tenants.scope import may_change

REPLY_MAX = 5000
MAX_FILES = 10
REPLIED = "该函件刚刚已有回复或已办结，当前为“{record.state_label}”，请刷新页面查看。"
CLOSED = "该函件刚刚已有变化（已回复或已办结），当前为“{record.state_label}”，请刷新页面查看后再办结。"


class LetterError(Refused):
    """A letter step the rules refuse; the message says what to do."""


# --- What a letter may rest on ------------------------------------------------------------------------

@dataclass
class Source:
    """A record that lags, as the issuing level reads it: what a letter about it cites, the units
    that answer for it (the receiver is one of them) and the page that shows it."""

    key: str
    text: str
    units: list[Tenant]
    endpoint: str
    values: dict = field(default_factory=dict)
    # The enterprise the record belongs to, so the enterprise's trace lists the letter.
    enterprise_id: int | None = None


_resolvers: dict[str, Callable[[str, date], Source | None]] = {}


def source(kind: str):
    """Register the resolver of `kind:…` keys: it returns the Source read in the current scope,
    None when there is no such record there, or refuses when the record does not lag."""
    def register(resolve):
        _resolvers[kind] = resolve
        return resolve
    return register


def find(key: str, today: date | None = None) -> Source | None:
    kind, _, rest = (key or "").partition(":")
    resolve = _resolvers.get(kind)
    return resolve(rest, today or clock.today()) if resolve else None


def _one(stmt):
    return db.session.execute(stmt).scalar_one_or_none()


def _id(text: str) -> int:
    return int(text) if text.isdigit() else 0


@source("task")
def _task(rest: str, today: date) -> Source | None:
    a = _one(select(Assignment).where(Assignment.id == _id(rest)))
    if a is None:
        return None
    if a.state in plans.CLOSED or a.deadline >= today:
        raise LetterError("只有逾期未办结的交办任务才能据此发函。")
    return Source(f"task:{a.id}", f"{a.assigner.name}交办{a.tenant.name}《{a.task.title}》，期限 {a.deadline}，"
                  f"{a.state_label}，逾期 {(today - a.deadline).days} 天", [a.tenant],
                  "plans.assignment", {"assignment_id": a.id})


def _answerable(unit: Tenant) -> list[Tenant]:
    """An enterprise and those who answer for it (its street, its supervising departments)."""
    return [unit] + (service.responsible_units(unit) if unit.kind == "enterprise" else [])


@source("hazard")
def _hazard(rest: str, today: date) -> Source | None:
    h = _one(select(Hazard).where(Hazard.id == _id(rest)))
    if h is None:
        return None
    if not h.listed or h.status not in OPEN_STATUSES or h.listed_deadline is None or h.listed_deadline >= today:
        raise LetterError("只有超过挂牌督办期限仍未整改的隐患才能据此发函。")
    return Source(f"listed:{h.id}", f"{h.listed_by.name}挂牌督办{h.tenant.name}“{h.description}”，期限 {h.listed_deadline}，"
                  f"至 {today:%Y-%m-%d} 仍未整改（{h.status_label}）", _answerable(h.tenant), "hazards.show",
                  {"hazard_id": h.id}, h.tenant_id if h.tenant.kind == "enterprise" else None)


@source("duty")
def _duty(rest: str, today: date) -> Source | None:
    f = _one(select(ComplianceFinding).where(ComplianceFinding.id == _id(rest)))
    if f is None:
        return None
    if f.resolved_on is not None:
        raise LetterError("该履职问题已经落实，无需据此发函。")
    return Source(f"compliance:{f.id}", f"{f.tenant.name}未履职：{f.text}（自 {f.since:%Y-%m-%d}）",
                  _answerable(f.tenant), "checklists.unit", {"tenant_id": f.tenant_id},
                  f.tenant_id if f.tenant.kind == "enterprise" else None)


# --- Sending, replying, closing -------------------------------------------------------------------

def send(actor: Membership, key: str, data: service.RecordInput, today: date | None = None):
    """A 提醒函 or 督办函 of `actor`'s level to one of the units that answer for the record `key`
    names; the record of the decision stays with the level (AccountabilityRecord)."""
    today = today or clock.today()
    if data.measure not in LETTERS:
        raise LetterError("请选择提醒函或督办函。")
    found = find(key, today)
    if found is None:
        raise LetterError("所依据的记录不存在，或不在本单位的范围内。")
    unit = next((u for u in found.units if u.id == data.subject_unit_id), None)
    if unit is None or not may_change(actor, unit):
        raise LetterError("请从该记录的责任单位中选择收函单位。")
    return service.decide(actor, unit, data, [{"key": found.key, "text": found.text}],
                          enterprise_id=found.enterprise_id, today=today)


def may_reply(letter: Letter, actor: Membership | None) -> bool:
    return actor is not None and actor.tenant_id == letter.tenant_id and allows(actor, "letters.reply") \
        and letter.state == "sent"


def may_close(letter: Letter, actor: Membership | None) -> bool:
    return actor is not None and actor.tenant_id == letter.issuer_id and allows(actor, "accountability.write") \
        and letter.state != "closed"


def reply(letter: Letter, actor: Membership, text: str, files: list[tuple[str, bytes]] = (),
          now: datetime | None = None) -> Letter:
    """The receiving unit's one written reply, with its files. Two replies at once record one."""
    if actor.tenant_id != letter.tenant_id or not allows(actor, "letters.reply"):
        raise LetterError(f"只有收函单位“{letter.tenant.name}”的工作人员才能回复。")
    text = (text or "").strip()
    if not text:
        raise LetterError("请填写回复内容。")
    if len(text) > REPLY_MAX:
        raise LetterError(f"回复内容不超过 {REPLY_MAX} 字。")
    if len(files) > MAX_FILES:
        raise LetterError(f"附件不超过 {MAX_FILES} 个。")
    checked = [(*uploads.check(name, data), data) for name, data in files]
    if letter.state != "sent":
        raise LetterError(REPLIED.format(record=letter))
    now = now or clock.now()
    compare_and_set(letter, "state", REPLIED, state="replied", reply=text, replied_at=now,
                    replied_by_id=actor.user_id)
    db.session.add_all(LetterFile(tenant=letter.tenant, letter=letter, filename=name, kind=kind, mimetype=mimetype,
                                  size=len(data), sha256=hashlib.sha256(data).hexdigest(), content=data,
                                  created_by_id=actor.user_id) for name, kind, mimetype, data in checked)
    db.session.flush()
    audit.record(letter.tenant, "letter.replied", letter,
                 {"files": [[f.filename, f.sha256] for f in letter.files], "late": letter.replied_late}, actor=actor)
    plans.notify_units([(letter.issuer, service.letter_link(letter))], "letter_reply",
                       f"{letter.tenant.name}已回复{letter.measure_label}" + ("（逾期回复）" if letter.replied_late else ""))
    return letter


def close(letter: Letter, actor: Membership, outcome: str, now: datetime | None = None) -> Letter:
    """The issuer's 办结, with what came of the letter. Two at once record one."""
    if actor.tenant_id != letter.issuer_id or not allows(actor, "accountability.write"):
        raise LetterError("只有发函单位的纪检监察或领导才能办结函件。")
    outcome = (outcome or "").strip()
    if not outcome:
        raise LetterError("请填写办结意见。")
    if len(outcome) > REPLY_MAX:
        raise LetterError(f"办结意见不超过 {REPLY_MAX} 字。")
    if letter.state == "closed":
        raise LetterError(CLOSED.format(record=letter))
    was = letter.state_label
    compare_and_set(letter, "state", CLOSED, state="closed", outcome=outcome, closed_at=now or clock.now(),
                    closed_by_id=actor.user_id)
    audit.record(letter.issuer, "letter.closed", letter, {"unit": letter.tenant.name, "was": was}, actor=actor)
    plans.notify_units([(letter.tenant, service.letter_link(letter))], "letter_closed",
                       f"{letter.issuer_name}{letter.measure_label}已办结")
    return letter


# --- Lists -------------------------------------------------------------------------------------

FILTERS = {"awaiting": "待回复", "late": "逾期未回复", "replied": "已回复待办结", "closed": "已办结"}


def _filtered(stmt, state: str, today: date):
    if state == "awaiting":
        return stmt.where(Letter.state == "sent", Letter.reply_by.is_not(None))
    if state == "late":
        return stmt.where(Letter.state == "sent", Letter.reply_by < today)
    if state in ("replied", "closed"):
        return stmt.where(Letter.state == state)
    return stmt


def _ordered(stmt, today: date):
    # What needs someone first: late, then awaiting by date, then replied, then closed.
    rank = case((and_(Letter.state == "sent", Letter.reply_by < today), 0), (Letter.state == "sent", 1),
                (Letter.state == "replied", 2), else_=3)
    return stmt.order_by(rank, Letter.reply_by.is_(None), Letter.reply_by, Letter.id.desc())


def received(unit: Tenant, state: str = "", today: date | None = None):
    """Letters addressed to `unit` (a SELECT)."""
    today = today or clock.today()
    return _ordered(_filtered(select(Letter).where(Letter.tenant_id == unit.id), state, today), today)


def issued(issuer: Tenant, state: str = "", today: date | None = None):
    """Letters `issuer` sent (a SELECT)."""
    today = today or clock.today()
    return _ordered(_filtered(select(Letter).where(Letter.issuer_id == issuer.id), state, today), today)


def due(unit: Tenant, today: date, days: int) -> list[Letter]:
    """督办函 to `unit` still unanswered whose reply falls due within `days`, or is already late."""
    return db.session.execute(select(Letter).where(
        Letter.tenant_id == unit.id, Letter.state == "sent", Letter.reply_by <= today + timedelta(days=days))
        .order_by(Letter.reply_by, Letter.id)).scalars().all()
