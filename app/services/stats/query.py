"""What a stats request asks for, validated: its period (a year or a range of local days), the province it is
narrowed to, held to the caller's own for a province-scoped caller (`resolve_province`, also used by the
completion feed), and the course. `figures.py` answers a `StatsQuery` from the counter buckets."""

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import FieldError, Forbidden, ValidationFailed
from app.core.i18n import messages
from app.core.localtime import local_today
from app.models.course import Course
from app.models.reporting import StatsPeriod
from app.services.content.catalogue import lookup_course
from app.services.geo import Geography, load_geography

FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_PERIOD_DAYS = 3660  # ten years: bounds the daily series a single request can ask for

messages({
    "stats_year_or_range": ("Dùng year hoặc from/to, không dùng cả hai.",
                            "Give either year or from/to, not both."),
    "stats_year_out_of_range": ("Năm phải nằm trong khoảng {first}–{last}.",
                                "The year must be between {first} and {last}."),
    "stats_range_reversed": ("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.",
                             "from must not be after to."),
    "stats_range_too_long": ("Khoảng thời gian dài tối đa {days} ngày.",
                             "The period may span at most {days} days."),
    "stats_province_unknown": ("Không có tỉnh/thành phố mã {code}.",
                               "There is no province with code {code}."),
    "stats_province_former": (
        "Mã {code} là đơn vị trước sắp xếp; hãy dùng mã đơn vị hiện nay {successor}.",
        "Code {code} is a former unit; use the current unit's code {successor}.",
    ),
    "stats_other_province": ("Bạn chỉ được xem số liệu của tỉnh/thành phố {own}.",
                             "You may only see the figures of province {own}."),
    "stats_course_unknown": ("Không có khóa học {course}.", "There is no course {course}."),
    "stats_scope_unknown": ("Phạm vi tỉnh/thành phố của tài khoản này không hợp lệ.",
                            "This account's province scope is not a known province."),
})


@dataclass(frozen=True)
class StatsQuery:
    """What a stats request asks for, validated and narrowed to what the caller may see."""

    first_day: date
    last_day: date
    province: str | None = None  # a current unit
    province_codes: tuple[str, ...] | None = None  # codes its buckets carry: itself and its former units
    course_id: uuid.UUID | None = None
    course_slug: str | None = None
    assurance: tuple[str, ...] | None = None  # only completions of these assurance levels

    @property
    def year(self) -> int | None:
        """The calendar year the period covers exactly, if it does."""
        y = self.first_day.year
        return y if (self.first_day, self.last_day) == (date(y, 1, 1), date(y, 12, 31)) else None

    @property
    def whole_years(self) -> tuple[int, int] | None:
        """The first and last calendar year when the period is exactly whole years (1 January to 31 December)."""
        if (self.first_day.month, self.first_day.day, self.last_day.month, self.last_day.day) == (1, 1, 12, 31):
            return self.first_day.year, self.last_day.year
        return None

    @property
    def period(self) -> StatsPeriod:
        return StatsPeriod(first_day=self.first_day, last_day=self.last_day, year=self.year)

    @property
    def key(self) -> tuple:
        return (self.first_day, self.last_day, self.province, self.course_id, self.assurance)




def resolve_period(year: int | None, first_day: date | None, last_day: date | None) -> tuple[date, date]:
    """`year`, or a `from`/`to` range of local days (open ends: 1 January, today), or else this year."""
    if year is not None and (first_day or last_day):
        raise ValidationFailed(errors=[FieldError("stats_year_or_range", field="year")])
    if year is None and not (first_day or last_day):
        year = local_today().year
    if year is not None:
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValidationFailed(errors=[FieldError("stats_year_out_of_range", field="year",
                                                      first=FIRST_YEAR, last=LAST_YEAR)])
        return date(year, 1, 1), date(year, 12, 31)
    last_day = last_day or local_today()
    first_day = first_day or date(last_day.year, 1, 1)
    if first_day > last_day:
        raise ValidationFailed(errors=[FieldError("stats_range_reversed", field="from")])
    if (last_day - first_day).days >= MAX_PERIOD_DAYS:
        raise ValidationFailed(errors=[FieldError("stats_range_too_long", field="to", days=MAX_PERIOD_DAYS)])
    return first_day, last_day


def resolve_province(geo: Geography, requested: str | None, scoped: str | None) -> str | None:
    """The current unit to narrow to. A province-scoped caller (province admin, province-scoped client) is
    held to its own unit: asking for another one is refused (403), asking for none means its own."""
    own = geo.current_code(scoped) if scoped else None
    if scoped and own is None:  # fail closed: an unknown scope never reads as "every province"
        raise Forbidden("stats_scope_unknown")
    if requested is not None:
        if requested not in geo.current:
            if requested in geo.former:
                raise ValidationFailed(errors=[FieldError(
                    "stats_province_former", field="province", code=requested,
                    successor=geo.former[requested].successor_code)])
            raise ValidationFailed(errors=[FieldError("stats_province_unknown", field="province",
                                                      code=requested)])
        if own is not None and requested != own:
            raise Forbidden("stats_other_province", own=own)
    return requested or own


def recorded_codes(geo: Geography, province: str | None) -> tuple[str, ...] | None:
    """Every code a completion of this current unit may have been recorded under."""
    if province is None:
        return None
    return tuple(sorted({province, *geo.former_codes_of(province)}))


async def resolve_course(session: AsyncSession, ref: str | None, *, field: str = "course") -> Course | None:
    if ref is None:
        return None
    course = await lookup_course(session, ref)
    if course is None:
        raise ValidationFailed(errors=[FieldError("stats_course_unknown", field=field, course=ref)])
    return course


async def build_query(session: AsyncSession, *, year: int | None = None, first_day: date | None = None,
                      last_day: date | None = None, province: str | None = None, course: str | None = None,
                      scoped_province: str | None = None, assurance: tuple[str, ...] | None = None) -> StatsQuery:
    """Validate a stats request's period and filters, and hold a province-scoped caller to its province."""
    start, end = resolve_period(year, first_day, last_day)
    geo = await load_geography(session)
    province = resolve_province(geo, province, scoped_province)
    found = await resolve_course(session, course)
    return StatsQuery(first_day=start, last_day=end, province=province,
                      province_codes=recorded_codes(geo, province),
                      course_id=found.id if found else None, course_slug=found.slug if found else None,
                      assurance=tuple(sorted(set(assurance))) if assurance else None)
