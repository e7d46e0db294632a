"""Tips from the public: intake without login, throttled per address, answered with a tracking
code; verification by the street, the hazard a true tip becomes, and the reward."""
from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, select

from portal.audit import service as audit
from portal.codes import service as codes
from portal.database import lock
from portal.errors import Refused
from portal.extensions import db
from portal.hazards import service as hazards
from portal import ratelimit
from portal.tips.models import Tip, TipPhoto
from portal.uploads import service as uploads
from tenants import clock
from tenants.models import GOVERNMENT_KINDS, Membership, Tenant
from tenants.paths import in_part, in_subtree, within
from tenants.scope import Scope, may_change, unscoped

# No 0/O, 1/I/L: read over the phone without mistakes. 16 characters ≈ 79 bits.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 16
WINDOW = timedelta(hours=1)
MAX_PHOTOS = 5
REWARD_MAX = Decimal("10000")


class TipError(Refused):
    """A tip or a step on it the rules refuse; the message is for the person who sent it."""


class TooManyTips(TipError):
    """The sender's address has sent its quota for the hour."""


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalize(code: str) -> str:
    return "".join(ch for ch in (code or "").upper() if ch in CODE_ALPHABET)


def formatted(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def districts() -> list[tuple[int, str]]:
    """Every district with its city, for the public form: (id, "天津市 · 河东区")."""
    with unscoped():  # public, and the names of government levels are public
        rows = db.session.execute(select(Tenant).where(Tenant.kind == "district").order_by(Tenant.path)).scalars()
        parents = {}
        found = []
        for district in rows:
            if district.parent_id not in parents:
                parents[district.parent_id] = district.parent.name if district.parent else ""
            found.append((district.id, f"{parents[district.parent_id]} · {district.name}"))
        return found


def streets(district_id: int | None) -> list[tuple[int, str]]:
    if not district_id:
        return []
    with unscoped():
        return [(t.id, t.name) for t in db.session.execute(
            select(Tenant).where(Tenant.parent_id == district_id, Tenant.kind == "street").order_by(Tenant.code,
                                                                                                    Tenant.id))
                .scalars()]


def _too_many(limit: int) -> TooManyTips:
    return TooManyTips(f"同一网络地址一小时内最多提交 {limit} 条举报，请稍后再试；情况紧急请直接拨打 12350。")


def check_quota(*, sender: str, limit: int) -> None:
    """Refuse a sender who has already sent `limit` tips within the hour (before the form is read)."""
    if ratelimit.used("tips", sender, WINDOW) >= limit:
        raise _too_many(limit)


def about(enterprise_code: str) -> Tenant:
    """The enterprise whose code (一企一码) the reporter scanned; refused when void or unknown."""
    code = codes.lookup(enterprise_code)
    if code is None:
        raise TipError("二维码无效，请重新扫码，或选择区县后填写被举报单位。")
    if not code.in_force:
        raise TipError("该二维码已作废，请扫描企业新张贴的二维码，或选择区县后填写被举报单位。")
    return code.tenant


def submit(*, district_id: int | None, street_id: int | None, enterprise_name: str, address: str,
           description: str, anonymous: bool, reporter_name: str = "", contact: str = "", photos=(),
           sender: str, limit: int, enterprise_code: str = "") -> str:
    """Take a tip from anyone; return its tracking code (shown once, stored only as a digest).
    It goes to the chosen street, or to the district when no street was chosen. A tip sent from an
    enterprise's code is about that enterprise and goes to its street, whatever else was posted."""
    enterprise = None
    if enterprise_code:
        enterprise = about(enterprise_code)
        with unscoped():  # the public reads the names the poster already shows
            street, district = codes.street_of(enterprise), codes.district_of(enterprise)
        district_id, street_id = (district.id if district else None), (street.id if street else None)
        enterprise_name, address = enterprise.name, enterprise.address or address
    enterprise_name, address, description = (enterprise_name or "").strip(), (address or "").strip(), \
        (description or "").strip()
    if not enterprise_name or len(enterprise_name) > 100:
        raise TipError("请填写被举报单位的名称（不超过 100 字）。")
    if len(address) > 200:
        raise TipError("地址不超过 200 字。")
    if len(description) < 10 or len(description) > 2000:
        raise TipError("请描述隐患情况（10 至 2000 字）：在哪里、是什么问题。")
    reporter_name, contact = ("", "") if anonymous else ((reporter_name or "").strip(), (contact or "").strip())
    if len(reporter_name) > 64 or len(contact) > 64:
        raise TipError("姓名和联系方式各不超过 64 字。")
    photos = list(photos)
    if len(photos) > MAX_PHOTOS:
        raise TipError(f"最多上传 {MAX_PHOTOS} 张照片。")
    with unscoped():  # a public page: exactly the destination lookup, the throttle and the insert
        district = db.session.get(Tenant, district_id) if district_id else None
        if district is None or district.kind != "district":
            raise TipError("请选择隐患所在的区县。")
        destination = district
        if street_id:
            street = db.session.get(Tenant, street_id)
            if street is None or street.kind != "street" or street.parent_id != district.id:
                raise TipError("所选街道/乡镇不属于该区县，请重新选择。")
            destination = street
        if not ratelimit.take("tips", sender, limit, WINDOW):
            raise _too_many(limit)
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        tip = Tip(tenant=destination, code_digest=_digest(code), enterprise_name=enterprise_name, address=address,
                  description=description, anonymous=bool(anonymous), reporter_name=reporter_name, contact=contact,
                  enterprise=enterprise)
        db.session.add(tip)
        db.session.flush()
        for filename, data in photos:
            db.session.add(TipPhoto(tenant=destination, tip=tip,
                                    upload=uploads.store(destination, filename, data, kinds=("image",))))
        # Nothing of the content in the chain: it is read by more people than the tip is.
        audit.record(destination, "tip.received", tip, {"photos": len(photos), "scanned": enterprise is not None})
    return formatted(code)


def status_of(code: str) -> str | None:
    """The state of the tip with this tracking code, and nothing else; None if there is none."""
    code = normalize(code)
    if len(code) != CODE_LENGTH:
        return None
    with unscoped():  # looked up by the secret alone
        tip = db.session.execute(select(Tip).where(Tip.code_digest == _digest(code))).scalar_one_or_none()
        return tip.status_label if tip else None


def received(status: str = ""):
    """Tips in the current scope, newest first (a SELECT to paginate)."""
    stmt = select(Tip).order_by(Tip.id.desc())
    if status:
        stmt = stmt.where(Tip.status == status)
    return stmt


def enterprises_for(tip: Tip):
    """The enterprises a tip may be about: those under the street (or district) it went to."""
    return (select(Tenant).where(Tenant.kind == "enterprise", in_subtree(Tenant.path, tip.tenant.path))
            .order_by(Tenant.name).limit(2000))


def _as_verifier(tip: Tip, actor: Membership) -> None:
    if actor.tenant.kind not in GOVERNMENT_KINDS or not may_change(actor, tip):
        raise TipError("举报由受理的街道/乡镇（或其上级）核查。")


def verify(tip: Tip, actor: Membership, *, true: bool, note: str = "", enterprise: Tenant | None = None,
           finding: hazards.Finding | None = None, today: date | None = None) -> Tip:
    """Record the result of checking a tip. A true one names the enterprise and becomes a hazard
    with source 举报, carrying the tip's photos."""
    _as_verifier(tip, actor)
    lock(tip)  # two verifiers at once: one verdict, one hazard
    if tip.status != "received":
        raise TipError(f"该举报已核查（{tip.status_label}），不能再次核查。")
    note = (note or "").strip()
    if len(note) > 1000:
        raise TipError("核查说明不超过 1000 字。")
    today = today or clock.today()
    if true:
        if enterprise is None or enterprise.kind != "enterprise" or not within(enterprise.path, tip.tenant.path):
            raise TipError("查实的举报须选定被举报的企业（须在受理单位辖区内）。")
        photos = [(p.upload.filename, p.upload.content) for p in tip.photos]
        tip.hazard = hazards.record_from_tip(enterprise, actor, finding, photos=photos, today=today)
        tip.enterprise = enterprise
    elif not note:
        raise TipError("核查不属实的，须写明核查情况。")
    tip.status, tip.note, tip.verified_on, tip.verified_by_id = ("verified" if true else "unfounded"), note, today, \
        actor.user_id
    audit.record(tip.tenant, "tip.verified", tip,
                 {"result": tip.status, "hazard": tip.hazard.id if tip.hazard else None}, actor=actor.user)
    return tip


def reward(tip: Tip, actor: Membership, *, amount: Decimal | None, named: bool, today: date | None = None) -> Tip:
    """举报奖励 in 万元; an anonymous reporter is rewarded anonymously (through the tracking code)."""
    _as_verifier(tip, actor)
    lock(tip)  # one reward, however many press at once
    if tip.status != "verified":
        raise TipError("只有查实的举报才能记录奖励。")
    if tip.reward is not None:
        raise TipError(f"该举报已记录奖励（{tip.rewarded_on}，{tip.reward} 万元），不能重复记录。")
    if amount is None or amount <= 0 or amount > REWARD_MAX:
        raise TipError("奖励金额须大于 0（单位：万元）。")
    if named and tip.anonymous:
        raise TipError("匿名举报只能匿名领取奖励。")
    tip.reward, tip.reward_named, tip.rewarded_on = amount, bool(named), today or clock.today()
    audit.record(tip.tenant, "tip.rewarded", tip, {"amount": str(amount), "named": bool(named)}, actor=actor.user)
    return tip


def reward_figures(tenant: Tenant, start: date, end: date,
                   part: tuple[str, ...] | None = None) -> tuple[Decimal, Decimal]:
    """举报奖励（万元），其中匿名举报查实奖励（万元） of the dispatch table, for `tenant`'s area
    (with `part`, a level's own part of it: hazards.dispatch_figures) and rewards recorded from
    `start` to `end` inclusive."""
    total, anonymous = db.session.execute(
        select(func.coalesce(func.sum(Tip.reward), 0),
               func.coalesce(func.sum(case((Tip.anonymous.is_(True), Tip.reward), else_=0)), 0))
        .where(_rewarded(tenant, start, end, part))).one()
    return Decimal(total), Decimal(anonymous)


def _rewarded(tenant: Tenant, start: date, end: date, part: tuple[str, ...] | None = None):
    area = Scope.of(tenant, "staff").area(Tip) if part is None else in_part(Tip.tenant_path, tenant.path, part)
    return and_(area, Tip.rewarded_on >= start, Tip.rewarded_on <= end)


def rewarded_tips(tenant: Tenant, start: date, end: date, anonymous_only: bool = False):
    """The tips whose rewards `reward_figures` sums (a SELECT)."""
    stmt = select(Tip).where(_rewarded(tenant, start, end))
    if anonymous_only:
        stmt = stmt.where(Tip.anonymous.is_(True))
    return stmt.order_by(Tip.rewarded_on, Tip.id)
