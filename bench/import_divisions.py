"""Time the real-division import (31 provinces → townships, ~45k nodes) on a fresh database.

    .venv/bin/python bench/import_divisions.py                      # temporary SQLite file
    .venv/bin/python bench/import_divisions.py \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

With PostgreSQL the run happens in a schema of its own (created, migrated, dropped afterwards),
so it never touches the tables of the database it is pointed at, nor a test run sharing it.
Prints figures and ratios only; the budget it is read against is 60 s for the whole country.
"""
from __future__ import annotations

import argparse

from common import fresh_app, timed

BUDGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description="行政区划导入基准：全国 31 个省级区划导入到乡镇街道。")
    parser.add_argument("--database-url", help="PostgreSQL 地址（默认使用临时 SQLite 文件）")
    args = parser.parse_args()

    from sqlalchemy import func, select

    from portal.extensions import db
    from tenants import divisions
    from tenants.models import Tenant
    from tenants.scope import unscoped

    with fresh_app("divisions", args.database_url) as (app, label, migrate_s):
        divisions.load_divisions.cache_clear()
        parsed, parse_s = timed(divisions.load_divisions)
        # The timed import starts cold, as `flask tenants import-divisions` does.
        divisions.load_divisions.cache_clear()

        def run():
            with unscoped():
                stats = divisions.import_divisions()
                db.session.commit()
            return stats

        first, first_s = timed(run)
        second, second_s = timed(run)
        with unscoped():
            by_kind = dict(db.session.execute(
                select(Tenant.kind, func.count()).group_by(Tenant.kind)).all())
            max_depth = db.session.execute(select(func.max(Tenant.depth))).scalar()

    total = sum(by_kind.values())
    kinds = "，".join(f"{k} {by_kind.get(k, 0)}" for k in ("national", "province", "city", "district", "street"))
    print(f"数据库：{label}")
    print(f"迁移建库：{migrate_s:.2f} 秒；解析 CSV：{len(parsed)} 条，{parse_s:.2f} 秒（首次导入已含解析）")
    print(f"节点数：{kinds}，合计 {total}，最大深度 {max_depth}")
    print(f"首次导入：新增 {first['created']}，已存在 {first['existing']}，用时 {first_s:.2f} 秒，"
          f"{first['created'] / first_s:,.0f} 个/秒，"
          f"占 {BUDGET_SECONDS:.0f} 秒预算的 {first_s / BUDGET_SECONDS:.1%}")
    print(f"再次导入：新增 {second['created']}，已存在 {second['existing']}，用时 {second_s:.2f} 秒，"
          f"{second['existing'] / second_s:,.0f} 个/秒，为首次的 {second_s / first_s:.1%}")

if __name__ == "__main__":
    main()
