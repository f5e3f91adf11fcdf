"""Reading a statistics spreadsheet (CSV or XLSX) into checked rows; every bad cell is reported.

Rows are numbered as the spreadsheet shows them: the header is row 1, the first data row row 2.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from services.common.errors import DomainError, FieldError, invalid
from services.common.months import parse_month
from services.common.regions import InvalidRegionCode, normalize

COLUMNS = ("region_code", "month", "dibao_recipients", "tekun_recipients", "population")
FIGURES = ("dibao_recipients", "tekun_recipients", "population")


@dataclass(frozen=True)
class StatsRow:
    row: int
    region_code: str
    month: date
    dibao_recipients: int | None
    tekun_recipients: int | None
    population: int | None


def _err(row: int, field: str, code: str, zh: str, en: str) -> FieldError:
    return FieldError(field, code, zh, en, row=row)


def read_table(filename: str, content: bytes) -> list[list[Any]]:
    """Rows of cells from CSV (UTF-8, BOM allowed) or XLSX (first sheet)."""
    if content[:2] == b"PK" or filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:
            raise _unreadable() from None
        sheet = book.worksheets[0]
        return [list(r) for r in sheet.iter_rows(values_only=True)]
    try:
        return [list(r) for r in csv.reader(io.StringIO(content.decode("utf-8-sig")))]
    except (UnicodeDecodeError, csv.Error):
        raise _unreadable() from None


def _unreadable() -> DomainError:
    return invalid(
        "IMPORT_UNREADABLE", "文件无法读取，请上传 UTF-8 CSV 或 XLSX", "Upload a UTF-8 CSV or an XLSX file"
    )


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _int_cell(cell: Any) -> int | None:
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    if isinstance(cell, str) and cell.strip().isdigit():
        return int(cell.strip())
    if isinstance(cell, str) and cell.strip().startswith("-") and cell.strip()[1:].isdigit():
        return int(cell.strip())
    return None


def _month_cell(cell: Any) -> date | None:
    if isinstance(cell, datetime | date):
        return date(cell.year, cell.month, 1)
    try:
        return parse_month(str(cell))
    except DomainError:
        return None


def parse_rows(table: list[list[Any]], province: str) -> list[StatsRow]:
    """Check every row; raise one 422 listing every bad cell, or return all rows."""
    if not table:
        raise invalid("IMPORT_EMPTY", "文件为空", "The file is empty")
    header = [str(c).strip().lower() if c is not None else "" for c in table[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise invalid(
            "IMPORT_HEADER_INVALID",
            f"表头缺少列：{', '.join(missing)}",
            f"The header lacks columns: {', '.join(missing)}",
            [_err(1, c, "MISSING_COLUMN", "缺少该列", "column missing") for c in missing],
        )
    index = {c: header.index(c) for c in COLUMNS}
    errors: list[FieldError] = []
    rows: list[StatsRow] = []
    seen: dict[tuple[str, date], int] = {}
    for n, cells in enumerate(table[1:], start=2):
        cell = {c: (cells[i] if i < len(cells) else None) for c, i in index.items()}
        if all(_blank(v) for v in cell.values()):
            continue  # spreadsheets often end with empty lines
        before = len(errors)
        code = ""
        try:
            code = normalize(str(cell["region_code"] or ""), province)
        except InvalidRegionCode:
            errors.append(
                _err(n, "region_code", "INVALID_REGION_CODE", "区划代码无效", "invalid region code")
            )
        month = _month_cell(cell["month"])
        if month is None:
            errors.append(_err(n, "month", "INVALID_MONTH", "月份格式应为 YYYY-MM", "month must be YYYY-MM"))
        figures: dict[str, int | None] = {}
        for f in FIGURES:
            if _blank(cell[f]):
                figures[f] = None
                continue
            value = _int_cell(cell[f])
            if value is None or value < 0:
                errors.append(_err(n, f, "INVALID_NUMBER", "须为非负整数", "must be a non-negative integer"))
            figures[f] = value
        if all(_blank(cell[f]) for f in FIGURES):
            errors.append(
                _err(n, "population", "NO_FIGURES", "至少填写一项统计数", "give at least one figure")
            )
        if len(errors) == before and month is not None:
            if (code, month) in seen:
                errors.append(
                    _err(
                        n,
                        "region_code",
                        "DUPLICATE_ROW",
                        f"与第 {seen[code, month]} 行重复",
                        f"repeats row {seen[code, month]}",
                    )
                )
                continue
            seen[code, month] = n
            rows.append(
                StatsRow(
                    n,
                    code,
                    month,
                    figures["dibao_recipients"],
                    figures["tekun_recipients"],
                    figures["population"],
                )
            )
    if errors:
        raise invalid(
            "IMPORT_ROWS_INVALID",
            "导入文件有错误行，未导入任何数据",
            "Some rows are invalid; nothing was imported",
            errors,
        )
    return rows
