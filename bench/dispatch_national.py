"""Time the national dispatch table computed live from the records, for the root and for one
district, against a naive per-node recursive computation in the same run.

    .venv/bin/python bench/dispatch_national.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/dispatch_national.py --hazards 100000     # quicker, smaller

Scaled down from the issue's 1,000,000 enterprises / 5,000,000 hazards (generation alone would
take longer than this 2-core machine allows per run): by default 10 provinces × 4 cities × 5
districts × 10 streets × 25 enterprises (50,000 enterprises), 500,000 hazards and 100,000 signed
inspections (half spot checks with a finding, a quarter with a fine), inserted with bulk Core
inserts, then ANALYZE. portal.dispatch.service.compute() reads every row family (hazards; spot
checks, enforcement and accountability; tip rewards; typed figures) with one grouped query per
family over the path range. The naive way sums each node's own records and recurses into its
children (two queries per node); it is measured for the district and for one province (the root
would take tens of thousands of queries: its cost is extrapolated from the per-node cost and
printed as an estimate). Prints p50/p95 in milliseconds and ratios; no verdicts.
"""
from __future__ import annotations

import argparse
import random
import statistics
from datetime import date, timedelta

from common import fresh_app, timed

SHAPE = {"province": 10, "city": 4, "district": 5, "street": 10, "enterprise": 25}
INDUSTRIES = ("hazchem", "construction", "gas", "industry_trade", "commerce", "fire")
FINDINGS = ("spot.principal_not_led", "spot.no_drill", "spot.uncertified_welders", "spot.outsourcing_chaos")
START, END = date(2023, 5, 1), date(2023, 12, 31)


def generate(n_hazards: int, n_inspections: int, seed: int = 2023):
    from sqlalchemy import func, insert, select, text

    from portal.extensions import db
    from tenants.clock import now

    rng = random.Random(seed)
    t = db.metadata.tables
    created = now()
    rows, next_id = [], (db.session.execute(select(func.max(t["tenants"].c.id))).scalar() or 0) + 1
    by_kind: dict[str, list[dict]] = {k: [] for k in ("national", *SHAPE)}

    def node(parent, kind, name, industry=None):
        nonlocal next_id
        tid, next_id = next_id, next_id + 1
        path = f"{parent['path'] if parent else '/'}{tid}/"
        row = dict(id=tid, parent_id=parent["id"] if parent else None, kind=kind, name=name, code=None,
                   credit_code=None, industry=industry, high_risk=industry == "hazchem", supervised_industries=[],
                   path=path, depth=path.count("/") - 2, created_at=created)
        rows.append(row)
        by_kind[kind].append(row)
        return row

    def grow(parent, level):
        kinds = list(SHAPE)
        if level == len(kinds):
            return
        kind = kinds[level]
        for i in range(SHAPE[kind]):
            child = node(parent, kind, f"{parent['name']}{i}{kind[0]}", INDUSTRIES[i % len(INDUSTRIES)]
                         if kind == "enterprise" else None)
            grow(child, level + 1)
    grow(node(None, "national", "基准国家"), 0)
    for i in range(0, len(rows), 20000):
        db.session.execute(insert(t["tenants"]), rows[i:i + 20000])
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('tenants', 'id'), (SELECT max(id) FROM tenants))"))
    db.session.commit()
    parent_of = {r["id"]: r for r in rows}
    enterprises, span = by_kind["enterprise"], (END - START).days

    def flush(table, batch):
        if batch:
            db.session.execute(insert(t[table]), batch)
            db.session.commit()
        return []

    batch = []
    for i in range(n_hazards):
        ent = enterprises[rng.randrange(len(enterprises))]
        found = START + timedelta(days=rng.randrange(span))
        accepted = found + timedelta(days=rng.randrange(1, 60)) if rng.random() < 0.6 else None
        listed = rng.random() < 0.02
        district = parent_of[parent_of[ent["parent_id"]]["parent_id"]]
        batch.append(dict(
            tenant_id=ent["id"], tenant_path=ent["path"], level="major" if rng.random() < 0.3 else "general",
            source=("self", "self", "department", "tip")[rng.randrange(4)], industry=ent["industry"],
            standard_item_id=None, description=f"基准隐患 {i}", location="", found_at=found, found_by_unit_id=ent["id"],
            on_the_spot=False, fix_owner="", fix_measures="", fix_funds=None, fix_deadline=None, fix_contingency="",
            status="accepted" if accepted else "rectifying", rectified_on=accepted, accepted_on=accepted,
            closed_on=None, listed_by_id=district["id"] if listed else None,
            listed_level="district" if listed else None, listed_document_number=None, listed_tracker_id=None,
            listed_deadline=None, listed_on=found + timedelta(days=2) if listed else None, delisted_on=None,
            created_by_id=None, created_at=created))
        if len(batch) == 20000:
            batch = flush("hazards", batch)
    flush("hazards", batch)

    first_id = (db.session.execute(select(func.max(t["inspections"].c.id))).scalar() or 0) + 1
    inspections, findings, actions = [], [], []
    for i in range(n_inspections):
        ent = enterprises[rng.randrange(len(enterprises))]
        district = parent_of[parent_of[ent["parent_id"]]["parent_id"]]
        on = START + timedelta(days=rng.randrange(span))
        spot = i % 2 == 0
        iid = first_id + i
        inspections.append(dict(id=iid, tenant_id=ent["id"], tenant_path=ent["path"], kind="spot" if spot else "enforcement",
                                unit_id=district["id"], unit_name=district["name"], level="district", inspected_on=on,
                                partners="", notes="", status="signed", content_sha256=None, signed_at=created,
                                amends_id=None, created_by_id=None, created_at=created))
        if spot:
            findings.append(dict(tenant_id=ent["id"], tenant_path=ent["path"], inspection_id=iid,
                                 code=FINDINGS[rng.randrange(len(FINDINGS))], note=""))
        elif i % 4 == 1:
            actions.append(dict(tenant_id=ent["id"], tenant_path=ent["path"], inspection_id=iid, kind="penalty",
                                hazard_id=None, amount=rng.randrange(1, 50) / 10, persons=0, person_names="",
                                decided_on=on, document_number="", note="", override_reason="",
                                published_case=False, dangerous_operation_crime=False))
        if len(inspections) == 20000:
            inspections = flush("inspections", inspections)
            findings = flush("inspection_findings", findings)
            actions = flush("enforcement_actions", actions)
    flush("inspections", inspections)
    flush("inspection_findings", findings)
    flush("enforcement_actions", actions)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('inspections', 'id'), (SELECT max(id) FROM inspections))"))
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return by_kind


def naive(tenant_id: int) -> tuple[int, int, int]:
    """A node's figures as its own records plus its children's, recursively: (major self-found
    hazards, spot-checked enterprises, fines), two queries per node."""
    from sqlalchemy import distinct, func, select

    from portal.extensions import db
    from portal.hazards.models import Hazard
    from portal.inspections.models import EnforcementAction, Inspection
    from tenants.models import Tenant

    found = db.session.execute(select(func.count()).select_from(Hazard).where(
        Hazard.tenant_id == tenant_id, Hazard.level == "major", Hazard.source == "self",
        Hazard.found_at.between(START, END))).scalar()
    spot, fines = db.session.execute(
        select(func.count(distinct(Inspection.tenant_id)), func.count(EnforcementAction.id))
        .outerjoin(EnforcementAction, EnforcementAction.inspection_id == Inspection.id)
        .where(Inspection.tenant_id == tenant_id, Inspection.inspected_on.between(START, END))).one()
    totals = [found, spot, fines]
    for child in db.session.execute(select(Tenant.id).where(Tenant.parent_id == tenant_id)).scalars():
        for k, v in enumerate(naive(child)):
            totals[k] += v
    return tuple(totals)


def percentiles(samples):
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description="调度表基准：全国表根节点与一个区县的实时计算。")
    parser.add_argument("--database-url", help="PostgreSQL 地址（默认使用临时 SQLite 文件）")
    parser.add_argument("--hazards", type=int, default=500_000)
    parser.add_argument("--inspections", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    from portal.dispatch import service
    from portal.extensions import db
    from tenants.models import Tenant
    from tenants.scope import Scope, scoped_as, unscoped

    with fresh_app("dispatch", args.database_url) as (app, label, migrate_s):
        with unscoped():
            by_kind, gen_s = timed(lambda: generate(args.hazards, args.inspections))
        nodes = sum(len(v) for v in by_kind.values())
        print(f"数据库：{label}")
        print(f"生成：{nodes:,} 个节点（{len(by_kind['enterprise']):,} 家企业），{args.hazards:,} 条隐患，"
              f"{args.inspections:,} 条检查记录，用时 {gen_s:.1f} s")
        with unscoped():
            root = db.session.get(Tenant, by_kind["national"][0]["id"])
            province = db.session.get(Tenant, by_kind["province"][0]["id"])
            district = db.session.get(Tenant, by_kind["district"][0]["id"])
        results = {}
        for name, node in (("区县", district), ("省级", province), ("全国（根）", root)):
            with scoped_as(Scope.of(root, "admin")):
                service.compute(node, START, END)  # warm the caches once
                samples = [timed(lambda: service.compute(node, START, END))[1] * 1000 for _ in range(args.runs)]
                figures = service.compute(node, START, END)
            p50, p95 = percentiles(samples)
            results[name] = (node, p50, figures)
            print(f"实时计算 {name}：p50 {p50:.1f} ms，p95 {p95:.1f} ms（目标 {'50' if name == '区县' else '500'} ms，"
                  f"p50/目标 = {p50 / (50 if name == '区县' else 500):.2f}）；企业自查重大隐患 "
                  f"{figures.get('hazards.self_found'):,}，抽查企业 {figures.get('spot.enterprises'):,}")
        per_node_ms = None
        for name in ("区县", "省级"):
            node, p50, figures = results[name]
            with unscoped():
                (found, spot, fines), naive_s = timed(lambda: naive(node.id))
                count = db.session.query(Tenant).filter(Tenant.path >= node.path,
                                                        Tenant.path < node.path[:-1] + "0").count()
            assert found == figures.get("hazards.self_found") and fines == figures.get("enf.penalties")
            per_node_ms = naive_s * 1000 / count
            print(f"逐节点递归 {name}（{count:,} 个节点，仅三项）：{naive_s * 1000:.0f} ms，"
                  f"为分组查询的 {naive_s * 1000 / p50:.0f} 倍")
        _, root_p50, _ = results["全国（根）"]
        print(f"逐节点递归 全国（估算：{nodes:,} 个节点 × {per_node_ms:.2f} ms）：{nodes * per_node_ms:.0f} ms，"
              f"约为分组查询的 {nodes * per_node_ms / root_p50:.0f} 倍")


if __name__ == "__main__":
    main()
