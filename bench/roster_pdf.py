"""Time the roster PDF of a district: the demo's 河东区, then a synthetic district 10× and 40× its size.

    .venv/bin/python bench/roster_pdf.py [--database-url postgresql+psycopg://…] [--runs 3]

Prints render seconds, pages and bytes; the HarfBuzz font subsetting (libharfbuzz-subset0) is
what keeps a CJK PDF small and fast, so the fonts embedded are printed too.
"""
from __future__ import annotations

import argparse
import io
import statistics

from common import fresh_app, timed


def main() -> None:
    parser = argparse.ArgumentParser(description="花名册 PDF 生成基准。")
    parser.add_argument("--database-url", help="PostgreSQL 地址（默认使用临时 SQLite 文件）")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from pypdf import PdfReader
    from sqlalchemy import select

    from portal.demo import seed
    from portal.exports import service
    from portal.exports.models import ExportDocument
    from portal.extensions import db
    from tenants import credit_code
    from tenants import service as tenants_service
    from tenants.models import Tenant
    from tenants.scope import Scope, unscoped

    with fresh_app("roster", args.database_url) as (app, label, _):
        with unscoped(), app.test_request_context():
            seed()
            db.session.commit()
            hedong = db.session.execute(select(Tenant).where(Tenant.code == "120102")).scalar_one()

            def render(tenant):
                doc = service.request_export(tenant, kind="roster", title=f"{tenant.name}单位及人员花名册")
                db.session.commit()
                service.run_export(doc.id, Scope.of(tenant, "admin"))
                return db.session.get(ExportDocument, doc.id)

            def measure(tenant):
                times, doc, units = [], None, len(tenants_service.roster(tenant))
                for _ in range(args.runs):
                    doc, seconds = timed(lambda: render(tenant))
                    times.append(seconds)
                pages = len(PdfReader(io.BytesIO(doc.content)).pages)
                return units, pages, len(doc.content), statistics.median(times), min(times)

            results = [("河东区（演示数据）", *measure(hedong))]
            base_units = results[0][1]
            for factor in (10, 40):
                district = tenants_service.create_child(hedong.parent, kind="district", name=f"基准区×{factor}")
                streets = [tenants_service.create_child(district, kind="street", name=f"基准街道{i}")
                           for i in range(20)]
                for i in range(base_units * factor - 21):
                    tenants_service.register_enterprise(
                        streets[i % 20], name=f"天津市基准{factor}号区第{i}号商贸有限公司",
                        code=credit_code.make(f"9112019{factor:02d}{i:08d}"), industry="commerce",
                        high_risk=i % 7 == 0)
                db.session.commit()
                results.append((f"合成区县（{factor}×）", *measure(district)))

    print(f"数据库：{label}；每项 {args.runs} 次，取中位数")
    print(f"{'区县':<16}{'单位数':>8}{'页数':>6}{'字节':>10}{'中位秒':>9}{'最快秒':>9}{'秒/页':>8}")
    for name, units, pages, size, median, best in results:
        print(f"{name:<14}{units:>8}{pages:>6}{size:>10,}{median:>9.2f}{best:>9.2f}{median / pages:>8.3f}")
    base = results[0]
    for name, units, pages, size, median, _ in results[1:]:
        print(f"{name}：单位数为河东区的 {units / base[1]:.0f} 倍，用时为 {median / base[4]:.1f} 倍")


if __name__ == "__main__":
    main()
