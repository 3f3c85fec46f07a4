"""The public progress board at `/dashboard` (and the home page `/` that links to it): server-rendered HTML in
Vietnamese, English with `Accept-Language: en` or `?lang=en`, no script and nothing loaded from elsewhere.

It shows the national counters against their targets, completions per province (34 current, or the 63
former with `?units=former`), per month and per course, each figure dated and linked to the public JSON and
CSV that give it (`/api/v1/board/*`, `/api/v1/stats/national`). Every figure comes from
`app.services.board`, which reads only the counter buckets through the stats services.
"""

from html import escape
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from app.api import board_html as h
from app.api.conditional import NOT_MODIFIED, conditional
from app.api.deps import SessionDep
from app.core.i18n import Lang, negotiate
from app.models.identity import Audience
from app.services.counters import buckets as counters
from app.services.stats import board

router = APIRouter(tags=["stats"])

PUBLIC_MAX_AGE_S = 60
OFFICIAL, CITIZEN = Audience.official, Audience.citizen

# The page's own words, (Vietnamese, English).
WORDS: dict[str, tuple[str, str]] = {
    "title": ("Bảng tiến độ quốc gia", "National progress board"),
    "brand": ("HọcSố · Phổ cập kỹ năng số", "HọcSố · Digital skills for all"),
    "year_figures": ("Số liệu năm {year}", "Figures for {year}"),
    "computed": ("tính đến {at}; máy chủ giữ số liệu {ttl} giây và trình duyệt giữ trang tới {age} giây, "
                 "nên số liệu có thể chậm tới khoảng {stale} giây",
                 "as of {at}; the server keeps the figures for {ttl} seconds and your browser keeps the page for "
                 "up to {age} seconds, so the figures may lag by up to about {stale} seconds"),
    "as_of": ("tính đến {at}", "as of {at}"),
    "counters": ("Lượt hoàn thành khóa học so với mục tiêu", "Course completions against the targets"),
    "official": ("Cán bộ, công chức, viên chức", "Officials"),
    "citizen": ("Người dân", "Citizens"),
    "by_province": ("Lượt hoàn thành theo tỉnh, thành phố", "Completions by province"),
    "by_former": ("Lượt hoàn thành theo 63 tỉnh, thành phố trước sắp xếp",
                  "Completions by the 63 former provinces"),
    "show_former": ("Xem theo 63 tỉnh, thành phố trước sắp xếp (trước 01/7/2025)",
                    "Show the 63 provinces before the 1 July 2025 merger"),
    "show_current": ("Xem theo 34 tỉnh, thành phố hiện nay", "Show the 34 current provinces"),
    "code": ("Mã", "Code"), "province": ("Tỉnh, thành phố", "Province"),
    "successor": ("Nay thuộc", "Now part of"),
    "officials_short": ("Cán bộ", "Officials"), "citizens_short": ("Người dân", "Citizens"),
    "total": ("Tổng", "Total"), "learners": ("Người học", "Learners"),
    "unassigned": ("Chưa rõ tỉnh, thành phố", "Province unknown"),
    "over_time": ("Lượt hoàn thành theo tháng", "Completions by month"),
    "month": ("Tháng", "Month"),
    "top_courses": ("Các khóa học được hoàn thành nhiều nhất", "Most completed courses"),
    "course": ("Khóa học", "Course"), "rank": ("Hạng", "Rank"),
    "no_courses": ("Chưa có lượt hoàn thành nào trong năm.", "No completions yet this year."),
    "other_lang": ("English", "Tiếng Việt"),
    "year": ("Năm", "Year"), "show": ("Xem", "Show"),
    "counting": ("Mỗi người học hoàn thành một khóa học được tính một lượt. Số liệu đọc từ bộ đếm, "
                 "theo giờ Việt Nam.",
                 "A learner finishing a course counts once per course. Figures are read from the "
                 "counters, in Vietnam time."),
    "rankings": ("Xếp hạng", "Rankings"),
    "home_title": ("HọcSố", "HọcSố"),
    "home_lead": ("Nền tảng học trực tuyến phổ cập kỹ năng số cho cán bộ và người dân.",
                  "The online platform teaching digital skills to officials and citizens."),
    "home_board": ("Bảng tiến độ quốc gia", "National progress board"),
    "home_verify": ("Tra cứu giấy chứng nhận", "Verify a certificate"),
    "home_docs": ("Tài liệu API cho nhà phát triển", "API documentation for developers"),
}


def w(key: str, lang: Lang, **params: object) -> str:
    text = WORDS[key][0 if lang == "vi" else 1]
    return text.format(**params) if params else text


def page_language(request: Request, lang: str | None) -> Lang:
    """`?lang=` wins over the browser's Accept-Language; Vietnamese when neither says."""
    if lang in ("vi", "en"):
        return lang  # type: ignore[return-value]
    return negotiate(request.headers.get("accept-language"))


def board_page(request: Request, title: str, body: str, lang: Lang, switch_href: str) -> Response:
    """The shell every board page shares: language, navigation, style and the headers that keep it safe; an
    ETag, and 304 with no body when the browser already holds the page."""
    other = w("other_lang", lang)
    other_code = "en" if lang == "vi" else "vi"
    html = (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'  # no favicon request (a 404 in every browser's console)
        f"<title>{escape(title)} · HọcSố</title><style>{h.STYLE}</style></head><body><main>"
        f'<header><p class="brand">{escape(w("brand", lang))}</p>'
        f'<nav><a href="/?lang={lang}">HọcSố</a><a href="/dashboard?lang={lang}">{escape(w("title", lang))}</a>'
        f'<a href="/dashboard/rankings?lang={lang}">{escape(w("rankings", lang))}</a>'
        f'<a href="{escape(switch_href)}" hreflang="{other_code}" lang="{other_code}">{other}</a></nav></header>'
        f"{body}</main></body></html>")
    return conditional(request, HTMLResponse(html, headers={
        "Content-Security-Policy": h.CSP,
        "Cache-Control": f"public, max-age={PUBLIC_MAX_AGE_S}",
        "Vary": "Accept-Language",  # the language may come from the header, not only the URL
        "Referrer-Policy": "no-referrer",
    }))


def href(path: str, **params: object) -> str:
    kept = {k: v for k, v in params.items() if v is not None}
    return f"{path}?{urlencode(kept)}" if kept else path


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def home(request: Request, lang: Annotated[str | None, Query(max_length=5)] = None) -> Response:
    """A short home page for people who open the API's address in a browser."""
    language = page_language(request, lang)
    other = "en" if language == "vi" else "vi"
    body = (f'<h1>{escape(w("home_title", language))}</h1><p>{escape(w("home_lead", language))}</p><ul>'
            f'<li><a href="/dashboard?lang={language}">{escape(w("home_board", language))}</a></li>'
            f'<li><a href="/verify">{escape(w("home_verify", language))}</a></li>'
            f'<li><a href="/docs">{escape(w("home_docs", language))}</a></li></ul>')
    return board_page(request, w("home_title", language), body, language, f"/?lang={other}")


@router.get("/dashboard", response_class=HTMLResponse, summary="The national progress board (HTML, public)",
            responses={200: {"content": {"text/html": {}}}, **NOT_MODIFIED})
async def dashboard(
    request: Request, session: SessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="Local year; default the current one")] = None,
    units: Literal["current", "former"] = "current",
    lang: Annotated[Literal["vi", "en"] | None, Query(description="Page language; default Accept-Language")] = None,
) -> Response:
    """National counters against their targets, completions by province, month and course for a year, each
    linked to its JSON and CSV. Public, cacheable for a minute, complete without JavaScript."""
    language = page_language(request, lang)
    year = year or counters.current_year()
    figures = await board.board_figures(session, year, units, request.app.state.per_worker.stats)
    # Both caches in front of the reader: the stats cache (a setting), then the browser's or a proxy's max-age.
    ttl = round(request.app.state.settings.stats_cache_ttl_s)
    lag = {"ttl": ttl, "age": PUBLIC_MAX_AGE_S, "stale": ttl + PUBLIC_MAX_AGE_S}
    other = "en" if language == "vi" else "vi"
    body = (
        f'<h1>{escape(w("title", language))}</h1>'
        f'<p class="dated" id="dated">{escape(w("year_figures", language, year=year))}, '
        f'{escape(w("computed", language, at=h.moment(figures.computed_at, language), **lag))}.</p>'
        + _year_form(year, units, language)
        + _counters(figures, language) + _provinces(figures, language)
        + _months(figures, language) + _courses(figures, language)
        + f'<p class="dated">{escape(w("counting", language))}</p>')
    return board_page(request, w("title", language), body, language,
                      href("/dashboard", year=year, units=None if units == "current" else units, lang=other))


def _dated(b: board.Board, lang: Lang) -> str:
    """Each section says which period and which moment its figures are, so a printed or copied part stays dated."""
    return (f'<p class="dated section-date">{escape(w("year_figures", lang, year=b.year))}, '
            f'{escape(w("as_of", lang, at=h.moment(b.computed_at, lang)))}</p>')


def _year_form(year: int, units: str, lang: Lang) -> str:
    hidden = f'<input type="hidden" name="units" value="{units}">' if units != "current" else ""
    return (f'<form class="inline noprint" method="get" action="/dashboard"><label>{escape(w("year", lang))} '
            f'<input name="year" type="number" min="2000" max="2100" value="{year}" style="width:6rem"></label>'
            f'<input type="hidden" name="lang" value="{lang}">{hidden} '
            f'<button type="submit">{escape(w("show", lang))}</button></form>')


def _counters(b: board.Board, lang: Lang) -> str:
    bars = "".join(
        h.progress(w(key, lang), f.completions, f.target, f.percent_of_target, key, lang)
        for key, f in ((a, b.national.audiences[a]) for a in (OFFICIAL.value, CITIZEN.value)))
    return (f'<section id="counters"><h2>{escape(w("counters", lang))}</h2>{bars}'
            + _dated(b, lang)
            + h.sources([("JSON", f"/api/v1/stats/national?year={b.year}"),
                         ("CSV", f"/api/v1/board/national?year={b.year}&format=csv")], lang) + "</section>")


def _provinces(b: board.Board, lang: Lang) -> str:
    former = b.units == "former"
    items = sorted(b.provinces.items, key=lambda p: (-p.completions, p.code))
    title = w("by_former" if former else "by_province", lang)
    chart = h.bar_chart([h.Bar(p.code, p.name, p.completions) for p in items], title, lang,
                        chart_id="province-chart")
    headers = [(w("code", lang), False), (w("province", lang), False)]
    if former:
        headers.append((w("successor", lang), False))
    headers += [(w("officials_short", lang), True), (w("citizens_short", lang), True), (w("total", lang), True),
                (w("learners", lang), True)]
    rows = []
    for p in items:
        row = [escape(p.code), escape(p.name)] + ([escape(p.successor_code or "")] if former else [])
        row += [h.number(p.audiences[OFFICIAL].completions, lang), h.number(p.audiences[CITIZEN].completions, lang),
                h.number(p.completions, lang), "—" if p.learners is None else h.number(p.learners, lang)]
        rows.append(row)
    unassigned = b.provinces.unassigned.completions
    note = (f'<p class="dated">{escape(w("unassigned", lang))}: {h.number(unassigned, lang)}</p>'
            if unassigned else "")
    toggle = href("/dashboard", year=b.year, units=None if former else "former", lang=lang)
    units_q = "&units=former" if former else ""
    toggle_text = w("show_current" if former else "show_former", lang)
    return (f'<section id="provinces"><h2>{escape(title)}</h2>'
            f'<p class="noprint"><a href="{escape(toggle)}">{escape(toggle_text)}</a></p>{chart}'
            + h.table(title, headers, rows, table_id="province-table") + note
            + _dated(b, lang)
            + h.sources([("JSON", f"/api/v1/board/provinces?year={b.year}{units_q}"),
                         ("CSV", f"/api/v1/board/provinces?year={b.year}{units_q}&format=csv")], lang)
            + "</section>")


def _months(b: board.Board, lang: Lang) -> str:
    points = b.months.points
    title = w("over_time", lang)
    chart = h.column_chart([h.Bar(p.period, h.month_label(p.period, lang), p.completions) for p in points],
                           title, lang, chart_id="month-chart")
    rows = [[escape(p.period), h.number(p.audiences.get(OFFICIAL, 0), lang),
             h.number(p.audiences.get(CITIZEN, 0), lang), h.number(p.completions, lang)] for p in points]
    headers = [(w("month", lang), False), (w("officials_short", lang), True), (w("citizens_short", lang), True),
               (w("total", lang), True)]
    return (f'<section id="months"><h2>{escape(title)}</h2>{chart}'
            + h.table(title, headers, rows, table_id="month-table")
            + _dated(b, lang)
            + h.sources([("JSON", f"/api/v1/board/months?year={b.year}"),
                         ("CSV", f"/api/v1/board/months?year={b.year}&format=csv")], lang) + "</section>")


def _courses(b: board.Board, lang: Lang) -> str:
    title = w("top_courses", lang)
    top = b.top_courses
    if top:
        rows = [[str(i), escape(c.title or c.slug), h.number(c.audiences[OFFICIAL].completions, lang),
                 h.number(c.audiences[CITIZEN].completions, lang), h.number(c.completions, lang)]
                for i, c in enumerate(top, start=1)]
        headers = [(w("rank", lang), True), (w("course", lang), False), (w("officials_short", lang), True),
                   (w("citizens_short", lang), True), (w("total", lang), True)]
        content = h.table(title, headers, rows, table_id="course-table")
    else:
        content = f'<p class="muted">{escape(w("no_courses", lang))}</p>'
    return (f'<section id="courses"><h2>{escape(title)}</h2>{content}'
            + _dated(b, lang)
            + h.sources([("JSON", f"/api/v1/board/courses?year={b.year}"),
                         ("CSV", f"/api/v1/board/courses?year={b.year}&format=csv")], lang) + "</section>")
