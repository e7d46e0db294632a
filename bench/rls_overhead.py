"""What PostgreSQL's row-level security costs a page: the hazard ledger of one district (the data
of bench/hazards_ledger.py), each request served once as the app's role (policies apply) and once
as the owner, a superuser here (policies bypassed), alternately, so both see the same load.

    .venv/bin/python bench/rls_overhead.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/rls_overhead.py --database-url … --hazards 100000 --runs 30

Prints p50/p95 in milliseconds for each and their ratio; no verdicts.
"""
from __future__ import annotations

import argparse
import contextvars
import time

from common import fresh_app, percentiles
from hazards_ledger import PASSWORD, populate


def main() -> None:
    parser = argparse.ArgumentParser(description="行级安全开销：同一页面以应用角色与表属主交替测量。")
    parser.add_argument("--database-url", required=True, help="PostgreSQL 地址（行级安全只在 PostgreSQL 上）")
    parser.add_argument("--hazards", type=int, default=100_000, help="全库隐患条数（默认 100,000）")
    parser.add_argument("--runs", type=int, default=30, help="每项每种角色的测量次数")
    args = parser.parse_args()

    from portal.extensions import db
    from tenants.rls import as_owner
    from tenants.scope import unscoped

    with fresh_app("rls", args.database_url) as (app, label, _):
        app.config["WTF_CSRF_ENABLED"] = False
        with unscoped():
            districts, streets, _, gen_s, username = populate(args.hazards)
            db.session.remove()
        district_id = districts[0]["id"]

        client = app.test_client()

        def request(url: str, owner: bool) -> float:
            def run():
                if owner:
                    with as_owner():
                        return client.get(url, headers={"HX-Request": "true"})
                return client.get(url, headers={"HX-Request": "true"})
            started = time.perf_counter()
            response = contextvars.Context().run(run)
            assert response.status_code == 200, (url, response.status_code)
            return (time.perf_counter() - started) * 1000

        contextvars.Context().run(client.post, "/login", data={"username": username, "password": PASSWORD})
        cases = [("隐患台账第 1 页", "/hazards/"), ("第 200 页", "/hazards/?page=200"),
                 ("状态 = 整改中", "/hazards/?status=rectifying"), ("某街道", f"/hazards/?within={streets[3]['id']}"),
                 ("单位列表", f"/tenants/{district_id}")]
        rows = []
        for name, url in cases:
            request(url, False), request(url, True)  # warm both
            app_role, owner = [], []
            for _ in range(args.runs):
                app_role.append(request(url, False))
                owner.append(request(url, True))
            rows.append((name, *percentiles(app_role), *percentiles(owner)))

    print(f"数据库：{label}；全库 {args.hazards:,} 条隐患，生成 {gen_s:.1f} 秒；每项每种角色 {args.runs} 次，交替测量。")
    print(f"{'HTMX 分片':<16}{'应用角色 p50':>12}{'p95':>8}{'表属主 p50':>12}{'p95':>8}{'p50 比值':>10}")
    for name, a50, a95, o50, o95 in rows:
        print(f"  {name:<14}{a50:>12.1f}{a95:>8.1f}{o50:>12.1f}{o95:>8.1f}{a50 / o50:>10.2f}")


if __name__ == "__main__":
    main()
