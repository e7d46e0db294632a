"""Periodic jobs run by themselves, once per slot however many schedulers call run-due, each run
recorded with its duration and result; a broken audit chain is raised to the admins."""
from datetime import date, datetime

from sqlalchemy import func, insert, select

from portal.audit import service as audit
from portal.audit.models import AuditEvent
from portal.auth.models import User
from portal.extensions import db
from portal.plans.models import Notification
from portal.schedule import service
from portal.schedule.models import ScheduleRun
from tenants.clock import now
from tenants.scope import unscoped
from tests.conftest import login, results_at_once
from tests.hazards.conftest import make_hazard, people, standards  # noqa: F401  (fixtures)

# 2026-03-02 09:10 Beijing time: every daily job (01:00, 02:00, 08:30) is due.
AT = datetime(2026, 3, 2, 1, 10)


def test_two_schedulers_at_once_run_each_due_job_once(committed_app):
    results = results_at_once(committed_app, lambda: [(run.job, run.result) for run in service.run_due(AT)])
    runs = results[0] + results[1]
    assert sorted(runs) == sorted((job.name, "ok") for job in service.JOBS)
    with committed_app.app_context(), unscoped():
        rows = db.session.execute(select(ScheduleRun.job, func.count()).group_by(ScheduleRun.job)).all()
        assert dict(rows) == {job.name: 1 for job in service.JOBS}
        # Twenty seconds later in the same slots nothing is due; a minute later only the dispatch
        # figures' refresh (every 30 s); the next half hour brings the others.
        assert service.run_due(AT.replace(second=20)) == []
        assert [r.job for r in service.run_due(AT.replace(minute=11))] == ["dispatch-rollup"]
        assert [r.job for r in service.run_due(AT.replace(minute=30))] == ["dispatch-rollup", "exports-recover",
                                                                         "dispatch-upward", "reminders-retry"]
        db.session.remove()


def test_a_dispatch_refresh_still_running_is_left_to_finish(session):
    """A refresh that outlasts its 30 s (a new month's first count) is not joined by the next
    slot's; one left 'running' by a dead host stops holding the slots after ten minutes."""
    from datetime import timedelta
    ongoing = ScheduleRun(job="dispatch-rollup", slot=AT - timedelta(seconds=30), started_at=now(), result="running")
    session.add(ongoing)
    session.commit()
    [run] = [r for r in service.run_due(AT) if r.job == "dispatch-rollup"]
    assert run.result == "ok" and "仍在进行" in run.summary and "重新统计" not in run.summary
    ongoing.started_at = now() - timedelta(minutes=11)  # its host died long ago
    session.commit()
    [run] = [r for r in service.run_due(AT + timedelta(seconds=30)) if r.job == "dispatch-rollup"]
    assert run.result == "ok" and run.summary.startswith("重新统计")


def test_a_broken_audit_chain_fails_the_run_and_tells_the_admins(client, session, tree, make_user):
    admin = make_user(tree["root"])
    last = audit.record(tree["a"], "setting.updated", data={"key": "x"})
    # A forged event slipped in by hand (the table refuses updates): its hash does not cover it.
    session.execute(insert(AuditEvent.__table__).values(
        tenant_id=tree["a"].id, tenant_path=tree["a"].path, seq=last.seq + 1, action="setting.updated",
        object_type="", data={"key": "forged"}, created_at=now(), prev_hash=last.hash, hash="f" * 64))
    session.commit()
    # Ids: the nightly check ends the session's transaction, so objects read before it are gone.
    told, admin_id = {tree["root"].id, tree["a"].id}, admin.id
    runs = {run.job: run for run in service.run_due(AT)}
    assert runs["audit-verify"].result == "failed" and "审计链断裂" in runs["audit-verify"].summary
    assert runs["dispatch-rollup"].result == "ok"  # the other jobs still ran
    alerts = session.execute(select(Notification.tenant_id).where(Notification.kind == "alert")).scalars().all()
    assert set(alerts) >= told
    login(client, session.get(User, admin_id))
    page = client.get("/schedule/").get_data(as_text=True)
    assert "审计链校验（每日 02:00）" in page and "失败" in page and "成功" in page and " 秒" in page
    assert "审计链断裂" in client.get("/notifications/").get_data(as_text=True)


def test_the_daily_reminders_tell_an_enterprise_of_its_hazard_past_deadline(session, make_hazard, people):
    overdue = make_hazard(deadline=date(2024, 7, 31)).id
    make_hazard(description="消防通道堵塞", deadline=date(2099, 1, 1))
    plant = people["tree"]["a_plant"].id
    # (The nightly audit check in the same call clears the session: ids, not objects, from here.)
    runs = {run.job: run for run in service.run_due(AT)}
    assert runs["overdue-reminders"].result == "ok" and "逾期未整改隐患 1 条" in runs["overdue-reminders"].summary
    notes = session.execute(select(Notification).where(Notification.kind == "overdue")).scalars().all()
    assert [(n.tenant_id, n.link) for n in notes] == [(plant, f"/hazards/{overdue}")]
    assert "2024-07-31" in notes[0].text


def test_the_nightly_anchor_records_a_district_head_in_its_city_chain_before_the_check(session, tree):
    event = audit.record(tree["a"], "setting.updated", data={"key": "x"})
    head, district, city = (event.seq, event.hash), tree["a"].id, tree["city"].id
    session.commit()
    runs = {run.job: run for run in service.run_due(AT)}
    assert runs["audit-anchor"].result == "ok" and runs["audit-verify"].result == "ok"
    with unscoped():
        anchors = session.execute(select(AuditEvent).where(
            AuditEvent.action == audit.ANCHOR, AuditEvent.tenant_id == city, AuditEvent.object_id == district
        )).scalars().all()
    assert [(a.data["seq"], a.data["hash"]) for a in anchors] == [head]
