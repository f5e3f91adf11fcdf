"""Every list and report as a spreadsheet (README *Spreadsheets*): ``?format=csv|xlsx`` or the
``Accept`` header, on any ``GET`` (or report ``POST``, a simulation) that declares itself exportable
with ``openapi_extra=exportable(…)``.

One mechanism, not a writer per route: ``TransactionalRoute`` sees the declaration and, instead of one
answer, runs the route's own endpoint page after page (the client's own query first, then ``limit=500``
following ``next_cursor``) in the
request's one transaction — so the rows, their scope, their masking and their filters are exactly the
JSON ones. The first page counts the whole selection (``pagination.paginate``), so more than
``Settings.export_max_rows`` (100,000) is a 422 before a byte is written. Each page is written out as
it arrives to a temporary file (CSV row by row; XLSX through xlsxwriter's constant-memory mode) and
dropped, so memory stays flat in the number of rows; the file is then streamed to the client.

Columns come from the item model: its field names (nested models flattened as ``parent.child``),
and for the ``说明`` sheet its field descriptions (the API document's). Cell types follow the
annotations: integers and money are numbers (money as ``0.00``), dates are date cells, the rest is
text — and text a spreadsheet would run as a formula is written as text (OWASP CSV injection).
"""

from __future__ import annotations

import contextvars
import csv
import io
import json
import tempfile
import types
import typing
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, BinaryIO
from urllib.parse import parse_qsl, urlencode

from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from services.common.errors import invalid, invalid_field
from services.common.months import business_today

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA = {"csv": CSV, "xlsx": XLSX}
PAGE = 500
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CAP: contextvars.ContextVar[int | None] = contextvars.ContextVar("export_cap", default=None)
Endpoint = Callable[[Request], Coroutine[Any, Any, Response]]


def exportable(
    resource: str, rows: str = "items", page: tuple[str, str] = ("cursor", "next_cursor")
) -> dict[str, Any]:
    """``openapi_extra`` of an exportable ``GET``: the ``format`` parameter and the two media types in
    the API document (so Swagger UI and client generators offer them), the file's name, which list of
    the answer holds the rows (a report's ``children``, say; a bare list is its own rows), and how it
    pages: the query parameter and the answer's field that carries the next page's key."""
    sheet = {"schema": {"type": "string", "format": "binary"}}
    return {
        "x-jiuzhu-export": resource,
        "x-jiuzhu-export-rows": rows,
        "x-jiuzhu-export-page": list(page),
        "parameters": [
            {
                "name": "format",
                "in": "query",
                "required": False,
                "description": "导出格式 (csv or xlsx: every row the filters select, not one page; "
                "or send Accept: text/csv / the XLSX media type)",
                "schema": {"type": "string", "enum": ["json", "csv", "xlsx"]},
            }
        ],
        "responses": {"200": {"content": {CSV: sheet, XLSX: sheet}}},
    }


def requested(request: Request) -> str | None:
    """``csv`` or ``xlsx`` when the caller asks for a spreadsheet; the query wins over ``Accept``."""
    fmt = request.query_params.get("format")
    if fmt is not None:
        if fmt not in ("json", "csv", "xlsx"):
            raise invalid_field(
                "format", "INVALID_FORMAT", "format 须为 json、csv 或 xlsx", "format is json|csv|xlsx"
            )
        return None if fmt == "json" else fmt
    accept = request.headers.get("accept", "")
    for fmt, media in MEDIA.items():
        if media in accept:
            return fmt
    return None


def check_count(count: int) -> None:
    """Called by ``paginate`` on an export's first page (and on a report's items)."""
    cap = _CAP.get()
    if cap is not None and count > cap:
        raise invalid(
            "EXPORT_TOO_LARGE", f"导出共 {count} 行，超过上限 {cap} 行，请缩小筛选范围",
            f"The export has {count} rows, over the limit of {cap}: narrow the filters",
        )  # fmt: skip


def exporting() -> bool:
    return _CAP.get() is not None


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    kind: str  # text | int | number | money | date | bool


def _unwrap(annotation: Any) -> Any:
    """The type inside ``Annotated[...]`` and ``X | None``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = args[0] if len(args) == 1 else str
        else:
            return annotation


def columns(model: type[BaseModel], prefix: str = "") -> list[Column]:
    out = []
    for name, field in model.model_fields.items():
        kind_of = _unwrap(field.annotation)
        if isinstance(kind_of, type) and issubclass(kind_of, BaseModel):
            out.extend(columns(kind_of, f"{prefix}{name}."))
            continue
        places = next((m.decimal_places for m in field.metadata if hasattr(m, "decimal_places")), None)
        if kind_of is bool:
            kind = "bool"
        elif kind_of is int:
            kind = "int"
        elif kind_of is Decimal:
            kind = "money" if places == 2 else "number"
        elif kind_of is date:
            kind = "date"
        else:
            kind = "text"
        out.append(Column(prefix + name, field.description or "", kind))
    return out


def item_model(response_model: Any, rows: str) -> type[BaseModel] | None:
    """The model of one row: the element type of the answer's ``rows`` list, or of a bare list."""
    if typing.get_origin(response_model) is list:
        args = typing.get_args(response_model)
    elif isinstance(response_model, type) and issubclass(response_model, BaseModel):
        field = response_model.model_fields.get(rows)
        if field is None:
            return None
        args = typing.get_args(field.annotation)
    else:
        return None
    return args[0] if args and isinstance(args[0], type) and issubclass(args[0], BaseModel) else None


def _flat(value: Any, name: str) -> Any:
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if isinstance(value, list):
        return "; ".join(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return value


def _typed(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind in ("money", "number") and isinstance(value, str | int | float):
        return Decimal(str(value))
    if kind == "date" and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def _safe_text(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


class _Csv:
    def __init__(self, out: BinaryIO, cols: list[Column]) -> None:
        self.text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
        self.writer = csv.writer(self.text)
        self.cols = cols
        self.writer.writerow([c.name for c in cols])

    def row(self, item: dict[str, Any]) -> None:
        cells = []
        for c in self.cols:
            v = _flat(item, c.name)
            cells.append("" if v is None else (_safe_text(v) if c.kind == "text" else v))
        self.writer.writerow(cells)

    def close(self) -> None:
        self.text.flush()
        self.text.detach()

    def abort(self) -> None:
        self.text.detach()


class _Xlsx:
    """xlsxwriter in ``constant_memory`` mode: each row goes to disk as the next begins (measured
    against openpyxl's write-only workbook in ``bench/exports.py``: the same flat memory, 2-3× faster)."""

    def __init__(self, path: str, cols: list[Column], title: str) -> None:
        import xlsxwriter

        self.cols = cols
        self.book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False})
        self.money = self.book.add_format({"num_format": "0.00"})
        self.day = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.sheet = self.book.add_worksheet(title[:31])
        self.sheet.freeze_panes(1, 0)
        for i, c in enumerate(cols):
            self.sheet.write_string(0, i, c.name)
        self.row_no = 0

    def row(self, item: dict[str, Any]) -> None:
        self.row_no += 1
        for i, c in enumerate(self.cols):
            v = _typed(_flat(item, c.name), c.kind)
            if v is None:
                continue
            if c.kind == "money":
                self.sheet.write_number(self.row_no, i, v, self.money)  # a double: exact to the fen
            elif c.kind == "date":
                self.sheet.write_datetime(self.row_no, i, v, self.day)
            elif c.kind == "bool":
                self.sheet.write_boolean(self.row_no, i, v)
            elif c.kind in ("int", "number"):
                self.sheet.write_number(self.row_no, i, v)
            else:
                self.sheet.write_string(self.row_no, i, str(v))  # never a formula, whatever it begins with

    def close(self) -> None:
        notes = self.book.add_worksheet("说明")
        notes.write_string(0, 0, "字段 (field)")
        notes.write_string(0, 1, "说明 (description)")
        for i, c in enumerate(self.cols, 1):
            notes.write_string(i, 0, c.name)
            notes.write_string(i, 1, c.description)
        self.book.close()

    def abort(self) -> None:
        self.book.close()


def _page_scope(request: Request, param: str, cursor: Any) -> Request:
    """The request again for one page. The first (``cursor`` None) is the client's own query, limit
    and cursor included, so every parameter is validated as for JSON — a malformed ``limit`` is a
    422, not silently replaced — and a cursor given starts the export after it; the pages after it
    follow ``next_cursor`` 500 rows at a time (``param``: the route's paging parameter)."""
    drop = ("format",) if cursor is None else ("limit", param, "format")
    query = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if k not in drop]
    if cursor is not None:
        query += [("limit", str(PAGE)), (param, str(cursor))]
    elif not any(k == "limit" for k, _ in query):
        query.append(("limit", str(PAGE)))
    scope = dict(request.scope, query_string=urlencode(query).encode())
    return Request(scope, request.receive)


def filename(request: Request, resource: str, fmt: str) -> str:
    q = request.query_params
    region = q.get("region") or getattr(getattr(request.state, "principal", None), "region", None) or "all"
    when = q.get("month") or q.get("year") or q.get("period") or business_today(datetime.now(UTC)).isoformat()
    safe = "".join(ch for ch in f"{resource}-{region}-{when}" if ch.isalnum() or ch in "-_")
    return f"{safe}.{fmt}"


async def export(
    request: Request, inner: Endpoint, declared: dict[str, Any], response_model: Any, fmt: str
) -> Response:
    """Run the route page by page into a spreadsheet (see the module docstring)."""
    resource, rows = declared["x-jiuzhu-export"], declared["x-jiuzhu-export-rows"]
    param, field = declared["x-jiuzhu-export-page"]
    model = item_model(response_model, rows)
    cols = columns(model) if model is not None else []
    out = tempfile.NamedTemporaryFile(prefix="jz-export-", suffix="." + fmt)  # noqa: SIM115 - the streamer closes it
    writer: _Csv | _Xlsx = _Csv(out, cols) if fmt == "csv" else _Xlsx(out.name, cols, resource)  # type: ignore[arg-type]
    token = _CAP.set(request.app.state.settings.export_max_rows)
    try:
        cursor: Any = None
        written = 0
        while True:
            # A report answered to a POST (a simulation) is one answer: its body is read once.
            answer = await inner(request if request.method == "POST" else _page_scope(request, param, cursor))
            if answer.status_code >= 400:
                writer.abort()
                out.close()
                return answer
            body = json.loads(bytes(answer.body))
            items = body.get(rows, []) if isinstance(body, dict) else body
            written += len(items)
            # Nothing has been sent yet (the rows go to a file first): a selection that outgrows the
            # cap — a report, or a list not paged by ``paginate`` — is refused here.
            check_count(written)
            for item in items:
                writer.row(item)
            cursor = body.get(field) if isinstance(body, dict) else None
            if cursor is None:
                break
        writer.close()
    except BaseException:
        writer.abort()
        out.close()
        raise
    finally:
        _CAP.reset(token)
    out.seek(0)
    headers = {"Content-Disposition": f'attachment; filename="{filename(request, resource, fmt)}"'}
    media = CSV + "; charset=utf-8" if fmt == "csv" else XLSX
    return StreamingResponse(_chunks(out), media_type=media, headers=headers)


async def _chunks(out: Any) -> AsyncIterator[bytes]:
    try:
        for chunk in _read(out):
            yield chunk
    finally:
        out.close()


def _read(out: Any) -> Iterator[bytes]:
    while chunk := out.read(64 << 10):
        yield chunk
