"""Time the accountability dossier (倒查追责材料) of one enterprise with 1 and with 5 years of records.

    .venv/bin/python bench/dossier_pdf.py [--database-url postgresql+psycopg://…] [--runs 3]

Each year the enterprise gets 12 signed inspections by two inspectors (each checking 4 standard
items, finding 5 hazards, fining one of them; every third a spot check with findings) and the
hazards go round the loop (most closed, some returned once, some left open past their deadline);
at the end, an accident. Everything is written through the services, audit events included, as
users would. Measured: the trace alone (queries and the four questions), and the whole export as
the background job runs it (trace, layout, PDF, digest). Prints seconds, pages and bytes; the
export also in CPU seconds of this process, which a loaded machine does not inflate.
"""
from __future__ import annotations

import argparse
import io
import statistics
import time
from datetime import date, timedelta
from decimal import Decimal

from common import fresh_app, timed

PASSWORD = "Bench#2024pdf"
# The 5-year export as issue #16 measured it before the layout work.
BEFORE_S, BEFORE_PAGES = 15.7, 75
INSPECTIONS_PER_YEAR = 12
HAZARDS_PER_INSPECTION = 5


def build(years: int, name: str):
    """A district, its emergency department with two inspectors, and one chemical enterprise with
    `years` years of records ending at the accident. Returns (enterprise, accident, counts)."""
    from portal.auth import service as auth
    from portal.extensions import db
    from portal.hazards import service as hazards
    from portal.inspections import service as inspections
    from tenants import credit_code
    from tenants import service as tenants
    from sqlalchemy import select

    from tenants.models import Tenant
    from tenants.paths import attach

    root = db.session.execute(select(Tenant).where(Tenant.parent_id.is_(None))).scalar_one_or_none() \
        or attach(Tenant(kind="national", name="国务院安委会"), None)
    if not hazards.applicable_items(root):
        hazards.load_national_standards(root)
    district = tenants.create_child(root, kind="province", name=f"{name}省")
    district = tenants.create_child(district, kind="district", name=f"{name}区")
    street = tenants.create_child(district, kind="street", name=f"{name}街道")
    department = tenants.create_child(district, kind="department", name=f"{name}区应急管理局",
                                      supervised_industries=["hazchem"])
    enterprise = tenants.register_enterprise(street, name=f"{name}化工有限公司", industry="hazchem", high_risk=True,
                                             code=credit_code.make(f"91120102MA{years:07d}"))
    pair = [auth.create_user(department, username=f"bench{years}_inspector{i}", display_name=f"检查员{i}",
                             password=PASSWORD, role="inspector").memberships[0] for i in (1, 2)]
    principal = auth.create_user(enterprise, username=f"bench{years}_principal", display_name="主要负责人",
                                 password=PASSWORD, role="principal").memberships[0]
    items = hazards.applicable_items(enterprise)
    end = date(2024, 12, 31)
    start = date(end.year - years + 1, 1, 1)
    counts = {"inspections": 0, "hazards": 0, "actions": 0}
    for n in range(years * INSPECTIONS_PER_YEAR):
        on = start + timedelta(days=n * 365 * years // (years * INSPECTIONS_PER_YEAR))
        kind = "spot" if n % 3 == 0 else "enforcement"
        record = inspections.create(pair[0], enterprise, kind=kind, inspected_on=on, today=end,
                                    inspector_ids=[m.user_id for m in pair], notes=f"第 {n + 1} 次检查：储罐区、装卸区、控制室")
        inspections.set_items(record, pair[0], [items[(n + k) % len(items)].id for k in range(4)])
        found = []
        for k in range(HAZARDS_PER_INSPECTION):
            item = items[(n * 7 + k) % len(items)]
            fixes = hazards.Fixes(owner="设备部经理", measures="按判定标准整改并复核", funds=Decimal("1.5"),
                                  deadline=on + timedelta(days=30), contingency="整改前停用相关设施并专人值守")
            found.append(inspections.record_hazard(record, pair[0], hazards.Finding(
                level="major" if k == 0 else "general", description=f"{item.code} 所列情形（第 {n + 1} 次检查第 {k + 1} 项）",
                found_at=None, item_id=item.id, fixes=fixes), today=end))
        if kind == "spot":
            for code in ("spot.principal_not_led", "spot.no_drill"):
                inspections.add_finding(record, pair[0], code)
        inspections.add_action(record, pair[0], inspections.ActionInput(
            kind="penalty", decided_on=on, hazard_id=found[0].id, amount=Decimal("2.5")), today=end)
        for member in pair:
            inspections.sign(record, member.user_id, member.user, PASSWORD)
        for k, hazard in enumerate(found):
            if (n + k) % 6 == 5:
                continue  # left open past its deadline
            day = on + timedelta(days=10)
            hazards.transition(hazard, principal, "start", today=day)
            hazards.transition(hazard, principal, "report", today=day)
            if k == 1:
                hazards.transition(hazard, pair[0], "return", reason="整改不到位", today=day)
                hazards.transition(hazard, principal, "report", today=day + timedelta(days=5))
            hazards.transition(hazard, pair[0], "accept", today=day + timedelta(days=7))
        counts["inspections"] += 1
        counts["hazards"] += len(found)
        counts["actions"] += 1
    accident = inspections.record_accident(pair[0], enterprise, occurred_on=end, kind="fire", deaths=1, injuries=3,
                                           summary="储罐区闪爆起火。", today=end)
    db.session.commit()
    return enterprise, accident, counts


def main() -> None:
    parser = argparse.ArgumentParser(description="倒查追责材料 PDF 生成基准。")
    parser.add_argument("--database-url", help="PostgreSQL 地址（默认使用临时 SQLite 文件）")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from pypdf import PdfReader

    from portal.accountability import service as accountability
    from portal.exports import service as exports
    from portal.exports.models import ExportDocument
    from portal.extensions import db
    from tenants.scope import Scope, scoped_as, unscoped

    results = []
    with fresh_app("dossier", args.database_url) as (app, label, _):
        with unscoped(), app.test_request_context():
            for years in (1, 5):
                (enterprise, accident, counts), build_s = timed(lambda: build(years, f"基准{years}年"))
                scope = Scope.of(enterprise.parent.parent, "discipline")
                trace_times, render_times, render_cpu, doc = [], [], [], None
                for _ in range(args.runs):
                    with scoped_as(scope):
                        db.session.expire_all()
                        trace, seconds = timed(lambda: accountability.trace(enterprise, accident=accident))
                        trace_times.append(seconds)
                    doc = accountability.request_dossier(enterprise.parent.parent, enterprise, None, accident)
                    db.session.commit()
                    cpu = time.process_time()
                    _, seconds = timed(lambda: exports.run_export(doc.id, scope))
                    render_cpu.append(time.process_time() - cpu)
                    render_times.append(seconds)
                doc = db.session.get(ExportDocument, doc.id)
                assert doc.status == "done", doc.error
                pages = len(PdfReader(io.BytesIO(doc.content)).pages)
                results.append((years, counts, len(trace.entries), len(trace.questions), build_s,
                                statistics.median(trace_times), statistics.median(render_times), pages, doc.size,
                                statistics.median(render_cpu)))

    print(f"数据库：{label}；每项 {args.runs} 次，取中位数")
    print(f"{'年数':>4}{'检查':>6}{'隐患':>6}{'时间线条目':>10}{'倒查发现':>8}{'造数秒':>8}{'倒查秒':>8}{'导出秒':>8}{'导出CPU秒':>10}{'页数':>6}{'字节':>11}")
    for years, counts, entries, questions, build_s, trace_s, render_s, pages, size, cpu in results:
        print(f"{years:>5}{counts['inspections']:>7}{counts['hazards']:>7}{entries:>13}{questions:>10}{build_s:>9.1f}"
              f"{trace_s:>9.3f}{render_s:>9.2f}{cpu:>13.2f}{pages:>7}{size:>12,}")
    one, five = results
    print(f"5 年与 1 年之比：时间线 {five[2] / one[2]:.1f} 倍，倒查 {five[5] / one[5]:.1f} 倍，导出 {five[6] / one[6]:.1f} 倍，"
          f"页数 {five[7] / one[7]:.1f} 倍，字节 {five[8] / one[8]:.1f} 倍；每页 {five[6] / five[7]:.3f} 秒")
    print(f"5 年导出与此前（issue #16，{BEFORE_PAGES} 页 {BEFORE_S} s）之比：用时 {five[6] / BEFORE_S:.2f}，"
          f"即快 {BEFORE_S / five[6]:.1f} 倍（CPU {five[9]:.2f} s）")


if __name__ == "__main__":
    main()
