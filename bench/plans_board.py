"""Time the task boards' HTMX partials for a district with 1,000 assignments.

    .venv/bin/python bench/plans_board.py [--database-url postgresql+psycopg://…] [--runs 200] [--districts 5]

Builds `--districts` districts of 13 streets each under one city (the first is measured, the others
are neighbours the scope must filter out); each district assigns 100 tasks to 10 of its streets,
1,000 assignments, in every state and colour. Then, logged in as the district's admin, it requests
each partial the way htmx does (HX-Request) and prints p50/p95 in milliseconds and the number of
SELECTs per request (constant: the roll-ups are grouped queries, not one per row). Goal: p95 ≤ 50 ms.
"""
from __future__ import annotations

import argparse
import random
from datetime import date, datetime, timedelta

from common import fresh_app, htmx_timings, logged_in, timed

STREETS = 13
TASKS = 100
PER_TASK = 10
PASSWORD = "Bench-Passw0rd"
TODAY = date(2023, 6, 20)


def main() -> None:
    parser = argparse.ArgumentParser(description="交办督办看板（HTMX 局部）响应时间基准。")
    parser.add_argument("--database-url", help="PostgreSQL 地址（默认使用临时 SQLite 文件）")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--districts", type=int, default=5)
    args = parser.parse_args()

    from sqlalchemy import select, text, update

    from portal.auth import service as auth
    from portal.extensions import db
    from portal.plans import service
    from portal.plans.models import Assignment, Task
    from tenants import clock
    from tenants.models import Tenant
    from tenants.paths import attach
    from tenants.scope import unscoped

    # The one clock, frozen on a day of the campaign so deadlines fall on both sides of it.
    clock.now = lambda: datetime(TODAY.year, TODAY.month, TODAY.day, 2)

    with fresh_app("plans_board", args.database_url) as (app, label, _):
        app.config["WTF_CSRF_ENABLED"] = False
        rng = random.Random(7)
        with unscoped(), app.test_request_context():
            def build():
                root = attach(Tenant(kind="national", name="国务院安委会"), None)
                city = attach(Tenant(kind="province", name="基准市"), root)
                campaign = service.create_campaign(root, name="基准专项行动", starts_on=date(2023, 5, 1),
                                                   ends_on=date(2023, 12, 31))
                plan = service.create_plan(root, campaign, title="基准总体方案", issuer="基准安委会")
                for phase in plan.phases:
                    service.update_phase(plan, phase, starts_on=date(2023, 5, 1), ends_on=date(2023, 12, 31), body="")
                districts = []
                for d in range(args.districts):
                    district = attach(Tenant(kind="district", name=f"基准区{d + 1}"), city)
                    streets = [attach(Tenant(kind="street", name=f"基准区{d + 1}第{s + 1}街道"), district)
                               for s in range(STREETS)]
                    admin = auth.create_user(district, username=f"bench_admin_{d}", display_name="基准管理员",
                                             password=PASSWORD, role="admin")
                    auth.accept_password(admin)  # measured pages, not the forced first change
                    for t in range(TASKS):
                        receivers = [streets[(t + k) % STREETS] for k in range(PER_TASK)]
                        service.create_task(district, admin.memberships[0], title=f"基准任务{t + 1}", body="内容",
                                            deadline=TODAY + timedelta(days=rng.randrange(-20, 40)),
                                            phase_id=plan.phases[t % 4].id, receiver_ids=[s.id for s in receivers],
                                            request_key=f"bench-{d}-{t}", today=date(2023, 5, 20))
                    districts.append((district, streets))
                db.session.flush()
                # Every state, in proportions a live campaign has: most done, some waiting, some back.
                ids = db.session.execute(select(Assignment.id)).scalars().all()
                for state in ("done", "done", "done", "reported", "in_progress", "returned"):
                    chosen = [i for i in ids if rng.random() < 0.15]
                    db.session.execute(update(Assignment).where(Assignment.id.in_(chosen)).values(state=state)
                                       .execution_options(synchronize_session=False))
                db.session.commit()
                if db.engine.dialect.name == "postgresql":
                    # Fresh bulk loads have no statistics yet; a live database has autovacuum's.
                    db.session.execute(text("ANALYZE"))
                    db.session.commit()
                return districts

            districts, build_s = timed(build)
            measured, streets = districts[0]
            total = db.session.execute(select(db.func.count()).select_from(Assignment)).scalar_one()
            mine = db.session.execute(select(db.func.count()).select_from(Assignment)
                                      .where(Assignment.assigner_id == measured.id)).scalar_one()
            big_task = db.session.execute(select(Task.id).where(Task.tenant_id == measured.id)
                                          .order_by(Task.id)).scalars().first()
            auth.accept_password(auth.create_user(streets[0], username="bench_street", display_name="基准街道",
                                                  password=PASSWORD, role="staff"))
            # Nothing is read after this commit: on SQLite a refresh would start a writing transaction
            # that every measured request (each in a session of its own) would queue behind.
            db.session.commit()

        def login(username):
            return logged_in(app, username, PASSWORD)

        def measure(client, url):
            return htmx_timings(app, client, url, args.runs)

        district_client = login("bench_admin_0")
        rows = [
            ("交办督办看板 /tasks/（20 项任务＋各街道汇总）", *measure(district_client, "/tasks/")),
            ("交办督办看板 /tasks/?overdue=1（筛选逾期）", *measure(district_client, "/tasks/?overdue=1")),
            ("单项任务看板 /tasks/<id>（接收单位列表）", *measure(district_client, f"/tasks/{big_task}")),
            ("街道收到的任务 /tasks/received", *measure(login("bench_street"), "/tasks/received")),
        ]

    print(f"数据库：{label}；建数 {build_s:.1f} 秒")
    print(f"被测区县：{mine} 条交办（{TASKS} 项任务 × {PER_TASK} 个街道），全库 {total} 条（{args.districts} 个区县）；"
          f"每项请求 {args.runs} 次，今日按 {TODAY} 计")
    print(f"{'局部':<34}{'p50 毫秒':>10}{'p95 毫秒':>10}{'SELECT 数':>10}")
    for name, p50, p95, selects in rows:
        print(f"{name:<30}{p50:>10.1f}{p95:>10.1f}{selects:>10}")
    worst = max(r[2] for r in rows)
    print(f"最慢 p95 {worst:.1f} 毫秒，目标 ≤ 50 毫秒：{'达到' if worst <= 50 else '未达到'}（比值 {worst / 50:.2f}）")


if __name__ == "__main__":
    main()
