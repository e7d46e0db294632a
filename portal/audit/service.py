"""Record and verify the per-tenant audit chain."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from types import SimpleNamespace

from sqlalchemy import func, insert, select, text, true, tuple_

from portal.audit.models import AuditEvent
from portal.extensions import db
from tenants.clock import now
from tenants.models import Membership, Tenant
from tenants.paths import ids_of, in_subtree
from tenants.scope import unscoped

GENESIS = "0" * 64

ACTIONS = {
    "auth.login": "登录",
    "auth.login_failed": "登录失败",
    "auth.locked": "账号锁定",
    "auth.confirm_failed": "签名密码错误",
    "auth.unlocked": "解锁账号",
    "auth.password_changed": "修改密码",
    "tenant.created": "新建单位",
    "tenant.updated": "修改单位",
    "tenant.moved": "调整隶属",
    "divisions.imported": "导入行政区划",
    "enterprise.registered": "登记企业",
    "user.created": "新建用户",
    "user.updated": "修改用户",
    "membership.added": "授予角色",
    "membership.removed": "撤销角色",
    "setting.updated": "修改设置",
    "setting.cleared": "恢复继承",
    "export.created": "导出文件",
    "upload.stored": "上传文件",
    "campaign.created": "新建专项行动",
    "plan.issued": "发布方案",
    "plan.clause_saved": "修改方案条款",
    "plan.clause_deleted": "删除方案条款",
    "plan.phase_updated": "调整阶段安排",
    "plan.rule_raised": "随上级从严调整规则",
    "task.created": "交办任务",
    "assignment.created": "收到交办",
    "assignment.signed": "签收",
    "assignment.reported": "上报办理情况",
    "assignment.approved": "审核办结",
    "assignment.returned": "退回",
    "assignment.resumed": "重新办理",
    "assignment.reminded": "催办",
    "assignment.passed_down": "向下交办",
    "task.deadline_changed": "调整截止日期",
    "assignment.deadline_changed": "截止日期调整",
    "task.withdrawn": "撤回任务",
    "assignment.withdrawn": "任务已撤回",
    "standards.loaded": "载入判定标准",
    "standard.published": "发布重点检查事项",
    "standard.withdrawn": "撤回重点检查事项",
    "hazard.recorded": "登记隐患",
    "hazard.fixes_set": "落实五落实",
    "hazard.photos_added": "上传隐患照片",
    "hazard.started": "开始整改",
    "hazard.reported": "报告整改完成",
    "hazard.returned": "退回整改",
    "hazard.accepted": "验收通过",
    "hazard.closed": "销号",
    "hazard.listed": "挂牌督办",
    "hazard.delisted": "摘牌",
    "tip.received": "收到举报",
    "tip.verified": "核查举报",
    "tip.rewarded": "记录举报奖励",
    "code.issued": "生成一企一码",
    "code.revoked": "作废一企一码",
    "api.token_created": "建立接口令牌",
    "api.token_revoked": "吊销接口令牌",
    "api.called": "调用接口",
    "checklist.item_added": "新增清单事项",
    "checklist.item_removed": "删除清单事项",
    "checklist.item_tightened": "设定清单事项证明要求",
    "checklist.due_set": "设定清单签署期限",
    "checklist.started": "开始填写责任清单",
    "checklist.filled": "填写责任清单事项",
    "checklist.signed": "签署责任清单",
    "checklist.revised": "修订责任清单（新版本）",
    "duty.recorded": "登记履职记录",
    "duty.deleted": "删除履职记录",
    "worker.added": "登记特种作业人员",
    "worker.renewed": "更新特种作业证书",
    "worker.removed": "特种作业人员离岗",
    "compliance.evaluated": "评估企业履职情况",
    "inspection.created": "新建检查记录",
    "inspection.updated": "修改检查记录",
    "inspection.items_set": "登记检查事项",
    "inspection.hazard_linked": "检查发现隐患",
    "inspection.finding_added": "登记抽查发现",
    "inspection.finding_removed": "删除抽查发现",
    "inspection.action_added": "登记执法措施",
    "inspection.action_removed": "删除执法措施",
    "inspection.signed": "检查人员签名",
    "inspection.finalized": "检查记录生效",
    "inspection.amended": "新建更正记录",
    "accident.recorded": "登记事故",
    "user.reminders_set": "设置提醒方式",
    "accident.reported": "企业报告事故",
    "accident.confirmed": "确认企业事故报告",
    "accountability.recorded": "追责问责",
    "dispatch.defined": "制定调度表",
    "summary.composed": "生成总结",
    "summary.edited": "修改总结",
    "summary.issued": "印发总结",
    "dispatch.figures_saved": "填写调度表数据",
    "dispatch.submitted": "上报调度表",
    "dispatch.approved": "审核通过调度表",
    "dispatch.returned": "退回调度表",
    "dispatch.reminded": "催报调度表",
    "demo.seeded": "载入演示数据",
    "setup.initialized": "系统初始化",
    "onboarding.imported": "批量导入",
    "audit.anchored": "锚定下级审计链",
}


def canonical(event: AuditEvent) -> str:
    body = {
        "tenant_id": event.tenant_id,
        "seq": event.seq,
        "actor_id": event.actor_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "data": event.data,
        "created_at": event.created_at.isoformat(timespec="microseconds"),
    }
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical(event)).encode("utf-8")).hexdigest()


def _lock_chain(tenant_id: int) -> None:
    # Appends to one chain must not interleave. PostgreSQL: a transaction-scoped advisory lock
    # per tenant. SQLite: every writing transaction already holds the database's write lock
    # (BEGIN IMMEDIATE, see portal.database).
    if db.session.get_bind().dialect.name == "postgresql":
        # Keyed by schema too: separate schemas of one database (parallel test runs) never contend.
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('audit_chain:' || current_schema()), :t)"),
                           {"t": tenant_id})


def record(tenant: Tenant, action: str, obj=None, data: dict | None = None, actor=None) -> AuditEvent:
    """Append an event to `tenant`'s chain inside the caller's transaction (not committed here).
    `actor`: the acting membership (or user) the service was handed; None for the system (CLI,
    background jobs, the public tip page). Never guessed from the request."""
    if isinstance(actor, Membership):
        actor = actor.user
    if tenant.id is None:
        db.session.flush()
    _lock_chain(tenant.id)
    if obj is not None and getattr(obj, "id", None) is None:
        db.session.flush()
    # The chain is the tenant's, whoever acts: its tail, and the row appended to it, may be ones the
    # actor cannot read (a failed login has no scope yet).
    with unscoped():
        last = db.session.execute(
            select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.tenant_id == tenant.id)
            .order_by(AuditEvent.seq.desc()).limit(1)
        ).first()
        event = AuditEvent(
            tenant_id=tenant.id,
            tenant_path=tenant.path,
            seq=(last.seq + 1) if last else 1,
            actor_id=actor.id if actor is not None else None,
            action=action,
            object_type=type(obj).__name__ if obj is not None else "",
            object_id=obj.id if obj is not None else None,
            data=data or {},
            created_at=now(),
            prev_hash=last.hash if last else GENESIS,
        )
        event.hash = digest(event.prev_hash, event)
        db.session.add(event)
        db.session.flush()
    return event


def record_many(events: list[dict], actor=None, batch: int = 5000) -> int:
    """Append many events at once (a bulk import: one event per record it created), inside the
    caller's transaction. Each dict holds tenant_id, tenant_path, action, object_type, object_id
    and data. The chains' tails are read in one query per batch of chains and the events written
    in bulk; the chain and its hashes are exactly what `record` would have written one by one."""
    if isinstance(actor, Membership):
        actor = actor.user
    chains = sorted({e["tenant_id"] for e in events})
    if db.session.get_bind().dialect.name == "postgresql" and chains:
        # Ascending tenant order, as every bulk writer takes them: two imports cannot deadlock.
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext('audit_chain:' || current_schema()), t) "
                                "FROM unnest(CAST(:ids AS integer[])) AS t ORDER BY t"), {"ids": chains})
    tails: dict[int, tuple[int, str]] = {}
    with unscoped():
        for start in range(0, len(chains), batch):
            part = chains[start:start + batch]
            last = (select(AuditEvent.tenant_id, func.max(AuditEvent.seq))
                    .where(AuditEvent.tenant_id.in_(part)).group_by(AuditEvent.tenant_id))
            for tenant_id, seq, hash_ in db.session.execute(
                    select(AuditEvent.tenant_id, AuditEvent.seq, AuditEvent.hash)
                    .where(tuple_(AuditEvent.tenant_id, AuditEvent.seq).in_(last))):
                tails[tenant_id] = (seq, hash_)
    rows = []
    actor_id = actor.id if actor is not None else None
    for e in events:
        seq, prev = tails.get(e["tenant_id"], (0, GENESIS))
        event = SimpleNamespace(tenant_id=e["tenant_id"], seq=seq + 1, actor_id=actor_id, action=e["action"],
                                object_type=e.get("object_type", ""), object_id=e.get("object_id"),
                                data=e.get("data") or {}, created_at=now())
        hash_ = digest(prev, event)
        rows.append({**vars(event), "tenant_path": e["tenant_path"], "prev_hash": prev, "hash": hash_})
        tails[e["tenant_id"]] = (seq + 1, hash_)
    for start in range(0, len(rows), batch):
        db.session.execute(insert(AuditEvent.__table__), rows[start:start + batch])
    return len(rows)


@dataclass
class BrokenLink:
    tenant_id: int
    seq: int
    event_id: int
    reason: str


ANCHOR = "audit.anchored"


def verify(batch: int = 5000, within: str | None = None) -> tuple[int, list[BrokenLink]]:
    """Walk every chain in order (only the chains of the subtree at path `within`, when given), then
    check every anchor they hold against the child chain it names; return (events checked, every
    broken link). After a break the walk goes on from the stored row, so each place where a chain
    was changed is reported once, not every link after it."""
    checked = 0
    broken: list[BrokenLink] = []
    anchors: list[tuple[AuditEvent, int, int, str]] = []
    expected_prev: dict[int, tuple[int, str]] = {}
    with unscoped():
        offset_key = (0, 0)
        while True:
            rows = db.session.execute(
                select(AuditEvent)
                .where((AuditEvent.tenant_id > offset_key[0])
                       | ((AuditEvent.tenant_id == offset_key[0]) & (AuditEvent.seq > offset_key[1])),
                       in_subtree(AuditEvent.tenant_path, within) if within else true())
                .order_by(AuditEvent.tenant_id, AuditEvent.seq).limit(batch)
            ).scalars().all()
            if not rows:
                break
            for ev in rows:
                seq_before, hash_before = expected_prev.get(ev.tenant_id, (0, GENESIS))
                if ev.seq != seq_before + 1:
                    broken.append(BrokenLink(ev.tenant_id, ev.seq, ev.id, f"序号不连续：应为 {seq_before + 1}"))
                elif ev.prev_hash != hash_before:
                    broken.append(BrokenLink(ev.tenant_id, ev.seq, ev.id, "前一环哈希不符"))
                if ev.hash != digest(ev.prev_hash, ev):
                    broken.append(BrokenLink(ev.tenant_id, ev.seq, ev.id, "本环内容被改动"))
                if ev.action == ANCHOR:
                    anchors.append(_anchor_key(ev))
                expected_prev[ev.tenant_id] = (ev.seq, ev.hash)
                checked += 1
            offset_key = (rows[-1].tenant_id, rows[-1].seq)
            db.session.expunge_all()
        broken.extend(_check_anchors(anchors, batch))
    return checked, broken


def _anchor_key(ev: AuditEvent) -> tuple[int, int, int, int, int, str]:
    """(where the anchor is: tenant, seq, event id; what it names: child tenant, seq, hash)"""
    data = ev.data or {}
    return ev.tenant_id, ev.seq, ev.id, ev.object_id or 0, int(data.get("seq") or 0), str(data.get("hash") or "")


def _check_anchors(anchors, batch: int) -> list[BrokenLink]:
    """Each anchor (a parent's record of a child's chain head) against the child's chain now."""
    broken = []
    for i in range(0, len(anchors), batch):
        chunk = anchors[i:i + batch]
        stored = dict(((t, s), h) for t, s, h in db.session.execute(
            select(AuditEvent.tenant_id, AuditEvent.seq, AuditEvent.hash)
            .where(tuple_(AuditEvent.tenant_id, AuditEvent.seq).in_([(c, s) for *_, c, s, _ in chunk]))).all())
        for tenant_id, seq, event_id, child, child_seq, child_hash in chunk:
            now_hash = stored.get((child, child_seq))
            if now_hash is None:
                broken.append(BrokenLink(tenant_id, seq, event_id, f"锚定的下级单位 {child} 第 {child_seq} 环已不存在"))
            elif now_hash != child_hash:
                broken.append(BrokenLink(tenant_id, seq, event_id, f"锚定的下级单位 {child} 第 {child_seq} 环哈希已变"))
    return broken


def anchor() -> int:
    """Record each node's chain head (seq and hash) into its parent's chain, deepest nodes first, so
    a district's new anchors are themselves in the city's head when the city is anchored: rewriting
    a node's history then means rewriting every chain above it up to the root. Heads already
    anchored are skipped. Run unscoped by the CLI (at least daily); the caller commits. Returns how
    many anchors were recorded."""
    with unscoped():
        heads = dict(db.session.execute(select(AuditEvent.tenant_id, func.max(AuditEvent.seq))
                                        .group_by(AuditEvent.tenant_id)).all())
        last_anchor = select(func.max(AuditEvent.id)).where(AuditEvent.action == ANCHOR) \
            .group_by(AuditEvent.object_id)
        anchored = {ev.object_id: int(ev.data.get("seq") or 0) for ev in db.session.execute(
            select(AuditEvent).where(AuditEvent.id.in_(last_anchor))).scalars()}
        # Nodes with a chain and every node above them: an ancestor without events of its own still
        # passes its children's anchors up.
        paths = db.session.execute(select(Tenant.path).where(
            Tenant.id.in_(select(AuditEvent.tenant_id).distinct()))).scalars()
        wanted = {i for path in paths for i in ids_of(path)}
        nodes = [(node_id, parent_id) for node_id, parent_id in db.session.execute(
            select(Tenant.id, Tenant.parent_id).where(Tenant.parent_id.is_not(None))
            .order_by(Tenant.depth.desc(), Tenant.id)).all() if node_id in wanted]
        recorded = 0
        for node_id, parent_id in nodes:
            seq = heads.get(node_id)
            if seq is None or anchored.get(node_id, 0) >= seq:
                continue
            head = db.session.execute(select(AuditEvent.hash).where(
                AuditEvent.tenant_id == node_id, AuditEvent.seq == seq)).scalar_one()
            event = record(db.session.get(Tenant, parent_id), ANCHOR, db.session.get(Tenant, node_id),
                           {"seq": seq, "hash": head})
            heads[parent_id] = event.seq
            recorded += 1
        return recorded


def roots_heads() -> list[tuple[Tenant, int, str]]:
    """The heads of the root chains, which no parent anchors: for the operator to keep elsewhere."""
    with unscoped():
        return [(t, seq, h) for t, seq, h in db.session.execute(
            select(Tenant, AuditEvent.seq, AuditEvent.hash).join(AuditEvent, AuditEvent.tenant_id == Tenant.id)
            .where(Tenant.parent_id.is_(None), AuditEvent.seq == select(func.max(AuditEvent.seq)).where(
                AuditEvent.tenant_id == Tenant.id).correlate(Tenant).scalar_subquery())
            .order_by(Tenant.id)).all()]


def times(action: str, object_type: str, object_ids) -> dict[int, int]:
    """How often each object went through `action` (a hazard returned for rework …), readable in
    the current scope. One grouped query."""
    ids = list(object_ids)
    if not ids:
        return {}
    return dict(db.session.execute(
        select(AuditEvent.object_id, func.count()).where(
            AuditEvent.action == action, AuditEvent.object_type == object_type, AuditEvent.object_id.in_(ids))
        .group_by(AuditEvent.object_id)).all())


def trail(action: str | None = None):
    """Events in the current scope, newest first (a SELECT to paginate)."""
    stmt = select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    return stmt
