"""The public rankings view of the progress board (`/dashboard/rankings`): the 34 provinces, every unit of the
nation (`level=unit`), or one province's units, ranked by completion rate (ties by count) or by count, from the
same service as
`/api/v1/board/rankings`, which each table links to. Only ranked units are shown: a province's admins see
every unit through `/api/v1/units/rates`."""

from html import escape
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from app.api import board_html as h
from app.api.dashboard_page import board_page, href, page_language
from app.api.deps import SessionDep, SettingsDep
from app.core.i18n import Lang
from app.models.units import Ranking
from app.services.counters import buckets as counters
from app.services.geo import load_geography
from app.services.units import rates

router = APIRouter(tags=["stats"])

WORDS: dict[str, tuple[str, str]] = {
    "title": ("Xếp hạng tỷ lệ hoàn thành của cán bộ", "Officials' completion rankings"),
    "provinces": ("Các tỉnh, thành phố", "Provinces"),
    "national_units": ("Các đơn vị trên toàn quốc", "Units nationwide"),
    "view_provinces": ("Xếp hạng các tỉnh, thành phố", "Rank the provinces"),
    "view_units": ("Xếp hạng các đơn vị trên toàn quốc", "Rank the units nationwide"),
    "province": ("Tỉnh, thành phố", "Province"),
    "units_of": ("Các đơn vị của {name}", "Units of {name}"),
    "lead": ("Tỷ lệ hoàn thành = số cán bộ của đơn vị đã hoàn thành ít nhất một khóa học trong năm {year} ÷ "
             "số cán bộ theo biên chế được giao. Chỉ xếp hạng đơn vị có từ {minimum} cán bộ trở lên; "
             "bằng tỷ lệ thì xét số người hoàn thành, bằng cả hai thì đồng hạng.",
             "Completion rate = the unit's officials who completed at least one course in {year} ÷ its "
             "headcount. Only units of {minimum} officials or more are ranked; equal rates are separated by "
             "the number who completed, and units equal on both share a rank."),
    "by_rate": ("Theo tỷ lệ", "By rate"), "by_count": ("Theo số người hoàn thành", "By count"),
    "whole": ("Toàn quốc", "Nationwide"),
    "rank": ("Hạng", "Rank"), "name": ("Đơn vị", "Unit"), "headcount": ("Số cán bộ", "Headcount"),
    "completed": ("Đã hoàn thành", "Completed"), "rate": ("Tỷ lệ", "Rate"),
    "none": ("Chưa có đơn vị nào đủ điều kiện xếp hạng (chưa có số liệu biên chế).",
             "No unit can be ranked yet (no headcounts uploaded)."),
    "totals": ("Tổng các đơn vị có số liệu biên chế: {completed} / {headcount} cán bộ = {percent}",
               "All units with a headcount: {completed} / {headcount} officials = {percent}"),
    "computed": ("Tính lúc {at}.", "Computed at {at}."),
    "show": ("Xem", "Show"),
}


def w(key: str, lang: Lang, **params: object) -> str:
    text = WORDS[key][0 if lang == "vi" else 1]
    return text.format(**params) if params else text


@router.get("/dashboard/rankings", response_class=HTMLResponse, responses={200: {"content": {"text/html": {}}}},
            summary="Rankings of provinces or of one province's units (HTML, public)")
async def rankings_page(
    request: Request, session: SessionDep, settings: SettingsDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    province: Annotated[str | None, Query(min_length=2, max_length=2, description="A current province")] = None,
    level: Annotated[Literal["province", "unit"], Query(description="Nationally: rank provinces or units")]
    = "province",
    by: Literal["rate", "count"] = "rate",
    lang: Annotated[Literal["vi", "en"] | None, Query()] = None,
) -> Response:
    language = page_language(request, lang)
    year = year or counters.current_year()
    minimum = settings.ranking_min_headcount
    geo = await load_geography(session)
    if province is not None and province not in geo.current:
        province = None  # a page, not an API: an unknown or former code shows the national view
    national_level = None if province else level  # a province shown: its units, whatever the level says
    if province:
        ranking = await rates.unit_ranking(session, year, province, by, minimum, ranked_only=True)
        heading = w("units_of", language, name=geo.current[province].name)
    elif level == "unit":
        ranking = await rates.unit_ranking(session, year, None, by, minimum, ranked_only=True)
        heading = w("national_units", language)
    else:
        ranking = await rates.province_ranking(session, year, by, minimum)
        heading = w("provinces", language)
    options = "".join(f'<option value="{code}"{" selected" if code == province else ""}>{escape(unit.name)}'
                      "</option>" for code, unit in sorted(geo.current.items(), key=lambda kv: kv[1].name))
    form = (f'<form class="noprint" method="get" action="/dashboard/rankings">'
            f'<input type="hidden" name="lang" value="{language}"><input type="hidden" name="year" value="{year}">'
            f'<input type="hidden" name="level" value="{level}">'
            f'<select name="province" aria-label="{escape(w("provinces", language))}">'
            f'<option value="">{escape(w("whole", language))}</option>{options}</select> '
            f'<select name="by" aria-label="{escape(w("rank", language))}">'
            f'<option value="rate"{" selected" if by == "rate" else ""}>{escape(w("by_rate", language))}</option>'
            f'<option value="count"{" selected" if by == "count" else ""}>{escape(w("by_count", language))}'
            f'</option></select> <button type="submit">{escape(w("show", language))}</button></form>')
    names = {code: unit.name for code, unit in geo.current.items()} if national_level == "unit" else None
    body = (f'<h1>{escape(w("title", language))} · {year}</h1>'
            f'<p class="dated">{escape(w("lead", language, year=year, minimum=minimum))}</p>'
            + _views(year, by, national_level, language) + form
            + _table(ranking, heading, language, province, national_level, names))
    other = "en" if language == "vi" else "vi"
    return board_page(request, w("title", language), body, language,
                      href("/dashboard/rankings", year=year, province=province,
                           level="unit" if national_level == "unit" else None, by=by, lang=other))


def _views(year: int, by: str, level: str | None, lang: Lang) -> str:
    """Links between the two national views; the one shown (none when a province is) is marked current."""
    links = []
    for view in ("province", "unit"):
        target = href("/dashboard/rankings", year=year, level=None if view == "province" else view, by=by, lang=lang)
        current = ' aria-current="page"' if view == level else ""
        links.append(f'<a href="{escape(target)}"{current}>{escape(w(f"view_{view}s", lang))}</a>')
    return f'<p class="noprint" id="views">{" · ".join(links)}</p>'


def _table(ranking: Ranking, heading: str, lang: Lang, province: str | None, level: str | None,
           province_names: dict[str, str] | None) -> str:
    """The ranked rows; units ranked nationally also name their province, as two units may share a name."""
    ranked = [i for i in ranking.items if i.rank is not None]
    if ranked:
        rows = [[str(i.rank), escape(i.name)]
                + ([escape(province_names.get(i.province_code, i.province_code))] if province_names else [])
                + [h.number(i.headcount or 0, lang), h.number(i.completed, lang),
                   h.percent(i.completion_percent, lang, 1)] for i in ranked]
        headers = [(w("rank", lang), True), (w("name", lang), False)]
        headers += [(w("province", lang), False)] if province_names else []
        headers += [(w("headcount", lang), True), (w("completed", lang), True), (w("rate", lang), True)]
        content = h.table(heading, headers, rows, table_id="ranking-table")
    else:
        content = f'<p class="muted">{escape(w("none", lang))}</p>'
    t = ranking.totals
    totals = (f'<p class="dated">{escape(w("totals", lang, completed=h.number(t.completed, lang), headcount=h.number(t.headcount, lang), percent=h.percent(t.completion_percent, lang, 1)))} '  # noqa: E501
              f'{escape(w("computed", lang, at=h.moment(ranking.as_of, lang)))}</p>')
    api = href("/api/v1/board/rankings", year=ranking.year, province=province,
               level="province" if level == "province" else None, by=ranking.by)
    return (f'<section id="rankings"><h2>{escape(heading)}</h2>{content}{totals}'
            + h.sources([("JSON", api), ("CSV", api + "&format=csv")], lang) + "</section>")
