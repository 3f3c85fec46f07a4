"""The certificate PDF: A4 landscape, Vietnamese set in an embedded DejaVu Sans, and a QR code to the
verification page. Also the wording shared with the verification page, so screen and paper say the same.

Rendering is CPU-bound (font subsetting, compression): call `render_certificate_pdf_async` from async code.
"""

import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

import anyio.to_thread
import segno
from fpdf import FPDF

from app.core.localtime import local_date

FONT_DIR = Path(__file__).resolve().parents[2] / "data" / "fonts"
AUDIENCE_LABELS = {"citizen": "Người dân", "official": "Cán bộ, công chức, viên chức"}

_INK = (33, 37, 41)
_ACCENT = (164, 22, 26)  # the red of official Vietnamese documents
_GOLD = (191, 144, 0)
_PAGE_W, _PAGE_H = 297, 210
_MARGIN = 22


MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")


def vietnamese_date(day: date) -> str:
    """`ngày 04 tháng 12 năm 2026`, as Decree 30/2020/NĐ-CP writes dates on official papers: a day below 10
    and the months 1 and 2 take a leading zero (`ngày 15 tháng 02 năm 2026`, `ngày 09 tháng 3 năm 2026`)."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def english_date(day: date) -> str:
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def place_and_date(place: str | None, day: date) -> str:
    """`Hà Nội, ngày 04 tháng 12 năm 2026`: the place of issue comes before the date on official papers."""
    return f"{place}, {vietnamese_date(day)}" if place else vietnamese_date(day)




def hours_text(hours: float | None) -> str | None:
    """`1,5 giờ`: Vietnamese writes a decimal comma; whole hours have no decimals."""
    if hours is None:
        return None
    number = f"{hours:.1f}".rstrip("0").rstrip(".").replace(".", ",")
    return f"{number} giờ"


def audience_label(audience: str) -> str:
    return AUDIENCE_LABELS.get(audience, audience)


def qr_png(payload: str) -> bytes:
    """A QR code for `payload`, error correction M (survives a crease or a smudge on paper)."""
    out = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(out, kind="png", scale=10, border=4)
    return out.getvalue()


class _CertificatePDF(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.set_auto_page_break(False)
        self.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_text_color(*_INK)

    def centred(self, y: float, text: str, *, size: float, bold: bool = False, min_size: float | None = None,
                colour: tuple[int, int, int] = _INK, x: float = _MARGIN, width: float | None = None) -> float:
        """Write `text` centred at `y`, shrinking the font down to `min_size` to fit one line and wrapping
        beyond that; returns the y below the text."""
        width = width or _PAGE_W - 2 * _MARGIN
        style = "B" if bold else ""
        size_now = size
        self.set_font("DejaVu", style, size_now)
        while min_size and size_now > min_size and self.get_string_width(text) > width:
            size_now -= 1
            self.set_font("DejaVu", style, size_now)
        self.set_text_color(*colour)
        self.set_xy(x, y)
        line_h = size_now * 0.5
        self.multi_cell(width, line_h, text, align="C")
        self.set_text_color(*_INK)
        return self.get_y()

    def frame(self) -> None:
        self.set_draw_color(*_ACCENT)
        self.set_line_width(1.4)
        self.rect(8, 8, _PAGE_W - 16, _PAGE_H - 16)
        self.set_draw_color(*_GOLD)
        self.set_line_width(0.5)
        self.rect(11, 11, _PAGE_W - 22, _PAGE_H - 22)


def render_certificate_pdf(facts: dict[str, Any], *, serial: str, verify_url: str,
                           issued_at: datetime) -> bytes:
    """The PDF bytes for one certificate; everything printed comes from the frozen `facts`."""
    pdf = _CertificatePDF()
    pdf.set_title(f"Giấy chứng nhận {serial}")
    pdf.set_author(facts["issuing_body"])
    pdf.set_subject(f"{facts['full_name']} — {facts['course_title']}")
    pdf.set_creator("HọcSố")
    pdf.set_creation_date(issued_at)  # same facts, same file
    pdf.add_page()
    pdf.frame()

    half = (_PAGE_W - 2 * _MARGIN) / 2
    pdf.centred(18, facts["issuing_body"].upper(), size=11, bold=True, min_size=8, width=half - 6)
    pdf.centred(18, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=11, bold=True, min_size=9,
                x=_MARGIN + half, width=half)
    below = pdf.centred(23.5, "Độc lập - Tự do - Hạnh phúc", size=11, bold=True, x=_MARGIN + half, width=half)
    pdf.set_draw_color(*_INK)
    pdf.set_line_width(0.3)
    centre_right = _MARGIN + half + half / 2
    pdf.line(centre_right - 27, below + 0.8, centre_right + 27, below + 0.8)

    y = pdf.centred(48, "GIẤY CHỨNG NHẬN", size=32, bold=True, colour=_ACCENT)
    y = pdf.centred(y + 2, "HOÀN THÀNH KHÓA HỌC", size=15, bold=True, colour=_ACCENT)
    y = pdf.centred(y + 9, "Chứng nhận", size=13)
    y = pdf.centred(y + 2, facts["full_name"], size=28, bold=True, min_size=16)
    y = pdf.centred(y + 3, "đã hoàn thành khóa học trực tuyến", size=13)
    y = pdf.centred(y + 2, facts["course_title"], size=20, bold=True, min_size=12, colour=_ACCENT)

    details = []  # the course version number is for machines (verification JSON), not for the paper
    if hours := hours_text(facts.get("hours")):
        details.append(f"Thời lượng: {hours}")
    details.append(f"Đối tượng: {audience_label(facts['audience'])}")
    if facts.get("province_name"):
        details.append(f"Tỉnh, thành phố: {facts['province_name']}")
    y = pdf.centred(y + 3, "  ·  ".join(details), size=11, min_size=8)
    completed_on = date.fromisoformat(str(facts["completed_on"]))
    pdf.centred(y + 2, f"Hoàn thành {vietnamese_date(completed_on)}", size=11)

    # Bottom left: the QR code and, for people without a camera, the address it opens.
    qr_size = 34
    qr_y = _PAGE_H - _MARGIN - qr_size + 2
    pdf.image(io.BytesIO(qr_png(verify_url)), x=_MARGIN, y=qr_y, w=qr_size, h=qr_size)
    text_x, text_w = _MARGIN + qr_size + 3, 95
    pdf.set_xy(text_x, qr_y + 6)
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(text_w, 4.5, "Quét mã QR hoặc mở địa chỉ sau để xác minh giấy chứng nhận trên nền tảng "
                                "học trực tuyến HọcSố:", align="L")
    pdf.set_x(text_x)
    pdf.set_font("DejaVu", "B", 8)
    pdf.multi_cell(text_w, 4.2, verify_url, align="L")

    # Bottom right: where and when it was issued, and by whom.
    right_x, right_w = _PAGE_W - _MARGIN - 110, 110
    y = pdf.centred(qr_y + 4, place_and_date(facts.get("issuing_place"), local_date(issued_at)), size=11,
                    x=right_x, width=right_w)
    y = pdf.centred(y + 2, facts["issuing_body"].upper(), size=11, bold=True, min_size=8, x=right_x,
                    width=right_w)
    pdf.centred(y + 2, f"Số hiệu: {serial}", size=11, bold=True, x=right_x, width=right_w)
    return bytes(pdf.output())


async def render_certificate_pdf_async(facts: dict[str, Any], *, serial: str, verify_url: str,
                                       issued_at: datetime) -> bytes:
    """Render in a worker thread so the event loop keeps serving requests meanwhile."""
    return await anyio.to_thread.run_sync(
        lambda: render_certificate_pdf(facts, serial=serial, verify_url=verify_url, issued_at=issued_at))
