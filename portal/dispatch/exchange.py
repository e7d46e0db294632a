"""Reporting up between platforms. A provincial platform configured with its parent's address and
token (PARENT_PLATFORM_URL, PARENT_PLATFORM_TOKEN) sends each table its top unit approved to the
parent's POST /api/v1/dispatch/submissions, tried again with growing pauses while the parent
cannot be reached; the parent records it as that node's approved table and counts it as if typed
there. Nodes are named between platforms by their division code, tables by their `uid`, and a
send by its key, so a table sent twice is recorded once."""
from __future__ import annotations

import hashlib
import json
import socket
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from portal.audit import service as audit
from portal.auth.models import User
from portal.database import compare_and_set, lock
from portal.dispatch import service
from portal.dispatch.models import DispatchReceipt, ReportDefinition, ReportSubmission, UpwardReport
from portal.dispatch.periods import DispatchError
from portal.extensions import db
from portal.plans import service as plans
from tenants import clock
from tenants.models import Membership, Tenant
from tenants.scope import may_change

# Pauses after each failed attempt (the scheduler looks every 5 minutes): a parent down for a
# restart is reached at the next look, one down for the night the next morning; after the last
# attempt the province's admins are told.
BACKOFF = (timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4), timedelta(hours=12))
MAX_ATTEMPTS = len(BACKOFF) + 1
# An attempt whose process died mid-send (its row left 上报中) is taken up again after this.
STALE_SENDING = timedelta(minutes=10)
PATH = "/api/v1/dispatch/submissions"


class ExchangeRefused(DispatchError):
    """A table the parent will not record; `status` is the HTTP answer (the API's error handler)."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


class Unreachable(Exception):
    """The parent did not answer, or answered that it cannot now (5xx, 429): tried again later."""


class Rejected(Exception):
    """The parent answered and refused (a wrong token, an unknown table): trying again as it is
    cannot help, an admin has to look."""


def digest(division: str, table: str, period_end: str, figures: dict) -> str:
    """What both platforms hash of a table: its node, table, period and figures, as canonical JSON."""
    text = json.dumps({"division": division, "table": table, "period_end": period_end, "figures": figures},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------- sending (the lower platform)

def payload(report: UpwardReport) -> dict:
    sub = report.submission
    approver = db.session.get(User, sub.decided_by_id) if sub.decided_by_id else None
    figures = {part: sub.figures[part] for part in ("total", "by_level", "manual")}
    body = {"key": report.key, "division": sub.tenant.code, "table": sub.definition.uid,
            "table_name": sub.definition.name, "period_end": sub.period_end.isoformat(), "figures": figures,
            "late": sub.late, "submitted_at": sub.submitted_at.isoformat() if sub.submitted_at else None,
            "approved_at": sub.decided_at.isoformat() if sub.decided_at else None,
            "approved_by": approver.display_name if approver else ""}
    body["digest"] = digest(body["division"], body["table"], body["period_end"], figures)
    return body


def _answer(e: urllib.error.HTTPError) -> str:
    try:
        return json.loads(e.read().decode())["error"]["message"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return e.reason or ""


def post(body: dict) -> dict:
    """Send one table to the parent; its receipt (JSON), or Unreachable / Rejected."""
    config = current_app.config
    if not config["PARENT_PLATFORM_URL"]:
        raise Rejected("本平台未设置上级平台地址（PARENT_PLATFORM_URL），请运维人员设置后重新上报")
    if not body["division"]:
        raise Rejected("本单位没有区划代码，上级平台无法识别，请管理员补充后重新上报")
    request = urllib.request.Request(
        config["PARENT_PLATFORM_URL"] + PATH, data=json.dumps(body, ensure_ascii=False).encode(), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8",
                 "Authorization": f"Bearer {config['PARENT_PLATFORM_TOKEN']}"})
    try:
        with urllib.request.urlopen(request, timeout=config["PARENT_PLATFORM_TIMEOUT"]) as response:
            return json.loads(response.read().decode())
    except urllib.error.HTTPError as e:
        if e.code >= 500 or e.code in (408, 429):
            raise Unreachable(f"上级平台暂时无法受理（{e.code}）：{_answer(e)}") from None
        raise Rejected(f"上级平台拒收（{e.code}）：{_answer(e)}") from None
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise Unreachable(f"无法连接上级平台：{_why(getattr(e, 'reason', e))}") from None


def _why(reason) -> str:
    """The operator's words for why the parent was not reached (the system's own text kept after)."""
    if isinstance(reason, ConnectionRefusedError):
        return "连接被拒绝，上级平台可能未在运行"
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return f"等待 {current_app.config['PARENT_PLATFORM_TIMEOUT']:g} 秒无响应"
    if isinstance(reason, socket.gaierror):
        return "找不到上级平台的地址，请检查 PARENT_PLATFORM_URL"
    return f"网络错误（{reason}）"


def _due(now: datetime):
    return or_(and_(UpwardReport.status.in_(("queued", "failed")), UpwardReport.next_attempt_at <= now),
               and_(UpwardReport.status == "sending", UpwardReport.last_attempt_at < now - STALE_SENDING))


def deliver(now: datetime | None = None, only: int | None = None) -> tuple[int, int]:
    """Send every upward report that is due (or only the one with id `only`), each outcome
    committed as it happens: (sent, failed). Each is claimed first by a compare-and-set on its
    attempts, committed before it goes, so the scheduler on two hosts and a 重新上报 pressed at
    that moment send it once; no transaction is open while the parent is being waited for."""
    now = now or clock.now()
    stmt = select(UpwardReport).where(_due(now)).order_by(UpwardReport.id)
    if only is not None:
        stmt = stmt.where(UpwardReport.id == only)
    sent = failed = 0
    for report_id, attempts, body in [(r.id, r.attempts, payload(r)) for r in db.session.execute(stmt).scalars()]:
        claimed = db.session.execute(update(UpwardReport).where(
            UpwardReport.id == report_id, UpwardReport.attempts == attempts, _due(now))
            .values(attempts=attempts + 1, status="sending", last_attempt_at=now)
            .execution_options(synchronize_session=False)).rowcount
        db.session.commit()
        if claimed != 1:
            continue  # another scheduler has it
        try:
            receipt, error, final = post(body), None, False
        except Rejected as e:
            error, final = str(e), True
        except Unreachable as e:
            error, final = str(e), attempts + 1 >= MAX_ATTEMPTS
        report = db.session.get(UpwardReport, report_id)
        if error is None:
            report.status, report.error, report.sent_at, report.next_attempt_at = "sent", "", clock.now(), None
            audit.record(report.tenant, "dispatch.upward_sent", report, {
                "attempt": report.attempts, "key": report.key, "parent": current_app.config["PARENT_PLATFORM_URL"],
                "receipt": receipt.get("id"), "digest": receipt.get("digest")})
            sent += 1
        else:
            _failed(report, error, final=final, now=now)
            failed += 1
        db.session.commit()
    return sent, failed


def _failed(report: UpwardReport, error: str, *, final: bool, now: datetime) -> None:
    report.status, report.error = "failed", error[:500]
    report.next_attempt_at = None if final else now + BACKOFF[report.attempts - 1]
    audit.record(report.tenant, "dispatch.upward_failed", report,
                 {"attempt": report.attempts, "error": report.error, "final": final})
    if final:
        sub = report.submission
        period = service.period_of(sub.definition, sub.period_end)
        plans.notify_units([(report.tenant, service.table_link(sub.definition, report.tenant, period))], "alert",
                           f"《{sub.definition.name}》（截至 {sub.period_end}）向上级平台上报失败，已停止自动重试："
                           f"{report.error}。请处理后在调度表页面点“重新上报”。")


def retry(report: UpwardReport, actor: Membership) -> UpwardReport:
    """An admin sends a failed report again now (after fixing the token, or the parent is back):
    the attempts start over."""
    if actor.tenant_id != report.tenant_id:
        raise DispatchError("只有上报单位可以重新上报。")
    if report.status != "failed":
        raise DispatchError(f"该调度表当前为“{report.status_label}”，无需重新上报。")
    compare_and_set(report, "status", "该调度表刚刚已被他人重新上报，当前为“{record.status_label}”。",
                    status="queued", attempts=0, next_attempt_at=clock.now(), error="")
    audit.record(report.tenant, "dispatch.upward_retried", report, {"key": report.key}, actor=actor)
    return report


# ---------------------------------------------------------------- receiving (the parent platform)

def _text(data: dict, key: str, limit: int, required: bool = True) -> str:
    value = data.get(key)
    if value in (None, "") and not required:
        return ""
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ExchangeRefused(f"缺少或无效的 {key}（文本，不超过 {limit} 个字符）。", 400)
    return value.strip()


def _moment(data: dict, key: str) -> datetime | None:
    raw = data.get(key)
    if raw in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(raw)).replace(tzinfo=None)
    except ValueError:
        raise ExchangeRefused(f"{key} 应为 ISO 8601 时间，如 2024-06-03T08:00:00。", 400) from None


def _figures(raw) -> dict:
    """The figures as sent, checked: the table's (total, by_level) and its typed part (manual, the
    same two) with every row a row of the catalogue, every level 省/市/县 and every value a
    non-negative number."""
    def shaped(part) -> bool:
        return isinstance(part, dict) and isinstance(part.get("total"), dict) and isinstance(part.get("by_level"), dict)
    if not isinstance(raw, dict) or not shaped(raw) or not shaped(raw.get("manual")):
        raise ExchangeRefused("figures 须含 total、by_level 和 manual（其中又含 total、by_level）。", 400)
    bad = []

    def check(values: dict) -> None:
        for code, value in values.items():
            try:
                number = Decimal(str(value))
            except InvalidOperation:
                number = Decimal(-1)
            if (code not in service.METRICS and code not in service.SECOND) or not number.is_finite() or number < 0:
                bad.append(f"{code}={value}")

    for part in (raw, raw["manual"]):
        check(part["total"])
        for level, values in part["by_level"].items():
            if level not in service.LEVELS or not isinstance(values, dict):
                bad.append(f"层级 {level}")
            else:
                check(values)
    if bad:
        raise ExchangeRefused("figures 中有未知的行或无效的数字：" + "、".join(bad[:10]) + "。")
    return {"total": raw["total"], "by_level": raw["by_level"],
            "manual": {"total": raw["manual"]["total"], "by_level": raw["manual"]["by_level"]}}


def receive(actor: Membership, token_id: int, data: dict) -> tuple[ReportSubmission, DispatchReceipt, bool]:
    """Record the table a lower platform sent for one of its nodes as that node's approved table,
    with its audit event; (submission, receipt, recorded now). The same key again returns what it
    recorded the first time; another table for a period already recorded is refused (409)."""
    key = _text(data, "key", 64)
    division, uid, end = _text(data, "division", 12), _text(data, "table", 64), _text(data, "period_end", 10)
    # The token's unit must be the node or a level above it; any other is told nothing more than
    # that the code is not its own (a 404, as a record outside scope is).
    node = db.session.execute(select(Tenant).where(Tenant.code == division)).scalar_one_or_none()
    if node is None or not may_change(actor, node):
        raise ExchangeRefused(f"区划代码“{division}”不是本令牌所属单位或其下级单位。", 404)
    definition = db.session.execute(select(ReportDefinition).where(
        ReportDefinition.uid == uid, ReportDefinition.replaced_at.is_(None))).scalar_one_or_none()
    if definition is None:
        raise ExchangeRefused(f"本平台没有标识为“{uid}”的调度表。", 404)
    if not service.fills(definition, node):
        raise ExchangeRefused(f"“{node.name}”不填报《{definition.name}》。")
    period = service.parse_period(definition, end)
    figures = _figures(data.get("figures"))
    sent_digest = _text(data, "digest", 64)
    if digest(division, uid, end, figures) != sent_digest:
        raise ExchangeRefused("摘要（digest）与上报内容不符，内容可能在传输中被改动，请重新上报。")
    found = _by_key(key)
    if found is not None:
        if found.tenant_id != node.id:
            raise ExchangeRefused("该幂等键（key）已用于另一单位的上报，请为每次上报使用新的键。", 409)
        return found.submission, found, False
    try:
        with db.session.begin_nested():
            sub = service.submission(definition, node, period)
            if sub is None:
                sub = ReportSubmission(tenant=node, definition=definition, period_start=period.start,
                                       period_end=period.end)
                db.session.add(sub)
            else:
                lock(sub)
                if sub.status in ("submitted", "approved"):
                    raise ExchangeRefused(f"{node.name}截至 {period.end} 的《{definition.name}》已经上报过"
                                          f"（当前为“{sub.status_label}”），不能重复上报。", 409)
                sub.definition = definition
            sub.status, sub.figures, sub.reason, sub.decided_by_id = "approved", figures, "", None
            sub.submitted_at = _moment(data, "submitted_at") or clock.now()
            sub.decided_at = _moment(data, "approved_at") or sub.submitted_at
            sub.late = bool(data.get("late"))
            receipt = DispatchReceipt(tenant=node, submission=sub, key=key, digest=sent_digest,
                                      span_start=service.span(definition, period)[0], token_id=token_id,
                                      approved_by=_text(data, "approved_by", 64, required=False),
                                      approved_at=sub.decided_at)
            db.session.add(receipt)
            db.session.flush()
    except IntegrityError:
        # The same table sent twice at once: the other request recorded it first.
        found = _by_key(key)
        if found is None:
            raise ExchangeRefused(f"{node.name}截至 {period.end} 的《{definition.name}》刚刚已经上报过，不能重复上报。",
                                  409) from None
        return found.submission, found, False
    audit.record(node, "dispatch.received", sub, {
        "table": uid, "definition": definition.name, "period_end": period.key, "key": key, "digest": sent_digest,
        "approved_by": receipt.approved_by, "figures": figures["total"]}, actor=actor)
    return sub, receipt, True


def _by_key(key: str) -> DispatchReceipt | None:
    return db.session.execute(select(DispatchReceipt).where(DispatchReceipt.key == key)).scalar_one_or_none()
