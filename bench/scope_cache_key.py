"""What the scope criteria cost every ORM statement before it runs: SQLAlchemy computes the
statement's cache key, which includes every loader criterion the tenants listener adds.

    .venv/bin/python bench/scope_cache_key.py

Compares one `with_loader_criteria` per scoped model (the former design, kept here as the
baseline) with the one criterion tenants.scope adds now, for a district admin and a department
(三管三必须), on a 50-row page of hazards. Prints ms per statement; no verdicts. No database rows
are needed: the key is computed in Python.
"""
from __future__ import annotations

import argparse
import time

from common import fresh_app


def main() -> None:
    parser = argparse.ArgumentParser(description="数据范围条件的缓存键开销：每条 ORM 语句。")
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()

    from sqlalchemy import select
    from sqlalchemy.orm import with_loader_criteria

    from portal.extensions import db
    from portal.hazards.models import Hazard
    from tenants.models import Scoped, Tenant
    from tenants.scope import Scope, _generation, _option

    with fresh_app("scope_key") as (app, label, _):
        models = [m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, Scoped)]
        scopes = {
            "区县管理员": Scope.of(Tenant(id=7, path="/1/2/7/", kind="district", supervised_industries=[]), "admin"),
            "区应急管理局（按行业监管）": Scope.of(Tenant(id=9, path="/1/2/7/9/", kind="department",
                                              supervised_industries=["hazchem", "industry_trade"]), "inspector"),
        }
        page = select(Hazard).where(Hazard.status == "rectifying").order_by(Hazard.id).limit(50)
        print(f"{len(models)} 个受数据范围约束的模型；每项 {args.runs} 次。")
        print(f"{'':<28}{'每模型一个条件（原）':>14}{'一个条件（现）':>12}{'倍数':>8}")
        for name, scope in scopes.items():
            per_model = tuple(with_loader_criteria(m, scope.criteria(m), include_aliases=True) for m in models)
            one = (_option(scope, _generation),)
            timings = []
            for options in (per_model, one):
                started = time.perf_counter()
                for _ in range(args.runs):
                    page.options(*options)._generate_cache_key()
                timings.append((time.perf_counter() - started) / args.runs * 1000)
            print(f"  {name:<26}{timings[0]:>12.3f} ms{timings[1]:>10.3f} ms{timings[0] / timings[1]:>8.1f}")


if __name__ == "__main__":
    main()
