"""Time the hazard ledger of a district: a database of 1,000,000 hazards over 100,000 enterprises
in 10 districts, so one district holds 100,000 hazards over 10,000 enterprises.

    .venv/bin/python bench/hazards_ledger.py                      # temporary SQLite file
    .venv/bin/python bench/hazards_ledger.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/hazards_ledger.py --hazards 100000       # a quicker, smaller run

The rows are written with bulk Core inserts (no audit events, no ORM), then the statistics are
refreshed (ANALYZE; VACUUM ANALYZE on PostgreSQL) as a running database would have them. Measured as a district admin through
the Flask test client: the HTMX partial of the ledger (one page of 50 rows with its count) for
several filters, and dispatch_figures() for the district and the national dispatch period.
Prints p50/p95 in milliseconds and the ratio to the 50 ms target; no verdicts.
"""
from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta

from common import fresh_app, isolated_client, percentiles, timed

TARGET_MS = 50.0
PASSWORD = "Bench#2024x"
DISTRICTS = 10
STREETS = 20
INDUSTRIES = ("hazchem", "construction", "gas", "industry_trade", "commerce", "fire")
STATUSES = ("pending", "rectifying", "rectified", "accepted", "closed")


def generate(n_hazards: int, seed: int = 2024):
    """Insert the tree and the hazards; return (district ids, street ids of district 0)."""
    from sqlalchemy import func, insert, select, text

    from portal.extensions import db
    from tenants.clock import now

    rng = random.Random(seed)
    tenants = db.metadata.tables["tenants"]
    per_enterprise = 10
    enterprises_per_street = max(1, n_hazards // per_enterprise // DISTRICTS // STREETS)
    created = now()
    rows, next_id = [], (db.session.execute(select(func.max(tenants.c.id))).scalar() or 0) + 1

    def node(parent, kind, name, industry=None):
        nonlocal next_id
        tid, next_id = next_id, next_id + 1
        path = f"{parent['path'] if parent else '/'}{tid}/"
        row = dict(id=tid, parent_id=parent["id"] if parent else None, kind=kind, name=name, code=None,
                   credit_code=None, industry=industry, high_risk=industry == "hazchem", supervised_industries=[],
                   path=path, depth=path.count("/") - 2, created_at=created)
        rows.append(row)
        return row

    root = node(None, "national", "基准国务院安委会")
    city = node(node(root, "province", "基准省"), "city", "基准市")
    districts, enterprises, streets0 = [], [], []
    for d in range(DISTRICTS):
        district = node(city, "district", f"基准{d}区")
        districts.append(district)
        for s in range(STREETS):
            street = node(district, "street", f"基准{d}区{s}街道")
            if d == 0:
                streets0.append(street)
            for e in range(enterprises_per_street):
                enterprises.append(node(street, "enterprise", f"基准{d}区{s}街道第{e}号企业",
                                        INDUSTRIES[e % len(INDUSTRIES)]))
    db.session.execute(insert(tenants), rows)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('tenants', 'id'), (SELECT max(id) FROM tenants))"))
    db.session.commit()

    insert_hazards(enterprises, n_hazards, rng, districts[0]["id"])
    analyze(("tenants", "hazards"))
    return districts, streets0, len(enterprises)


def insert_hazards(enterprises: list[dict], n_hazards: int, rng: random.Random, lister_id: int) -> None:
    """Insert `n_hazards` hazards spread over `enterprises` (node rows), 2 % of them listed by `lister_id`."""
    from sqlalchemy import insert

    from portal.extensions import db
    from tenants.clock import now

    hazards = db.metadata.tables["hazards"]
    created = now()
    start, span = date(2023, 1, 1), (date(2026, 6, 30) - date(2023, 1, 1)).days
    batch = []
    for i in range(n_hazards):
        ent = enterprises[i % len(enterprises)]
        found = start + timedelta(days=rng.randrange(span))
        status = STATUSES[rng.randrange(5)]
        accepted = found + timedelta(days=rng.randrange(1, 90)) if status in ("accepted", "closed") else None
        listed = rng.random() < 0.02
        batch.append(dict(
            tenant_id=ent["id"], tenant_path=ent["path"], level="major" if rng.random() < 0.3 else "general",
            source=("self", "self", "department", "tip")[rng.randrange(4)] if rng.random() < 0.95 else "tip",
            industry=ent["industry"], standard_item_id=None, description=f"基准隐患 {i} 号：消防通道堵塞、报警装置失效",
            location="厂区", found_at=found, found_by_unit_id=ent["id"], on_the_spot=False, fix_owner="负责人",
            fix_measures="整改", fix_funds=1, fix_deadline=found + timedelta(days=rng.randrange(7, 120)),
            fix_contingency="预案", status=status,
            rectified_on=accepted - timedelta(days=1) if accepted else None, accepted_on=accepted,
            closed_on=accepted + timedelta(days=1) if status == "closed" else None,
            listed_by_id=lister_id if listed else None, listed_level="district" if listed else None,
            listed_document_number="基准督〔2024〕1号" if listed else None, listed_tracker_id=None,
            listed_deadline=found + timedelta(days=180) if listed else None,
            listed_on=found + timedelta(days=3) if listed else None, delisted_on=None,
            created_by_id=None, created_at=created))
        if len(batch) == 20000:
            db.session.execute(insert(hazards), batch)
            db.session.commit()
            batch = []
    if batch:
        db.session.execute(insert(hazards), batch)
    db.session.commit()


def analyze(tables: tuple[str, ...]) -> None:
    """Statistics, and on PostgreSQL the visibility map that index-only scans need, as a running
    database has them from autovacuum (without it, counts read the heap: 58 ms instead of 10 ms)."""
    from sqlalchemy import text

    from portal.extensions import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.execute(text(f"VACUUM ANALYZE {table}"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def populate(n_hazards: int):
    """The data, and an admin of the first district who signs in with PASSWORD (unscoped, committed):
    (districts, streets of district 0, enterprise count, seconds generating, admin's username)."""
    from portal.auth import service as auth
    from portal.extensions import db
    from tenants.models import Tenant

    (districts, streets, n_enterprises), gen_s = timed(lambda: generate(n_hazards))
    admin = auth.create_user(db.session.get(Tenant, districts[0]["id"]), username="bench_admin",
                             display_name="基准管理员", password=PASSWORD, role="admin")
    auth.accept_password(admin)  # measured pages, not the forced first change
    db.session.commit()
    return districts, streets, n_enterprises, gen_s, admin.username


def main() -> None:
    parser = argparse.ArgumentParser(description="隐患台账基准：一个区县 10 万条隐患、全库 100 万条。")
    parser.add_argument("--database-url", help="PostgreSQL 地址（默认使用临时 SQLite 文件）")
    parser.add_argument("--hazards", type=int, default=1_000_000, help="全库隐患条数（默认 1,000,000）")
    parser.add_argument("--runs", type=int, default=40, help="每项测量次数")
    args = parser.parse_args()

    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.hazards import service
    from portal.hazards.models import Hazard
    from tenants.models import Tenant
    from tenants.scope import Scope, scoped_as, unscoped

    with fresh_app("hazards", args.database_url) as (app, label, migrate_s):
        app.config["WTF_CSRF_ENABLED"] = False
        with unscoped():
            districts, streets, n_enterprises, gen_s, username = populate(args.hazards)
            district = db.session.get(Tenant, districts[0]["id"])
            in_district = db.session.execute(select(func.count()).select_from(Hazard).where(
                Hazard.tenant_path >= district.path, Hazard.tenant_path < district.path[:-1] + "0")).scalar()
            total = db.session.execute(select(func.count()).select_from(Hazard)).scalar()
            db.session.remove()

        client = isolated_client(app)
        client("post", "/login", data={"username": username, "password": PASSWORD})
        cases = [
            ("第 1 页（按单位，台账顺序）", "/hazards/"),
            ("第 200 页", "/hazards/?page=200"),
            ("第 1 页，按最新登记排序", "/hazards/?sort=recent"),
            ("状态 = 整改中", "/hazards/?status=rectifying"),
            ("重大 + 企业自查", "/hazards/?level=major&source=self"),
            ("逾期未整改", "/hazards/?overdue=1"),
            ("挂牌督办中", "/hazards/?listed=1"),
            ("行业 = 危险化学品，按整改期限", "/hazards/?industry=hazchem&sort=deadline"),
            ("某街道", f"/hazards/?within={streets[3]['id']}"),
            ("搜索“第7号企业”", "/hazards/?q=第7号企业"),
        ]
        results = []
        for name, url in cases:
            client("get", url, headers={"HX-Request": "true"})  # warm
            samples = []
            for _ in range(args.runs):
                started = time.perf_counter()
                response = client("get", url, headers={"HX-Request": "true"})
                samples.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            results.append((name, *percentiles(samples)))
        full_page = []
        client("get", "/hazards/")  # warm: the full template compiles once
        for _ in range(max(5, args.runs // 4)):
            started = time.perf_counter()
            client("get", "/hazards/")
            full_page.append((time.perf_counter() - started) * 1000)

        with scoped_as(Scope.of(district, "admin")):
            district = db.session.get(Tenant, districts[0]["id"])
            figure_samples, figures = [], None
            for _ in range(args.runs + 1):
                started = time.perf_counter()
                figures = service.dispatch_figures(district, date(2023, 6, 1), date(2026, 5, 31))
                figure_samples.append((time.perf_counter() - started) * 1000)
            figure_samples = figure_samples[1:]
            stock_samples = []
            for _ in range(max(5, args.runs // 4)):
                started = time.perf_counter()
                service.stock_figures(district, 2025, today=date(2026, 6, 30))
                service.monthly_trend(district, 2025, today=date(2026, 6, 30))
                stock_samples.append((time.perf_counter() - started) * 1000)
            db.session.remove()

    print(f"数据库：{label}")
    print(f"数据：全库 {total:,} 条隐患、{n_enterprises:,} 家企业（{DISTRICTS} 个区县 × {STREETS} 个街道）；"
          f"测量的区县 {in_district:,} 条。生成用时 {gen_s:.1f} 秒，迁移 {migrate_s:.1f} 秒。每项 {args.runs} 次。")
    print(f"{'隐患列表 HTMX 分片（每页 50 条，含总数）':<34}{'p50 ms':>9}{'p95 ms':>9}{'p95/目标':>10}")
    for name, p50, p95 in results:
        print(f"  {name:<32}{p50:>9.1f}{p95:>9.1f}{p95 / TARGET_MS:>10.2f}")
    p50, p95 = percentiles(figure_samples)
    print(f"{'调度表数字 dispatch_figures（区县，2023-06-01 至 2026-05-31）':<34}{p50:>9.1f}{p95:>9.1f}{p95 / TARGET_MS:>10.2f}")
    p50, p95 = percentiles(full_page)
    print(f"{'整页（含存量增量与月度趋势）':<34}{p50:>9.1f}{p95:>9.1f}")
    p50, p95 = percentiles(stock_samples)
    print(f"{'存量增量 + 月度趋势（服务函数）':<34}{p50:>9.1f}{p95:>9.1f}")
    print("调度表数字：企业自查 {} / 已整改 {}；部门检查 {} / 已整改 {}；挂牌督办 {} / 已整改 {}；举报 {} / 已整改 {}".format(
        *(figures[code] for code in ("hazards.self_found", "hazards.self_rectified", "hazards.dept_found",
                                     "hazards.dept_rectified", "hazards.listed", "hazards.listed_rectified",
                                     "hazards.tip_found", "hazards.tip_rectified"))))


if __name__ == "__main__":
    main()
