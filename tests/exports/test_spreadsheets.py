"""Every spreadsheet the platform writes goes through portal.spreadsheets, which keeps
formula-leading text (=, +, -, @, tab, CR) as text."""
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from portal import spreadsheets

ROOT = Path(__file__).resolve().parents[2]
# Making a workbook, or saving one, anywhere but through the helper. A Word document
# (python-docx's Document.save, the summaries') holds no formulas and is not a workbook.
WRITES = r"\bWorkbook\(|WriteOnlyCell|(?<!spreadsheets)(?<!document)\.save\("


def test_no_module_writes_a_workbook_but_through_the_helper():
    writers = [str(p.relative_to(ROOT)) for p in sorted((ROOT / "portal").rglob("*.py"))
               if p.name != "spreadsheets.py" and re.search(WRITES, p.read_text())]
    assert writers == [], f"write these workbooks through portal.spreadsheets: {writers}"


@pytest.mark.parametrize("write_only", [False, True])
def test_formula_leading_text_stays_text_and_numbers_stay_numbers(write_only):
    texts = ["=1+1", "+SUM(A1)", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0"]
    book = spreadsheets.workbook(write_only=write_only)
    if write_only:
        sheet = book.create_sheet("表")
        spreadsheets.append(sheet, [*texts, -5, "普通文字"])
    else:
        sheet = book.active
        sheet.title = "表"
        for column, value in enumerate([*texts, -5, "普通文字"], start=1):
            sheet.cell(1, column, value)
    cells = list(load_workbook(io.BytesIO(spreadsheets.save(book)))["表"].iter_rows())[0]
    for cell, text in zip(cells, texts):
        # The standard library's XML writer leaves a carriage return bare, which reads back as a line
        # feed; with lxml (installed with python-docx) openpyxl escapes it and it reads back as written.
        assert cell.value in (text, text.replace("\r", "\n")), cell.value
        assert (cell.data_type, cell.quotePrefix) == ("s", True)
    assert (cells[-2].value, cells[-2].data_type) == (-5, "n")
    assert (cells[-1].value, cells[-1].quotePrefix) == ("普通文字", False)
