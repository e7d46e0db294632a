"""Time each panel of the desk (工作台) for a district with 1,000 enterprises.

    .venv/bin/python bench/desk.py                      # temporary SQLite file
    .venv/bin/python bench/desk.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The tree and hazards are the ledger benchmark's (bench/hazards_ledger.py) at 100,000 hazards: 10
districts of 20 streets, 1,000 enterprises and 10,000 hazards each (the other nine are neighbours
the scope must leave out). The measured district also assigns 50 tasks to its 20 streets (1,000
assignments in every state), street 1 passes one down to its 50 enterprises, and the district has
300 tips, 40 accidents, a compliance status for each enterprise (one in ten failing) and a monthly
dispatch table its streets fill (half have filed), and 200 督办函 its 纪委 sent to the streets (ten to
each; awaiting, late, replied and closed). Each panel is requested the way the desk's
refresh does (HX-Request) by the roles that see it; prints p50/p95 in milliseconds and the number of
SELECTs per request. Goal: p95 ≤ 50 ms per panel.
"""
from __future__ import annotations

import argparse
import hashlib
import random
from datetime import date, datetime, timedelta

from common import fresh_app, htmx_timings, logged_in, timed
from hazards_ledger import PASSWORD, populate

TODAY = date(2026, 6, 20)
TARGET_MS = 50.0


def build(districts, streets_data, rng):
    """Tasks, tips, accidents, statuses and a dispatch table for district 0; its users."""
    from sqlalchemy import insert, select, text, update

    from portal.accountability.models import AccountabilityRecord, Letter
    from portal.auth import service as auth
    from portal.checklists.models import EnterpriseStatus
    from portal.dispatch import service as dispatch
    from portal.dispatch.models import ReportSubmission
    from portal.extensions import db
    from portal.inspections.models import Accident
    from portal.plans import service as plans
    from portal.plans.models import Assignment
    from portal.tips.models import Tip
    from tenants.models import Membership, Tenant

    district = db.session.get(Tenant, districts[0]["id"])
    root = db.session.get(Tenant, int(district.path.strip("/").split("/")[0]))
    streets = [db.session.get(Tenant, s["id"]) for s in streets_data]
    enterprises = db.session.execute(select(Tenant).where(Tenant.kind == "enterprise", Tenant.path >= district.path,
                                                          Tenant.path < district.path[:-1] + "0")).scalars().all()
    campaign = plans.create_campaign(root, name="安全生产治本攻坚三年行动（基准）", starts_on=date(2024, 1, 1),
                                     ends_on=date(2026, 12, 31))
    plan = plans.create_plan(root, campaign, title="基准总体方案", issuer="基准安委会")
    for phase in plan.phases:
        plans.update_phase(plan, phase, starts_on=date(2024, 1, 1), ends_on=date(2026, 12, 31), body="")
    users = {}
    for name, tenant, role in (("bench_discipline", district, "discipline"), ("bench_street", streets[1], "staff"),
                               ("bench_principal", None, "principal")):
        tenant = tenant or next(e for e in enterprises if e.path.startswith(streets[1].path))
        users[name] = auth.create_user(tenant, username=name, display_name="基准用户", password=PASSWORD, role=role)
        auth.accept_password(users[name])
    admin = db.session.execute(select(Membership).where(Membership.tenant_id == district.id)).scalars().first()
    for t in range(50):
        plans.create_task(district, admin, title=f"基准任务{t + 1}", body="内容",
                          deadline=TODAY + timedelta(days=rng.randrange(-20, 40)), phase_id=plan.phases[t % 4].id,
                          receiver_ids=[s.id for s in streets], request_key=f"bench-desk-{t}", today=date(2026, 5, 1))
    street_staff = users["bench_street"].memberships[0]
    given = db.session.execute(select(Assignment).where(Assignment.tenant_id == streets[1].id)).scalars().first()
    given.state = "in_progress"  # signed (签收), so it may be passed down
    plans.create_task(streets[1], street_staff, title="基准下达企业任务", body="内容", deadline=given.deadline,
                      phase_id=given.task.phase_id, receiver_ids=[e.id for e in enterprises
                                                                  if e.path.startswith(streets[1].path)],
                      request_key="bench-desk-down", parent_assignment=given, today=date(2026, 5, 1))
    ids = db.session.execute(select(Assignment.id)).scalars().all()
    for state in ("done", "done", "reported", "in_progress", "returned"):
        chosen = [i for i in ids if rng.random() < 0.15]
        db.session.execute(update(Assignment).where(Assignment.id.in_(chosen)).values(state=state)
                           .execution_options(synchronize_session=False))
    created = datetime(2026, 6, 1)
    db.session.execute(insert(Tip.__table__), [dict(
        code_digest=hashlib.sha256(f"bench-tip-{i}".encode()).hexdigest(), enterprise_name="某企业", address="",
        description="基准举报", anonymous=True, reporter_name="", contact="", note="",
        status=("received", "verified", "unfounded")[i % 3], tenant_id=streets[i % 20].id,
        tenant_path=streets[i % 20].path, created_at=created) for i in range(300)])
    db.session.execute(insert(Accident.__table__), [dict(
        occurred_on=TODAY - timedelta(days=rng.randrange(400)), kind="fire", deaths=0, injuries=1, summary="基准事故",
        tenant_id=e.id, tenant_path=e.path, created_at=created) for e in enterprises[:40]])
    db.session.execute(insert(EnterpriseStatus.__table__), [dict(
        tenant_id=e.id, tenant_path=e.path, deputy_duties_signed=True, all_staff_duties_signed=False,
        campaign_tasks_signed=False, open_findings=1 if i % 10 == 0 else 0,
        failing_since=TODAY - timedelta(days=i % 90) if i % 10 == 0 else None, updated_at=created)
        for i, e in enumerate(enterprises)])
    definition = dispatch.create_definition(district, campaign, name="基准区三年行动月报", period="month", due_day=5,
                                            rows=["stock.open", "increment.found"], fillers=["street"])
    period = dispatch.current_period(definition, TODAY)
    db.session.execute(insert(ReportSubmission.__table__), [dict(
        definition_id=definition.id, period_start=period.start, period_end=period.end, status="submitted",
        submitted_at=created, late=False, reason="", tenant_id=s.id, tenant_path=s.path) for s in streets[::2]])
    db.session.execute(insert(AccountabilityRecord.__table__), [dict(
        tenant_id=district.id, tenant_path=district.path, level="district", measure="supervision_letter",
        subject_unit_id=streets[i % 20].id, subject_unit_name=streets[i % 20].name, subject_person="", subject_post="",
        reason="基准督办", requirement="", basis=[], decided_on=TODAY - timedelta(days=i % 30), document_number="",
        issuer="基准纪委", created_at=created) for i in range(200)])
    records = db.session.execute(select(AccountabilityRecord.id).order_by(AccountabilityRecord.id)).scalars().all()
    db.session.execute(insert(Letter.__table__), [dict(
        record_id=record_id, issuer_id=district.id, measure="supervision_letter", issuer_name="基准纪委",
        document_number="", reason="基准督办", requirement="", basis=[], sent_on=TODAY - timedelta(days=i % 30),
        reply_by=TODAY + timedelta(days=rng.randrange(-10, 10)), state=("sent", "sent", "replied", "closed")[i % 4],
        reply="", outcome="", tenant_id=streets[i % 20].id, tenant_path=streets[i % 20].path, created_at=created)
        for i, record_id in enumerate(records)])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return len(enterprises), len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description="工作台各面板响应时间基准：一个区县 1,000 家企业。")
    parser.add_argument("--database-url", help="PostgreSQL 地址（默认使用临时 SQLite 文件）")
    parser.add_argument("--runs", type=int, default=100, help="每个面板测量次数")
    args = parser.parse_args()

    from portal.extensions import db
    from tenants import clock
    from tenants.scope import unscoped

    # The one clock, frozen inside the three-year campaign so deadlines fall on both sides of it.
    clock.now = lambda: datetime(TODAY.year, TODAY.month, TODAY.day, 2)
    rng = random.Random(15)
    with fresh_app("desk", args.database_url) as (app, label, _):
        app.config["WTF_CSRF_ENABLED"] = False
        with unscoped(), app.test_request_context():
            def data():
                districts, streets, _, _, admin = populate(100_000)
                return admin, *build(districts, streets, rng)
            (admin, n_enterprises, n_assignments), build_s = timed(data)
            db.session.remove()

        def login(username):
            return logged_in(app, username, PASSWORD)

        def measure(client, panel):
            return htmx_timings(app, client, f"/desk?panel={panel}", args.runs)

        rows = []
        for username, role, panels in ((admin, "区管理员", ("tasks", "dispatch", "hazards", "targets", "duties", "tips",
                                                                "accidents")),
                                       ("bench_discipline", "区纪检监察", ("hazards", "targets", "accidents", "letters")),
                                       ("bench_street", "街道工作人员", ("tasks", "dispatch", "hazards", "letters")),
                                       ("bench_principal", "企业主要负责人", ("todo", "tasks", "hazards"))):
            client = login(username)
            for panel in panels:
                rows.append((f"{role} · {panel}", *measure(client, panel)))

    print(f"数据库：{label}；建数 {build_s:.1f} 秒")
    print(f"被测区县：{n_enterprises} 家企业、10,000 条隐患、{n_assignments} 条交办（全库 10 个区县、10 万条隐患）；"
          f"每个面板请求 {args.runs} 次（HTMX 局部，含登录会话、范围和模板），今日按 {TODAY} 计")
    print(f"{'面板':<28}{'p50 毫秒':>10}{'p95 毫秒':>10}{'SELECT 数':>10}")
    for name, p50, p95, selects in rows:
        print(f"{name:<28}{p50:>10.1f}{p95:>10.1f}{selects:>10}")
    import os
    print(f"本机负载（1 分钟平均）：{os.getloadavg()[0]:.1f}（共 {os.cpu_count()} 核；负载高于核数时各数字随之放大）")
    worst = max(r[2] for r in rows)
    print(f"最慢 p95 {worst:.1f} 毫秒，目标 ≤ {TARGET_MS:.0f} 毫秒（比值 {worst / TARGET_MS:.2f}）")


if __name__ == "__main__":
    main()
