"""HTML building blocks of the public board pages: numbers in the reader's language, progress bars, tables
and charts drawn as inline SVG on the server.

The charts are SVG with real `<text>` (selectable, searchable, printed sharp) and no script, so the page is
complete without JavaScript and its CSP can forbid scripts altogether; every chart sits next to a table
with the same figures, for screen readers and for copying.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from app.core.i18n import Lang
from app.core.localtime import LOCAL_TZ

MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTHS_EN_LONG = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December")

STYLE = """
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif;
color:#212529;background:#f4f1ea;line-height:1.45;font-size:16px}
main{max-width:64rem;margin:0 auto;padding:1rem}
header{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:baseline;gap:.5rem}
.brand{font-weight:700;color:#a4161a;margin:.5rem 0}
nav a{margin-left:.75rem}
h1{font-size:1.6rem;margin:.25rem 0}h2{font-size:1.2rem;margin:0 0 .5rem}
section{background:#fff;border:1px solid #ddd;border-radius:.5rem;padding:1rem;margin:1rem 0}
.dated{color:#495057;font-size:.9rem;margin:.25rem 0}
.src{font-size:.85rem;color:#495057;margin:.5rem 0 0}
.counter{margin:.75rem 0}.counter p{margin:.2rem 0}
.counter .figure{font-size:1.35rem;font-weight:700}
.track{height:1.4rem;background:#e9ecef;border-radius:.3rem;overflow:hidden;border:1px solid #ced4da}
.fill{height:100%;background:#1b7a3e}
.fill.citizen{background:#1d5fa8}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{padding:.3rem .5rem;border-bottom:1px solid #e9ecef;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
caption{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}  /* the h2 says it */
svg{width:100%;height:auto;display:block;margin:.5rem 0}
svg text{font-family:inherit;font-size:12px;fill:#212529}
svg .bar rect{fill:#1d5fa8}svg .col rect{fill:#1b7a3e}
.muted{color:#6c757d}
form.inline{display:inline}
.scroll{overflow-x:auto}
@media print{
 body{background:#fff;font-size:11pt}main{max-width:none;padding:0}
 nav,.src,.noprint{display:none!important}
 section{border:none;padding:0;margin:0 0 1rem;break-inside:avoid}
 .track,.fill,svg rect{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 a{color:inherit;text-decoration:none}
}
"""

# No script may run and nothing is loaded from elsewhere; inline styles and inline SVG only.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
       "base-uri 'none'; frame-ancestors 'none'")


def number(n: int | float, lang: Lang) -> str:
    """12.345 in Vietnamese, 12,345 in English."""
    text = f"{n:,}" if isinstance(n, int) else f"{n:,.2f}"
    if lang == "vi":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def percent(value: float | None, lang: Lang, decimals: int = 2) -> str:
    """Percent points with `decimals` places, more below 1% so early progress shows (22 of 10M: 0,00022%)."""
    if value is None:
        return "—"
    text = f"{value:.{decimals}f}"
    if 0 < value < 1:  # three significant figures, trailing zeros dropped back to `decimals` places
        more = f"{value:.{max(decimals, 2 - math.floor(math.log10(value)))}f}".rstrip("0")
        text = more if len(more) > len(text) else text
    return (text.replace(".", ",") if lang == "vi" else text) + "%"


def moment(at: datetime, lang: Lang) -> str:
    """A UTC moment as a reader in Vietnam says it, naming the time zone."""
    local = at.astimezone(LOCAL_TZ)
    if lang == "vi":
        return f"{local:%H:%M} ngày {local:%d/%m/%Y} (giờ Việt Nam)"
    return f"{local.day} {MONTHS_EN_LONG[local.month - 1]} {local.year}, {local:%H:%M} (Vietnam time)"


def month_label(period: str, lang: Lang) -> str:
    """'2026-03' as 'T3' (tháng 3) or 'Mar'."""
    month = int(period[5:7])
    return f"T{month}" if lang == "vi" else MONTHS_EN[month - 1]


def progress(label: str, done: int, target: int | None, pct: float | None, kind: str, lang: Lang) -> str:
    """One national counter against its target, as a bar with the figures written out beside it."""
    width = min(100.0, pct or 0.0)
    of = {"vi": "trên mục tiêu", "en": "of the target"}[lang]
    target_text = number(target, lang) if target else "—"
    return (f'<div class="counter" data-audience="{kind}"><p>{escape(label)}</p>'
            f'<p><span class="figure" data-figure="completions">{number(done, lang)}</span> {of} '
            f'<span data-figure="target">{target_text}</span> · '
            f'<strong data-figure="percent">{percent(pct, lang)}</strong></p>'
            f'<div class="track" role="progressbar" aria-valuemin="0" aria-valuemax="100" '
            f'aria-valuenow="{width:.2f}" aria-label="{escape(label)}">'
            f'<div class="fill {kind}" style="width:{width:.2f}%"></div></div></div>')


@dataclass(frozen=True)
class Bar:
    key: str  # e.g. the province code, for tests and styling
    label: str
    value: int


def bar_chart(bars: Sequence[Bar], title: str, lang: Lang, *, chart_id: str) -> str:
    """Horizontal bars, one row each, longest first as given; the value written at the end of each bar."""
    row, top, label_w, width = 22, 8, 190, 800
    top_value = max((b.value for b in bars), default=0) or 1
    usable = width - label_w - 90
    height = top + row * len(bars) + 8
    parts = [f'<svg id="{chart_id}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{chart_id}-t">'
             f'<title id="{chart_id}-t">{escape(title)}</title>']
    for i, bar in enumerate(bars):
        y = top + i * row
        w = round(usable * bar.value / top_value, 1)
        parts.append(
            f'<g class="bar" data-key="{escape(bar.key)}">'
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(bar.label)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="{row - 6}" rx="2"/>'
            f'<text x="{label_w + w + 5}" y="{y + 15}">{number(bar.value, lang)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def column_chart(columns: Sequence[Bar], title: str, lang: Lang, *, chart_id: str) -> str:
    """Vertical columns (months of a year), the value above each and the label below."""
    width, height, bottom, top = 800, 240, 24, 22
    count = max(len(columns), 1)
    slot = width / count
    top_value = max((c.value for c in columns), default=0) or 1
    usable = height - bottom - top
    parts = [f'<svg id="{chart_id}" viewBox="0 0 {width} {height}" role="img" aria-labelledby="{chart_id}-t">'
             f'<title id="{chart_id}-t">{escape(title)}</title>']
    for i, col in enumerate(columns):
        h = round(usable * col.value / top_value, 1)
        x = i * slot
        middle = x + slot / 2
        y = height - bottom - h
        parts.append(
            f'<g class="col" data-key="{escape(col.key)}">'
            f'<rect x="{x + slot * 0.15:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h}" rx="2"/>'
            f'<text x="{middle:.1f}" y="{y - 5:.1f}" text-anchor="middle">{number(col.value, lang)}</text>'
            f'<text x="{middle:.1f}" y="{height - 7}" text-anchor="middle">{escape(col.label)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def table(caption: str, headers: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]], *,
          table_id: str) -> str:
    """A data table; `headers` are (label, numeric) and cells are already-escaped HTML."""
    head = "".join(f'<th scope="col"{" class=n" if numeric else ""}>{escape(label)}</th>'
                   for label, numeric in headers)
    body = "".join(
        "<tr>" + "".join(f'<td{" class=n" if headers[i][1] else ""}>{cell}</td>' for i, cell in enumerate(r))
        + "</tr>" for r in rows)
    return (f'<div class="scroll"><table id="{table_id}"><caption>{escape(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


def sources(links: Sequence[tuple[str, str]], lang: Lang) -> str:
    """Where a figure comes from, for machines: the JSON and CSV that give it."""
    lead = {"vi": "Dữ liệu cho máy:", "en": "Machine-readable:"}[lang]
    return (f'<p class="src">{lead} '
            + " · ".join(f'<a href="{escape(href)}">{escape(label)}</a>' for label, href in links) + "</p>")
