"""Record and verify the per-tenant audit chain."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import func, select, text, true

from portal.audit.models import AuditEvent
from portal.extensions import db
from tenants.clock import now
from tenants.models import Tenant
from tenants.paths import in_subtree
from tenants.scope import unscoped

GENESIS = "0" * 64

ACTIONS = {
    "auth.login": "登录",
    "auth.login_failed": "登录失败",
    "auth.locked": "账号锁定",
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
    "accountability.recorded": "追责问责",
    "dispatch.defined": "制定调度表",
    "dispatch.figures_saved": "填写调度表数据",
    "dispatch.submitted": "上报调度表",
    "dispatch.approved": "审核通过调度表",
    "dispatch.returned": "退回调度表",
    "dispatch.reminded": "催报调度表",
    "demo.seeded": "载入演示数据",
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
    """Append an event to `tenant`'s chain inside the caller's transaction (not committed here)."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
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


@dataclass
class BrokenLink:
    tenant_id: int
    seq: int
    event_id: int
    reason: str


def verify(batch: int = 5000, within: str | None = None) -> tuple[int, BrokenLink | None]:
    """Walk every chain in order (only the chains of the subtree at path `within`, when given);
    return (events checked, first broken link or None)."""
    checked = 0
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
                return checked, None
            for ev in rows:
                seq_before, hash_before = expected_prev.get(ev.tenant_id, (0, GENESIS))
                if ev.seq != seq_before + 1:
                    return checked, BrokenLink(ev.tenant_id, ev.seq, ev.id, f"序号不连续：应为 {seq_before + 1}")
                if ev.prev_hash != hash_before:
                    return checked, BrokenLink(ev.tenant_id, ev.seq, ev.id, "前一环哈希不符")
                if ev.hash != digest(ev.prev_hash, ev):
                    return checked, BrokenLink(ev.tenant_id, ev.seq, ev.id, "本环内容被改动")
                expected_prev[ev.tenant_id] = (ev.seq, ev.hash)
                checked += 1
            offset_key = (rows[-1].tenant_id, rows[-1].seq)
            db.session.expunge_all()


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
