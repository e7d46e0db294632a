"""Time the hazard ledger PDF of 河东区 at 1,000 rows: WeasyPrint as the export runs it, against
Chromium's print-to-PDF of the very same HTML in the same run.

    .venv/bin/python bench/ledger_pdf.py [--database-url postgresql+psycopg://…] [--rows 1000] [--runs 3]

The demo is seeded, then 河东区's hazards are copied (bulk ORM inserts, no audit events) until the
district holds `--rows` of them. The export is queued as a user's would be; its HTML is what
portal.exports.service renders for it. WeasyPrint is timed through the whole export (queries,
template, layout, PDF, digests, audit) and on the HTML alone (exports.layout_pdf, as the export
lays it out); Chromium (Debian's, through Playwright as the journeys drive it) loads the same HTML
with the same stylesheet and prints it to A4. Prints seconds (median), pages, bytes and the
ratio, and the figures issue #16 started from; no verdicts. On a shared machine the wall-clock
times move with the load, so each is printed with the CPU seconds it took: this process's for
WeasyPrint, Chromium's processes' (read from /proc) for Chromium.
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from pathlib import Path

from common import ROOT, fresh_app, timed

# The figures issue #16 started from (河东区, 1,036 rows, 124 pages, 862 KB; 12.2 s layout,
# 3.4 s write).
BEFORE_S, BEFORE_CHROMIUM_S = 15.7, 2.2


def descendants_cpu() -> float:
    """CPU seconds used so far by the live processes below this one (Playwright's driver and
    the browser it launched), from /proc."""
    parents, used = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry)] = int(fields[1])
            used[int(entry)] = int(fields[11]) + int(fields[12])
    mine, total = {os.getpid()}, 0
    for _ in range(10):  # a few generations down the tree
        for pid, parent in parents.items():
            if parent in mine and pid not in mine:
                mine.add(pid)
                total += used[pid]
    return total / os.sysconf("SC_CLK_TCK")


def cpu_timed(fn, clock):
    """(result, wall seconds, CPU seconds by `clock`)."""
    cpu, wall = clock(), time.perf_counter()
    result = fn()
    return result, time.perf_counter() - wall, clock() - cpu


def populate(district, rows: int) -> int:
    """Copy the district's hazards (description numbered) until it holds `rows`."""
    from sqlalchemy import func, select

    from portal.extensions import db
    from portal.hazards.models import Hazard
    from tenants.paths import in_subtree

    def count():
        return db.session.execute(select(func.count()).select_from(Hazard)
                                  .where(in_subtree(Hazard.tenant_path, district.path))).scalar()
    have = count()
    models = db.session.execute(select(Hazard).where(in_subtree(Hazard.tenant_path, district.path))
                                .order_by(Hazard.id)).scalars().all()
    for n in range(rows - have):
        model = models[n % len(models)]
        copy = Hazard(**{c.key: getattr(model, c.key) for c in Hazard.__table__.columns if c.key != "id"})
        copy.description = f"{model.description}（第 {n + 1} 条复制）"[:500]
        db.session.add(copy)
        if n % 500 == 499:
            db.session.flush()
    db.session.commit()
    return count()


def chromium_pdf(page, html: str, folder: Path) -> bytes:
    """Chromium's print-to-PDF of `html`: the stylesheet the export links read from the checkout."""
    source = folder / "ledger.html"
    source.write_text(html.replace("portal:/static/", (ROOT / "static").as_uri() + "/"), encoding="utf-8")
    page.goto(source.as_uri())
    return page.pdf(format="A4", prefer_css_page_size=True, print_background=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="隐患台账 PDF：WeasyPrint 与 Chromium 打印同一 HTML 的用时对比。")
    parser.add_argument("--database-url", help="PostgreSQL 地址（默认使用临时 SQLite 文件）")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright
    from pypdf import PdfReader
    from sqlalchemy import select

    from portal.demo import seed
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # Debian's Chromium, launched as the journeys do
    from portal.exports import service as exports
    from portal.exports.models import ExportDocument
    from portal.extensions import db
    from portal.hazards import service as hazards
    from tenants.models import Tenant
    from tenants.scope import Scope, unscoped

    def pages(data: bytes) -> int:
        return len(PdfReader(io.BytesIO(data)).pages)

    with fresh_app("ledger_pdf", args.database_url) as (app, label, _), \
            tempfile.TemporaryDirectory() as folder, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        with unscoped(), app.test_request_context():
            seed()
            db.session.commit()
            hedong = db.session.execute(select(Tenant).where(Tenant.code == "120102")).scalar_one()
            rows = populate(hedong, args.rows)
            scope = Scope.of(hedong, "admin")
            export_s, html_s, chrome_s, html_cpu, chrome_cpu = [], [], [], [], []
            for _ in range(args.runs):
                doc, _, _ = hazards.request_export(hedong, hazards.LedgerFilter(), "pdf")
                db.session.commit()
                _, seconds = timed(lambda: exports.run_export(doc.id, scope))
                export_s.append(seconds)
                doc = db.session.get(ExportDocument, doc.id)
                assert doc.status == "done", doc.error
                html = exports.document_html(doc.id, scope)
                with app.app_context():
                    weasy, seconds, cpu = cpu_timed(lambda: exports.layout_pdf(html),
                                                    time.process_time)
                html_s.append(seconds)
                html_cpu.append(cpu)
                chrome, seconds, cpu = cpu_timed(lambda: chromium_pdf(page, html, Path(folder)), descendants_cpu)
                chrome_s.append(seconds)
                chrome_cpu.append(cpu)
            exported = doc.content
        browser.close()

    weasy_med, chrome_med = statistics.median(html_s), statistics.median(chrome_s)
    print(f"数据库：{label}；河东区隐患 {rows:,} 条（PDF 最多 {hazards.PDF_MAX_ROWS:,} 条）；每项 {args.runs} 次，取中位数")
    print(f"WeasyPrint 整个导出（查询、模板、排版、PDF、摘要）：{statistics.median(export_s):.2f} s，"
          f"{pages(exported)} 页，{len(exported):,} 字节")
    weasy_cpu, chrome_cpu_med = statistics.median(html_cpu), statistics.median(chrome_cpu)
    print(f"WeasyPrint 仅排版同一 HTML：{weasy_med:.2f} s（CPU {weasy_cpu:.2f} s），{pages(weasy):,} 页，"
          f"{len(weasy):,} 字节")
    print(f"Chromium 打印同一 HTML：{chrome_med:.2f} s（CPU {chrome_cpu_med:.2f} s，各进程合计），{pages(chrome):,} 页，"
          f"{len(chrome):,} 字节")
    print(f"WeasyPrint / Chromium：用时 {weasy_med / chrome_med:.2f}，CPU {weasy_cpu / chrome_cpu_med:.2f}"
          f"（整个导出 / Chromium 用时 = {statistics.median(export_s) / chrome_med:.2f}）")
    print(f"此前（issue #16，1,036 条、124 页）：WeasyPrint {BEFORE_S} s，Chromium {BEFORE_CHROMIUM_S} s；"
          f"WeasyPrint 仅排版同一 HTML 现为此前的 {weasy_med / BEFORE_S:.2f}")


if __name__ == "__main__":
    main()
