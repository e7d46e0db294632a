"""Every Excel (.xlsx) file the platform reads or writes goes through here. Reading: cell values as
text, the header checked against a template's columns, every refusal in Chinese, and the rejection
of a whole file that lists each bad row (hazard ledgers, onboarding imports). Writing: text a person
typed (a hazard's description, an anonymous tip copied into one, a unit's name) never becomes a
formula."""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from portal.errors import Refused

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
YES = {"是", "Y", "y", "yes", "1", "√", "TRUE", "True"}
NO = {"否", "N", "n", "no", "0", "", "FALSE", "False"}
# Lines an error page lists before saying how many more there are.
SHOWN_ERRORS = 100


class ImportRejected(Refused):
    """An import with bad rows: nothing was written. `rows` holds one message per problem."""

    def __init__(self, rows: list[str]):
        self.rows = rows
        shown = rows[:SHOWN_ERRORS] + (
            [f"……另有 {len(rows) - SHOWN_ERRORS} 处错误未列出。"] if len(rows) > SHOWN_ERRORS else [])
        super().__init__("导入未完成，没有写入任何数据。请按以下提示修改后重新上传：\n" + "\n".join(shown))


def cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


@dataclass
class Sheet:
    """The data rows of a sheet as (row number, {column key: value}), and where each column is."""

    rows: list[tuple[int, dict]]
    letters: dict[str, str]
    labels: dict[str, str]

    def where(self, number: int, key: str) -> str:
        """“第 5 行 C 列“统一社会信用代码””: what a person needs to find the cell."""
        return f"第 {number} 行 {self.letters[key]} 列“{self.labels[key]}”" if key in self.letters \
            else f"第 {number} 行“{self.labels[key]}”"


def read(data: bytes, columns: dict[str, str], required: tuple[str, ...], max_rows: int,
         error=Refused) -> Sheet:
    """The first sheet of an uploaded workbook whose first row holds the template's header,
    refusing (with `error`) anything that is not such a workbook. Blank rows are skipped."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter
    if not data.startswith(b"PK\x03\x04"):
        raise error("请上传 Excel 文件（.xlsx）。所选文件不是 Excel 工作簿，可先下载导入模板填写。")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise error("无法读取该 Excel 文件（仅支持 .xlsx）。请用导入模板另存后重新上传。") from None
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = [cell_text(v) for v in next(rows, ())]
        positions = {key: header.index(label) for key, label in columns.items() if label in header}
        missing = [columns[k] for k in required if k not in positions]
        if missing:
            raise error("第 1 行须为表头，缺少列：" + "、".join(missing) + "。请使用导入模板。")
        found = []
        for number, values in enumerate(rows, start=2):
            record = {key: values[i] if i < len(values) else None for key, i in positions.items()}
            if all(cell_text(v) == "" for v in record.values()):
                continue
            found.append((number, record))
            if len(found) > max_rows:
                raise error(f"一次最多导入 {max_rows} 行，请拆分后分批导入。")
    finally:
        workbook.close()
    return Sheet(found, {k: get_column_letter(i + 1) for k, i in positions.items()}, dict(columns))


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


def template(title: str, columns: dict[str, str], examples: list[list], notes: list[str] = ()) -> bytes:
    """An import template: the header row, example rows to overwrite, and a sheet of notes."""
    from openpyxl.styles import Font
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    sheet.append(list(columns.values()))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in examples:
        sheet.append(row)
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = 20
    if notes:
        help_sheet = workbook.create_sheet("填写说明")
        for line in notes:
            help_sheet.append([line])
        help_sheet.column_dimensions["A"].width = 100
    return save(workbook)
