"""Every spreadsheet the platform writes goes through portal.spreadsheets, which keeps
formula-leading text (=, +, -, @, tab, CR) as text."""
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from portal import spreadsheets

ROOT = Path(__file__).resolve().parents[2]
# Making a workbook, or saving one, anywhere but through the helper (in a module that uses openpyxl:
# a Word document's .save is not a workbook's).
WRITES = r"\bWorkbook\(|WriteOnlyCell|(?<!spreadsheets)\.save\("


def test_no_module_writes_a_workbook_but_through_the_helper():
    sources = {p: p.read_text() for p in sorted((ROOT / "portal").rglob("*.py")) if p.name != "spreadsheets.py"}
    writers = [str(p.relative_to(ROOT)) for p, text in sources.items() if "openpyxl" in text and re.search(WRITES, text)]
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
        # A carriage return comes back as itself or as a line feed, as the XML writer in use keeps it.
        assert (cell.value.replace("\r", "\n"), cell.data_type, cell.quotePrefix) == (text.replace("\r", "\n"), "s", True)
    assert (cells[-2].value, cells[-2].data_type) == (-5, "n")
    assert (cells[-1].value, cells[-1].quotePrefix) == ("普通文字", False)
