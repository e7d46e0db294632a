"""The demo's long PDFs end on content: the closing block (who signed, when it was made, its digest)
never stands alone on a last page, nor with a single table row; a long table's pages each repeat
its header and carry their number."""
import gc
import io
import re

from pypdf import PdfReader
from sqlalchemy import select

from portal.checklists.models import ChecklistFill
from portal.exports import service
from portal.hazards.models import Hazard
from portal.inspections.models import Accident
from tenants.models import Tenant
from tenants.paths import in_subtree
from tenants.scope import Scope, unscoped


def _pages(tenant: Tenant, role: str, kind: str, params: dict) -> list[str]:
    """Each page's text without whitespace, the running header and footer left at its end."""
    doc = service.request_export(tenant, kind=kind, title="导出", params=params)
    service.run_export(doc.id, Scope.of(tenant, role))
    assert doc.status == "done", doc.error
    return [re.sub(r"\s+", "", p.extract_text() or "") for p in PdfReader(io.BytesIO(doc.content)).pages]


def _hedong(session):
    with unscoped():
        return session.execute(select(Tenant).where(Tenant.name == "河东区")).scalar_one()


def test_the_ledger_ends_with_rows_and_its_total(session, seeded):
    pages = _pages(_hedong(session), "admin", "hazards.ledger", {})
    assert len(pages) > 1
    last = pages[-1]
    assert last.startswith("编号企业级别来源") and "共" in last  # the table goes on, then its total
    assert len(re.findall(r"(?:企业自查|部门检查|举报)", last)) >= 2, last
    # A clause code carries the name of the standard it numbers.
    text = "".join(pages)
    codes = re.findall(r"[A-Z]+\d{4}-[\d.]+(.)", text)
    assert codes and set(codes) == {"（"}, codes
    assert "HC2017-18（化工和危险化学品生产经营单位重大生产安全事故隐患判定标准" in text


def test_a_signed_list_ends_with_its_last_section_not_the_signing_statement_alone(session, seeded):
    hedong = _hedong(session)
    with unscoped():
        fills = session.execute(select(ChecklistFill).where(ChecklistFill.status == "signed")).scalars().all()
    assert fills
    for fill in fills:
        pages = _pages(hedong, "admin", "checklist", {"fill_id": fill.id})
        last = pages[-1]
        if len(pages) > 1:
            assert not last.startswith("本清单由"), f"清单 {fill.id} 的最后一页只有签署说明和页脚"
        assert "证明材料索引" in last or re.match(r"序号事项", last), last[:80]


def test_the_accident_dossier_ends_with_a_whole_section(session, seeded):
    hedong = _hedong(session)
    with unscoped():
        accident = session.execute(select(Accident)).scalars().first()
    pages = _pages(hedong, "discipline", "accountability.dossier",
                   {"subject_id": accident.tenant_id, "accident_id": accident.id})
    last = pages[-1]
    assert not last.startswith(("天津市河东区安全生产委员会办公室地址", "生成时间")), "最后一页只有页脚"
    assert "HC2017-06（化工和危险化学品生产经营单位重大生产安全事故隐患判定标准（试行）第六项）" in "".join(pages)
    if last.startswith("编号检查日期"):  # the signatures' table carried over: more than its last row
        assert len(re.findall(r"第\d+号", last)) >= 2, last[:120]


def test_every_ledger_page_repeats_the_header_is_numbered_and_every_row_is_printed(session, seeded):
    hedong = _hedong(session)
    with unscoped():
        hazards = session.execute(select(Hazard).where(in_subtree(Hazard.tenant_path, hedong.path))
                                  ).scalars().all()
    pages = _pages(hedong, "admin", "hazards.ledger", {})
    assert len(pages) > 1 and pages[0].startswith("天津市河东区安全生产委员会办公室国务院安委会›天津市›河东区")
    for number, page in enumerate(pages, start=1):
        assert f"第{number}页共{len(pages)}页" in page, page[-80:]
        if number > 1:  # the table's header row is printed again at the top of each page
            assert page.startswith("编号企业级别来源隐患描述/判定依据发现日期五落实状态"), page[:80]
    text = "".join(pages)
    for hazard in hazards:  # a row is never split between pages, so its cells read whole
        assert re.sub(r"\s+", "", hazard.description) in text, hazard.id
    assert f"共{len(hazards)}条" in pages[-1]
    # The export turns the garbage collector off only while it lays out; the process collects again.
    assert gc.isenabled()
