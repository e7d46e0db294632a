"""Every spreadsheet the platform writes goes out through here, so text a person typed (a hazard's
description, an anonymous tip copied into one, a unit's name) never becomes a formula."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

# A cell starting with one of these is run as a formula (or a DDE command) by spreadsheet programs.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def _as_text(cell):
    if isinstance(cell.value, str) and cell.value.startswith(FORMULA_LEADS):
        # openpyxl stores "=…" as a formula. Stored as text instead, with the mark Excel itself sets
        # for text typed after an apostrophe: it reads exactly as typed (the digest printed on the
        # document still matches), is never evaluated, and stays text when someone edits the cell.
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def workbook(*, write_only: bool = False) -> Workbook:
    return Workbook(write_only=write_only)


def append(sheet, values) -> None:
    """One row of a write-only sheet (whose cells cannot be visited again before saving)."""
    sheet.append([_as_text(WriteOnlyCell(sheet, value)) for value in values])


def save(book: Workbook) -> bytes:
    """The file's bytes, every text cell of an ordinary workbook made safe first."""
    if not book.write_only:
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    _as_text(cell)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
