"""The one writer of every CSV and XLSX file the service hands out: exports, stats tables and intake reports.

What it guarantees, for every file:
- No cell ever becomes a formula. Names and other text come from learners themselves; a cell starting with
  `= + - @`, a tab or a carriage return is written as text: in CSV behind a `'` (what Excel and LibreOffice show
  for text typed that way), in XLSX as a string cell marked with Excel's quote prefix (shown without the `'`).
- CSV is for machines and for a quick look: UTF-8 with a byte-order mark (Excel reads Vietnamese correctly),
  CRLF line ends, `,` by default or `;` (what Excel in a Vietnamese locale splits on), times as ISO 8601.
- XLSX is for people: typed dates in Asia/Ho_Chi_Minh, codes (province `01`) kept as text, Vietnamese headers
  (English on request), a bold frozen header row and an autofilter; rows are written one by one to a temporary
  file (xlsxwriter's constant-memory mode) and the finished file is streamed out in chunks, so memory stays flat
  however many rows there are.

A table is described by its `Column`s; rows are sequences of Python values in that order.
"""

import csv
import io
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import anyio
import xlsxwriter

from app.core.localtime import LOCAL_TZ

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_DELIMITERS = (",", ";")
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
CHUNK = 64 * 1024  # bytes of the finished XLSX file sent at a time
EXCEL_LAST_ROW = 1_048_575  # zero-based: Excel's sheets end at row 1,048,576

Kind = Literal["text", "code", "integer", "number", "percent", "datetime", "date"]


@dataclass(frozen=True)
class Column:
    """One column: its header in Vietnamese and in English, what its values are, and its width in XLSX.

    `code`: identifiers shown as written (`01` stays `01`); `percent`: a number of percent points (12.5 → 12.5%);
    `datetime`: an aware datetime, shown in Asia/Ho_Chi_Minh; `date`: a local calendar day."""

    vi: str
    en: str
    kind: Kind = "text"
    width: float = 14

    def header(self, english: bool) -> str:
        return self.en if english else self.vi


@dataclass(frozen=True)
class Sheet:
    """One worksheet (XLSX) or one table (CSV): optional lines of facts (label, value) and a blank line, an
    optional title line, then the header and the rows. No columns: the title alone (an empty section)."""

    name: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[object]] | AsyncIterable[Iterable[Sequence[object]]] = ()
    preamble: Sequence[tuple[str, object]] = ()
    title: str | None = None


def neutralise(text: str) -> str:
    """Text that a spreadsheet shows as typed instead of evaluating it (OWASP's CSV-injection advice)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def local_datetime(moment: datetime) -> datetime:
    """The moment on Vietnamese wall clocks, without a time zone (spreadsheet dates have none)."""
    return moment.astimezone(LOCAL_TZ).replace(tzinfo=None)


# --- CSV --------------------------------------------------------------------------------------------------------

def _csv_value(value: object, kind: Kind) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and kind != "code":
        return value
    return neutralise(str(value))


class _CsvLines:
    """Rows to CSV text a batch at a time."""

    def __init__(self, columns: Sequence[Column], delimiter: str) -> None:
        if delimiter not in CSV_DELIMITERS:
            raise ValueError(f"CSV delimiter must be one of {CSV_DELIMITERS}")
        self.kinds = [c.kind for c in columns]
        self.buffer = io.StringIO(newline="")
        self.writer = csv.writer(self.buffer, delimiter=delimiter, lineterminator="\r\n")

    def encode(self, rows: Iterable[Sequence[object]], *, raw: bool = False) -> bytes:
        for row in rows:
            self.writer.writerow(row if raw else [_csv_value(v, k) for v, k in zip(row, self.kinds, strict=True)])
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text.encode()


def _fact(value: object) -> object:
    """A preamble value, for people: a moment as Vietnamese wall-clock time."""
    if isinstance(value, datetime):
        return local_datetime(value).strftime("%d/%m/%Y %H:%M")
    return _csv_value(value, "text")


async def csv_stream(sheet: Sheet, *, english: bool = False, delimiter: str = ",",
                     headers: Sequence[str] | None = None) -> AsyncIterator[bytes]:
    """The sheet as CSV, a batch of rows at a time. `headers` replaces the column headers (machine field
    names for machine-facing exports); `sheet.rows` may be a plain iterable or an async iterable of batches."""
    lines = _CsvLines(sheet.columns, delimiter)
    head = [[neutralise(label), _fact(value)] for label, value in sheet.preamble]
    if sheet.preamble:
        head.append([])
    if sheet.title:
        head.append([neutralise(sheet.title)])
    if sheet.columns:
        head.append(list(headers) if headers else [c.header(english) for c in sheet.columns])
    yield "\ufeff".encode() + lines.encode(head, raw=True)
    async for batch in _batches(sheet.rows):
        yield lines.encode(batch)


def csv_table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, delimiter: str = ",") -> bytes:
    """A small machine-facing CSV whole (BOM, header, rows): numbers stay numbers, None is empty, text is
    neutralised like every other cell."""
    lines = _CsvLines([Column(h, h) for h in headers], delimiter)
    return "\ufeff".encode() + lines.encode([list(headers)], raw=True) + lines.encode(rows)


async def _batches(rows: Iterable[Sequence[object]] | AsyncIterable[Iterable[Sequence[object]]]
                   ) -> AsyncIterator[Iterable[Sequence[object]]]:
    if isinstance(rows, AsyncIterable):
        async for batch in rows:
            yield batch
    else:
        yield rows


async def csv_bytes(sheets: Sequence[Sheet], *, english: bool = False, delimiter: str = ",") -> bytes:
    """Small reports whole: several tables one after another, a blank line between them."""
    parts = []
    for n, sheet in enumerate(sheets):
        async for chunk in csv_stream(sheet, english=english, delimiter=delimiter):
            parts.append(chunk.removeprefix("\ufeff".encode()) if n else chunk)
        parts.append(b"\r\n")
    return b"".join(parts[:-1])


# --- XLSX -------------------------------------------------------------------------------------------------------

class _Workbook:
    """An xlsxwriter workbook in constant-memory mode over a temporary file, with the formats each kind needs."""

    def __init__(self, path: str) -> None:
        self.book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_formulas": False,
                                               "strings_to_numbers": False, "strings_to_urls": False})
        add = self.book.add_format
        self.header = add({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
        self.label = add({"bold": True})
        self.formats = {
            "text": None, "code": add({"num_format": "@"}), "integer": add({"num_format": "#,##0"}),
            "number": add({"num_format": "#,##0.00"}), "percent": add({"num_format": "0.00###"}),
            "datetime": add({"num_format": "dd/mm/yyyy hh:mm"}), "date": add({"num_format": "dd/mm/yyyy"}),
        }
        self.quoted = add({"quote_prefix": True})
        self.quoted_code = add({"quote_prefix": True, "num_format": "@"})

    def cell(self, ws, row: int, col: int, value: object, kind: Kind) -> None:  # noqa: ANN001
        fmt = self.formats[kind]
        if value is None:
            return
        if isinstance(value, datetime):
            ws.write_datetime(row, col, local_datetime(value) if value.tzinfo else value, fmt)
        elif isinstance(value, date):
            ws.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt)
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value)
        elif isinstance(value, int | float) and kind != "code":
            ws.write_number(row, col, value, fmt)
        else:
            text = str(value)
            if text.startswith(FORMULA_STARTS):
                fmt = self.quoted_code if kind == "code" else self.quoted
            ws.write_string(row, col, text, fmt)

    def write_sheet(self, sheet: Sheet, english: bool, *, part: int = 1) -> "_SheetWriter":
        name = sheet.name[:31] if part == 1 else f"{sheet.name[:25]} ({part})"
        ws = self.book.add_worksheet(name)
        row = 0
        for label, value in sheet.preamble if part == 1 else ():
            ws.write_string(row, 0, label, self.label)
            self.cell(ws, row, 1, value, "datetime" if isinstance(value, datetime) else "text")
            row += 1
        if row:
            row += 1
        if sheet.title:
            ws.write_string(row, 0, sheet.title, self.label)
            row += 1
        for col, column in enumerate(sheet.columns):
            ws.set_column(col, col, column.width)
            ws.write_string(row, col, column.header(english), self.header)
        if sheet.columns:
            ws.freeze_panes(row + 1, 0)
        return _SheetWriter(self, ws, sheet, english, row, part)


class _SheetWriter:
    """Rows into one worksheet, continued on a new one ("Name (2)", same header) past Excel's row limit."""

    def __init__(self, book: _Workbook, ws, sheet: Sheet, english: bool, header_row: int,  # noqa: ANN001
                 part: int) -> None:
        self.book, self.ws, self.sheet, self.english, self.part = book, ws, sheet, english, part
        self.kinds = [c.kind for c in sheet.columns]
        self.header_row = self.row = header_row

    def write(self, rows: Iterable[Sequence[object]]) -> "_SheetWriter":
        """Writes the rows; returns the writer to use for the next ones (a new one once a sheet is full)."""
        writer = self
        for values in rows:
            if writer.row >= EXCEL_LAST_ROW:
                writer.finish()
                writer = writer.book.write_sheet(writer.sheet, writer.english, part=writer.part + 1)
            writer.row += 1
            for col, (value, kind) in enumerate(zip(values, writer.kinds, strict=True)):
                writer.book.cell(writer.ws, writer.row, col, value, kind)
        return writer

    def finish(self) -> None:
        if self.kinds:
            self.ws.autofilter(self.header_row, 0, max(self.row, self.header_row), len(self.kinds) - 1)


async def xlsx_stream(sheets: Sequence[Sheet], *, english: bool = False) -> AsyncIterator[bytes]:
    """The sheets as one XLSX workbook. Each batch of rows is written in a worker thread (xlsxwriter is plain
    CPU work), rows go to disk as they come, and the finished file is sent in CHUNK-sized pieces."""
    fd, path = tempfile.mkstemp(prefix="hocso-", suffix=".xlsx")
    os.close(fd)
    try:
        book = _Workbook(path)
        for sheet in sheets:
            writer = book.write_sheet(sheet, english)
            async for batch in _batches(sheet.rows):
                writer = await anyio.to_thread.run_sync(writer.write, list(batch))
            writer.finish()
        await anyio.to_thread.run_sync(book.book.close)
        async with await anyio.open_file(path, "rb") as f:
            while chunk := await f.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


async def xlsx_bytes(sheets: Sequence[Sheet], *, english: bool = False) -> bytes:
    """Small reports whole (an intake report, a stats table)."""
    return b"".join([chunk async for chunk in xlsx_stream(sheets, english=english)])
