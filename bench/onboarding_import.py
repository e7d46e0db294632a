"""Time the bulk onboarding of 10,000 enterprises (each with a principal and a safety officer:
20,000 accounts, 20,000 roles) from one Excel file into 方山县's six townships, on a fresh database.

    .venv/bin/python bench/onboarding_import.py                  # temporary SQLite file
    .venv/bin/python bench/onboarding_import.py --rows 2000 --letters 200 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Times the check (read the workbook, validate every cell, look up duplicates; what the upload and
the preview do) and the write (the same check again, then every record in bulk with its audit
events), each as the importing admin would run it. --letters N also renders the account letters
PDF for the first N accounts (the background job; not part of the import's budget). Prints
figures and ratios only; the budget it is read against is 60 s for 10,000 rows on SQLite.
"""
from __future__ import annotations

import argparse
import io

from common import fresh_app, timed

BUDGET_SECONDS = 60.0


def workbook(rows: int) -> bytes:
    from openpyxl import Workbook

    from portal.onboarding.imports import COLUMNS, ENTERPRISES
    from tenants import credit_code
    towns = ["圪洞镇", "马坊镇", "峪口镇", "大武镇", "北武当镇", "积翠镇"]
    industries = ["商贸", "燃气", "建筑施工", "涉农", "自建房", "工贸"]
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(list(COLUMNS[ENTERPRISES].values()))
    for i in range(1, rows + 1):
        sheet.append([f"方山县基准第{i}号企业有限公司", credit_code.make(f"91141128MA{i:07d}"), industries[i % 6],
                      towns[i % 6], f"{towns[i % 6]}基准路 {i} 号", "是" if i % 10 == 0 else "否",
                      f"负责人{i}", f"139{i:08d}", f"安全员{i}", f"138{i:08d}"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description="批量导入基准：一个 Excel 文件导入企业及其主要负责人、安全管理员。")
    parser.add_argument("--rows", type=int, default=10_000, help="企业行数（默认 10000）")
    parser.add_argument("--letters", type=int, default=0, help="另外生成前 N 个账号的账号通知书 PDF 并计时")
    parser.add_argument("--database-url", help="PostgreSQL 地址（默认使用临时 SQLite 文件）")
    args = parser.parse_args()

    from sqlalchemy import func, select

    from portal.audit.models import AuditEvent
    from portal.auth.models import User
    from portal.exports import service as exports
    from portal.extensions import db
    from portal.onboarding import imports, service
    from portal.uploads import service as uploads
    from tenants import divisions
    from tenants.models import Membership, Tenant
    from tenants.scope import Scope, scoped_as, unscoped

    data, build_s = timed(lambda: workbook(args.rows))
    with fresh_app("onboarding", args.database_url) as (app, label, migrate_s):
        with unscoped():
            county, _ = service.first_setup(admin_username="fangshan_admin", admin_name="管理员",
                                            password="Bench@2026x", division="141128")
            divisions.import_townships(county)
            db.session.commit()
            admin = db.session.execute(select(Membership).where(Membership.tenant_id == county.id)).scalar_one()
        scope = Scope.of(county, "admin")
        with scoped_as(scope):
            checked, check_s = timed(lambda: imports.plan(county, imports.ENTERPRISES, data))
            upload = uploads.store(county, "企业.xlsx", data, kinds=("office",))
            db.session.commit()

            def write():
                result = imports.commit(county, imports.ENTERPRISES, upload, "http://127.0.0.1:5000/login")
                db.session.commit()
                return result
            (_, doc), write_s = timed(write)
        with unscoped():
            enterprises = db.session.execute(select(func.count()).select_from(Tenant)
                                             .where(Tenant.kind == "enterprise")).scalar_one()
            users = db.session.execute(select(func.count()).select_from(User)).scalar_one() - 1
            roles = db.session.execute(select(func.count()).select_from(Membership)).scalar_one() - 1
            events = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        letters_line = None
        if args.letters:
            with scoped_as(scope):
                sample = exports.request_export(county, kind=service.LETTERS, title="账号通知书（基准）",
                                                params={**doc.params, "letters": doc.params["letters"][:args.letters]})
                db.session.commit()
                _, letters_s = timed(lambda: exports.run_export(sample.id, scope))
                sample = db.session.get(type(sample), sample.id)
                letters_line = (f"账号通知书：{args.letters} 页，{letters_s:.1f} 秒（{letters_s / args.letters * 1000:.0f} 毫秒/页，"
                                f"{sample.size / 1024:.0f} KB，状态 {sample.status}）")
        del admin

    total = check_s + write_s
    print(f"数据库：{label}")
    print(f"迁移建库：{migrate_s:.2f} 秒；生成 {args.rows} 行的 Excel：{build_s:.2f} 秒，{len(data) / 1024:.0f} KB")
    print(f"写入：企业 {enterprises}，账号 {users}，角色 {roles}，审计事件 {events}")
    print(f"检查（上传与预览各做一次）：{check_s:.2f} 秒，{args.rows / check_s:,.0f} 行/秒")
    print(f"确认导入（再次检查并批量写入）：{write_s:.2f} 秒，{args.rows / write_s:,.0f} 行/秒，"
          f"占 {BUDGET_SECONDS:.0f} 秒预算的 {write_s / BUDGET_SECONDS:.1%}")
    print(f"上传检查 + 确认导入合计：{total:.2f} 秒，占预算的 {total / BUDGET_SECONDS:.1%}")
    if letters_line:
        print(letters_line)


if __name__ == "__main__":
    main()
