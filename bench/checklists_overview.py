"""Time the responsibility-list overview of a district with 10,000 enterprises (two such districts
in the database), and the daily compliance evaluation.

    .venv/bin/python bench/checklists_overview.py                      # temporary SQLite file
    .venv/bin/python bench/checklists_overview.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/checklists_overview.py --enterprises 2000    # a quicker, smaller run

Templates are written through the service (so their inherited settings are real); enterprises,
list versions, open and closed findings and duty records with bulk Core inserts, then ANALYZE.
Measured through the Flask test client as a district admin and as the district's 商务局 (scope
by industry): the HTMX partial of the overview (a page of 50 enterprises × 3 lists with their
open failures, and the total), for several filters, the non-compliant list, and the full page.
Then `refresh` (evaluate against the plan rules and keep the failures) over 1,000 enterprises.
Prints p50/p95 in milliseconds and the ratio to the 100 ms target; no verdicts.
"""
from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta

from common import fresh_app, isolated_client, percentiles, timed

TARGET_MS = 100.0
STREETS = 20
INDUSTRIES = ("commerce", "commerce", "hazchem", "construction", "gas", "industry_trade")
TODAY = date(2026, 9, 30)
FINDINGS = (("principal_not_led", "spot.principal_not_led", "2026年第二季度主要负责人未带队检查"),
            ("uncertified_worker", "spot.uncertified_welders", "特种作业人员 王某 焊工证 已过期"),
            ("outsourcing_chaos", "spot.outsourcing_chaos", "外包外租单位“某劳务公司”：未签订安全生产协议"),
            ("no_drill", "spot.no_drill", "2026年上半年未按规定开展应急演练"))


def generate(per_district: int, seed: int = 2026):
    """Two districts of `per_district` enterprises; return (district 0, its 商务局, enterprise ids of district 0)."""
    from sqlalchemy import func, insert, select, text

    from portal.checklists import service
    from portal.extensions import db
    from tenants.clock import now
    from tenants.models import Tenant

    rng = random.Random(seed)
    tenants = db.metadata.tables["tenants"]
    created = now()
    rows, next_id = [], (db.session.execute(select(func.max(tenants.c.id))).scalar() or 0) + 1

    def node(parent, kind, name, industry=None, supervised=()):
        nonlocal next_id
        tid, next_id = next_id, next_id + 1
        path = f"{parent['path'] if parent else '/'}{tid}/"
        row = dict(id=tid, parent_id=parent["id"] if parent else None, kind=kind, name=name, code=None,
                   credit_code=f"91BENCH{tid:011d}" if kind == "enterprise" else None, industry=industry,
                   high_risk=industry in ("hazchem", "gas"), supervised_industries=list(supervised), path=path,
                   depth=path.count("/") - 2, created_at=created)
        rows.append(row)
        return row

    root = node(None, "national", "基准国务院安委会")
    city = node(node(root, "province", "基准省"), "city", "基准市")
    districts, commerce, enterprises, streets = [], None, [[], []], []
    for d in range(2):
        district = node(city, "district", f"基准{d}区")
        districts.append(district)
        dept = node(district, "department", f"基准{d}区商务局", supervised=("commerce",))
        commerce = commerce or dept
        for s in range(STREETS):
            street = node(district, "street", f"基准{d}区{s}街道")
            if d == 0:
                streets.append(street)
            for e in range(per_district // STREETS):
                enterprises[d].append(node(street, "enterprise", f"基准{d}区{s}街道第{e}号企业", INDUSTRIES[e % 6]))
    db.session.execute(insert(tenants), rows)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('tenants', 'id'), "
                                "(SELECT max(id) FROM tenants))"))
    db.session.commit()

    get = lambda row: db.session.get(Tenant, row["id"])  # noqa: E731
    for n in range(5):
        service.add_item(get(root), "campaign_tasks", title=f"国家事项 {n + 1}", evidence="text")
    for d in districts:
        service.add_item(get(d), "campaign_tasks", title="区级事项", evidence="file")
        for n in range(4):
            service.add_item(get(d), "deputy_duties", title=f"分管负责人职责 {n + 1}", evidence="text")
    for s in streets[:3]:
        service.add_item(get(s), "campaign_tasks", title="街道事项", evidence="none")
    db.session.commit()

    fills, findings, records, statuses = [], [], [], []
    for ents in enterprises:
        for e in ents:
            base = dict(tenant_id=e["id"], tenant_path=e["path"], created_at=created, updated_at=created)
            # What sign() and refresh() keep for the overview, written alongside the rows they count.
            status = dict(tenant_id=e["id"], tenant_path=e["path"], deputy_duties_signed=False,
                          all_staff_duties_signed=False, campaign_tasks_signed=False, open_findings=0,
                          failing_since=None, updated_at=created)
            statuses.append(status)
            r = rng.random()
            if r < 0.65:
                status["campaign_tasks_signed"] = True
                fills.append(dict(base, kind="campaign_tasks", version=1, status="signed", is_current=r >= 0.10,
                                  total=6, filled=6, signed_at=created))
                if r < 0.10:  # revised: version 2 being written
                    fills.append(dict(base, kind="campaign_tasks", version=2, status="draft", is_current=True,
                                      total=6, filled=5, signed_at=None))
            elif r < 0.85:
                fills.append(dict(base, kind="campaign_tasks", version=1, status="draft", is_current=True,
                                  total=6, filled=rng.randrange(6), signed_at=None))
            if rng.random() < 0.6:
                status["deputy_duties_signed"] = True
                fills.append(dict(base, kind="deputy_duties", version=1, status="signed", is_current=True,
                                  total=4, filled=4, signed_at=created))
            if rng.random() < 0.12:
                for code, spot, words in rng.sample(FINDINGS, rng.randrange(1, 4)):
                    since = TODAY - timedelta(days=rng.randrange(1, 300))
                    findings.append(dict(tenant_id=e["id"], tenant_path=e["path"], code=code, spot_row=spot,
                                         subject="", text=words, since=since, resolved_on=None, updated_at=created))
                    status["open_findings"] += 1
                    status["failing_since"] = min(since, status["failing_since"] or since)
            if rng.random() < 0.2:
                findings.append(dict(tenant_id=e["id"], tenant_path=e["path"], code="no_drill",
                                     spot_row="spot.no_drill", subject="", text="2025年未按规定开展应急演练",
                                     since=date(2026, 1, 1), resolved_on=date(2026, 3, 1), updated_at=created))
            for k in range(3):
                records.append(dict(tenant_id=e["id"], tenant_path=e["path"], kind="inspection",
                                    occurred_on=TODAY - timedelta(days=rng.randrange(200)), person="负责人",
                                    subject="全厂", findings="", created_at=created))
    for table, batch in (("checklist_fills", fills), ("compliance_findings", findings), ("duty_records", records),
                         ("enterprise_statuses", statuses)):
        for i in range(0, len(batch), 20000):
            db.session.execute(insert(db.metadata.tables[table]), batch[i:i + 20000])
        db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return districts[0], commerce, [e["id"] for e in enterprises[0]], len(fills), len(findings), len(records)


def main() -> None:
    parser = argparse.ArgumentParser(description="责任清单总览基准：一个区县 1 万家企业（库中两个这样的区县）。")
    parser.add_argument("--database-url", help="PostgreSQL 地址（默认使用临时 SQLite 文件）")
    parser.add_argument("--enterprises", type=int, default=10_000, help="每个区县的企业数（默认 10,000）")
    parser.add_argument("--runs", type=int, default=40, help="每项测量次数")
    args = parser.parse_args()

    from sqlalchemy import select

    from portal.auth import service as auth
    from portal.checklists import service
    from portal.extensions import db
    from portal.plans import service as plans
    from tenants.models import Tenant
    from tenants.scope import unscoped

    with fresh_app("checklists", args.database_url) as (app, label, migrate_s):
        app.config["WTF_CSRF_ENABLED"] = False
        with unscoped():
            (district, commerce, ids, n_fills, n_findings, n_records), gen_s = timed(
                lambda: generate(args.enterprises))
            users = {}
            for key, unit, role in (("admin", district, "admin"), ("commerce", commerce, "staff")):
                user = auth.create_user(db.session.get(Tenant, unit["id"]), username=f"bench_{key}",
                                        display_name="基准用户", password="Bench#2024x", role=role)
                auth.accept_password(user)  # measured pages, not the forced first change
                users[key] = user.username
            db.session.commit()
            db.session.remove()

        client = isolated_client(app)

        def measure(url, htmx=True):
            headers = {"HX-Request": "true"} if htmx else {}
            client("get", url, headers=headers)  # warm
            samples = []
            for _ in range(args.runs):
                started = time.perf_counter()
                response = client("get", url, headers=headers)
                samples.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            return percentiles(samples)

        results = []
        client("post", "/login", data={"username": users["admin"], "password": "Bench#2024x"})
        for name, url in [
            ("第 1 页", "/checklists/overview"),
            ("第 100 页", "/checklists/overview?page=100"),
            ("状态 = 清单已全部签署", "/checklists/overview?state=complete"),
            ("状态 = 清单未全部签署", "/checklists/overview?state=incomplete"),
            ("状态 = 有未履职问题", "/checklists/overview?state=noncompliant"),
            ("行业 = 危险化学品 + 高危", "/checklists/overview?industry=hazchem&high_risk=1"),
            ("搜索“第7号企业”", "/checklists/overview?q=第7号企业"),
            ("未履职企业名单 第 1 页", "/checklists/noncompliant"),
        ]:
            results.append((name, *measure(url)))
        results.append(("整页（非 HTMX）第 1 页", *measure("/checklists/overview", htmx=False)))
        client("post", "/logout")
        client("post", "/login", data={"username": users["commerce"], "password": "Bench#2024x"})
        results.append(("商务局（按行业监管）第 1 页", *measure("/checklists/overview")))
        results.append(("商务局 状态 = 有未履职问题", *measure("/checklists/overview?state=noncompliant")))

        # The daily job: evaluate against the plan rules and keep the failures, 1,000 enterprises.
        with unscoped():
            root = db.session.execute(select(Tenant).where(Tenant.parent_id.is_(None))).scalar_one()
            campaign = plans.create_campaign(root, name="基准专项行动", starts_on=date(2026, 1, 1),
                                             ends_on=date(2026, 12, 31))
            plan = plans.create_plan(root, campaign, title="基准方案", issuer="基准")
            plans.save_clause(plan, section="企业", title="带队检查", body="每季度", rule="principal_inspection",
                              rule_value={"all": {"times": 1, "per": "quarter"},
                                          "high_risk": {"times": 1, "per": "month"}})
            db.session.commit()
            batch = db.session.execute(select(Tenant).where(Tenant.id.in_(ids[:1000]))).scalars().all()
            changed, refresh_s = timed(lambda: service.refresh(batch, TODAY))
            evaluated = len(batch)
            db.session.rollback()
            db.session.remove()

    print(f"数据库：{label}")
    print(f"数据：2 个区县 × {args.enterprises:,} 家企业（每区 {STREETS} 个街道）；清单版本 {n_fills:,} 条，"
          f"履职问题 {n_findings:,} 条，履职记录 {n_records:,} 条。生成用时 {gen_s:.1f} 秒，迁移 {migrate_s:.1f} 秒。"
          f"每项 {args.runs} 次。")
    print(f"{'总览（每页 50 家 × 3 份清单，含总数）':<30}{'p50 ms':>9}{'p95 ms':>9}{'p95/目标':>10}")
    for name, p50, p95 in results:
        print(f"  {name:<28}{p50:>9.1f}{p95:>9.1f}{p95 / TARGET_MS:>10.2f}")
    print(f"每日评估 refresh：{evaluated:,} 家企业 {refresh_s:.2f} 秒（每家 {refresh_s * 1000 / evaluated:.2f} 毫秒），"
          f"未履职问题变动 {changed:,} 条；按此推算一个区县 {args.enterprises:,} 家约 "
          f"{refresh_s * args.enterprises / evaluated:.0f} 秒。")


if __name__ == "__main__":
    main()
