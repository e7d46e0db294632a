"""Periodic work that runs by itself: `flask --app wsgi schedule run-due`, every 30 seconds from a
systemd timer (deploy/systemd/anquan-schedule.timer), runs each job whose slot has come.

Why a timer and a command rather than RQ's scheduler: it needs no Redis (an embedded SQLite
install gets the same jobs), a run is an ordinary process with a clean exit code and journal, and
the lock is a row in the database both kinds of install already have. Each job belongs to a slot
(a half hour, a Beijing day); its run inserts the row (job, slot), unique, so however many hosts
run the timer, exactly one runs the job for that slot, and a slot missed while the host was down
is run at the next call.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, time as clock_time, timedelta
from typing import Callable

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.schedule.models import ScheduleRun
from tenants import clock
from tenants.scope import unscoped


@dataclass(frozen=True)
class Job:
    name: str
    label: str
    # The slot a moment falls in: the period this job's run for that moment is for.
    slot: Callable[[datetime], datetime]
    # Does the work (unscoped, committing as it goes); returns a summary for the admin page. A
    # failure it wants the admins to see (a broken audit chain) raises JobFailed.
    run: Callable[[datetime], str]


class JobFailed(Exception):
    pass


def every(minutes: int = 0, seconds: int = 0) -> Callable[[datetime], datetime]:
    """Every `minutes` and `seconds` (a divisor of an hour), on the clock: :00, :30 …"""
    step = minutes * 60 + seconds

    def slot(at: datetime) -> datetime:
        into = at.minute * 60 + at.second
        into -= into % step
        return at.replace(minute=into // 60, second=into % 60, microsecond=0)
    return slot


def daily(at_beijing: clock_time) -> Callable[[datetime], datetime]:
    """Once a Beijing day, from `at_beijing` on (until then, yesterday's slot)."""
    def slot(at: datetime) -> datetime:
        today = clock.moment(clock.day_of(at), at_beijing)
        return today if at >= today else clock.moment(clock.day_of(at) - timedelta(days=1), at_beijing)
    return slot


# A run of the dispatch refresh may outlast its 30 s (a new month's first count of every node); the
# slots after it leave it to finish instead of counting the same nodes beside it, which failed on the
# kept rows it was writing. One left 'running' by a host that died holds them no longer than this.
ROLLUP_RUN_HELD = timedelta(minutes=10)
ROLLUP_SLOTS = every(seconds=30)


def _dispatch_rollup(at: datetime) -> str:
    from portal.dispatch.service import refresh_rollups
    earlier = db.session.execute(select(ScheduleRun.slot).where(
        ScheduleRun.job == "dispatch-rollup", ScheduleRun.result == "running",
        ScheduleRun.slot < ROLLUP_SLOTS(at), ScheduleRun.started_at >= clock.now() - ROLLUP_RUN_HELD)
        .limit(1)).scalar()
    if earlier is not None:
        return f"上一次更新（{clock.local(earlier, '%H:%M:%S')}）仍在进行，本次不再统计"
    return f"重新统计 {refresh_rollups()} 个单位"


def _dispatch_upward(at: datetime) -> str:
    from portal.dispatch import exchange
    sent, failed = exchange.deliver(at)
    return f"向上级平台上报调度表：成功 {sent}，失败 {failed}（失败的按间隔重试）"


def _checklists_evaluate(at: datetime) -> str:
    from portal.checklists.service import refresh_subtree
    from tenants.models import Tenant
    day = clock.day_of(at)
    enterprises = units = changed = 0
    for root in db.session.execute(select(Tenant).where(Tenant.parent_id.is_(None))).scalars().all():
        stats = refresh_subtree(root, day)
        enterprises, units = enterprises + stats["enterprises"], units + stats["units"]
        changed += stats["changed"]
    return f"评估 {enterprises} 家企业、{units} 个其他单位，未履职问题变动 {changed} 条（{day}）"


def _overdue_reminders(at: datetime) -> str:
    from portal.dispatch import service as dispatch
    from portal.hazards import service as hazards
    from portal.plans import service as plans
    day = clock.day_of(at)
    tasks, overdue_hazards, unfiled = plans.notify_overdue(day), hazards.notify_overdue(day), dispatch.notify_unfiled(at)
    db.session.commit()
    return f"逾期任务 {tasks} 项、逾期未整改隐患 {overdue_hazards} 条、到期未报调度表 {unfiled} 份已提醒"


def _reminders_digest(at: datetime) -> str:
    from portal.reminders import service as reminders
    queued = reminders.queue_digests(at)
    db.session.commit()
    sent, failed = reminders.deliver()
    return f"待办提醒 {queued} 封：发出 {sent}，失败 {failed}（稍后重试）"


def _reminders_retry(at: datetime) -> str:
    from portal.reminders import service as reminders
    sent, failed = reminders.deliver()
    return f"重发提醒：发出 {sent}，仍失败 {failed}"


def _audit_anchor(at: datetime) -> str:
    from portal.audit import service as audit
    recorded = audit.anchor()
    db.session.commit()
    return f"记入上级审计链的链头 {recorded} 个"


def _exports_recover(at: datetime) -> str:
    from portal.exports import jobs
    outcome = jobs.recover(at)
    requeued = sum(1 for status in outcome.values() if status == "queued")
    return f"重新交给生成进程 {requeued} 个，判定失败 {len(outcome) - requeued} 个"


def _audit_verify(at: datetime) -> str:
    from portal.audit import service as audit
    from portal.plans import service as plans
    from tenants.models import Tenant
    checked, broken = audit.verify()
    if not broken:
        return f"审计链完整：共校验 {checked} 条事件"
    first = broken[0]
    message = (f"审计链断裂 {len(broken)} 处，首处：单位编号 {first.tenant_id} 第 {first.seq} 环（{first.reason}），"
               "请立即核查")[:300]
    # The units whose chains broke and the top of the tree are told; their admins read it in the bell.
    units = db.session.execute(select(Tenant).where(
        (Tenant.parent_id.is_(None)) | Tenant.id.in_({link.tenant_id for link in broken}))).scalars().all()
    urls = current_app.url_map.bind("", script_name=current_app.config["APPLICATION_ROOT"])
    plans.notify_units([(unit, urls.build("audit.verify")) for unit in units], "alert", message)
    db.session.commit()
    raise JobFailed(message)


JOBS = [
    # Kept dispatch figures may lag their records by at most a minute (service.KEPT_MAX_LAG): the
    # timer calls run-due twice a minute.
    Job("dispatch-rollup", "调度表数据更新（每 30 秒）", ROLLUP_SLOTS, _dispatch_rollup),
    Job("exports-recover", "导出任务巡检（每 5 分钟）", every(5), _exports_recover),
    Job("dispatch-upward", "向上级平台上报调度表（每 5 分钟）", every(5), _dispatch_upward),
    Job("checklists-evaluate", "企业履职评估（每日 01:00）", daily(clock_time(1, 0)), _checklists_evaluate),
    # Anchored before the check, so the night's verify covers the anchors just written.
    Job("audit-anchor", "审计链逐级锚定（每日 01:30）", daily(clock_time(1, 30)), _audit_anchor),
    Job("audit-verify", "审计链校验（每日 02:00）", daily(clock_time(2, 0)), _audit_verify),
    Job("overdue-reminders", "逾期提醒（每日 08:30）", daily(clock_time(8, 30)), _overdue_reminders),
    # After the bell's reminders of 08:30, so the morning's digest carries them.
    Job("reminders-digest", "待办提醒邮件和短信（每日 08:45）", daily(clock_time(8, 45)), _reminders_digest),
    Job("reminders-retry", "重发失败的提醒（每 15 分钟）", every(15), _reminders_retry),
]
LABELS = {job.name: job.label for job in JOBS}


def _take(job: Job, slot: datetime) -> ScheduleRun | None:
    """The lock: insert (job, slot) and commit; None when another scheduler already has it."""
    run = ScheduleRun(job=job.name, slot=slot, started_at=clock.now(), result="running")
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return run


def run_due(at: datetime | None = None) -> list[ScheduleRun]:
    """Run every job whose slot for `at` (default now) has not been taken; the runs this call made."""
    at = at or clock.now()
    done = []
    with unscoped():
        for job in JOBS:
            run = _take(job, job.slot(at))
            if run is None:
                continue
            run_id = run.id  # a job may clear the session (audit.verify does, to bound its memory)
            started = time.perf_counter()
            try:
                summary, result = job.run(at), "ok"
            except JobFailed as e:
                summary, result = str(e), "failed"
            except Exception as e:  # one broken job must not keep the others from running
                current_app.logger.exception("scheduled job %s failed", job.name)
                db.session.rollback()
                summary, result = f"{type(e).__name__}: {e}", "failed"
            run = db.session.get(ScheduleRun, run_id)
            run.finished_at, run.seconds = clock.now(), round(time.perf_counter() - started, 3)
            run.result, run.summary = result, summary[:500]
            db.session.commit()
            done.append(run_id)
        # Loaded afresh: a later job may have cleared the session that held the earlier runs.
        return db.session.execute(select(ScheduleRun).where(ScheduleRun.id.in_(done))
                                  .order_by(ScheduleRun.id)).scalars().all()


def recent_runs():
    return select(ScheduleRun).order_by(ScheduleRun.started_at.desc(), ScheduleRun.id.desc())


def last_runs() -> list[tuple[Job, ScheduleRun | None]]:
    """Each job with its latest run: what an operator checks first."""
    latest = {}
    for job in JOBS:
        latest[job.name] = db.session.execute(select(ScheduleRun).where(ScheduleRun.job == job.name)
                                              .order_by(ScheduleRun.slot.desc()).limit(1)).scalar_one_or_none()
    return [(job, latest[job.name]) for job in JOBS]
