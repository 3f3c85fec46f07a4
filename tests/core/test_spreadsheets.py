"""The shared CSV/XLSX writer: no formulas from text, codes kept as text, local typed dates, frozen headers."""

import csv
import io
from datetime import UTC, date, datetime

import openpyxl
import pytest

from app.core import spreadsheets
from app.core.spreadsheets import Column, Sheet, csv_bytes, csv_stream, neutralise, xlsx_bytes

COLUMNS = [Column("Họ và tên", "Full name"), Column("Mã tỉnh", "Province code", "code"),
           Column("Hoàn thành lúc", "Completed at", "datetime"), Column("Ngày", "Day", "date"),
           Column("Số lượt", "Completions", "integer"), Column("Tỷ lệ (%)", "Percent", "percent")]
ATTACKS = ["=HYPERLINK(\"http://evil.example\",\"Bấm\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
           "\t=1+1", "\r=1+1"]
# 23:30 UTC on 3 December is 06:30 on 4 December in Hà Nội.
LATE_EVENING_UTC = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)


def rows() -> list[list[object]]:
    return [["Nguyễn Văn An", "01", LATE_EVENING_UTC, date(2026, 12, 4), 22, 0.0022],
            *[[name, "=01", LATE_EVENING_UTC, None, 1, 0.5] for name in ATTACKS]]


@pytest.mark.parametrize("text", ATTACKS)
def test_text_that_a_spreadsheet_would_evaluate_is_neutralised(text):
    assert neutralise(text) == "'" + text
    assert neutralise("Nguyễn =Văn") == "Nguyễn =Văn"


async def _csv(delimiter=",", english=False) -> list[list[str]]:
    chunks = [c async for c in csv_stream(Sheet("x", COLUMNS, rows()), delimiter=delimiter, english=english)]
    data = b"".join(chunks)
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


async def test_csv_neutralises_names_and_codes_but_not_numbers():
    header, first, *attacked = await _csv()
    assert header == [c.vi for c in COLUMNS]
    assert first == ["Nguyễn Văn An", "01", "2026-12-03T23:30:00+00:00", "2026-12-04", "22", "0.0022"]
    assert [row[0] for row in attacked] == ["'" + a for a in ATTACKS]
    assert {row[1] for row in attacked} == {"'=01"}


async def test_csv_with_semicolons_and_english_headers_for_excel_in_a_vietnamese_locale():
    header, first, *_ = await _csv(";", english=True)
    assert header[0] == "Full name" and first[:2] == ["Nguyễn Văn An", "01"]
    with pytest.raises(ValueError):
        await _csv("\t")


async def test_csv_of_several_tables_has_one_bom_and_a_preamble():
    data = await csv_bytes([Sheet("a", COLUMNS[:1], [["An"]], preamble=[("Báo cáo", "=đợt 1")]),
                            Sheet("b", COLUMNS[:1], [["Bình"]])])
    assert data.count(b"\xef\xbb\xbf") == 1
    text = data.decode("utf-8-sig")
    assert text.splitlines() == ["Báo cáo,'=đợt 1", "", "Họ và tên", "An", "", "Họ và tên", "Bình"]


async def test_xlsx_has_typed_local_dates_text_codes_a_frozen_header_and_no_formulas():
    data = await xlsx_bytes([Sheet("Lượt hoàn thành", COLUMNS, rows())])
    ws = openpyxl.load_workbook(io.BytesIO(data))["Lượt hoàn thành"]
    assert [c.value for c in ws[1]] == [c.vi for c in COLUMNS]
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:F8"
    name, code, at, day, count, percent = ws[2]
    assert code.value == "01" and code.data_type == "s" and code.number_format == "@"
    assert at.value == datetime(2026, 12, 4, 6, 30) and at.is_date and at.number_format == "dd/mm/yyyy hh:mm"
    assert day.value == datetime(2026, 12, 4) and day.is_date
    assert count.value == 22 and count.data_type == "n"
    assert percent.value == 0.0022 and percent.number_format == "0.00###"  # shown as 0.0022, not 0.00
    for row, attack in zip(ws.iter_rows(min_row=3), ATTACKS, strict=True):
        # Stored as the text itself in a string cell with Excel's quote prefix: shown as typed, never run.
        # (openpyxl leaves the escape of a carriage return, _x000D_, undecoded; Excel decodes it.)
        assert row[0].value.replace("_x000D_", "\r") == attack and row[0].data_type == "s" and row[0].quotePrefix
        assert row[1].value == "=01" and row[1].data_type == "s" and row[1].quotePrefix


async def test_xlsx_headers_in_english_on_request():
    data = await xlsx_bytes([Sheet("Completions", COLUMNS, [])], english=True)
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == [c.en for c in COLUMNS]


async def test_xlsx_rows_past_excels_limit_continue_on_a_new_sheet(monkeypatch):
    monkeypatch.setattr(spreadsheets, "EXCEL_LAST_ROW", 3)  # header + 3 rows per sheet

    async def batches():
        yield [[f"Học viên {n}"] for n in range(4)]
        yield [["Học viên 4"]]

    data = await xlsx_bytes([Sheet("Lượt hoàn thành", COLUMNS[:1], batches())])
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Lượt hoàn thành", "Lượt hoàn thành (2)"]
    assert [[c.value for c in r] for r in book.worksheets[0].iter_rows()] == [
        ["Họ và tên"], ["Học viên 0"], ["Học viên 1"], ["Học viên 2"]]
    assert [[c.value for c in r] for r in book.worksheets[1].iter_rows()] == [
        ["Họ và tên"], ["Học viên 3"], ["Học viên 4"]]
    assert book.worksheets[1].freeze_panes == "A2"


def test_a_small_machine_csv_keeps_numbers_empties_none_and_neutralises_text():
    data = spreadsheets.csv_table(("rank", "name", "unit", "score"),
                                  [(1, "=HYPERLINK(\"x\")", None, 92.5), (2, "Lê Thị Hoa", "-Xã A", -1)])
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows == [["rank", "name", "unit", "score"], ["1", "'=HYPERLINK(\"x\")", "", "92.5"],
                    ["2", "Lê Thị Hoa", "'-Xã A", "-1"]]
